"""`make run`: an embedded PostgreSQL and NATS (JetStream) under one data folder, migrations, then every service
as a child process with readable logs. Ctrl-C stops everything; a restart keeps the state in the data folder."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mynumber_runtime.embedded import EmbeddedNats, EmbeddedPostgres


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    env_prefix: str
    grpc_port: int
    extra_env: tuple[tuple[str, str], ...] = ()


# Every service built so far; one line each.
SERVICES = [
    ServiceSpec("numbering", "numbering", "NUMBERING_", 50051),
    ServiceSpec("notice", "notice", "NOTICE_", 50053,
                (("NOTICE_PRINT_KEY_FILE", "{data}/secrets/print.key"), ("NOTICE_EXPORT_DIR", "{data}/notice/export"))),
]

COLORS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"


def ensure_secret(path: Path, nbytes: int = 32) -> Path:
    """Local runs make their own secrets once; production mounts them from Kubernetes Secrets."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(0o600)
        path.write_text(os.urandom(nbytes).hex() + "\n")
    return path


def _pump(name: str, color: str, stream: object, sink: object) -> None:
    width = max(len(s.name) for s in SERVICES)
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        line = raw.decode(errors="replace").rstrip()
        try:
            entry = json.loads(line)
            extra = {k: v for k, v in entry.items() if k not in {"ts", "level", "service", "logger", "msg",
                                                                 "trace_id", "span_id"}}
            line = f"{entry.get('level', ''):<7} {entry.get('msg', '')}" + (f"  {extra}" if extra else "")
        except (json.JSONDecodeError, AttributeError):
            pass
        sink.write(f"{color}{name:>{width}}{RESET} | {line}\n")  # type: ignore[attr-defined]
        sink.flush()  # type: ignore[attr-defined]


def wait_serving(target: str, name: str, procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    """Until the service's health check (real checks: database, NATS) answers SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a service exited while {name} was starting")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == \
                        health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"{name} did not become healthy at {target}")


def run(data_dir: Path, pg_port: int, nats_port: int, port_offset: int = 0) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user when we are root
    secrets = data_dir / "secrets"
    events_key = ensure_secret(secrets / "events.key")  # shared by every producer and consumer of events
    ensure_secret(secrets / "print.key")  # notice: seals a DV victim's 居所 for the print vendor's label line
    print(f"data folder: {data_dir}", flush=True)
    pg = EmbeddedPostgres(data_dir / "pg", port=pg_port).start()
    nats = EmbeddedNats(data_dir / "nats", port=nats_port).start()
    print(f"postgres: {pg.url}\nnats:     {nats.url}", flush=True)
    procs: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()
    try:
        for i, spec in enumerate(SERVICES):
            p = spec.env_prefix
            env = dict(os.environ)
            env.update({
                f"{p}DATABASE__URL": pg.url, f"{p}NATS__URL": nats.url,
                f"{p}GRPC__LISTEN": f"127.0.0.1:{spec.grpc_port + port_offset}", f"{p}GRPC__INSECURE_LOCAL": "true",
                f"{p}KEYS_FILE": str(ensure_secret(secrets / f"{spec.name}.key")),  # each service its own
                f"{p}EVENTS_KEY_FILE": str(events_key),
                f"{p}LOG_FILE": str(data_dir / "logs" / f"{spec.name}.log"),
                **{k: v.format(data=data_dir) for k, v in spec.extra_env},
            })
            proc = subprocess.Popen([sys.executable, "-m", spec.module, "--migrate"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            procs.append(proc)
            threading.Thread(target=_pump, args=(spec.name, COLORS[i % len(COLORS)], proc.stderr, sys.stdout),
                             daemon=True).start()
            print(f"{spec.name}: grpc 127.0.0.1:{spec.grpc_port + port_offset} (pid {proc.pid})", flush=True)
        for spec in SERVICES:
            wait_serving(f"127.0.0.1:{spec.grpc_port + port_offset}", spec.name, procs)
        print("\nready. try:  .venv/bin/mynumber assign 131016 12345678903   (Ctrl-C stops everything)\n", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        while not stopping.is_set():
            for spec, proc in zip(SERVICES, procs, strict=True):
                if proc.poll() is not None:
                    print(f"{spec.name} exited with code {proc.returncode}; stopping the platform")
                    stopping.set()
            stopping.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping services ...")
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        nats.stop()
        pg.stop()
        print("stopped.")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="mynumber_devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="start the local platform in the foreground")
    r.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MYNUMBER_DATA_DIR", "var")))
    r.add_argument("--pg-port", type=int, default=int(os.environ.get("MYNUMBER_PG_PORT", "55432")))
    r.add_argument("--nats-port", type=int, default=int(os.environ.get("MYNUMBER_NATS_PORT", "54222")))
    r.add_argument("--port-offset", type=int, default=int(os.environ.get("MYNUMBER_PORT_OFFSET", "0")),
                   help="added to every service's gRPC port (run two platforms side by side)")
    args = parser.parse_args()
    time.tzset()
    sys.exit(run(args.data_dir.resolve(), args.pg_port, args.nats_port, args.port_offset))


if __name__ == "__main__":
    main()
