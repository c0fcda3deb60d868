"""券面事項入力補助AP data: the number EF, the 4 facts EF and J-LIS's signature EF (domain.md §3.5).

Layout follows domain.md; choices where it is UNCONFIRMED (docs/card.md):
- EF 0001: `DF 10 0C` + 12 ASCII digits + `FF FF` (17 bytes, as myna reads 17).
- EF 0002: `FF 20 82 HH LL` { `DF 21 08` four u16 BE absolute offsets of the next four TLVs, `DF 22` name,
  `DF 23` address, `DF 24` birth date (YYYYMMDD), `DF 25` sex (ISO 5218 digit) }; inner lengths in BER
  definite form (short form below 128).
- EF 0003: `FF 30 82 HH LL` { `DF 31 20` SHA-256(EF 0001), `DF 32 20` SHA-256(EF 0002 from the start of
  `DF 22` to the end), `DF 33 82 01 00` RSASSA-PKCS1-v1_5 SHA-256 signature by J-LIS over DF31-value || DF32-value }.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynumber_cardreader.errors import CardReaderError


class FormatError(CardReaderError):
    """The EF content does not follow the layout."""


@dataclass(frozen=True, slots=True)
class BasicFour:
    """基本4情報. birth: YYYYMMDD; sex: ISO 5218 ('1' male, '2' female, '9' not applicable)."""

    name: str
    address: str
    birth: str
    sex: str

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "BasicFour(<redacted>)"


# The 4 facts' tags in EF 0002, in the order they are written (their offsets in DF 21 follow this order).
FACT_TAGS = {"name": b"\xdf\x22", "address": b"\xdf\x23", "birth": b"\xdf\x24", "sex": b"\xdf\x25"}


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + n.to_bytes(2, "big")


def tlv(tag: bytes, value: bytes) -> bytes:
    """A TLV with a BER definite length (short form below 128)."""
    return tag + _len(len(value)) + value


def _tlv_82(tag: bytes, value: bytes) -> bytes:
    """A TLV whose length is always the 3-byte form `82 HH LL` (the outer FF 20 / FF 30 templates)."""
    return tag + b"\x82" + len(value).to_bytes(2, "big") + value


def _parse(buf: bytes, pos: int) -> tuple[bytes, bytes, int]:
    """One TLV with a 2-byte private-class tag; returns (tag, value, next position)."""
    if pos + 3 > len(buf):
        raise FormatError("TLV truncated")
    tag = buf[pos : pos + 2]
    b = buf[pos + 2]
    pos += 3
    if b < 0x80:
        n = b
    elif b in (0x81, 0x82):
        w = b - 0x80
        if pos + w > len(buf):
            raise FormatError("TLV length truncated")
        n = int.from_bytes(buf[pos : pos + w], "big")
        pos += w
    else:
        raise FormatError("TLV length form not supported")
    if pos + n > len(buf):
        raise FormatError("TLV value truncated")
    return tag, buf[pos : pos + n], pos + n


def _children(ef: bytes, template: bytes, what: str) -> dict[bytes, bytes]:
    """The TLVs inside the template that starts the EF, by tag."""
    tag, body, _ = _parse(ef, 0)
    if tag != template:
        raise FormatError(f"{what} EF: expected {template.hex().upper()}")
    values: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(body):
        t, v, pos = _parse(body, pos)
        values[t] = v
    return values


def _is_ascii_digits(text: str, n: int) -> bool:
    return len(text) == n and text.isascii() and text.isdigit()


def encode_my_number(number: str) -> bytes:
    if not _is_ascii_digits(number, 12):
        raise ValueError("number: must be 12 ASCII digits")
    return b"\xdf\x10\x0c" + number.encode() + b"\xff\xff"


def decode_my_number(ef: bytes) -> str:
    tag, value, _ = _parse(ef, 0)
    if tag != b"\xdf\x10" or len(value) != 12 or not value.isdigit():
        raise FormatError("my number EF: expected DF10 with 12 digits")
    return value.decode()


def encode_basic_four(facts: BasicFour) -> bytes:
    if not _is_ascii_digits(facts.birth, 8):
        raise ValueError("birth: must be YYYYMMDD")
    if facts.sex not in ("1", "2", "9"):
        raise ValueError("sex: must be an ISO 5218 code 1, 2 or 9")
    items = [tlv(tag, getattr(facts, field).encode()) for field, tag in FACT_TAGS.items()]
    start = 5 + 3 + 8  # FF 20 82 HH LL, DF 21 08, 8 bytes of offsets
    offsets, pos = [], start
    for item in items:
        offsets.append(pos)
        pos += len(item)
    body = tlv(b"\xdf\x21", b"".join(o.to_bytes(2, "big") for o in offsets)) + b"".join(items)
    return _tlv_82(b"\xff\x20", body)


def decode_basic_four(ef: bytes) -> BasicFour:
    values = _children(ef, b"\xff\x20", "basic four")
    facts: dict[str, str] = {}
    for field, tag in FACT_TAGS.items():
        if tag not in values:
            raise FormatError(f"basic four EF: {field} ({tag.hex().upper()}) is missing")
        text = _utf8(values[tag])
        if text is None:
            raise FormatError(f"basic four EF: {field} is not UTF-8")
        facts[field] = text
    return BasicFour(**facts)


def _utf8(value: bytes) -> str | None:
    """The text, or None. The codec's error is not passed on: it quotes the bytes, and holds the whole fact."""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def _hashes(my_number_ef: bytes, basic_four_ef: bytes) -> tuple[bytes, bytes]:
    """DF 31 and DF 32: SHA-256 of EF 0001, and of EF 0002 from the first fact (DF 21's first offset) on."""
    offsets = _children(basic_four_ef, b"\xff\x20", "basic four").get(b"\xdf\x21", b"")
    if len(offsets) != 8:
        raise FormatError("basic four EF: expected DF21 offsets")
    first = int.from_bytes(offsets[:2], "big")
    return hashlib.sha256(my_number_ef).digest(), hashlib.sha256(basic_four_ef[first:]).digest()


def sign_facts(my_number_ef: bytes, basic_four_ef: bytes, jlis_key: rsa.RSAPrivateKey) -> bytes:
    """EF 0003 as J-LIS writes it at issuance."""
    h1, h2 = _hashes(my_number_ef, basic_four_ef)
    sig = jlis_key.sign(h1 + h2, padding.PKCS1v15(), hashes.SHA256())
    return _tlv_82(b"\xff\x30", tlv(b"\xdf\x31", h1) + tlv(b"\xdf\x32", h2) + _tlv_82(b"\xdf\x33", sig))


def verify_facts(
    my_number_ef: bytes, basic_four_ef: bytes, signature_ef: bytes, jlis_public_key: rsa.RSAPublicKey
) -> None:
    """Check both hashes and J-LIS's signature; raises FormatError if anything does not match."""
    values = _children(signature_ef, b"\xff\x30", "signature")
    h1, h2 = _hashes(my_number_ef, basic_four_ef)
    if values.get(b"\xdf\x31") != h1 or values.get(b"\xdf\x32") != h2:
        raise FormatError("signature EF: hash does not match the data read")
    try:
        jlis_public_key.verify(values.get(b"\xdf\x33", b""), h1 + h2, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as e:
        raise FormatError("signature EF: J-LIS signature does not verify") from e
