"""Outbox relay and idempotent consumer against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import nats
import pytest
import sqlalchemy as sa
from mynumber_runtime.consumer import IdempotentConsumer, processed_events_table
from mynumber_runtime.db import create_async_engine, make_metadata
from mynumber_runtime.outbox import OutboxRelay, add_event, outbox_table
from mynumber_runtime.streams import ensure_stream, stream_name, subject
from mynumber_runtime.testing.identities import RUNTIME_TEST_USER, nats_connect, nats_settings
from nats.js.api import StreamConfig

RELAY = Path(__file__).with_name("relay_process.py")


@pytest.fixture
async def schema(new_database):
    url = new_database()
    name = f"s{uuid.uuid4().hex[:8]}"
    md = make_metadata(name)
    tables = {"outbox": outbox_table(md), "processed": processed_events_table(md),
              "effects": sa.Table("effects", md, sa.Column("k", sa.Text, primary_key=True),
                                  sa.Column("n", sa.Integer, nullable=False))}
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE SCHEMA {name}"))
        await conn.run_sync(md.create_all)
    yield url, name, engine, tables
    await engine.dispose()


def relay_args(nats_url):
    """How the relay process connects: as the runtime tests' own NATS user."""
    settings = nats_settings(RUNTIME_TEST_USER, nats_url)
    return [nats_url, settings.user, str(settings.password_file)]


@pytest.fixture
async def js(nats_url):
    nc = await nats_connect(RUNTIME_TEST_USER, nats_url)
    yield nc.jetstream()
    await nc.close()


async def count_on(js, subj: str) -> list[str]:
    """Message ids stored on one subject, in stream order (an ephemeral consumer reads them all)."""
    sub = await js.pull_subscribe(subj, stream=stream_name("runtimetest"))
    ids: list[str] = []
    while True:
        try:
            msgs = await sub.fetch(100, timeout=0.5)
        except (nats.errors.TimeoutError, TimeoutError):
            break
        for m in msgs:
            ids.append(m.headers["Nats-Msg-Id"])
            await m.ack()
    await sub.unsubscribe()
    return ids


async def test_a_relay_killed_between_publishing_and_marking_resumes_and_every_event_lands_once(schema, js,
                                                                                               nats_url):
    url, name, engine, t = schema
    await ensure_stream(js, "runtimetest", duplicate_window_s=600)
    subj = subject("runtimetest", "thing", f"happened{uuid.uuid4().hex[:6]}")
    async with engine.begin() as conn:
        for i in range(100):
            await add_event(conn, t["outbox"], subj, f"event {i}".encode())
    env = dict(os.environ, DIE="1")
    died = subprocess.run([sys.executable, str(RELAY), url, name, *relay_args(nats_url)], env=env, timeout=60)
    assert died.returncode == -9  # killed itself after publishing the first 40, before marking them
    async with engine.connect() as conn:
        unmarked = (await conn.execute(sa.select(sa.func.count()).where(
            t["outbox"].c.published_at.is_(None)))).scalar_one()
    assert unmarked == 100
    assert len(await count_on(js, subj)) == 40  # already out: the next relay re-publishes them
    resumed = subprocess.run([sys.executable, str(RELAY), url, name, *relay_args(nats_url)], timeout=60)
    assert resumed.returncode == 0
    ids = await count_on(js, subj)
    assert len(ids) == 100 and len(set(ids)) == 100  # the 40 re-published ones were dropped as duplicates
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).where(
            t["outbox"].c.published_at.is_(None)))).scalar_one() == 0


async def test_a_consumer_seeing_the_same_event_twice_changes_nothing(schema, js, nats_url):
    _, _, engine, t = schema
    # A stream whose duplicate window has long passed when the relay re-publishes (e.g. after a long outage):
    # the server stores the event twice, and the consumer must notice.
    name = f"DUPTEST_{uuid.uuid4().hex[:6].upper()}"
    subj = f"duptest.{name.lower()}.thing"
    await js.add_stream(StreamConfig(name=name, subjects=[subj], duplicate_window=0.2))
    await js.publish(subj, b"k1", headers={"Nats-Msg-Id": "east.numbering.outbox.1"})
    await asyncio.sleep(0.4)  # not a timing assertion: lets the 0.2 s duplicate window expire
    await js.publish(subj, b"k1", headers={"Nats-Msg-Id": "east.numbering.outbox.1"})
    await js.publish(subj, b"k2", headers={"Nats-Msg-Id": "east.numbering.outbox.2"})
    assert (await js.stream_info(name)).state.messages == 3

    async def handler(conn, msg):
        await conn.execute(sa.dialects.postgresql.insert(t["effects"]).values(k=msg.data.decode(), n=1)
                           .on_conflict_do_update(index_elements=["k"], set_={"n": t["effects"].c.n + 1}))

    consumer = IdempotentConsumer(js=js, engine=engine, table=t["processed"], stream=name, durable="effects",
                                  filter_subject=subj, handler=handler, service="runtimetest")
    while await consumer.run_once(timeout=0.5):
        pass
    async with engine.connect() as conn:
        effects = dict((await conn.execute(sa.select(t["effects"].c.k, t["effects"].c.n))).all())
    assert effects == {"k1": 1, "k2": 1}
    assert (consumer.handled, consumer.duplicates) == (2, 1)


