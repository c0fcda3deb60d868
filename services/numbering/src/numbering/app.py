"""The one composition of the numbering service: `build(settings)` wires keys, database, NATS, the rules and the
gRPC server; `__main__` and the test fixtures both run what it returns, so tests wire it as production does."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from mynumber_codes import ResidentCodeRule
from mynumber_events.numbering import EventSealer
from mynumber_runtime.anchor import AnchorPublisher, anchor_key
from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.db import Units, create_async_engine
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.host import host, nats_check
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.metrics import Snapshots, labelled
from mynumber_runtime.nats_identity import connect_nats
from mynumber_runtime.outbox import OutboxRelay
from mynumber_runtime.settings import read_hex_secret
from mynumber_runtime.streams import ensure_stream
from nats.aio.client import Client as Nats

from numbering.grpc_api import bindings
from numbering.keys import NumberingKeys
from numbering.models import access_log, data_keys, outbox
from numbering.repository import NumberStore
from numbering.service import NumberingService
from numbering.settings import NumberingSettings

log = logging.getLogger("numbering")


@dataclass
class App:
    settings: NumberingSettings
    nc: Nats
    units: Units[NumberStore]
    service: NumberingService
    server: PlatformServer
    relay: OutboxRelay
    gauges: Snapshots
    anchors: AnchorPublisher

    async def run(self, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
        await host("numbering", self.server, loops=[self.relay.run, self.anchors.run],
                   cleanup=[self.nc.drain, self.units.engine.dispose],
                   ready=ready, stop=stop, log=log, metrics=self.settings.metrics, gauges=self.gauges,
                   region_digit=self.settings.region_digit)


async def build(settings: NumberingSettings, *, clock: Clock | None = None) -> App:
    master = read_hex_secret(settings.keys_file)
    keys = NumberingKeys.from_master(master)
    engine = create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)
    nc = await connect_nats(settings.nats, name="numbering", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "numbering", duplicate_window_s=settings.nats.duplicate_window_s)
    units = Units(engine, NumberStore)
    service = NumberingService(
        keys=keys, sealer=await load_sealer(engine, data_keys, keys.kek),
        event_sealer=EventSealer(read_hex_secret(settings.events_key_file)),
        region_digit=settings.region_digit, code_rule=ResidentCodeRule(settings.resident_code_weights),
        clock=clock or SystemClock())
    server = PlatformServer(settings.grpc, bindings(service, units, chunk_limit=settings.bulk_chunk_limit),
                            checks={"database": units.ping, "nats": nats_check(nc)})
    relay = OutboxRelay.for_region(settings.region_name, engine=engine, table=outbox, js=js)

    async def count_numbers() -> dict[str, int]:
        async with units() as store:
            return await store.count_numbers()

    gauges = Snapshots(interval_s=settings.metrics.refresh_interval_s)
    gauges.add("mynumber.numbering.numbers", labelled("status", count_numbers),
               description="numbers in the registry by status")
    # The access log's head, signed and kept on JetStream: its newest entries cannot go missing unseen.
    anchors = AnchorPublisher(engine=engine, table=access_log, js=js, service="numbering",
                              key=anchor_key(master, "numbering"), settings=settings.audit_anchor)
    return App(settings, nc, units, service, server, relay, gauges, anchors)
