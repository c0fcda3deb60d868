"""`make run`: an embedded PostgreSQL and NATS (JetStream) under one data folder, migrations, then every service
as a child process with readable logs. Ctrl-C stops everything; a restart keeps the state in the data folder
(jpki's CA keys too: its SoftHSM token lives there, and the ceremony creates nothing that exists already)."""

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
    """How one service starts: `python -m <module> <args>`. In `extra_env`, `args` and `prepare`, `{data}` is the
    data folder and `{http_port}` the service's HTTP port (offset applied)."""

    name: str
    module: str
    env_prefix: str
    grpc_port: int
    extra_env: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ("--migrate",)
    # Run to completion (same module and env) before the service starts, on every start: so it must be idempotent.
    prepare: tuple[str, ...] = ()
    # A plain-HTTP face besides gRPC, if any (jpki: CA certificates, CRLs, OCSP for verifiers).
    http_port: int | None = None

    def fill(self, text: str, data_dir: Path, http_offset: int) -> str:
        return text.format(data=data_dir, http_port=self.http_port + http_offset if self.http_port else "")


# Every service built so far.
SERVICES = [
    ServiceSpec("numbering", "numbering", "NUMBERING_", 50051),
    ServiceSpec("notice", "notice", "NOTICE_", 50053,
                (("NOTICE_PRINT_KEY_FILE", "{data}/secrets/print.key"), ("NOTICE_EXPORT_DIR", "{data}/notice/export"))),
    ServiceSpec("jpki", "jpki", "JPKI_", 50054,
                (("JPKI_HSM__USER_PIN_FILE", "{data}/secrets/jpki-hsm.pin"),
                 ("JPKI_HSM__SOFTHSM_DATA_DIR", "{data}/jpki"),  # the token, so a restart keeps the CA keys
                 ("JPKI_HTTP__LISTEN_HOST", "127.0.0.1"), ("JPKI_HTTP__LISTEN_PORT", "{http_port}"),
                 ("JPKI_HTTP__PUBLIC_BASE_URL", "http://127.0.0.1:{http_port}")),  # written into every certificate
                args=("serve",),  # serve migrates by itself
                prepare=("ceremony", "--so-pin-file", "{data}/secrets/jpki-hsm.so-pin", "--out", "{data}/jpki/ca"),
                http_port=8054),
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


def prepare(spec: ServiceSpec, argv: list[str], env: dict[str, str], color: str) -> None:
    """Run a service's preparation step to its end, its output shown like the service's own."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _pump(spec.name, color, proc.stdout, sys.stdout)
    finally:
        # Not cut short by Ctrl-C (its own session): a key ceremony stopped halfway could leave a key in the HSM
        # that no CA record names. It takes seconds.
        code = proc.wait()
    if code != 0:
        raise RuntimeError(f"{spec.name} {spec.prepare[0]} failed with exit code {code}")


def wait_serving(target: str, name: str, procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    """Until the service's health check (real checks: database, NATS) answers SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    # gRPC backs off reconnecting (1 s, then longer) while nothing listens yet; a slow starter would look slower still.
    fast_retry = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                  ("grpc.max_reconnect_backoff_ms", 200)]
    with grpc.insecure_channel(target, options=fast_retry) as ch:
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


def run(data_dir: Path, pg_port: int, nats_port: int, port_offset: int = 0, http_offset: int | None = None) -> int:
    http_offset = port_offset if http_offset is None else http_offset
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user when we are root
    secrets = data_dir / "secrets"
    events_key = ensure_secret(secrets / "events.key")  # shared by every producer and consumer of events
    ensure_secret(secrets / "print.key")  # notice: seals a DV victim's 居所 for the print vendor's label line
    ensure_secret(secrets / "jpki-hsm.pin")  # jpki: the SoftHSM token's user PIN (serve and the ceremony log in)
    ensure_secret(secrets / "jpki-hsm.so-pin")  # jpki: the token's security officer PIN (the ceremony makes it)
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
                **{k: spec.fill(v, data_dir, http_offset) for k, v in spec.extra_env},
            })
            color = COLORS[i % len(COLORS)]
            module = [sys.executable, "-m", spec.module]
            if spec.prepare:
                prepare(spec, module + [spec.fill(a, data_dir, http_offset) for a in spec.prepare], env, color)
            proc = subprocess.Popen(module + [spec.fill(a, data_dir, http_offset) for a in spec.args], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            procs.append(proc)
            threading.Thread(target=_pump, args=(spec.name, color, proc.stderr, sys.stdout), daemon=True).start()
            http = f" http http://127.0.0.1:{spec.http_port + http_offset}" if spec.http_port else ""
            print(f"{spec.name}: grpc 127.0.0.1:{spec.grpc_port + port_offset}{http} (pid {proc.pid})", flush=True)
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
    r.add_argument("--http-port-offset", type=int, default=_env_int("MYNUMBER_HTTP_PORT_OFFSET"),
                   help="added to every service's HTTP port (default: the --port-offset)")
    args = parser.parse_args()
    time.tzset()
    sys.exit(run(args.data_dir.resolve(), args.pg_port, args.nats_port, args.port_offset, args.http_port_offset))


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


if __name__ == "__main__":
    main()
