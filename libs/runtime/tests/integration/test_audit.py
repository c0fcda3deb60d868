"""The hash-chained access log on real PostgreSQL and its anchors on real NATS JetStream.

The chain alone finds any edit, any removal inside it and any reorder; it does not find the newest entries removed
(what is left still chains). The signed anchor of the head, published by `AnchorPublisher`, does: verified against
the latest anchor, a truncated or rebuilt chain is reported. A forged anchor is refused, a duplicate for the same
seq is dropped by JetStream, and the publisher outlives a NATS outage.
"""

import asyncio
import datetime as dt
import shutil
import time
import uuid

import pytest
import sqlalchemy as sa
from mynumber_runtime import audit
from mynumber_runtime.anchor import (
    Anchor,
    AnchorPublisher,
    AnchorRefused,
    AnchorSettings,
    anchor_key,
    anchor_message_id,
    anchor_subject,
    chain_head,
    latest_anchor,
)
from mynumber_runtime.db import create_async_engine, make_metadata
from mynumber_runtime.embedded import EmbeddedNats, free_port
from mynumber_runtime.streams import ensure_stream
from mynumber_runtime.testing.identities import (
    RUNTIME_TEST_USER,
    nats_connect,
    session_nats_secrets,
    session_nats_users,
)
from mynumber_runtime.testing.servers import scratch_dir

T0 = dt.datetime(2015, 10, 5, 9, 0, tzinfo=dt.UTC)
SERVICE = "runtimetest"  # a stream of no platform service (testing.identities.RUNTIME_TEST_USER)
KEY = anchor_key(b"\x01" * 32, SERVICE)


async def make_log(url):
    md = make_metadata(f"a{uuid.uuid4().hex[:8]}")
    # A table name of its own: the anchor subject names the table, and the tests share one NATS server.
    table = audit.audit_table(md, f"log_{uuid.uuid4().hex[:8]}")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE SCHEMA {md.schema}"))
        await conn.run_sync(md.create_all)
    return engine, table


async def append(engine, table, i):
    async with engine.begin() as conn:
        return await audit.append(conn, table, at=T0 + dt.timedelta(seconds=i), actor="municipality:131016",
                                  action="number.lookup", subject_ref=f"ref{i % 3}", purpose="個人番号の確認",
                                  details={"i": i})


async def verify(engine, table, anchor=None):
    async with engine.connect() as conn:
        return await audit.verify_chain(conn, table, anchor=anchor)


async def runtime_js(url, **options):
    nc = await nats_connect(RUNTIME_TEST_USER, url, **options)
    js = nc.jetstream(timeout=5)
    await ensure_stream(js, SERVICE)
    return nc, js


async def wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_concurrent_appends_form_one_unbroken_chain(new_database):
    engine, table = await make_log(new_database())
    seqs = await asyncio.gather(*(append(engine, table, i) for i in range(60)))
    assert sorted(seqs) == list(range(1, 61))
    async with engine.connect() as conn:
        report = await audit.verify_chain(conn, table, batch=7)
        mine = await audit.entries_for(conn, table, "ref1")
    assert report.ok and report.entries == 60 and report.anchored_seq is None
    assert len(mine) == 20 and all(e.actor == "municipality:131016" for e in mine)
    await engine.dispose()


async def test_an_altered_or_removed_entry_breaks_the_chain_where_it_happened(new_database):
    engine, table = await make_log(new_database())
    for i in range(10):
        await append(engine, table, i)
    async with engine.begin() as conn:
        await conn.execute(sa.update(table).where(table.c.seq == 4).values(purpose="something else"))
    report = await verify(engine, table)
    assert not report.ok and report.first_bad_seq == 4 and report.problem == "entry was altered"
    async with engine.begin() as conn:
        await conn.execute(sa.delete(table).where(table.c.seq >= 3))
        for _ in (3, 4):  # re-appended entries chain again from entry 2 ...
            await audit.append(conn, table, at=T0, actor="x", action="y", subject_ref="z", purpose="w")
        await conn.execute(sa.delete(table).where(table.c.seq == 3))  # ... and then one goes missing
    report = await verify(engine, table)
    assert not report.ok and report.first_bad_seq == 3 and report.problem == "an entry is missing"
    await engine.dispose()


