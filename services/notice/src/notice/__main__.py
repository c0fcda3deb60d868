"""Wiring only: settings -> keys -> database -> service -> gRPC server + outbox relay + number.assigned consumer."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path

import nats
from mynumber.numbering.v1 import events_pb2 as numbering_ev
from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.crypto import FieldSealer, KeyedHash, derive_key
from mynumber_runtime.db import create_async_engine
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.host import host, nats_check, service_main
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.outbox import OutboxRelay
from mynumber_runtime.settings import read_hex_secret
from mynumber_runtime.streams import ensure_stream, stream_name
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from numbering.events import NUMBER_ASSIGNED, EventSealer, open_number_assigned
from sqlalchemy.ext.asyncio import AsyncConnection

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
    nc = await nats.connect(settings.nats.url, name="notice", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "notice", duplicate_window_s=settings.nats.duplicate_window_s)
    numbering_stream = stream_name("numbering")
    try:
        await js.stream_info(numbering_stream)  # the numbering service's stream: we read it, we do not configure it
    except NotFoundError:
        # The numbering service has not started yet (create its stream so we can subscribe), or after a region
        # failover its events live in the promoted mirror under another name: ensure_stream finds that one.
        numbering_stream = await ensure_stream(js, "numbering", duplicate_window_s=settings.nats.duplicate_window_s)
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
        event = numbering_ev.NumberAssigned()
        event.ParseFromString(msg.data)
        a = open_number_assigned(event_sealer, event)
        at = event.assigned_at.ToDatetime(tzinfo=dt.UTC)
        await service.on_number_assigned(conn, list(a.municipality_codes), list(a.resident_codes),
                                         list(a.individual_numbers), at)

    consumer = IdempotentConsumer(js=js, engine=engine, table=processed_events, stream=numbering_stream,
                                  durable=settings.consumer_name, filter_subject=NUMBER_ASSIGNED, handler=on_assigned)

    server = PlatformServer(settings.grpc, bindings(service, export_dir=settings.export_dir),
                            checks={"database": repo.ping, "nats": nats_check(nc)})
    relay = OutboxRelay.for_region(settings.region_name, engine=engine, table=outbox, js=js)
    await host("notice", server, loops=[relay.run, consumer.run], cleanup=[nc.drain, engine.dispose], ready=ready,
               stop=stop, log=log)


def main() -> None:
    service_main("notice", NoticeSettings, MIGRATIONS, lambda settings, stop: serve(settings, stop=stop),
                 description=__doc__)


if __name__ == "__main__":
    main()
