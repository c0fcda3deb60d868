"""Bulk numbering, end to end, next to a raw COPY baseline measured in the same run on the same server.

    .venv/bin/python bench/numbering/run.py [--residents 1000000] [--chunk 2000] [--prefill 10000000]

What runs: an embedded PostgreSQL (fsync on) and NATS, the numbering service as its own process (`python -m
numbering`, as in production), and this process as the municipal client streaming synthetic residents through
AssignNumbers. Then the baseline: the rows the service wrote, copied back out and COPY'd into an identical table
(same columns, constraints and indexes) on the same server. Prints numbers/s, the baseline's rows/s, the ratio,
and the service's peak memory (VmHWM).

Scale mode, `--prefill M`: the registry already holds M numbers before the stream (prefill.py: rows of its shape,
COPY'd, indexes rebuilt), and so does the baseline's table, filled from the same seed: both are measured at the same
fill. The stream reports the rate of each `--report-every` residents as it goes, and the disk used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.db import migrate
from mynumber_runtime.devca import Credentials, DevCA
from mynumber_runtime.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from mynumber_runtime.grpc_server import client_channel
from mynumber_runtime.testing.servers import scratch_dir
from numbering.__main__ import MIGRATIONS
from prefill import prefill

MUNICIPALITY = "131016"


def synthetic_codes(count: int, seed: int) -> list[str]:
    """Distinct valid 住民票コード: random 10-digit bodies without repeats, check digits vectorised."""
    rng = np.random.default_rng(seed)
    bodies = np.unique(rng.integers(0, 10**10, size=int(count * 1.01), dtype=np.int64))[:count]
    rng.shuffle(bodies)
    checks = ResidentCodeRule().check_digits(bodies)
    return [f"{b:010d}{c}" for b, c in zip(bodies.tolist(), checks.tolist(), strict=True)]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def stream(target: str, client: Credentials, codes: list[str], chunk: int, every: int
                 ) -> tuple[float, pb.BulkProgress]:
    async def requests():
        for i in range(0, len(codes), chunk):
            yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=codes[i : i + chunk])

    last = pb.BulkProgress()
    async with client_channel(target, ca_file=client.ca_file, cert_file=client.cert_file,
                              key_file=client.key_file) as ch:
        await asyncio.wait_for(ch.channel_ready(), 60)
        started = time.perf_counter()
        mark, marked = started, 0
        async for resp in pb_grpc.NumberingServiceStub(ch).AssignNumbers(requests()):
            last = resp.progress
            if last.received - marked >= every:
                now = time.perf_counter()
                print(f"  {last.received:>11,} numbered  {last.received / (now - started):>9,.0f} /s overall  "
                      f"{(last.received - marked) / (now - mark):>9,.0f} /s over the last {last.received - marked:,}",
                      flush=True)
                mark, marked = now, last.received
        return time.perf_counter() - started, last


def baseline_copy(port: int, prefilled: int, seed: int) -> tuple[int, float]:
    """COPY the service's rows into an identical table holding the same prefilled rows: the ceiling for this server,
    these rows and this fill."""
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="mynumber", autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS baseline CASCADE")
        conn.execute("CREATE SCHEMA baseline")
        conn.execute("CREATE TABLE baseline.numbers (LIKE numbering.numbers INCLUDING ALL)")
        cols = "number_hash, resident_code_hash, sealed, municipality_code, status, region, issued_at"
        buf = bytearray()
        # The service's own rows: those issued after the prefill's fixed time.
        with conn.cursor().copy(f"COPY (SELECT {cols} FROM numbering.numbers WHERE issued_at > '2015-10-05') "
                                "TO STDOUT") as cp:
            for data in cp:
                buf += data
        rows = conn.execute("SELECT count(*) FROM numbering.numbers WHERE issued_at > '2015-10-05'").fetchone()[0]
    if prefilled:
        prefill(port, prefilled, seed=seed, table="baseline.numbers")
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="mynumber", autocommit=True) as conn:
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(f"COPY baseline.numbers ({cols}) FROM STDIN") as cp:
            view = memoryview(buf)
            for i in range(0, len(view), 1 << 20):
                cp.write(view[i : i + (1 << 20)])
        return rows, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20151005)
    ap.add_argument("--prefill", type=int, default=0, help="numbers the registry holds before the stream")
    ap.add_argument("--report-every", type=int, default=100_000, help="residents per reported rate")
    ap.add_argument("--pg", action="append", default=[], metavar="NAME=VALUE",
                    help="a PostgreSQL setting for this run's server (repeatable), to compare settings")
    args = ap.parse_args()

    root = scratch_dir("mynumber-bench-")
    pg = EmbeddedPostgres(root / "pg", durable=True, options=dict(o.split("=", 1) for o in args.pg)).start()
    nats = EmbeddedNats(root / "nats").start()
    service: subprocess.Popen[bytes] | None = None
    try:
        migrate(pg.url, MIGRATIONS)
        (root / "numbering.key").write_text(os.urandom(32).hex())
        (root / "events.key").write_text(os.urandom(32).hex())
        port = free_port()
        # As in production: mTLS (a throwaway dev CA) and numbering's own NATS user.
        ca = DevCA(root / "devca")
        tls, nats_user = ca.issue("service:numbering", server=True), nats.settings("numbering")
        env = dict(os.environ, NUMBERING_DATABASE__URL=pg.url, NUMBERING_NATS__URL=nats.url,
                   NUMBERING_NATS__USER="numbering", NUMBERING_NATS__PASSWORD_FILE=str(nats_user.password_file),
                   NUMBERING_GRPC__LISTEN=f"127.0.0.1:{port}", NUMBERING_GRPC__TLS_CERT_FILE=str(tls.cert_file),
                   NUMBERING_GRPC__TLS_KEY_FILE=str(tls.key_file), NUMBERING_GRPC__TLS_CLIENT_CA_FILE=str(tls.ca_file),
                   NUMBERING_KEYS_FILE=str(root / "numbering.key"), NUMBERING_EVENTS_KEY_FILE=str(root / "events.key"),
                   NUMBERING_LOG_LEVEL="WARNING")
        if args.prefill:
            print(f"prefilling the registry with {args.prefill:,} numbers ...", flush=True)
            print(f"  done in {prefill(pg.port, args.prefill, seed=args.seed):.0f} s", flush=True)
        service = subprocess.Popen([sys.executable, "-m", "numbering"], env=env)
        print(f"generating {args.residents:,} synthetic residents ...", flush=True)
        codes = synthetic_codes(args.residents, args.seed)
        print(f"streaming in chunks of {args.chunk:,} to the numbering service (pid {service.pid}) ...", flush=True)
        elapsed, progress = asyncio.run(stream(f"127.0.0.1:{port}", ca.issue(f"municipality:{MUNICIPALITY}"), codes,
                                                   args.chunk, args.report_every))
        del codes
        rate = progress.received / elapsed
        # Wait for the relay to publish every outbox event.
        relay_wait = time.perf_counter()
        with psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="mynumber") as conn:
            while conn.execute("SELECT count(*) FROM numbering.outbox WHERE published_at IS NULL").fetchone()[0]:
                time.sleep(0.2)
                conn.commit()
            events = conn.execute("SELECT count(*) FROM numbering.outbox").fetchone()[0]
        relay_wait = time.perf_counter() - relay_wait
        service_peak = peak_rss_mb(service.pid)
        with psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="mynumber") as conn:
            disk = conn.execute("SELECT pg_total_relation_size('numbering.numbers')").fetchone()[0]
        rows, copy_s = baseline_copy(pg.port, args.prefill, args.seed)
        base_rate = rows / copy_s
        print()
        print(f"numbered            {progress.assigned:>12,} new, {progress.failed} refused, in {elapsed:.1f} s")
        print(f"end to end          {rate:>12,.0f} numbers/s  (gRPC stream -> PostgreSQL, outbox in the same txn)")
        print(f"baseline raw COPY   {base_rate:>12,.0f} rows/s     "
              f"({rows:,} identical rows, identical table, {copy_s:.1f} s)")
        print(f"ratio               {rate / base_rate:>12.2f}  (target >= 0.50)")
        held = args.prefill + progress.assigned
        print(f"registry            {held:>12,} numbers, {disk / 2**30:.2f} GiB with its indexes = "
              f"{disk / 2**20 / (held / 1e6):,.0f} MiB per million")
        print(f"events              {events:>12,} outbox events (one per chunk), "
              f"relayed {relay_wait:.1f} s after the stream")
        print(f"service peak RSS    {service_peak:>12,.0f} MB   (target < 500 MB)")
        print(f"client peak RSS     {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:>12,.0f} MB")
    finally:
        if service is not None and service.poll() is None:
            service.send_signal(signal.SIGTERM)
            service.wait(30)
        nats.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
