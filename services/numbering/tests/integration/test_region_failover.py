"""Failover (design.md "Two regions"): east's PostgreSQL streams synchronously to a standby in the west. East dies
hard; the standby is promoted and east's municipalities are served from the west. No committed number is lost, the
history survives, and changes made after the failover collide with nothing issued before."""

from __future__ import annotations

import asyncio
import shutil

import psycopg
import pytest
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.db import migrate
from mynumber_runtime.embedded import EmbeddedNats, EmbeddedPostgres
from mynumber_runtime.testing.identities import grpc_channel, session_nats_secrets
from mynumber_runtime.testing.servers import scratch_dir
from numbering.__main__ import MIGRATIONS, serve
from stdnum.jp import in_

from .conftest import make_settings

RULE = ResidentCodeRule()
MUNICIPALITY = "131016"  # 千代田区, homed east


async def start_service(settings):
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 60)
    return stop, task


@pytest.fixture
def servers():
    root = scratch_dir("mynumber-failover-")
    primary = EmbeddedPostgres(root / "east-pg").start()
    standby = primary.standby(root / "west-standby").start()
    # Synchronous replication: a commit returns only once the standby has the WAL, so promotion loses nothing.
    primary.require_synchronous_standby()
    nats = EmbeddedNats(root / "nats", secrets=session_nats_secrets()).start()
    try:
        yield primary, standby, nats
    finally:
        for server in (primary, standby, nats):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_east_dies_and_the_promoted_standby_in_the_west_has_every_committed_number(tmp_path, servers):
    primary, standby, nats = servers
    migrate(primary.url, MIGRATIONS)
    east = make_settings(tmp_path, primary.url, nats.url, region=1)
    stop, task = await start_service(east)
    codes = [RULE.make(f"{b:010d}") for b in range(3_000_000, 3_000_120)]
    async with grpc_channel(f"municipality:{MUNICIPALITY}", east.grpc.listen) as ch:
        stub = pb_grpc.NumberingServiceStub(ch)

        async def bulk():
            yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=codes[:100])

        before = {}
        async for r in stub.AssignNumbers(bulk()):
            before.update(zip(codes[:100], r.individual_numbers, strict=True))
        for c in codes[100:]:
            before[c] = (await stub.AssignNumber(pb.AssignNumberRequest(municipality_code=MUNICIPALITY,
                                                                        resident_code=c))).individual_number
        for c in codes[:10]:
            before[c] = (await stub.ChangeNumber(pb.ChangeNumberRequest(
                municipality_code=MUNICIPALITY, resident_code=c, reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST))
            ).individual_number
    # Every commit above waited for the standby: replication is synchronous, not merely fast.
    with psycopg.connect(host="127.0.0.1", port=primary.port, user="postgres", dbname="postgres") as conn:
        assert conn.execute("SELECT sync_state FROM pg_stat_replication").fetchall() == [("sync",)]
    # East is lost: the database crashes, its service with it.
    primary.kill()
    stop.set()
    await asyncio.wait_for(task, 60)

    standby.promote()
    west = make_settings(tmp_path, standby.url, nats.url, region=2)  # re-homed: the west's region digit
    west.region_name = "west"
    stop, task = await start_service(west)
    try:
        async with grpc_channel(f"municipality:{MUNICIPALITY}", west.grpc.listen) as ch:
            stub = pb_grpc.NumberingServiceStub(ch)
            after = {c: (await stub.LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY,
                                                                        resident_code=c))).individual_number
                     for c in codes}
            assert after == before  # nothing committed in the east was lost
            history = await stub.ListNumberHistory(pb.ListNumberHistoryRequest(municipality_code=MUNICIPALITY,
                                                                               resident_code=codes[0]))
            assert len(history.records) == 2 and history.records[0].issuing_region == 1
            # Changes go on in the west, from the west's own counter: no collision with anything issued before.
            new = [(await stub.ChangeNumber(pb.ChangeNumberRequest(
                municipality_code=MUNICIPALITY, resident_code=c, reason=pb.CHANGE_REASON_LEAKED_EX_OFFICIO))
            ).individual_number for c in codes[:20]]
            retired = {r.individual_number for c in codes[:20] for r in (await stub.ListNumberHistory(
                pb.ListNumberHistoryRequest(municipality_code=MUNICIPALITY, resident_code=c))).records[1:]}
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    assert all(in_.is_valid(n) for n in new)
    assert not set(new) & (set(before.values()) | retired)
    assert len(set(new) | set(before.values()) | retired) == len(new) + len(set(before.values()) | retired)
