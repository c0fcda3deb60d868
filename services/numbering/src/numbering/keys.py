"""Keys of the numbering service, derived from the national numbering secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from mynumber_runtime.crypto import KeyedHash, derive_key


@dataclass(frozen=True)
class NumberingKeys:
    ff1: bytes  # AES-256 key of the FF1 permutation
    kek: bytes  # wraps the data keys that seal numbers and codes
    lookup: KeyedHash  # keyed hash for look-ups
    sector: bytes  # 符号 master key

    @classmethod
    def from_master(cls, master: bytes) -> NumberingKeys:
        if len(master) < 32:
            raise ValueError("the numbering master secret must be at least 32 bytes")
        return cls(ff1=derive_key(master, "ff1"), kek=derive_key(master, "pii-kek"),
                   lookup=KeyedHash(derive_key(master, "lookup-hash")), sector=derive_key(master, "sector-code"))

    def sector_code(self, agency_code: str, individual_number: str) -> str:
        """符号: HMAC under a per-agency key, so codes of two agencies cannot be linked without the master key."""
        agency_key = hmac.new(self.sector, b"agency/" + agency_code.encode(), hashlib.sha256).digest()
        mac = hmac.new(agency_key, individual_number.encode(), hashlib.sha256).digest()
        return base64.b32encode(mac[:20]).decode()
