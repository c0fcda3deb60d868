"""`make run`: an embedded PostgreSQL and NATS (JetStream) under one data folder, migrations, then every service
as a child process with readable logs. Ctrl-C stops everything; a restart keeps the state in the data folder
(jpki's CA keys too: its SoftHSM token lives there, and the ceremony creates nothing that exists already)."""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mynumber_runtime.devca import Credentials, DevCA
from mynumber_runtime.embedded import EmbeddedNats, EmbeddedPostgres
from mynumber_runtime.nats_identity import OPERATOR, NatsSecrets

from mynumber_devstack.ports import (
    NATS_BASE_PORT,
    PG_BASE_PORT,
    Port,
    PortInUse,
    PortInvalid,
    ensure_free,
    in_use,
)
from mynumber_devstack.processes import ServerProcess, ServiceProcess
from mynumber_devstack.supervisor import Supervisor, one_line


@dataclass(frozen=True)
class ServiceSpec:
    """How one service starts: `python -m <module> <args>`. In `extra_env`, `args` and `prepare`, `{data}` is the
    data folder, `{http_port}` the service's HTTP port (offset applied) and `{<service>_grpc}` another service's
    gRPC address (offset applied: the gateway's way to its services)."""

    name: str
    module: str
    env_prefix: str
    grpc_port: int
    # `/metrics` (Prometheus text), moved by the same offset as the gRPC port (`mynumber status` finds it so).
    metrics_port: int
    extra_env: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ("--migrate",)
    # Run to completion (same module and env) before the service starts, on every start: so it must be idempotent.
    prepare: tuple[str, ...] = ()
    # A plain-HTTP face besides gRPC, if any (jpki: CA certificates, CRLs, OCSP for verifiers).
    http_port: int | None = None

    def fill(self, text: str, data_dir: Path, http_offset: int, port_offset: int = 0) -> str:
        targets = {f"{s.name}_grpc": f"127.0.0.1:{s.grpc_port + port_offset}" for s in SERVICES}
        return text.format(data=data_dir, http_port=self.http_port + http_offset if self.http_port else "",
                           **targets)


# Every service built so far.
SERVICES = [
    ServiceSpec("numbering", "numbering", "NUMBERING_", 50051, 9451),
    ServiceSpec("notice", "notice", "NOTICE_", 50053, 9453,
                (("NOTICE_PRINT_KEY_FILE", "{data}/secrets/print.key"), ("NOTICE_EXPORT_DIR", "{data}/notice/export"))),
    ServiceSpec("jpki", "jpki", "JPKI_", 50054, 9454,
                (("JPKI_HSM__USER_PIN_FILE", "{data}/secrets/jpki-hsm.pin"),
                 ("JPKI_HSM__SOFTHSM_DATA_DIR", "{data}/jpki"),  # the token, so a restart keeps the CA keys
                 ("JPKI_HTTP__LISTEN_HOST", "127.0.0.1"), ("JPKI_HTTP__LISTEN_PORT", "{http_port}"),
                 ("JPKI_HTTP__PUBLIC_BASE_URL", "http://127.0.0.1:{http_port}")),  # the delta CRLs' address
                args=("serve",),  # serve migrates by itself
                prepare=("ceremony", "--so-pin-file", "{data}/secrets/jpki-hsm.so-pin", "--out", "{data}/jpki/ca"),
                http_port=8054),
    # After notice: it reads notice's form.issued (the stream is found or created by whichever starts first).
    ServiceSpec("issuance", "issuance", "ISSUANCE_", 50055, 9455),
    # The REST door for municipal systems: HTTPS with client certificates on 127.0.0.1 (docs/gateway.md); its gRPC
    # port serves health only. It calls numbering, issuance and notice over mTLS as service:gateway.
    ServiceSpec("gateway", "gateway", "GATEWAY_", 50056, 9456,
                (("GATEWAY_HTTPS__LISTEN_HOST", "127.0.0.1"), ("GATEWAY_HTTPS__LISTEN_PORT", "{http_port}"),
                 ("GATEWAY_NUMBERING__TARGET", "{numbering_grpc}"),
                 ("GATEWAY_ISSUANCE__TARGET", "{issuance_grpc}"), ("GATEWAY_NOTICE__TARGET", "{notice_grpc}")),
                http_port=8443),
]