async def test_a_chain_longer_than_256_entries_and_than_a_batch_verifies(new_database):
    # Seqs beyond CPython's cached small ints (256) and several batches: seqs are compared by value, and the walk
    # resumes after each batch where it stopped.
    engine, table = await make_log(new_database())
    async with engine.begin() as conn:
        for i in range(300):
            await audit.append(conn, table, at=T0 + dt.timedelta(seconds=i), actor="x", action="y",
                               subject_ref="z", purpose="w", details={"i": i})
    async with engine.connect() as conn:
        report = await audit.verify_chain(conn, table, batch=128)
    assert report.ok and report.entries == 300 and report.problem is None
    await engine.dispose()


async def test_an_entry_whose_prev_hash_was_rewritten_breaks_the_chain_there(new_database):
    engine, table = await make_log(new_database())
    for i in range(6):
        await append(engine, table, i)
    for rewritten in (b"\x00" * 32, b"\xff" * 32):  # below and above the true one
        async with engine.begin() as conn:
            await conn.execute(sa.update(table).where(table.c.seq == 5).values(prev_hash=rewritten))
        report = await verify(engine, table)
        assert (report.ok, report.first_bad_seq, report.entries) == (False, 5, 4)
        assert report.problem == "prev_hash does not match the previous entry"
    await engine.dispose()


async def test_a_chain_that_grew_after_its_anchor_verifies_against_it(new_database):
    # The anchor is the head at some moment: entries appended since are the chain going on, not a problem.
    engine, table = await make_log(new_database())
    for i in range(3):
        await append(engine, table, i)
    async with engine.connect() as conn:
        head = await chain_head(conn, table)
    assert head is not None
    anchor = Anchor(table=table.name, seq=head[0], head_hash=bytes(head[1]), at=T0)
    for i in range(3, 6):
        await append(engine, table, i)
    report = await verify(engine, table, anchor)
    assert (report.ok, report.entries, report.anchored_seq, report.problem) == (True, 6, 3, None)
    await engine.dispose()


async def test_the_access_record_view_lists_that_persons_entries_and_no_others(new_database):
    engine, table = await make_log(new_database())
    for i in range(9):
        await append(engine, table, i)  # entry i + 1 names ref{i % 3}
    async with engine.connect() as conn:
        for ref, seqs in (("ref0", [1, 4, 7]), ("ref1", [2, 5, 8]), ("ref2", [3, 6, 9]), ("ref3", [])):
            assert [e.seq for e in await audit.entries_for(conn, table, ref)] == seqs
    await engine.dispose()


async def test_any_altered_entry_is_found_whichever_way_its_hash_moves(new_database):
    engine, table = await make_log(new_database())
    for i in range(10):
        await append(engine, table, i)
    for seq in range(1, 11):  # ten recomputed hashes: some above the stored one, some below
        async with engine.begin() as conn:
            await conn.execute(sa.update(table).where(table.c.seq == seq).values(purpose="something else"))
        report = await verify(engine, table)
        assert (report.ok, report.first_bad_seq, report.problem) == (False, seq, "entry was altered")
        async with engine.begin() as conn:
            await conn.execute(sa.update(table).where(table.c.seq == seq).values(purpose="個人番号の確認"))
    assert (await verify(engine, table)).ok
    await engine.dispose()


async def test_the_table_refuses_a_second_entry_for_a_seq_and_an_entry_without_its_subject_or_prev_hash(
        new_database):
    engine, table = await make_log(new_database())
    await append(engine, table, 0)
    row = {"seq": 2, "at": T0, "actor": "x", "action": "y", "subject_ref": "z", "purpose": "w", "details": {},
           "prev_hash": b"", "hash": b""}
    for bad in ({"seq": 1}, {"subject_ref": None}, {"prev_hash": None}):
        with pytest.raises(sa.exc.IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.insert(table).values(**{**row, **bad}))
    await engine.dispose()