async def test_a_failing_handler_leaves_no_trace_and_the_event_comes_back(schema, js):
    _, _, engine, t = schema
    name = f"RETRY_{uuid.uuid4().hex[:6].upper()}"
    subj = f"retry.{name.lower()}.thing"
    await js.add_stream(StreamConfig(name=name, subjects=[subj]))
    await js.publish(subj, b"k", headers={"Nats-Msg-Id": "x.1"})
    calls = []

    async def flaky(conn, msg):
        calls.append(1)
        await conn.execute(sa.insert(t["effects"]).values(k="k", n=1))
        if len(calls) == 1:
            raise RuntimeError("downstream unavailable")

    consumer = IdempotentConsumer(js=js, engine=engine, table=t["processed"], stream=name, durable="flaky",
                                  filter_subject=subj, handler=flaky, service="runtimetest")
    await consumer.run_once(timeout=0.5)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t["processed"]))).scalar_one() == 0
    for _ in range(20):
        if consumer.handled:
            break
        await consumer.run_once(timeout=0.5)
    assert len(calls) == 2 and consumer.handled == 1
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(t["effects"].c.n))).scalar_one() == 1


async def test_three_relays_at_once_publish_every_row_exactly_once_between_them(schema, js):
    """Rows are claimed with FOR UPDATE SKIP LOCKED: relays side by side share the work, none publishes a row
    another one took (JetStream's de-duplication would hide a double publish, so the relays' own counts are summed)."""
    _, _, engine, t = schema
    await ensure_stream(js, "runtimetest", duplicate_window_s=600)
    subj = subject("runtimetest", "thing", f"shared{uuid.uuid4().hex[:6]}")
    async with engine.begin() as conn:
        for i in range(600):
            await add_event(conn, t["outbox"], subj, f"event {i}".encode())
    relays = [OutboxRelay(engine=engine, table=t["outbox"], js=js, origin="test", batch_size=25,
                          idle_interval_s=0.05) for _ in range(3)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    try:
        async with asyncio.timeout(60):
            while await relays[0].backlog():
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert sum(r.published for r in relays) == 600
    assert sum(1 for r in relays if r.published) >= 2, [r.published for r in relays]  # the work was shared
    ids = await count_on(js, subj)
    assert len(ids) == 600 and len(set(ids)) == 600


async def test_published_rows_are_pruned_after_the_keep_time_by_the_running_relay_and_unpublished_never(schema, js):
    _, _, engine, t = schema
    await ensure_stream(js, "runtimetest", duplicate_window_s=600)
    subj = subject("runtimetest", "thing", f"pruned{uuid.uuid4().hex[:6]}")
    ob = t["outbox"]
    async with engine.begin() as conn:
        for i in range(40):
            await add_event(conn, ob, subj, f"event {i}".encode())
    relay = OutboxRelay(engine=engine, table=ob, js=js, origin="test", idle_interval_s=0.05,
                        keep_published_s=86400, prune_every_s=0.1, prune_batch=7)
    assert await relay.run_once() == 40
    async with engine.begin() as conn:
        # 25 published two days ago, 15 an hour ago; and 3 more rows never published, dated long ago.
        ids = sorted((await conn.execute(sa.select(ob.c.id))).scalars())
        await conn.execute(sa.update(ob).where(ob.c.id.in_(ids[:25]))
                           .values(published_at=sa.func.now() - sa.text("interval '2 days'")))
        await conn.execute(sa.update(ob).where(ob.c.id.in_(ids[25:]))
                           .values(published_at=sa.func.now() - sa.text("interval '1 hour'")))
        for i in range(3):
            await add_event(conn, ob, subj, f"late {i}".encode())
        await conn.execute(sa.update(ob).where(ob.c.published_at.is_(None))
                           .values(created_at=sa.func.now() - sa.text("interval '30 days'")))
    # Direct: only the 25 old published rows go (in batches of 7), never an unpublished one.
    assert await relay.prune(86400) == 25
    async with engine.connect() as conn:
        left = (await conn.execute(sa.select(ob.c.published_at.is_(None)))).scalars().all()
    assert sorted(left) == [False] * 15 + [True] * 3
    # And the running relay does it by itself: it publishes the 3, and prunes what has aged since.
    async with engine.begin() as conn:
        await conn.execute(sa.update(ob).where(ob.c.published_at.is_not(None))
                           .values(published_at=sa.func.now() - sa.text("interval '2 days'")))
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(30):
            while relay.pruned < 15:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(ob))).scalar_one() == 3
        assert (await conn.execute(sa.select(sa.func.count()).select_from(ob)
                                   .where(ob.c.published_at.is_(None)))).scalar_one() == 0
