"""The card's non-volatile memory, kept in a JSON file so a card outlives the process (a card in a wallet).

The file stands for the chip's EEPROM: it holds the private keys and PINs in clear, as the chip does in its
protected memory. Nothing outside the card process reads it; the card never lets a key or PIN out over APDUs.
Every change is written before the answer goes out (a PIN failure is counted even if power is cut right after),
through a temporary file and an atomic rename, so a crash leaves either the old or the new state.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1


@dataclass
class PinState:
    value: bytes = field(repr=False)  # the PIN stays out of reprs (tracebacks, logs)
    tries_left: int


@dataclass
class CardState:
    serial: str  # 製造番号, 13 characters
    issuer_public_key: bytes  # SubjectPublicKeyInfo DER of the key that may personalise this card
    locked: bool = False  # personalisation locked for good
    # the number, the 4 facts, PINs and private keys: kept out of reprs (tracebacks, logs)
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    records: dict[str, list[bytes]] = field(default_factory=dict, repr=False)
    pins: dict[str, PinState] = field(default_factory=dict, repr=False)
    keys: dict[str, bytes] = field(default_factory=dict, repr=False)  # PKCS#8 DER

    @classmethod
    def manufacture(cls, issuer_public_key: bytes, serial: str | None = None) -> CardState:
        """A blank card as it leaves the factory: only the issuer key and the manufacture number."""
        if serial is None:
            serial = "MN" + "".join(secrets.choice("0123456789") for _ in range(11))
        if len(serial) != 13 or not serial.isascii() or not serial.isalnum():
            raise ValueError("serial: must be 13 ASCII letters or digits")
        return cls(serial=serial, issuer_public_key=issuer_public_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "serial": self.serial,
            "issuer_public_key": self.issuer_public_key.hex(),
            "locked": self.locked,
            "files": {k: v.hex() for k, v in sorted(self.files.items())},
            "records": {k: [r.hex() for r in v] for k, v in sorted(self.records.items())},
            "pins": {k: {"value": p.value.hex(), "tries_left": p.tries_left} for k, p in sorted(self.pins.items())},
            "keys": {k: v.hex() for k, v in sorted(self.keys.items())},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CardState:
        if doc.get("format") != FORMAT_VERSION:
            raise ValueError(f"state file: format must be {FORMAT_VERSION}")
        return cls(
            serial=doc["serial"],
            issuer_public_key=bytes.fromhex(doc["issuer_public_key"]),
            locked=bool(doc["locked"]),
            files={k: bytes.fromhex(v) for k, v in doc["files"].items()},
            records={k: [bytes.fromhex(r) for r in v] for k, v in doc["records"].items()},
            pins={k: PinState(bytes.fromhex(p["value"]), int(p["tries_left"])) for k, p in doc["pins"].items()},
            keys={k: bytes.fromhex(v) for k, v in doc["keys"].items()},
        )


class StateFile:
    """Loads and atomically saves a CardState at a path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> CardState:
        return CardState.from_json(json.loads(self.path.read_text(encoding="utf-8")))

    def save(self, state: CardState) -> None:
        text = json.dumps(state.to_json(), indent=1)
        fd, tmp = tempfile.mkstemp(prefix=".card-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