async def test_removing_the_newest_entries_is_found_only_against_the_anchor(new_database, nats_url):
    engine, table = await make_log(new_database())
    nc, js = await runtime_js(nats_url)
    try:
        for i in range(10):
            await append(engine, table, i)
        publisher = AnchorPublisher(engine=engine, table=table, js=js, service=SERVICE, key=KEY)
        published = await publisher.run_once()
        anchor = await latest_anchor(js, SERVICE, table.name, KEY)
        assert anchor == published and anchor is not None and anchor.seq == 10
        assert (await verify(engine, table, anchor)).ok

        async with engine.begin() as conn:
            await conn.execute(sa.delete(table).where(table.c.seq >= 8))
        # The reason for anchoring: what is left of the chain still chains.
        assert (await verify(engine, table)).ok
        report = await verify(engine, table, anchor)
        assert not report.ok and report.first_bad_seq == 8 and report.entries == 7 and report.anchored_seq == 10
        assert report.problem is not None and report.problem.startswith("entries after seq 7 were removed")

        # Rebuilt to the anchored length (unkeyed hashes are easy to recompute): the anchored hash differs.
        for _ in (8, 9, 10):
            async with engine.begin() as conn:
                await audit.append(conn, table, at=T0, actor="x", action="y", subject_ref="z", purpose="w")
        assert (await verify(engine, table)).ok
        report = await verify(engine, table, anchor)
        assert not report.ok and report.first_bad_seq == 10 and report.problem == "the anchored entry was altered"
    finally:
        await nc.close()
        await engine.dispose()


async def test_a_forged_or_garbled_anchor_is_refused(new_database, nats_url):
    engine, table = await make_log(new_database())
    nc, js = await runtime_js(nats_url)
    subj = anchor_subject(SERVICE, table.name)
    try:
        assert await latest_anchor(js, SERVICE, table.name, KEY) is None  # never anchored
        for i in range(3):
            await append(engine, table, i)
        await AnchorPublisher(engine=engine, table=table, js=js, service=SERVICE, key=KEY).run_once()
        # Whoever may publish on the subject but lacks the key: a head far beyond the chain, or hiding a truncation.
        forged = Anchor(table=table.name, seq=2, head_hash=b"\x00" * 32, at=T0)
        await js.publish(subj, forged.signed(anchor_key(b"\x02" * 32, SERVICE)),
                         headers={"Nats-Msg-Id": f"forged-{uuid.uuid4().hex}"})
        with pytest.raises(AnchorRefused, match="does not verify"):
            await latest_anchor(js, SERVICE, table.name, KEY)
        await js.publish(subj, b'{"seq": 2}', headers={"Nats-Msg-Id": f"garbled-{uuid.uuid4().hex}"})
        with pytest.raises(AnchorRefused, match="unreadable"):
            await latest_anchor(js, SERVICE, table.name, KEY)
        # Another table's genuine anchor replayed on this subject.
        other = Anchor(table="other_log", seq=3, head_hash=b"\x00" * 32, at=T0)
        await js.publish(subj, other.signed(KEY), headers={"Nats-Msg-Id": f"replayed-{uuid.uuid4().hex}"})
        with pytest.raises(AnchorRefused, match="other_log"):
            await latest_anchor(js, SERVICE, table.name, KEY)
    finally:
        await nc.close()
        await engine.dispose()


