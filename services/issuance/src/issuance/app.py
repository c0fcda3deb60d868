"""The one composition of the issuance service: `build(settings)` wires keys, database, units of work, rules, gRPC
server, outbox relay and the consumer of notice's form.issued; `App.run` hosts them. `__main__` and the
integration tests' fixtures both use it, so the tests run the wiring production runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mynumber_events.notice import FORM_ISSUED
from mynumber_runtime.anchor import AnchorPublisher, anchor_key
from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.crypto import KeyedHash, SubjectSealer, derive_key
from mynumber_runtime.db import Units, create_async_engine
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.host import Cleanup, Loop, host, nats_check
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.metrics import Snapshots, labelled
from mynumber_runtime.nats_identity import connect_nats
from mynumber_runtime.outbox import OutboxRelay
from mynumber_runtime.settings import read_hex_secret
from mynumber_runtime.streams import ensure_stream, open_stream
from nats.aio.msg import Msg

from issuance.events import decode_form_issued
from issuance.grpc_api import bindings
from issuance.models import access_log, data_keys, outbox, processed_events
from issuance.repository import IssuanceStore, in_consumer_unit
from issuance.service import IssuanceService
from issuance.settings import IssuanceSettings

log = logging.getLogger("issuance")


@dataclass
class App:
    settings: IssuanceSettings
    service: IssuanceService
    units: Units[IssuanceStore]
    server: PlatformServer
    consumer: IdempotentConsumer
    relay: OutboxRelay
    loops: Sequence[Loop]
    cleanup: Sequence[Cleanup]
    gauges: Snapshots

    async def run(self, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
        await host("issuance", self.server, loops=self.loops, cleanup=self.cleanup, ready=ready, stop=stop, log=log,
                   metrics=self.settings.metrics, gauges=self.gauges)


async def build(settings: IssuanceSettings, *, clock: Clock | None = None) -> App:
    master = read_hex_secret(settings.keys_file)
    engine = create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)
    nc = await connect_nats(settings.nats, name="issuance", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "issuance", duplicate_window_s=settings.nats.duplicate_window_s)
    # notice's stream: we read it, we do not configure it (created if notice has not started yet).
    notice_stream = await open_stream(js, "notice", duplicate_window_s=settings.nats.duplicate_window_s)
    units = Units(engine, IssuanceStore)
    # Labels of our own: even if a local run hands every service the same master file, our keys differ.
    kek = derive_key(master, "issuance/pii-kek")
    service = IssuanceService(sealer=await load_sealer(engine, data_keys, kek),
                              lookup=KeyedHash(derive_key(master, "issuance/lookup-hash")),
                              digest=KeyedHash(derive_key(master, "issuance/facts-digest")),
                              clock=clock or SystemClock())
    event_sealer = SubjectSealer(read_hex_secret(settings.events_key_file))

    @in_consumer_unit
    async def on_form_issued(store: IssuanceStore, msg: Msg) -> None:
        # An event that does not decode, open or validate raises PoisonEvent: the consumer dead-letters it.
        await service.forms.on_form_issued(store, decode_form_issued(event_sealer, msg.data))

    consumer = IdempotentConsumer(js=js, engine=engine, table=processed_events, stream=notice_stream,
                                  durable=settings.consumer_name, filter_subject=FORM_ISSUED, handler=on_form_issued,
                                  service="issuance")
    server = PlatformServer(settings.grpc, bindings(service, units),
                            checks={"database": units.ping, "nats": nats_check(nc)})
    relay = OutboxRelay.for_region(settings.region_name, engine=engine, table=outbox, js=js)
    # The access log's head, signed and kept on JetStream: its newest entries cannot go missing unseen.
    anchors = AnchorPublisher(engine=engine, table=access_log, js=js, service="issuance",
                              key=anchor_key(master, "issuance"), settings=settings.audit_anchor)

    async def count_applications() -> dict[str, int]:
        async with units() as store:
            return await store.count_applications()

    gauges = Snapshots(interval_s=settings.metrics.refresh_interval_s)
    gauges.add("mynumber.issuance.applications", labelled("state", count_applications),
               description="applications by state")
    return App(settings=settings, service=service, units=units, server=server, consumer=consumer, relay=relay,
               loops=[relay.run, consumer.run, anchors.run], cleanup=[nc.drain, engine.dispose], gauges=gauges)
