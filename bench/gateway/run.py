"""The gateway under a stepped ramp (Locust, headless), next to numbering called directly over gRPC in the same run.

    .venv/bin/python bench/gateway/run.py [--steps 10,25,50] [--step-s 20] [--workers 1]

What runs, all on 127.0.0.1 and stopped by pid: an embedded PostgreSQL (fsync on) and NATS, numbering
(`python -m numbering`) and the gateway (`python -m gateway --migrate`) as their own processes with a throwaway dev
CA (mTLS everywhere), the rate limit raised for the bench's municipality (it must not throttle the bench). At each
step, Locust runs N users, each assigning a fresh resident (fresh Idempotency-Key) and looking one up; then the
same calls with N concurrent callers straight to numbering over gRPC with the same client certificate. Prints per
step and call: requests/s, p50/p99 (ms), errors, and the gateway's overhead per call (p50 gateway - p50 gRPC).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from gateway.__main__ import MIGRATIONS as GATEWAY_MIGRATIONS
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_runtime.db import migrate
from mynumber_runtime.devca import Credentials, DevCA
from mynumber_runtime.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from mynumber_runtime.grpc_server import client_channel
from mynumber_runtime.testing.servers import scratch_dir
from numbering.__main__ import MIGRATIONS as NUMBERING_MIGRATIONS

MUNICIPALITY = "131016"
HERE = Path(__file__).resolve().parent
RULE = ResidentCodeRule()


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"pid {proc.pid} exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))] if sorted_ms else float("nan")


def locust_step(url: str, client: Credentials, users: int, seconds: int, root: Path, seed: int
                ) -> dict[str, dict[str, float]]:
    prefix = root / f"step{users}"
    env = dict(os.environ, BENCH_CA=str(client.ca_file), BENCH_CERT=str(client.cert_file),
               BENCH_KEY=str(client.key_file), BENCH_SEED=str(seed))
    subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless", "--host", url,
                    "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix),
                    "--only-summary", "--loglevel", "ERROR", "--stop-timeout", "5"],
                   env=env, check=False, stdout=subprocess.DEVNULL)
    out: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["Name"] in ("POST assign", "GET lookup"):
                out[row["Name"]] = {"rps": float(row["Requests/s"]), "p50": float(row["50%"]),
                                    "p99": float(row["99%"]), "errors": float(row["Failure Count"]),
                                    "count": float(row["Request Count"])}
    return out


async def grpc_step(target: str, client: Credentials, users: int, seconds: int, seed: int
                    ) -> dict[str, dict[str, float]]:
    channel = client_channel(target, ca_file=client.ca_file, cert_file=client.cert_file, key_file=client.key_file)
    stub = pb_grpc.NumberingServiceStub(channel)
    bodies = itertools.count(seed * 10**7 + 5 * 10**6)
    lat: dict[str, list[float]] = {"POST assign": [], "GET lookup": []}
    errors = {"POST assign": 0, "GET lookup": 0}
    end = time.perf_counter() + seconds

    async def user() -> None:
        mine: list[str] = []
        while time.perf_counter() < end:
            code = RULE.make(f"{next(bodies) % 10**10:010d}")
            t = time.perf_counter()
            try:
                await stub.AssignNumber(pb.AssignNumberRequest(municipality_code=MUNICIPALITY, resident_code=code),
                                        timeout=5)
                mine.append(code)
            except Exception:
                errors["POST assign"] += 1
            lat["POST assign"].append((time.perf_counter() - t) * 1000)
            if mine:
                t = time.perf_counter()
                try:
                    await stub.LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY,
                                                                   resident_code=random.choice(mine)), timeout=5)
                except Exception:
                    errors["GET lookup"] += 1
                lat["GET lookup"].append((time.perf_counter() - t) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(users)))
    elapsed = time.perf_counter() - started
    await channel.close()
    out = {}
    for name, values in lat.items():
        values.sort()
        out[name] = {"rps": len(values) / elapsed, "p50": percentile(values, 0.5), "p99": percentile(values, 0.99),
                     "errors": float(errors[name]), "count": float(len(values))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", default="10,25,50", help="users per step, comma-separated")
    ap.add_argument("--step-s", type=int, default=20, help="seconds per step (each side)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    steps = [int(s) for s in args.steps.split(",")]

    root = scratch_dir("mynumber-bench-gw-")
    pg = EmbeddedPostgres(root / "pg", durable=True).start()
    nats = EmbeddedNats(root / "nats").start()
    numbering = gateway = None
    try:
        migrate(pg.url, NUMBERING_MIGRATIONS)
        migrate(pg.url, GATEWAY_MIGRATIONS)
        for name in ("numbering.key", "events.key", "gateway.key"):
            (root / name).write_text(os.urandom(32).hex())
        ca = DevCA(root / "devca")
        n_tls, n_nats = ca.issue("service:numbering", server=True), nats.settings("numbering")
        g_tls = ca.issue("service:gateway", server=True)
        client = ca.issue(f"municipality:{MUNICIPALITY}")
        n_port, g_grpc, g_https = free_port(), free_port(), free_port()
        base = dict(os.environ, PYTHONUNBUFFERED="1")
        numbering = subprocess.Popen([sys.executable, "-m", "numbering"], env=dict(
            base, NUMBERING_DATABASE__URL=pg.url, NUMBERING_NATS__URL=nats.url, NUMBERING_NATS__USER="numbering",
            NUMBERING_NATS__PASSWORD_FILE=str(n_nats.password_file), NUMBERING_GRPC__LISTEN=f"127.0.0.1:{n_port}",
            NUMBERING_GRPC__TLS_CERT_FILE=str(n_tls.cert_file), NUMBERING_GRPC__TLS_KEY_FILE=str(n_tls.key_file),
            NUMBERING_GRPC__TLS_CLIENT_CA_FILE=str(n_tls.ca_file), NUMBERING_KEYS_FILE=str(root / "numbering.key"),
            NUMBERING_EVENTS_KEY_FILE=str(root / "events.key"), NUMBERING_LOG_LEVEL="WARNING"))
        wait_port(n_port, numbering)
        gateway = subprocess.Popen([sys.executable, "-m", "gateway"], env=dict(
            base, GATEWAY_DATABASE__URL=pg.url, GATEWAY_GRPC__LISTEN=f"127.0.0.1:{g_grpc}",
            GATEWAY_GRPC__TLS_CERT_FILE=str(g_tls.cert_file), GATEWAY_GRPC__TLS_KEY_FILE=str(g_tls.key_file),
            GATEWAY_GRPC__TLS_CLIENT_CA_FILE=str(g_tls.ca_file), GATEWAY_HTTPS__LISTEN_PORT=str(g_https),
            GATEWAY_NUMBERING__TARGET=f"127.0.0.1:{n_port}", GATEWAY_KEYS_FILE=str(root / "gateway.key"),
            GATEWAY_LOG_LEVEL="WARNING", GATEWAY_METRICS__LISTEN="127.0.0.1:0",
            # The bench's municipality must not be throttled: its limit is far above what the bench can send.
            GATEWAY_RATE_LIMIT__OVERRIDES=json.dumps(
                {f"municipality:{MUNICIPALITY}": {"rate_per_s": 1_000_000, "burst": 1_000_000}})))
        wait_port(g_https, gateway)
        url = f"https://127.0.0.1:{g_https}"
        print(f"numbering pid {numbering.pid} on {n_port}, gateway pid {gateway.pid} on {url}", flush=True)
        results = []
        header = f"{'users':>5} {'call':<12} {'side':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        print(header, flush=True)
        for i, users in enumerate(steps, start=1):
            through = locust_step(url, client, users, args.step_s, root, seed=i)
            direct = asyncio.run(grpc_step(f"127.0.0.1:{n_port}", client, users, args.step_s, seed=i))
            for name in ("POST assign", "GET lookup"):
                g, d = through.get(name, {}), direct[name]
                for side, f in (("gateway", g), ("gRPC", d)):
                    print(f"{users:>5} {name:<12} {side:<8} {f.get('rps', 0):>8.0f} {f.get('p50', 0):>8.1f} "
                          f"{f.get('p99', 0):>8.1f} {f.get('errors', 0):>7.0f}", flush=True)
                print(f"{users:>5} {name:<12} overhead p50 {g.get('p50', 0) - d['p50']:+.1f} ms, "
                      f"p99 {g.get('p99', 0) - d['p99']:+.1f} ms", flush=True)
                results.append({"users": users, "call": name, "gateway": g, "grpc": d})
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        stop(gateway)
        stop(numbering)
        nats.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
