"""Entry points (wiring only): `python -m jpki <command>`.

  ceremony           initialise the HSM token (SoftHSM), create the CA keys and certificates, first ARLs
  serve              gRPC + HTTP (CRL/OCSP) + CRL schedule + OCSP re-signing + resident-event consumer + outbox
  responder          HTTP-only OCSP/CRL responder processes reading the database (SO_REUSEPORT workers)
  verify-audit       check the audit hash chain (exit 1 when broken)
  register-verifier  register a verifier and print its bearer token once
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from mynumber_runtime import operators
from mynumber_runtime.errors import DomainError
from mynumber_runtime.host import run_until_signalled
from mynumber_runtime.logs import configure_logging
from mynumber_runtime.settings import read_hex_secret, read_secret
from mynumber_runtime.telemetry import configure_telemetry

from jpki.hsm import HsmError
from jpki.settings import JpkiSettings


async def _ceremony(settings: JpkiSettings, args: argparse.Namespace) -> int:
    from jpki.ceremony import fingerprint, run_ceremony

    so_pin = read_secret(Path(args.so_pin_file)).decode()
    result = await run_ceremony(settings, so_pin=so_pin, actor=args.actor, out_dir=Path(args.out))
    for kind, path in result.ca_pem_files.items():
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(path.read_bytes())
        state = "created" if kind in result.created else "exists"
        print(f"{kind}: {state} {path} SHA-256 {fingerprint(cert)}")
    return 0


async def _serve(settings: JpkiSettings, stop: asyncio.Event) -> int:
    from mynumber_runtime import operators
    from mynumber_runtime.consumer import IdempotentConsumer
    from mynumber_runtime.db import migrate
    from mynumber_runtime.grpc_server import PlatformServer
    from mynumber_runtime.host import host, nats_check
    from mynumber_runtime.metrics import Snapshots, labelled
    from mynumber_runtime.nats_identity import connect_nats
    from mynumber_runtime.outbox import OutboxRelay
    from mynumber_runtime.streams import ensure_stream, open_stream

    from jpki import events, models
    from jpki.app import Background, build_service, start_http
    from jpki.ceremony import MIGRATIONS
    from jpki.grpc_api import bindings

    migrate(settings.database.resolved_url(), MIGRATIONS)
    service = await build_service(settings)
    if not service.authorities:
        print("no CA yet: run `python -m jpki ceremony` first", file=sys.stderr)
        return 2
    engine = service.repo.engine
    nc = await connect_nats(settings.nats, name="jpki", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "jpki", duplicate_window_s=settings.nats.duplicate_window_s)
    # The resident service's stream: read, never configured, by us (our NATS user may only create it if missing).
    resident_stream = await open_stream(js, events.RESIDENT_SERVICE)
    sealer = events.ResidentEventSealer(read_hex_secret(settings.events_key_file))
    consumer = IdempotentConsumer(js=js, engine=engine, table=models.processed_events,
                                  stream=resident_stream, durable="jpki-resident-facts-changed",
                                  filter_subject=events.RESIDENT_FACTS_CHANGED,
                                  handler=events.facts_changed_handler(service, sealer), service="jpki")
    relay = OutboxRelay.for_region(settings.region_name, engine=engine, table=models.outbox, js=js)
    server = PlatformServer(settings.grpc, bindings(service),
                            checks={"database": service.repo.ping, "nats": nats_check(nc),
                                    "hsm": lambda: asyncio.to_thread(service.hsm.ping)})
    cleanup = [nc.drain, engine.dispose]
    if operators.pending_command() is None:  # `dead-letters` runs beside the serving jpki: no second listener
        http = await start_http(service, settings.http.listen_host, settings.http.listen_port,
                                poll_interval_s=settings.ocsp_status_delay_s / 2)
        cleanup.insert(0, http.close)
    gauges = Snapshots(interval_s=settings.metrics.refresh_interval_s)
    gauges.add("mynumber.jpki.certificates", labelled(("ca_kind", "status"), service.repo.count_certificates),
               description="certificates by CA kind and status")
    await host("jpki", server, loops=[Background(service).run, consumer.run, relay.run], cleanup=cleanup, stop=stop,
               metrics=settings.metrics, gauges=gauges)
    return 0


async def _responder(settings: JpkiSettings, port: int, reuse_port: bool) -> int:
    from jpki.app import build_service, start_http

    service = await build_service(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    http = await start_http(service, settings.http.listen_host, port,
                            poll_interval_s=settings.ocsp_status_delay_s / 2, reuse_port=reuse_port)
    print(f"responder {os.getpid()} on {settings.http.listen_host}:{port} with {len(http.snapshot.store)} responses",
          flush=True)
    await stop.wait()
    await http.close()
    return 0


def _responder_workers(settings: JpkiSettings, workers: int, port: int) -> int:
    """SO_REUSEPORT worker processes: the kernel spreads connections; each has its own HSM session."""
    procs = [subprocess.Popen([sys.executable, "-m", "jpki", "responder", "--workers", "1", "--port", str(port),
                               "--reuse-port"]) for _ in range(workers)]

    def _stop(*_: object) -> None:
        for p in procs:
            p.terminate()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return max(p.wait() for p in procs)


async def _verify_audit(settings: JpkiSettings) -> int:
    from mynumber_runtime.db import create_async_engine

    from jpki.repository import JpkiRepository

    repo = JpkiRepository(create_async_engine(settings.database.resolved_url()))
    async with repo.begin() as conn:
        report = await repo.verify_audit(conn)
    await repo.engine.dispose()
    if report.ok:
        print(f"audit chain OK: {report.entries} entries")
        return 0
    print(f"audit chain BROKEN at seq {report.first_bad_seq}: {report.problem} ({report.entries} entries verified)")
    return 1


async def _register(settings: JpkiSettings, args: argparse.Namespace) -> int:
    from jpki.app import build_service

    service = await build_service(settings)
    v, token = await service.register_verifier(kind=args.kind, organization=args.organization,
                                               filing_ref=args.filing_ref, actor=args.actor)
    print(f"{v.id}\t{v.kind}\t{token}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jpki", description="公的個人認証 (JPKI) certification authority")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("ceremony", help="create the CA keys in the HSM and the CA certificates")
    c.add_argument("--token-label", help="overrides JPKI_HSM__TOKEN_LABEL")
    c.add_argument("--so-pin-file", default="var/secrets/jpki-hsm.so-pin")
    c.add_argument("--out", default="var/jpki/ca")
    c.add_argument("--actor", default="operator:ceremony")
    sub.add_parser("serve")
    r = sub.add_parser("responder")
    r.add_argument("--workers", type=int, default=1)
    r.add_argument("--port", type=int)
    r.add_argument("--reuse-port", action="store_true")
    sub.add_parser("verify-audit")
    operators.add_commands(sub)  # dead-letters list | replay (mynumber_runtime.operators)
    g = sub.add_parser("register-verifier")
    g.add_argument("--kind", required=True)
    g.add_argument("--organization", required=True)
    g.add_argument("--filing-ref", required=True)
    g.add_argument("--actor", default="operator:cli")
    args = parser.parse_args(argv)

    settings = JpkiSettings()
    if getattr(args, "token_label", None):
        settings.hsm.token_label = args.token_label
    configure_logging("jpki", level=settings.log_level, file=settings.log_file)
    configure_telemetry("jpki", otlp_endpoint=settings.otlp_endpoint, console=settings.trace_console,
                        region=settings.region_name)
    try:
        return _run(settings, args)
    except (DomainError, HsmError, OSError) as e:
        # An operator's mistake (a missing secret file, a wrong PIN, a bad argument) is one line, not a traceback.
        print(f"jpki {args.command}: {e}", file=sys.stderr)
        return 2


def _run(settings: JpkiSettings, args: argparse.Namespace) -> int:
    if args.command == "ceremony":
        return asyncio.run(_ceremony(settings, args))
    if args.command == "serve":
        code = 0

        async def serve(stop: asyncio.Event) -> None:
            nonlocal code
            code = await _serve(settings, stop)

        run_until_signalled(serve)
        return code
    if args.command == "responder":
        port = args.port or settings.http.listen_port
        if args.workers > 1:
            return _responder_workers(settings, args.workers, port)
        import uvloop

        return uvloop.run(_responder(settings, port, args.reuse_port or args.workers > 1))
    if args.command == operators.COMMAND:
        return operators.run_command("jpki", args, lambda stop: _serve(settings, stop))
    if args.command == "verify-audit":
        return asyncio.run(_verify_audit(settings))
    if args.command == "register-verifier":
        return asyncio.run(_register(settings, args))
    return 2


if __name__ == "__main__":
    sys.exit(main())
