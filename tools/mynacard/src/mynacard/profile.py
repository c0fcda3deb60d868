"""The chip's fixed layout: applications (AIDs), their EFs, what each EF is and who may read or use it.

domain.md §3.1-3.4. Where domain.md leaves a fact open (UNCONFIRMED) the choice made here is noted beside it
and in docs/card.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

AID_JPKI = bytes.fromhex("D392F000260100000001")  # 公的個人認証AP
AID_KENHOJO = bytes.fromhex("D3921000310001010408")  # 券面事項入力補助AP
AID_KENKAKU = bytes.fromhex("D3921000310001010402")  # 券面AP (券面事項確認AP)
AID_JUKI = bytes.fromhex("D3921000310001010100")  # 住基AP


class Kind(Enum):
    BINARY = "binary"
    RECORD = "record"
    PIN = "pin"
    KEY = "key"


@dataclass(frozen=True, slots=True)
class PinRule:
    pattern: re.Pattern[bytes]
    max_tries: int

    def accepts(self, value: bytes) -> bool:
        return self.pattern.fullmatch(value) is not None


# 署名用 password: 6-16 characters A-Z/0-9, 5 tries; the 4-digit PINs: 3 tries (domain.md §3.4, design.md).
SIGN_PASSWORD = PinRule(re.compile(rb"[A-Z0-9]{6,16}"), 5)
FOUR_DIGITS = PinRule(re.compile(rb"[0-9]{4}"), 3)
# 照合番号A (the 12-digit number) and B (14 digits): retry counts are UNCONFIRMED; 10 chosen here.
CHECK_A = PinRule(re.compile(rb"[0-9]{12}"), 10)
CHECK_B = PinRule(re.compile(rb"[0-9]{14}"), 10)


@dataclass(frozen=True, slots=True)
class EF:
    fid: int
    kind: Kind
    # BINARY/RECORD: PIN FIDs (same application) any one of which, verified, allows reading; () = free.
    # KEY: the PIN FIDs whose verification allows signing.
    acl: tuple[int, ...] = ()
    pin_rule: PinRule | None = None
    sfi: int | None = None


@dataclass(frozen=True, slots=True)
class Application:
    name: str
    aid: bytes
    efs: dict[int, EF] = field(default_factory=dict)


def _app(name: str, aid: bytes, *efs: EF) -> Application:
    return Application(name, aid, {ef.fid: ef for ef in efs})


B, R, P, K = Kind.BINARY, Kind.RECORD, Kind.PIN, Kind.KEY

APPLICATIONS: dict[bytes, Application] = {
    a.aid: a
    for a in (
        _app(
            "jpki",
            AID_JPKI,
            EF(0x0001, B, acl=(0x001B,)),  # 署名用電子証明書: only after the signing password (real card)
            EF(0x0002, B),  # 署名用CA証明書
            EF(0x0006, B),  # token info
            EF(0x0008, B),  # 3-byte flags (UNCONFIRMED semantics)
            EF(0x000A, B),  # 利用者証明用電子証明書
            EF(0x000B, B),  # 利用者証明用CA証明書
            EF(0x0017, K, acl=(0x0018,)),  # 利用者証明用 private key
            EF(0x0018, P, pin_rule=FOUR_DIGITS),
            EF(0x001A, K, acl=(0x001B,)),  # 署名用 private key
            EF(0x001B, P, pin_rule=SIGN_PASSWORD),
        ),
        _app(
            "kenhojo",
            AID_KENHOJO,
            EF(0x0001, B, acl=(0x0011, 0x0014, 0x0015)),  # 個人番号
            EF(0x0002, B, acl=(0x0011, 0x0014, 0x0015)),  # 基本4情報
            EF(0x0003, B, acl=(0x0011, 0x0014, 0x0015)),  # J-LIS signature over the two above
            EF(0x0004, B),  # J-LIS intermediate certificate
            EF(0x0005, B),  # AP basic info
            EF(0x0011, P, pin_rule=FOUR_DIGITS),
            EF(0x0014, P, pin_rule=CHECK_A),
            EF(0x0015, P, pin_rule=CHECK_B),
        ),
        _app(
            "kenkaku",
            AID_KENKAKU,
            EF(0x0001, B, acl=(0x0013, 0x0012)),  # access UNCONFIRMED: protected like 0002 here
            EF(0x0002, B, acl=(0x0013, 0x0012)),  # 券面事項 (card-face data)
            EF(0x0003, B),  # AP basic info
            EF(0x0004, B),  # intermediate certificate
            EF(0x0005, B, acl=(0x0013, 0x0012)),  # 個人番号 image
            EF(0x0012, P, pin_rule=CHECK_B),
            EF(0x0013, P, pin_rule=CHECK_A),
        ),
        _app(
            "juki",
            AID_JUKI,
            EF(0x0001, R, sfi=1),  # record 1: 製造番号 TLV (myna read_manufacture), free
            EF(0x0002, B, acl=(0x001C,)),  # 住民票コード as text: EF UNCONFIRMED, chosen here
            EF(0x001C, P, pin_rule=FOUR_DIGITS),
        ),
    )
}

MAX_EF_SIZE = 0x7FFF  # READ BINARY offsets stop at 0x7FFF (P1 bit 8 selects SFI addressing)


def key(aid: bytes, fid: int) -> str:
    """The name of an EF in the state file."""
    return f"{aid.hex().upper()}/{fid:04X}"