COLORS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[31m"]


def ensure_secret(path: Path, nbytes: int = 32) -> Path:
    """Local runs make their own secrets once; production mounts them from Kubernetes Secrets."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(0o600)
        path.write_text(os.urandom(nbytes).hex() + "\n")
    return path


def wait_serving(target: str, name: str, procs: list[subprocess.Popen[bytes]], client: Credentials,
                 timeout: float = 120) -> None:
    """Until the service's health check (real checks: database, NATS) answers SERVING, asked over mTLS as
    `client` (the service port serves nothing else)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    # gRPC backs off reconnecting (1 s, then longer) while nothing listens yet; a slow starter would look slower still.
    fast_retry = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                  ("grpc.max_reconnect_backoff_ms", 200)]
    creds = grpc.ssl_channel_credentials(client.ca_file.read_bytes(), client.key_file.read_bytes(),
                                         client.cert_file.read_bytes())
    with grpc.secure_channel(target, creds, options=fast_retry) as ch:
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


def service_ports(spec: ServiceSpec, port_offset: int, http_offset: int) -> list[Port]:
    ports = [Port(spec.grpc_port + port_offset, f"{spec.name} gRPC")]
    if spec.http_port:
        ports.append(Port(spec.http_port + http_offset, f"{spec.name} HTTP"))
    ports.append(Port(spec.metrics_port + port_offset, f"{spec.name} metrics"))
    return ports


def free_offsets(*, tries: int = 200) -> tuple[int, int]:
    """A port offset and an HTTP port offset under which every service port `make run` would open (gRPC, metrics,
    HTTP) is free now: for a second platform on a busy machine, e.g. the tests'."""
    for _ in range(tries):
        offset, http_offset = random.randrange(1000, 15000), random.randrange(1000, 50000)
        if all(0 < p.number < 65536 and not in_use(p.number)
               for spec in SERVICES for p in service_ports(spec, offset, http_offset)):
            return offset, http_offset
    raise RuntimeError(f"no offset with every service port free in {tries} tries")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the platform as Ctrl-C does, at any point of the start or run


def run(data_dir: Path, pg_port: int, nats_port: int, port_offset: int = 0, http_offset: int | None = None) -> int:
    http_offset = port_offset if http_offset is None else http_offset
    pg_ports, nats_ports = [Port(pg_port, "PostgreSQL")], [Port(nats_port, "NATS")]
    # Every port checked before anything starts: a taken port is one line naming it, and nothing half-started.
    ensure_free([*pg_ports, *nats_ports, *(p for s in SERVICES for p in service_ports(s, port_offset, http_offset))])
    # Both set here: a launcher started in the background of a script inherits SIGINT ignored, and then Python
    # would not turn it into KeyboardInterrupt.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user when we are root
    secrets = data_dir / "secrets"
    events_key = ensure_secret(secrets / "events.key")  # shared by every producer and consumer of events
    ensure_secret(secrets / "print.key")  # notice: seals a DV victim's 居所 for the print vendor's label line
    ensure_secret(secrets / "jpki-hsm.pin")  # jpki: the SoftHSM token's user PIN (serve and the ceremony log in)
    ensure_secret(secrets / "jpki-hsm.so-pin")  # jpki: the token's security officer PIN (the ceremony makes it)
    # Real identities, as in production: every service serves mTLS with a certificate from the local dev CA (made
    # on the first start) and connects to NATS as its own user, allowed to publish only its own events.
    dev_ca = DevCA(data_dir / "devca")
    nats_secrets = NatsSecrets(secrets / "nats")
    nats_secrets.password_file(OPERATOR)  # for SRE tools (stream reports, dead-letter replay)
    launcher = dev_ca.issue("operator:devstack")  # asks the services' health
    print(f"data folder: {data_dir}\ndev CA:   {dev_ca.ca_file}", flush=True)
    pg = EmbeddedPostgres(data_dir / "pg", port=pg_port)
    nats = EmbeddedNats(data_dir / "nats", port=nats_port, secrets=nats_secrets)
    servers = [ServerProcess("postgres", pg, ports=pg_ports, banner=f"postgres: {pg.url}"),
               ServerProcess("nats", nats, ports=nats_ports, banner=f"nats:     {nats.url}")]
    services: list[ServiceProcess] = []
    width = max(len(s.name) for s in SERVICES)
    for i, spec in enumerate(SERVICES):
        p = spec.env_prefix
        tls = dev_ca.issue(f"service:{spec.name}", server=True)  # its server and its client identity
        env = dict(os.environ)
        env.update({
            f"{p}DATABASE__URL": pg.url, f"{p}NATS__URL": nats.url,
            f"{p}NATS__USER": spec.name, f"{p}NATS__PASSWORD_FILE": str(nats_secrets.password_file(spec.name)),
            f"{p}GRPC__LISTEN": f"127.0.0.1:{spec.grpc_port + port_offset}",
            f"{p}GRPC__TLS_CERT_FILE": str(tls.cert_file), f"{p}GRPC__TLS_KEY_FILE": str(tls.key_file),
            f"{p}GRPC__TLS_CLIENT_CA_FILE": str(tls.ca_file),
            f"{p}METRICS__LISTEN": f"127.0.0.1:{spec.metrics_port + port_offset}",
            # A small local database: counts a few seconds old, not the production default's 15 s.
            f"{p}METRICS__REFRESH_INTERVAL_S": "2",
            f"{p}KEYS_FILE": str(ensure_secret(secrets / f"{spec.name}.key")),  # each service its own
            f"{p}EVENTS_KEY_FILE": str(events_key),
            f"{p}LOG_FILE": str(data_dir / "logs" / f"{spec.name}.log"),
            **{k: spec.fill(v, data_dir, http_offset, port_offset) for k, v in spec.extra_env},
        })
        module = [sys.executable, "-m", spec.module]
        services.append(ServiceProcess(
            spec.name, module + [spec.fill(a, data_dir, http_offset) for a in spec.args], env=env,
            prepare=module + [spec.fill(a, data_dir, http_offset) for a in spec.prepare] if spec.prepare else None,
            ports=service_ports(spec, port_offset, http_offset), color=COLORS[i % len(COLORS)], sink=sys.stdout,
            width=width))
    supervisor = Supervisor[ServerProcess | ServiceProcess](
        [*servers, *services], say=lambda line: print(f"devstack: {line}", flush=True))
    try:
        supervisor.start_all(on_started=lambda child: print(child.banner(), flush=True))
        for spec in SERVICES:
            wait_serving(f"127.0.0.1:{spec.grpc_port + port_offset}", spec.name,
                         [s.proc for s in services if s.proc is not None], launcher)
        print(f"\nready. try:  {cli_hint(port_offset)} --as municipality:131016 assign 131016 12345678903"
              "   (Ctrl-C stops everything)"
              f"\n  gateway:   https://127.0.0.1:{gateway_port(http_offset)}/v1/openapi.json (client certificate: "
              f"{cli_hint(port_offset)} --as municipality:131016 dev-cert; docs/gateway.md)\n", flush=True)
        # From here on a child that exits is started again (back-off, one line each) until Ctrl-C or SIGTERM.
        supervisor.run(threading.Event())
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping services ...", flush=True)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()
        print("stopped.", flush=True)
    return 0


