"""Wiring only: settings -> keys -> database -> service -> gRPC server + outbox relay + number.assigned consumer."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from mynumber_events.numbering import NUMBER_ASSIGNED, EventSealer
from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.crypto import FieldSealer, KeyedHash, derive_key
from mynumber_runtime.db import create_async_engine
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.host import host, nats_check, service_main
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.metrics import Snapshots, labelled
from mynumber_runtime.nats_identity import connect_nats
from mynumber_runtime.outbox import OutboxRelay
from mynumber_runtime.settings import read_hex_secret
from mynumber_runtime.streams import ensure_stream, open_stream
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncConnection

from notice.events import decode_number_assigned
from notice.grpc_api import bindings
from notice.models import data_keys, outbox, processed_events
from notice.repository import NoticeRepository
from notice.service import NoticeService
from notice.settings import NoticeSettings

MIGRATIONS = Path(os.environ.get("NOTICE_MIGRATIONS_DIR") or Path(__file__).resolve().parents[2] / "migrations")
log = logging.getLogger("notice")


async def serve(settings: NoticeSettings, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None,
                clock: Clock | None = None, services: list[NoticeService] | None = None) -> None:
    master = read_hex_secret(settings.keys_file)
    engine = create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)
    nc = await connect_nats(settings.nats, name="notice", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "notice", duplicate_window_s=settings.nats.duplicate_window_s)
    # The numbering service's stream: we read it, we do not configure it (our NATS user may not). Created if
    # numbering has not started yet; after a region failover, the promoted mirror found by subject.
    numbering_stream = await open_stream(js, "numbering", duplicate_window_s=settings.nats.duplicate_window_s)
    repo = NoticeRepository(engine)
    # Labels of our own: even if a local run hands every service the same master file, our keys differ.
    kek, lookup = derive_key(master, "notice/pii-kek"), derive_key(master, "notice/lookup-hash")
    service = NoticeService(repo=repo, sealer=await load_sealer(engine, data_keys, kek),
                            hasher=KeyedHash(lookup), clock=clock or SystemClock(),
                            print_sealer=FieldSealer({1: read_hex_secret(settings.print_key_file)}, current=1))
    if services is not None:
        services.append(service)
    event_sealer = EventSealer(read_hex_secret(settings.events_key_file))

    async def on_assigned(conn: AsyncConnection, msg: Msg) -> None:
        # An event that does not decode, open or validate raises PoisonEvent: the consumer dead-letters it.
        await service.on_number_assigned(conn, decode_number_assigned(event_sealer, msg.data))

    consumer = IdempotentConsumer(js=js, engine=engine, table=processed_events, stream=numbering_stream,
                                  durable=settings.consumer_name, filter_subject=NUMBER_ASSIGNED, handler=on_assigned,
                                  service="notice")

    server = PlatformServer(settings.grpc, bindings(service, export_dir=settings.export_dir),
                            checks={"database": repo.ping, "nats": nats_check(nc)})
    relay = OutboxRelay.for_region(settings.region_name, engine=engine, table=outbox, js=js)
    gauges = Snapshots(interval_s=settings.metrics.refresh_interval_s)
    gauges.add("mynumber.notice.envelopes", labelled("state", repo.count_envelopes),
               description="envelopes (mailings) by state")
    await host("notice", server, loops=[relay.run, consumer.run], cleanup=[nc.drain, engine.dispose], ready=ready,
               stop=stop, log=log, metrics=settings.metrics, gauges=gauges)


def main() -> None:
    service_main("notice", NoticeSettings, MIGRATIONS, lambda settings, stop: serve(settings, stop=stop),
                 description=__doc__)


if __name__ == "__main__":
    main()
