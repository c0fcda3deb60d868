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


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + n.to_bytes(2, "big")


def _tlv(tag: bytes, value: bytes) -> bytes:
    return tag + _len(len(value)) + value


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


def encode_my_number(number: str) -> bytes:
    if len(number) != 12 or not number.isdigit():
        raise ValueError("number: must be 12 digits")
    return b"\xdf\x10\x0c" + number.encode() + b"\xff\xff"


def decode_my_number(ef: bytes) -> str:
    tag, value, _ = _parse(ef, 0)
    if tag != b"\xdf\x10" or len(value) != 12 or not value.isdigit():
        raise FormatError("my number EF: expected DF10 with 12 digits")
    return value.decode()


def encode_basic_four(facts: BasicFour) -> bytes:
    if len(facts.birth) != 8 or not facts.birth.isdigit():
        raise ValueError("birth: must be YYYYMMDD")
    if facts.sex not in ("1", "2", "9"):
        raise ValueError("sex: must be an ISO 5218 code 1, 2 or 9")
    items = [
        _tlv(b"\xdf\x22", facts.name.encode()),
        _tlv(b"\xdf\x23", facts.address.encode()),
        _tlv(b"\xdf\x24", facts.birth.encode()),
        _tlv(b"\xdf\x25", facts.sex.encode()),
    ]
    start = 5 + 3 + 8  # FF 20 82 HH LL, DF 21 08, 8 bytes of offsets
    offsets, pos = [], start
    for item in items:
        offsets.append(pos)
        pos += len(item)
    body = _tlv(b"\xdf\x21", b"".join(o.to_bytes(2, "big") for o in offsets)) + b"".join(items)
    return b"\xff\x20\x82" + len(body).to_bytes(2, "big") + body


def decode_basic_four(ef: bytes) -> BasicFour:
    tag, body, _ = _parse(ef, 0)
    if tag != b"\xff\x20":
        raise FormatError("basic four EF: expected FF20")
    pos = len(ef) - len(body)
    values: dict[bytes, bytes] = {}
    while pos < len(ef):
        t, v, pos = _parse(ef, pos)
        values[t] = v
    try:
        return BasicFour(
            name=values[b"\xdf\x22"].decode(),
            address=values[b"\xdf\x23"].decode(),
            birth=values[b"\xdf\x24"].decode(),
            sex=values[b"\xdf\x25"].decode(),
        )
    except (KeyError, UnicodeDecodeError) as e:
        raise FormatError("basic four EF: a fact is missing or not UTF-8") from e


def _four_hash_input(basic_four_ef: bytes) -> bytes:
    _, body, _ = _parse(basic_four_ef, 0)
    t, offs, _ = _parse(basic_four_ef, len(basic_four_ef) - len(body))
    if t != b"\xdf\x21" or len(offs) != 8:
        raise FormatError("basic four EF: expected DF21 offsets")
    return basic_four_ef[int.from_bytes(offs[:2], "big") :]


def sign_facts(my_number_ef: bytes, basic_four_ef: bytes, jlis_key: rsa.RSAPrivateKey) -> bytes:
    """EF 0003 as J-LIS writes it at issuance."""
    h1 = hashlib.sha256(my_number_ef).digest()
    h2 = hashlib.sha256(_four_hash_input(basic_four_ef)).digest()
    sig = jlis_key.sign(h1 + h2, padding.PKCS1v15(), hashes.SHA256())
    body = _tlv(b"\xdf\x31", h1) + _tlv(b"\xdf\x32", h2) + b"\xdf\x33\x82" + len(sig).to_bytes(2, "big") + sig
    return b"\xff\x30\x82" + len(body).to_bytes(2, "big") + body


def verify_facts(
    my_number_ef: bytes, basic_four_ef: bytes, signature_ef: bytes, jlis_public_key: rsa.RSAPublicKey
) -> None:
    """Check both hashes and J-LIS's signature; raises FormatError if anything does not match."""
    tag, body, _ = _parse(signature_ef, 0)
    if tag != b"\xff\x30":
        raise FormatError("signature EF: expected FF30")
    pos, values = len(signature_ef) - len(body), {}
    while pos < len(signature_ef):
        t, v, pos = _parse(signature_ef, pos)
        values[t] = v
    h1 = hashlib.sha256(my_number_ef).digest()
    h2 = hashlib.sha256(_four_hash_input(basic_four_ef)).digest()
    if values.get(b"\xdf\x31") != h1 or values.get(b"\xdf\x32") != h2:
        raise FormatError("signature EF: hash does not match the data read")
    try:
        jlis_public_key.verify(values.get(b"\xdf\x33", b""), h1 + h2, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as e:
        raise FormatError("signature EF: J-LIS signature does not verify") from e