def gateway_port(http_offset: int) -> int:
    spec = next(s for s in SERVICES if s.name == "gateway")
    assert spec.http_port is not None
    return spec.http_port + http_offset


def cli_hint(port_offset: int) -> str:
    """The CLI command as the user should type it on this platform: the CLI reads the same offset."""
    return f"MYNUMBER_PORT_OFFSET={port_offset} .venv/bin/mynumber" if port_offset else ".venv/bin/mynumber"


def main() -> None:
    parser = argparse.ArgumentParser(prog="mynumber_devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="start the local platform in the foreground")
    env = os.environ.get
    # String defaults go through `type` too: a malformed variable is a usage error (exit 2), not a traceback.
    r.add_argument("--data-dir", type=Path, default=Path(env("MYNUMBER_DATA_DIR", "var")))
    r.add_argument("--port-offset", type=int, default=env("MYNUMBER_PORT_OFFSET") or "0",
                   help="added to every port: PostgreSQL, NATS, every gRPC and metrics port (run two platforms side "
                        "by side)")
    r.add_argument("--http-port-offset", type=int, default=env("MYNUMBER_HTTP_PORT_OFFSET") or None,
                   help="added to every service's HTTP port (default: the --port-offset)")
    r.add_argument("--pg-port", type=int, default=env("MYNUMBER_PG_PORT") or None,
                   help=f"PostgreSQL's port, exactly (default: {PG_BASE_PORT} + the offset)")
    r.add_argument("--nats-port", type=int, default=env("MYNUMBER_NATS_PORT") or None,
                   help=f"NATS's port, exactly (default: {NATS_BASE_PORT} + the offset)")
    args = parser.parse_args()
    time.tzset()
    pg_port = PG_BASE_PORT + args.port_offset if args.pg_port is None else args.pg_port
    nats_port = NATS_BASE_PORT + args.port_offset if args.nats_port is None else args.nats_port
    try:
        code = run(args.data_dir.resolve(), pg_port, nats_port, args.port_offset, args.http_port_offset)
    except (PortInUse, PortInvalid) as e:
        print(f"devstack: {e}", file=sys.stderr, flush=True)
        code = 2
    except Exception as e:  # the launcher's last word is one line; the servers' own logs are in the data folder
        print(f"devstack: could not run the platform: {one_line(e)}", file=sys.stderr, flush=True)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
