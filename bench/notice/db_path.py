"""The service's own database path: mailing list in, numbers in, envelopes prepared, batch exported.

    .venv/bin/python bench/notice/db_path.py [--households 50000] [--chunk 5000]

What runs: an embedded PostgreSQL (fsync on), the notice schema migrated by Alembic, and the NoticeService in
this process (no gRPC, no NATS: the outbox rows are written, nobody relays them). Per chunk of households: the
mailing list is stored (sealed facts and addresses), then the chunk's numbers as one number.assigned would bring
them (one transaction: sealed numbers, envelopes, items, 申請書IDs, outbox rows). Then one ExportPrintBatch
(records only). Prints households/s for each stage and the process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from mynumber_codes import ResidentCodeRule, individual_number_check_digit
from mynumber_runtime.clock import FixedClock
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.db import Units, create_async_engine, migrate
from mynumber_runtime.embedded import EmbeddedPostgres
from mynumber_runtime.identity import Caller
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.testing.servers import scratch_dir
from notice.__main__ import MIGRATIONS
from notice.events import Assigned
from notice.models import data_keys
from notice.repository import NoticeStore
from notice.service import HouseholdIn, MemberIn, NoticeService

MUNICIPALITY = "131016"
RULE = ResidentCodeRule()
SIZES = [1, 1, 1, 2, 2, 2, 3, 3, 4, 4]


def chunk_of(first: int, n: int) -> tuple[list[HouseholdIn], list[str], list[str]]:
    hh, codes, numbers = [], [], []
    for h in range(first, first + n):
        members = []
        for i in range(SIZES[h % 10]):
            code = RULE.make(f"{h * 4 + i:010d}")  # valid codes: the mailing list refuses anything else
            members.append(MemberIn(resident_code=code, name=f"試験 太郎{i}", birth_date="1980-04-01", sex=1 + i % 2))
            codes.append(code)
            base = f"{(h * 4 + i) * 7919 % 10**11:011d}"
            numbers.append(base + individual_number_check_digit(base))
        hh.append(HouseholdIn(household_id=f"H{h:09d}", address=f"東京都千代田区千代田{h % 9 + 1}-{h % 97 + 1}",
                              postal_code="1000001", members=members))
    return hh, codes, numbers


async def run(url: str, households: int, chunk: int, out: Path) -> None:
    engine = create_async_engine(url)
    units = Units(engine, NoticeStore)
    service = NoticeService(sealer=await load_sealer(engine, data_keys, os.urandom(32)),
                            hasher=KeyedHash(os.urandom(32)),
                            clock=FixedClock(dt.datetime(2015, 10, 20, tzinfo=dt.UTC)),
                            print_sealer=FieldSealer({1: os.urandom(32)}, current=1))
    caller = Caller("municipality", MUNICIPALITY)
    t_list = t_numbers = 0.0
    for first in range(0, households, chunk):
        hh, codes, numbers = chunk_of(first, min(chunk, households - first))
        t0 = time.perf_counter()
        async with units() as store:  # one unit per request, as the gRPC boundary opens them
            await service.mailing.submit_mailing_list(store, caller, MUNICIPALITY, hh)
        t1 = time.perf_counter()
        async with units() as store:  # as the consumer's transaction for one event
            await service.mailing.on_number_assigned(store, Assigned([MUNICIPALITY] * len(codes), codes, numbers,
                                                                     dt.datetime(2015, 10, 5, tzinfo=dt.UTC)))
        t_list += t1 - t0
        t_numbers += time.perf_counter() - t1
    t0 = time.perf_counter()
    async with units() as store:
        pending = await service.printing.export_batch(store, Caller("operator", "bench"), [MUNICIPALITY], out,
                                                      with_pdfs=False)
    result = await pending.publish()
    t_export = time.perf_counter() - t0
    await engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mailing list: {households / t_list:,.0f} households/s; numbers + envelopes: "
          f"{households / t_numbers:,.0f} households/s; export of {result.envelopes:,} envelopes "
          f"({result.records:,} records): {t_export:.1f} s = {result.envelopes / t_export:,.0f} households/s; "
          f"peak RSS {peak:,.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=int, default=50_000)
    ap.add_argument("--chunk", type=int, default=5_000)
    args = ap.parse_args()
    root = scratch_dir("mynumber-bench-notice-")
    out = Path(tempfile.mkdtemp(prefix="bench-notice-db-"))
    pg = EmbeddedPostgres(root / "pg", durable=True).start()
    try:
        migrate(pg.url, MIGRATIONS)
        asyncio.run(run(pg.url, args.households, args.chunk, out))
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