async def test_a_verifier_says_when_it_had_no_anchor_and_fails_on_a_refused_one(new_database, nats_url):
    engine, table = await make_log(new_database())
    nc, js = await runtime_js(nats_url)

    async def lookup():
        return await latest_anchor(js, SERVICE, table.name, KEY)

    async def unreachable():
        raise ConnectionError("nats: no servers available")

    try:
        for i in range(3):
            await append(engine, table, i)
        async with engine.connect() as conn:
            unconfigured = await audit.verify_anchored(conn, table, None)
            never = await audit.verify_anchored(conn, table, lookup)
            away = await audit.verify_anchored(conn, table, unreachable)
        assert unconfigured.ok and "none configured" in (unconfigured.note or "")
        assert never.ok and "none has been published" in (never.note or "") and never.anchored_seq is None
        assert away.ok and "could not be read (ConnectionError" in (away.note or "")
        assert "cannot be ruled out" in (away.note or "")
        await AnchorPublisher(engine=engine, table=table, js=js, service=SERVICE, key=KEY).run_once()
        async with engine.connect() as conn:
            anchored = await audit.verify_anchored(conn, table, lookup)
        assert anchored.ok and anchored.note is None and anchored.anchored_seq == 3
        forged = Anchor(table=table.name, seq=3, head_hash=b"\x00" * 32, at=T0)
        await js.publish(anchor_subject(SERVICE, table.name), forged.signed(b"\x03" * 32),
                         headers={"Nats-Msg-Id": f"forged-{uuid.uuid4().hex}"})
        async with engine.connect() as conn:
            refused = await audit.verify_anchored(conn, table, lookup)
        assert not refused.ok and "does not verify" in (refused.problem or "")
    finally:
        await nc.close()
        await engine.dispose()


async def test_an_unchanged_head_is_not_anchored_twice_and_a_republication_is_one_message(new_database, nats_url):
    engine, table = await make_log(new_database())
    nc, js = await runtime_js(nats_url)
    subj = anchor_subject(SERVICE, table.name)

    async def on_subject() -> int:
        info = await js.stream_info(await js.find_stream_name_by_subject(subj), subjects_filter=subj)
        return int((info.state.subjects or {}).get(subj, 0))

    try:
        await append(engine, table, 0)
        publisher = AnchorPublisher(engine=engine, table=table, js=js, service=SERVICE, key=KEY,
                                    settings=AnchorSettings(republish_s=3600))
        assert await publisher.run_once() is not None
        assert await publisher.run_once() is None  # the head did not move
        # A second publisher (a restart, a second replica) anchors the same head: JetStream drops the copy.
        again = AnchorPublisher(engine=engine, table=table, js=js, service=SERVICE, key=KEY)
        assert await again.run_once() is not None
        assert await on_subject() == 1
        ack = await js.publish(subj, b"x", headers={"Nats-Msg-Id": anchor_message_id(table.name, 1)})
        assert ack.duplicate
        await append(engine, table, 1)
        assert (await publisher.run_once()).seq == 2  # type: ignore[union-attr]
        assert await on_subject() == 2
    finally:
        await nc.close()
        await engine.dispose()


@pytest.fixture
def own_nats():
    """A NATS server of this test's own (the shared one must not be stopped), on a fixed port and store, so it
    comes back where the client reconnects, with the anchors it held."""
    root = scratch_dir("mynumber-nats-anchor-")
    server = EmbeddedNats(root, port=free_port(), secrets=session_nats_secrets(), users=session_nats_users())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_the_publisher_outlives_a_nats_outage_and_anchors_the_head_once_nats_is_back(new_database, own_nats):
    engine, table = await make_log(new_database())
    nc, js = await runtime_js(own_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    publisher = AnchorPublisher(engine=engine, table=table, js=js, service=SERVICE, key=KEY,
                                settings=AnchorSettings(interval_s=0.05, backoff_initial_s=0.05, backoff_max_s=0.2,
                                                        publish_timeout_s=0.5))
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.run(stop))

    async def anchored(seq: int) -> bool:
        try:
            anchor = await latest_anchor(js, SERVICE, table.name, KEY)
        except Exception:  # NATS still coming back
            return False
        return anchor is not None and anchor.seq == seq

    try:
        await append(engine, table, 0)
        await wait_for(lambda: anchored(1), "the first anchor")
        own_nats.stop()
        await append(engine, table, 1)
        await append(engine, table, 2)

        async def failing() -> bool:
            return publisher.failures > 0

        await wait_for(failing, "the publisher to notice the outage")
        assert not task.done()
        own_nats.start()
        await wait_for(lambda: anchored(3), "the anchor of the head after the outage")
        assert not task.done() and (await verify(engine, table, publisher.last)).ok
    finally:
        stop.set()
        await task
        await nc.close()
        await engine.dispose()
