"""East and west number and change numbers with no link between them (a partition), under the one national key:
no number is ever issued twice."""

from __future__ import annotations

import asyncio
import shutil

import pytest
import sqlalchemy as sa
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.db import create_async_engine, migrate
from mynumber_runtime.embedded import EmbeddedNats
from mynumber_runtime.testing.identities import grpc_channel, session_nats_secrets
from mynumber_runtime.testing.servers import scratch_dir
from numbering.__main__ import MIGRATIONS, serve
from stdnum.jp import in_

from .conftest import make_settings

RULE = ResidentCodeRule()


@pytest.fixture
async def regions(tmp_path, new_database):
    """Two databases, two NATS servers, two services; the same numbering secret file."""
    root = scratch_dir("mynumber-regions-")
    nats_servers = [EmbeddedNats(root / name, server_name=name, secrets=session_nats_secrets()).start()
                    for name in ("east", "west")]
    running = []
    try:
        for digit, (name, nats) in enumerate(zip(("east", "west"), nats_servers, strict=True), start=1):
            url = new_database()
            migrate(url, MIGRATIONS)
            settings = make_settings(tmp_path, url, nats.url, region=digit)  # same key files: one national key
            settings.region_name = name
            ready, stop = asyncio.Event(), asyncio.Event()
            task = asyncio.create_task(serve(settings, ready=ready, stop=stop))
            await asyncio.wait_for(ready.wait(), 30)
            running.append((settings, url, stop, task))
        yield running
    finally:
        for _, _, stop, task in running:
            stop.set()
            await asyncio.wait_for(task, 30)
        for n in nats_servers:
            n.stop()
        shutil.rmtree(root, ignore_errors=True)


async def number_and_change(settings, municipality: str, bodies: range) -> list[str]:
    async with grpc_channel(f"municipality:{municipality}", settings.grpc.listen) as ch:
        stub = pb_grpc.NumberingServiceStub(ch)
        codes = [RULE.make(f"{b:010d}") for b in bodies]

        async def one(code: str) -> list[str]:
            first = await stub.AssignNumber(pb.AssignNumberRequest(municipality_code=municipality,
                                                                   resident_code=code))
            changed = await stub.ChangeNumber(pb.ChangeNumberRequest(
                municipality_code=municipality, resident_code=code, reason=pb.CHANGE_REASON_LEAKED_EX_OFFICIO))
            return [first.individual_number, changed.individual_number]

        return [n for pair in await asyncio.gather(*(one(c) for c in codes)) for n in pair]


async def registry_hashes(url: str) -> set[bytes]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        hashes = {bytes(r[0]) for r in await conn.execute(sa.text("SELECT number_hash FROM numbering.numbers"))}
    await engine.dispose()
    return hashes


async def test_partitioned_regions_never_issue_the_same_number(regions):
    (east, east_url, _, _), (west, west_url, _, _) = regions
    east_numbers, west_numbers = await asyncio.gather(
        number_and_change(east, "131016", range(1_000_000, 1_000_150)),   # 千代田区, homed east
        number_and_change(west, "271004", range(2_000_000, 2_000_150)))   # 大阪市, homed west
    everything = east_numbers + west_numbers
    assert all(in_.is_valid(n) for n in everything)
    assert len(set(everything)) == len(everything) == 600
    # The registries themselves (first and changed numbers, active and retired) share no number.
    east_hashes, west_hashes = await registry_hashes(east_url), await registry_hashes(west_url)
    assert len(east_hashes) == len(west_hashes) == 300 and not east_hashes & west_hashes
