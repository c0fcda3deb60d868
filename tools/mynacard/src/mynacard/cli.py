"""`mynacard`: make a blank card state file, or run a card from one on the vpcd transport."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from mynacard.card import VirtualCard
from mynacard.state import CardState, StateFile
from mynacard.vpcd import VpcdServer, connect_to_vpcd


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="mynacard", description="A virtual My Number card on PC/SC (vpcd).")
    sub = p.add_subparsers(dest="cmd", required=True)
    new = sub.add_parser("new", help="manufacture a blank card: a state file that only the issuer can personalise")
    new.add_argument("--state", type=Path, required=True)
    new.add_argument("--issuer-public-key", type=Path, required=True, help="PEM: Ed25519 or EC P-256")
    new.add_argument("--serial", help="13-character manufacture number (random if absent)")
    serve = sub.add_parser("serve", help="present the card to pcscd through vpcd")
    serve.add_argument("--state", type=Path, required=True)
    serve.add_argument("--port", type=int, default=35963, help="reverse mode: listen on 127.0.0.1:PORT and PORT+1")
    serve.add_argument("--connect", action="store_true", help="normal mode: connect to vpcd on 127.0.0.1:PORT")
    args = p.parse_args(argv)

    if args.cmd == "new":
        if args.state.exists():
            print(f"state: {args.state} exists; refusing to overwrite a card", file=sys.stderr)
            return 2
        pub = serialization.load_pem_public_key(args.issuer_public_key.read_bytes())
        der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        StateFile(args.state).save(CardState.manufacture(der, args.serial))
        print(f"blank card written to {args.state}")
        return 0

    store = StateFile(args.state)
    card = VirtualCard(store.load(), persist=store.save)
    if args.connect:
        connect_to_vpcd(card, port=args.port)
        return 0
    server = VpcdServer(card, args.port)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    print(f"card listening on 127.0.0.1:{args.port} (+1)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
