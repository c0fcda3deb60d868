"""Wiring only: settings -> keys -> database -> service -> gRPC server + outbox relay."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from mynumber_codes import ResidentCodeRule
from mynumber_events.numbering import EventSealer
from mynumber_runtime.clock import SystemClock
from mynumber_runtime.db import create_async_engine
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.host import host, nats_check, service_main
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.metrics import Snapshots, labelled
from mynumber_runtime.nats_identity import connect_nats
from mynumber_runtime.outbox import OutboxRelay
from mynumber_runtime.settings import read_hex_secret
from mynumber_runtime.streams import ensure_stream

from numbering.grpc_api import bindings
from numbering.keys import NumberingKeys
from numbering.models import data_keys, outbox
from numbering.repository import NumberRepository
from numbering.service import NumberingService
from numbering.settings import NumberingSettings

# Beside the sources in a checkout; images copy them elsewhere and say where.
MIGRATIONS = Path(os.environ.get("NUMBERING_MIGRATIONS_DIR") or Path(__file__).resolve().parents[2] / "migrations")
log = logging.getLogger("numbering")


async def serve(settings: NumberingSettings, *, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None) -> None:
    keys = NumberingKeys.from_master(read_hex_secret(settings.keys_file))
    engine = create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)
    nc = await connect_nats(settings.nats, name="numbering", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "numbering", duplicate_window_s=settings.nats.duplicate_window_s)
    repo = NumberRepository(engine)
    service = NumberingService(
        repo=repo, keys=keys, sealer=await load_sealer(engine, data_keys, keys.kek),
        event_sealer=EventSealer(read_hex_secret(settings.events_key_file)),
        region_digit=settings.region_digit, code_rule=ResidentCodeRule(settings.resident_code_weights),
        clock=SystemClock())

    server = PlatformServer(settings.grpc, bindings(service, chunk_limit=settings.bulk_chunk_limit),
                            checks={"database": repo.ping, "nats": nats_check(nc)})
    relay = OutboxRelay.for_region(settings.region_name, engine=engine, table=outbox, js=js)
    gauges = Snapshots(interval_s=settings.metrics.refresh_interval_s)
    gauges.add("mynumber.numbering.numbers", labelled("status", repo.count_numbers),
               description="numbers in the registry by status")
    await host("numbering", server, loops=[relay.run], cleanup=[nc.drain, engine.dispose], ready=ready, stop=stop,
               log=log, metrics=settings.metrics, gauges=gauges, region_digit=settings.region_digit)


def main() -> None:
    service_main("numbering", NumberingSettings, MIGRATIONS, lambda settings, stop: serve(settings, stop=stop),
                 description=__doc__)


if __name__ == "__main__":
    main()
