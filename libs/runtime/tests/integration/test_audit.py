"""The hash-chained access log on real PostgreSQL: appends chain, and any edit, deletion or reorder is found."""

import asyncio
import datetime as dt
import uuid

import sqlalchemy as sa
from mynumber_runtime import audit
from mynumber_runtime.db import create_async_engine, make_metadata

T0 = dt.datetime(2015, 10, 5, 9, 0, tzinfo=dt.UTC)


async def make_log(url):
    md = make_metadata(f"a{uuid.uuid4().hex[:8]}")
    table = audit.audit_table(md)
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


async def test_concurrent_appends_form_one_unbroken_chain(new_database):
    engine, table = await make_log(new_database())
    seqs = await asyncio.gather(*(append(engine, table, i) for i in range(60)))
    assert sorted(seqs) == list(range(1, 61))
    async with engine.connect() as conn:
        report = await audit.verify_chain(conn, table, batch=7)
        mine = await audit.entries_for(conn, table, "ref1")
    assert report.ok and report.entries == 60
    assert len(mine) == 20 and all(e.actor == "municipality:131016" for e in mine)
    await engine.dispose()


async def test_an_altered_or_removed_entry_breaks_the_chain_where_it_happened(new_database):
    engine, table = await make_log(new_database())
    for i in range(10):
        await append(engine, table, i)
    async with engine.begin() as conn:
        await conn.execute(sa.update(table).where(table.c.seq == 4).values(purpose="something else"))
    async with engine.connect() as conn:
        report = await audit.verify_chain(conn, table)
    assert not report.ok and report.first_bad_seq == 4 and report.problem == "entry was altered"
    async with engine.begin() as conn:
        await conn.execute(sa.delete(table).where(table.c.seq >= 3))
        for _ in (3, 4):  # re-appended entries chain again from entry 2 ...
            await audit.append(conn, table, at=T0, actor="x", action="y", subject_ref="z", purpose="w")
        await conn.execute(sa.delete(table).where(table.c.seq == 3))  # ... and then one goes missing
    async with engine.connect() as conn:
        report = await audit.verify_chain(conn, table)
    assert not report.ok and report.first_bad_seq == 3 and report.problem == "an entry is missing"
    await engine.dispose()
