"""NATS takes numbering's events only from numbering: another service forging `number.assigned` with the next
outbox message id is refused, and the real event still lands (it used to be dropped as a duplicate)."""

from __future__ import annotations

import asyncio

import nats
import pytest
import sqlalchemy as sa
from mynumber.numbering.v1 import events_pb2 as ev
from mynumber_events import numbering as events
from mynumber_runtime.outbox import message_id
from mynumber_runtime.streams import stream_name
from mynumber_runtime.testing.identities import nats_connect
from numbering.models import outbox
from sqlalchemy.engine import make_url

from .test_numbering_api import new_code, req


async def next_outbox_id(db) -> int:
    async with db.connect() as conn:
        seq = (await conn.execute(sa.text("SELECT pg_get_serial_sequence('numbering.outbox', 'id')"))).scalar_one()
        last, called = (await conn.execute(sa.text(f"SELECT last_value, is_called FROM {seq}"))).one()
    return int(last) + 1 if called else int(last)


async def stored_with_id(nats_url: str, msg_id: str) -> list[bytes]:
    nc = await nats_connect("operator", nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(events.NUMBER_ASSIGNED, stream=stream_name("numbering"))
        found: list[bytes] = []
        while True:
            try:
                msgs = await sub.fetch(500, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                return found
            found += [m.data for m in msgs if m.headers and m.headers.get("Nats-Msg-Id") == msg_id]
    finally:
        await nc.close()


async def test_a_forged_event_with_the_next_outbox_id_is_refused_and_the_real_event_lands(numbering, db):
    origin = f"{numbering.settings.region_name}-{make_url(numbering.database_url).database}"
    msg_id = message_id(origin, outbox, await next_outbox_id(db))
    seen: list[str] = []

    async def record(e: Exception) -> None:
        seen.append(str(e))

    forger = await nats_connect("notice", numbering.nats_url, error_cb=record, allow_reconnect=False)
    try:
        with pytest.raises(nats.errors.TimeoutError):  # no PubAck: JetStream never stored it
            await forger.jetstream(timeout=1).publish(events.NUMBER_ASSIGNED, b"forged",
                                                      headers={"Nats-Msg-Id": msg_id})
        for _ in range(100):  # the error callback runs as its own task: wait for it, bounded
            if any("permissions violation" in s and events.NUMBER_ASSIGNED in s for s in seen):
                break
            await asyncio.sleep(0.02)
    finally:
        await forger.close()
    assert any("permissions violation" in s and events.NUMBER_ASSIGNED in s for s in seen)

    code = new_code()
    await numbering.stub().AssignNumber(req(code))
    for _ in range(40):  # the relay publishes after commit: wait for the condition, bounded
        if stored := await stored_with_id(numbering.nats_url, msg_id):
            break
        await asyncio.sleep(0.5)
    [data] = stored  # exactly one event under that id, and it is the real one
    sealer = events.EventSealer(numbering.events_key)
    assert list(events.open_number_assigned(sealer, ev.NumberAssigned.FromString(data)).resident_codes) == [code]
