"""Validation at the edge of the CA: every field of every request, before anything is looked up or signed.

The code formats (住民票コード, 全国地方公共団体コード, dates, text rules) are the platform's shared ones
(`mynumber_codes`), so jpki refuses what numbering and notice refuse. What is the CA's own lives here: card ids,
serial numbers, verifier ids, the size of keys, requests and certificates.

Every refusal is `InvalidArgument(field, rule)`: the field and the rule, never the value (the 4 basic facts and the
住民票コード are personal data; an echoed card id or serial would only help a prober). Size checks run first, so a
megabyte string costs a length comparison, and every check runs before the database or the HSM is reached: a refusal
costs no signature and tells nothing about what exists.
"""

from __future__ import annotations

import re

from mynumber_codes import (
    Municipality,
    validate_address,
    validate_date,
    validate_municipality_code,
    validate_name,
    validate_resident_code,
    validate_text,
)

from jpki.errors import InvalidArgument

__all__ = [
    "Municipality",
    "validate_address",
    "validate_card_id",
    "validate_date",
    "validate_der",
    "validate_municipality_code",
    "validate_name",
    "validate_partition_names",
    "validate_resident_code",
    "validate_serial_hex",
    "validate_text",
    "validate_verifier_id",
]

# The card's opaque identifier as the card centre assigns it: ASCII letters, digits, '.', '_' and '-'.
CARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CARD_ID_RULE = "must be 1-64 characters A-Z, a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
# RFC 5280 §4.1.2.2: a positive serial of at most 20 octets, written as hex (lower case on the way out).
SERIAL_HEX = re.compile(r"[0-9a-fA-F]{1,40}")
SERIAL_RULE = "must be a positive serial number in hex digits 0-9a-f (at most 40 digits, 20 octets)"
# What register_verifier makes: "v-" and 16 hex digits.
VERIFIER_ID = re.compile(r"v-[0-9a-f]{16}")
# A card key as SubjectPublicKeyInfo is ~550 octets at RSA-4096 (keycheck.MAX_BITS); a PKCS#10 request carrying
# it, a subject and a signature stays well under 4 KiB. A card certificate is under 2 KiB; 16 KiB is ample.
MAX_KEY_DER = 4096
MAX_CSR_DER = 4096
MAX_CERT_DER = 16384
# The CRL distribution point names (都道府県名, 市区町村名) as the real DirName carries them.
MAX_PLACE_NAME = 64


def validate_card_id(value: str, field: str = "card_id") -> str:
    if not value:
        raise InvalidArgument(field, "is required")
    if len(value) > 64 or CARD_ID.fullmatch(value) is None:
        raise InvalidArgument(field, CARD_ID_RULE)
    return value


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def validate_idempotency_key(value: str, field: str = "idempotency_key") -> str | None:
    """Empty means none; otherwise 1-128 characters of A-Z a-z 0-9 . _ : - (the key is stored and compared)."""
    if not value:
        return None
    if len(value) > 128 or IDEMPOTENCY_KEY.fullmatch(value) is None:
        raise InvalidArgument(field, "must be 1-128 characters A-Z, a-z, 0-9, '.', '_', ':' or '-'")
    return value


def validate_serial_hex(value: str, field: str = "serial_hex") -> int:
    if not value:
        raise InvalidArgument(field, "is required")
    if len(value) > 40 or SERIAL_HEX.fullmatch(value) is None:
        raise InvalidArgument(field, SERIAL_RULE)
    serial = int(value, 16)
    if serial == 0:
        raise InvalidArgument(field, SERIAL_RULE)
    return serial


def validate_verifier_id(value: str, field: str = "verifier_id") -> str:
    if not value:
        raise InvalidArgument(field, "is required")
    if len(value) > 18 or VERIFIER_ID.fullmatch(value) is None:
        raise InvalidArgument(field, "must be a verifier id as RegisterVerifier returned it (v- and 16 hex digits)")
    return value


def validate_der(value: bytes, field: str, *, max_bytes: int, required: bool = True) -> bytes:
    """Only the size: the parsers that follow (keycheck, x509) say whether the content is well formed."""
    if required and not value:
        raise InvalidArgument(field, "is required")
    if len(value) > max_bytes:
        raise InvalidArgument(field, f"must be at most {max_bytes} bytes of DER")
    return value


def validate_partition_names(code: str, prefecture_name: str, municipality_name: str) -> Municipality:
    """The municipality of a CRL partition: a real JIS X 0402 body, and the names the certificate and the CRL
    distribution point will carry must be that body's (a certificate naming 千代田区 under 大阪市's code would
    send verifiers to the wrong CRL)."""
    body = validate_municipality_code(code, "municipality_code")
    validate_text(prefecture_name, "prefecture_name", max_chars=MAX_PLACE_NAME, required=True, multiline=False)
    validate_text(municipality_name, "municipality_name", max_chars=MAX_PLACE_NAME, required=True, multiline=False)
    if prefecture_name != body.prefecture_name:
        raise InvalidArgument("prefecture_name", "must be the prefecture of municipality_code (JIS X 0401)")
    if municipality_name != body.name:
        raise InvalidArgument("municipality_name", "must be the name of municipality_code (JIS X 0402)")
    return body
