"""Failover as docs/deploy.md's runbook has it: east's PostgreSQL streams (here synchronously) to a standby in the
west, beside west's own register. East dies hard; the standby is promoted and east's service runs in the west on a
fresh region digit. No committed number is lost in either region, and changes made afterwards by both regions
collide with nothing either registry issued."""

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
WEST_MUNICIPALITY = "271004"  # 大阪市, homed west
# docs/deploy.md: digits 1 (east) and 2 (west) are issued; a failover takes the next free one, never a used one.
FAILOVER_DIGIT = 3


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


async def registry_hashes(url: str) -> set[bytes]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {bytes(r[0]) for r in conn.execute("SELECT number_hash FROM numbering.numbers").fetchall()}


async def number(stub, municipality: str, codes: list[str]) -> dict[str, str]:
    async def bulk():
        yield pb.AssignNumbersRequest(municipality_code=municipality, resident_codes=codes)

    out: dict[str, str] = {}
    async for r in stub.AssignNumbers(bulk()):
        out.update(zip(codes[r.first_index:], r.individual_numbers, strict=False))
    return out


async def change(stub, municipality: str, codes: list[str]) -> dict[str, str]:
    return {c: (await stub.ChangeNumber(pb.ChangeNumberRequest(
        municipality_code=municipality, resident_code=c, reason=pb.CHANGE_REASON_LEAKED_EX_OFFICIO))
    ).individual_number for c in codes}


async def numbers_and_history(stub, municipality: str, codes: list[str]) -> tuple[dict[str, str], set[str]]:
    current, every = {}, set()
    for c in codes:
        current[c] = (await stub.LookupNumber(pb.LookupNumberRequest(municipality_code=municipality,
                                                                     resident_code=c))).individual_number
        every |= {r.individual_number for r in (await stub.ListNumberHistory(pb.ListNumberHistoryRequest(
            municipality_code=municipality, resident_code=c))).records}
    return current, every


async def test_east_dies_and_west_runs_easts_register_on_a_fresh_digit_beside_its_own(tmp_path, servers,
                                                                                       new_database):
    """docs/deploy.md "Failover": both regions number and change numbers; east dies; its standby in the west is
    promoted and east's service runs there on a fresh region digit (3: 1 is east's, 2 is west's own), while west
    goes on serving its own register. Nothing east committed is lost, west's numbers are all there, and numbers
    changed afterwards by both regions collide with nothing either registry ever issued."""
    primary, standby, nats = servers
    migrate(primary.url, MIGRATIONS)
    west_url = new_database()
    migrate(west_url, MIGRATIONS)
    east = make_settings(tmp_path, primary.url, nats.url, region=1)
    east.region_name = "east"
    west = make_settings(tmp_path, west_url, nats.url, region=2)  # same key files: one national key
    west.region_name = "west"
    east_codes = [RULE.make(f"{b:010d}") for b in range(3_000_000, 3_000_120)]
    west_codes = [RULE.make(f"{b:010d}") for b in range(4_000_000, 4_000_060)]
    east_stop, east_task = await start_service(east)
    west_stop, west_task = await start_service(west)
    try:
        async with grpc_channel(f"municipality:{MUNICIPALITY}", east.grpc.listen) as ch:
            stub = pb_grpc.NumberingServiceStub(ch)
            east_before = await number(stub, MUNICIPALITY, east_codes[:100])
            for c in east_codes[100:]:
                east_before[c] = (await stub.AssignNumber(pb.AssignNumberRequest(
                    municipality_code=MUNICIPALITY, resident_code=c))).individual_number
            east_before |= await change(stub, MUNICIPALITY, east_codes[:10])
            _, east_issued = await numbers_and_history(stub, MUNICIPALITY, east_codes)
        async with grpc_channel(f"municipality:{WEST_MUNICIPALITY}", west.grpc.listen) as ch:
            stub = pb_grpc.NumberingServiceStub(ch)
            west_before = await number(stub, WEST_MUNICIPALITY, west_codes)
            west_before |= await change(stub, WEST_MUNICIPALITY, west_codes[:10])
            _, west_issued = await numbers_and_history(stub, WEST_MUNICIPALITY, west_codes)
        assert len(east_issued) == 130 and len(west_issued) == 70  # firsts and changes, retired ones included
        # Every commit above waited for the standby: replication is synchronous, not merely fast.
        with psycopg.connect(host="127.0.0.1", port=primary.port, user="postgres", dbname="postgres") as conn:
            assert conn.execute("SELECT sync_state FROM pg_stat_replication").fetchall() == [("sync",)]
        # Step 0: east is lost, its database and its service with it.
        primary.kill()
        east_stop.set()
        await asyncio.wait_for(east_task, 60)
        # Steps 1 and 4: promote the standby; east's service runs in west on the next free digit.
        standby.promote()
        east_dr = make_settings(tmp_path, standby.url, nats.url, region=FAILOVER_DIGIT)
        east_dr.region_name = "east-dr"
        assert FAILOVER_DIGIT not in (east.region_digit, west.region_digit)
        dr_stop, dr_task = await start_service(east_dr)
        try:
            async with grpc_channel(f"municipality:{MUNICIPALITY}", east_dr.grpc.listen) as ch:
                stub = pb_grpc.NumberingServiceStub(ch)
                east_after, east_history = await numbers_and_history(stub, MUNICIPALITY, east_codes)
                assert east_after == east_before and east_history == east_issued  # nothing east committed is lost
                history = await stub.ListNumberHistory(pb.ListNumberHistoryRequest(
                    municipality_code=MUNICIPALITY, resident_code=east_codes[0]))
                assert [r.issuing_region for r in history.records] == [1, 0]
                # Both regions change numbers after the failover (east's on digit 3, west's on its own digit 2).
                east_new = await change(stub, MUNICIPALITY, east_codes[:20])
                history = await stub.ListNumberHistory(pb.ListNumberHistoryRequest(
                    municipality_code=MUNICIPALITY, resident_code=east_codes[0]))
                assert [r.issuing_region for r in history.records] == [FAILOVER_DIGIT, 1, 0]
            async with grpc_channel(f"municipality:{WEST_MUNICIPALITY}", west.grpc.listen) as ch:
                stub = pb_grpc.NumberingServiceStub(ch)
                west_after, west_history = await numbers_and_history(stub, WEST_MUNICIPALITY, west_codes)
                assert west_after == west_before and west_history == west_issued  # west's own numbers are all there
                west_new = await change(stub, WEST_MUNICIPALITY, west_codes[:20])
        finally:
            dr_stop.set()
            await asyncio.wait_for(dr_task, 60)
    finally:
        west_stop.set()
        await asyncio.wait_for(west_task, 60)
    new = [*east_new.values(), *west_new.values()]
    assert all(in_.is_valid(n) for n in new) and len(set(new)) == 40
    # Against both regions: no new number equals anything either registry issued before, active or retired.
    assert not set(new) & (east_issued | west_issued)
    # And the registries themselves: every hash in either, first and changed numbers, retired ones included.
    east_hashes, west_hashes = await registry_hashes(standby.url), await registry_hashes(west_url)
    assert len(east_hashes) == 130 + 20 and len(west_hashes) == 70 + 20
    assert not east_hashes & west_hashes
