"""Entry points (parsing only; jpki.app builds and runs): `python -m jpki <command>`.

  ceremony           initialise the HSM token (SoftHSM), create the CA keys and certificates, first ARLs
  serve              gRPC + HTTP (CRL/OCSP) + CRL schedule + OCSP re-signing + resident-event consumer + outbox
  responder          HTTP-only OCSP/CRL responder processes reading the database (SO_REUSEPORT workers)
  verify-audit       check the audit hash chain (exit 1 when broken)
  register-verifier  register a verifier and print its bearer token once
  dead-letters       list or replay the resident-event consumer's dead letters (mynumber_runtime.operators)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from mynumber_runtime import operators
from mynumber_runtime.errors import DomainError
from mynumber_runtime.host import run_until_signalled
from mynumber_runtime.logs import configure_logging
from mynumber_runtime.settings import read_secret
from mynumber_runtime.telemetry import configure_telemetry

from jpki import app
from jpki.hsm import HsmError
from jpki.settings import JpkiSettings


async def _ceremony(settings: JpkiSettings, args: argparse.Namespace) -> int:
    from cryptography import x509

    from jpki.ceremony import fingerprint, run_ceremony

    so_pin = read_secret(Path(args.so_pin_file)).decode()
    result = await run_ceremony(settings, so_pin=so_pin, actor=args.actor, out_dir=Path(args.out))
    for kind, path in result.ca_pem_files.items():
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        state = "created" if kind in result.created else "exists"
        print(f"{kind}: {state} {path} SHA-256 {fingerprint(cert)}")
    return 0


async def _verify_audit(settings: JpkiSettings) -> int:
    report = await app.verify_audit(settings)
    anchored = f", anchored at seq {report.anchored_seq}" if report.anchored_seq is not None else ""
    if report.ok:
        print(f"audit chain OK: {report.entries} entries{anchored}")
        if report.note:  # said, never passed over: the newest entries were not checked against an anchor
            print(f"warning: {report.note}")
        return 0
    print(f"audit chain BROKEN at seq {report.first_bad_seq}: {report.problem} ({report.entries} entries verified"
          f"{anchored})")
    return 1


async def _register(settings: JpkiSettings, args: argparse.Namespace) -> int:
    jpki = await app.build(settings)
    try:
        async with jpki.units() as store:  # the command's unit of work
            v, token = await jpki.verifiers.register(store, kind=args.kind, organization=args.organization,
                                                     filing_ref=args.filing_ref, actor=args.actor)
    finally:
        await jpki.close()
    print(f"{v.id}\t{v.kind}\t{token}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jpki", description="公的個人認証 (JPKI) certification authority")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("ceremony", help="create the CA keys in the HSM and the CA certificates")
    c.add_argument("--token-label", help="overrides JPKI_HSM__TOKEN_LABEL")
    c.add_argument("--so-pin-file", default="var/secrets/jpki-hsm.so-pin", help="the token's security officer PIN")
    c.add_argument("--out", default="var/jpki/ca", help="where the CA certificates (PEM) are written")
    c.add_argument("--actor", default="operator:ceremony", help="who runs it, for the audit chain")
    sub.add_parser("serve", help="the CA: gRPC, HTTP (CRL/OCSP), schedule, event consumer, outbox")
    r = sub.add_parser("responder", help="HTTP-only OCSP/CRL responder")
    r.add_argument("--workers", type=int, default=1, help="SO_REUSEPORT worker processes")
    r.add_argument("--port", type=int, help="overrides JPKI_HTTP__LISTEN_PORT")
    r.add_argument("--reuse-port", action="store_true", help="bind with SO_REUSEPORT (set for workers)")
    sub.add_parser("verify-audit", help="check the audit hash chain (exit 1 when broken)")
    operators.add_commands(sub)  # dead-letters list | replay (mynumber_runtime.operators)
    g = sub.add_parser("register-verifier", help="register a verifier; prints its bearer token once")
    g.add_argument("--kind", required=True, help="signature_verifier, user_verifier, platform_operator, ...")
    g.add_argument("--organization", required=True, help="the verifier's organisation")
    g.add_argument("--filing-ref", required=True, help="the 届出 or 認定 the registration rests on")
    g.add_argument("--actor", default="operator:cli", help="who registers it, for the audit chain")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
        codes = []

        async def serve(stop: asyncio.Event) -> None:
            codes.append(await app.serve(settings, stop))

        run_until_signalled(serve)
        return codes[0] if codes else 0
    if args.command == "responder":
        port = args.port or settings.http.listen_port
        if args.workers > 1:
            return app.responder_workers(args.workers, port)
        import uvloop

        return uvloop.run(app.responder(settings, port, args.reuse_port))
    if args.command == operators.COMMAND:
        return operators.run_command("jpki", args, lambda stop: app.serve(settings, stop))
    if args.command == "verify-audit":
        return asyncio.run(_verify_audit(settings))
    if args.command == "register-verifier":
        return asyncio.run(_register(settings, args))
    return 2


if __name__ == "__main__":
    sys.exit(main())
