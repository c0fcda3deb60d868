"""The one composition of the notice service: `build(settings)` wires keys, database, units of work, rules, gRPC
server, outbox relay and the number.assigned consumer; `App.run` hosts them. `__main__` and the integration
tests' fixtures both use it, so the tests run the wiring production runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mynumber_events.numbering import NUMBER_ASSIGNED, EventSealer
from mynumber_runtime.anchor import AnchorPublisher, anchor_key
from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.crypto import FieldSealer, KeyedHash, derive_key
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

from notice.events import decode_number_assigned
from notice.fees import load_schedule
from notice.grpc_api import bindings
from notice.models import access_log, data_keys, outbox, processed_events
from notice.repository import NoticeStore, in_consumer_unit
from notice.service import NoticeService
from notice.settings import NoticeSettings

log = logging.getLogger("notice")


@dataclass
class App:
    settings: NoticeSettings
    service: NoticeService
    units: Units[NoticeStore]
    server: PlatformServer
    loops: Sequence[Loop]
    cleanup: Sequence[Cleanup]
    gauges: Snapshots

    async def run(self, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
        await host("notice", self.server, loops=self.loops, cleanup=self.cleanup, ready=ready, stop=stop, log=log,
                   metrics=self.settings.metrics, gauges=self.gauges)


async def build(settings: NoticeSettings, *, clock: Clock | None = None) -> App:
    master = read_hex_secret(settings.keys_file)
    engine = create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)
    nc = await connect_nats(settings.nats, name="notice", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "notice", duplicate_window_s=settings.nats.duplicate_window_s)
    # The numbering service's stream: we read it, we do not configure it (our NATS user may not). Created if
    # numbering has not started yet; after a region failover, the promoted mirror found by subject.
    numbering_stream = await open_stream(js, "numbering", duplicate_window_s=settings.nats.duplicate_window_s)
    units = Units(engine, NoticeStore)
    # Labels of our own: even if a local run hands every service the same master file, our keys differ.
    kek, lookup = derive_key(master, "notice/pii-kek"), derive_key(master, "notice/lookup-hash")
    event_sealer = EventSealer(read_hex_secret(settings.events_key_file))
    service = NoticeService(sealer=await load_sealer(engine, data_keys, kek), hasher=KeyedHash(lookup),
                            clock=clock or SystemClock(),
                            print_sealer=FieldSealer({1: read_hex_secret(settings.print_key_file)}, current=1),
                            event_sealer=event_sealer,
                            fees=load_schedule(settings.fee_ordinances_file) if settings.fee_ordinances_file else None)

    @in_consumer_unit
    async def on_assigned(store: NoticeStore, msg: Msg) -> None:
        # An event that does not decode, open or validate raises PoisonEvent: the consumer dead-letters it.
        await service.mailing.on_number_assigned(store, decode_number_assigned(event_sealer, msg.data))

    consumer = IdempotentConsumer(js=js, engine=engine, table=processed_events, stream=numbering_stream,
                                  durable=settings.consumer_name, filter_subject=NUMBER_ASSIGNED, handler=on_assigned,
                                  service="notice")
    server = PlatformServer(settings.grpc, bindings(service, units=units, export_dir=settings.export_dir),
                            checks={"database": units.ping, "nats": nats_check(nc)})
    relay = OutboxRelay.for_region(settings.region_name, engine=engine, table=outbox, js=js)
    # The access log's head, signed and kept on JetStream: its newest entries cannot go missing unseen.
    anchors = AnchorPublisher(engine=engine, table=access_log, js=js, service="notice",
                              key=anchor_key(master, "notice"), settings=settings.audit_anchor)

    async def count_envelopes() -> dict[str, int]:
        async with units() as store:
            return await store.count_envelopes()

    gauges = Snapshots(interval_s=settings.metrics.refresh_interval_s)
    gauges.add("mynumber.notice.envelopes", labelled("state", count_envelopes),
               description="envelopes (mailings) by state")
    return App(settings=settings, service=service, units=units, server=server,
               loops=[relay.run, consumer.run, anchors.run],
               cleanup=[nc.drain, engine.dispose], gauges=gauges)


async def serve(settings: NoticeSettings, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None,
                clock: Clock | None = None) -> None:
    await (await build(settings, clock=clock)).run(ready=ready, stop=stop)
