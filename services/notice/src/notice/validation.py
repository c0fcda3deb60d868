"""Validation at the edge: every value a caller sends is checked here before the service touches the database.

The code formats and text rules are the platform's shared ones (`mynumber_codes`), so notice refuses exactly what
numbering refuses: full-width digits, wrong check digits, a 団体コード naming no real municipality, megabyte
strings, NUL and control characters. What only notice knows (household keys, document kinds, envelope and batch
ids, the enumerations of its methods) is defined here. Every refusal is `InvalidArgument(field, rule)`: the field
and the rule, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mynumber_codes import (
    MUNICIPAL_KINDS,
    validate_address,
    validate_date,
    validate_individual_number,
    validate_municipality_code,
    validate_name,
    validate_postal_code,
    validate_resident_code,
    validate_text,
)
from mynumber_runtime.errors import InvalidArgument

__all__ = [
    "AddressIn",
    "MemberIn",
    "validate_address_pair",
    "validate_batch_id",
    "validate_choice",
    "validate_documents",
    "validate_household_id",
    "validate_individual_number",
    "validate_mailing_id",
    "validate_member",
    "validate_municipality",
    "validate_municipality_list",
    "validate_resident_code",
]

# 世帯番号: the municipality's own key, opaque to us; long enough for any 既存住基 system's key.
HOUSEHOLD_ID_MAX_CHARS = 64
# A list of municipalities for one export: every municipal body in Japan is about 1,900.
MAX_MUNICIPALITIES = 2_000
# 別紙 1/2 ① lists three documents and an optional fourth; a request naming more is not a registration.
MAX_DOCUMENTS = 8
_MAILING_ID = re.compile(r"[0-9a-f]{32}")
_BATCH_ID = re.compile(r"[0-9]{14}-[0-9a-f]{8}")


@dataclass(frozen=True)
class MemberIn:
    resident_code: str
    name: str
    birth_date: str
    sex: int


@dataclass(frozen=True)
class AddressIn:
    address: str
    postal_code: str  # canonical NNN-NNNN


def validate_municipality(value: str, field: str = "municipality_code") -> str:
    """A 団体コード of a real body that keeps a resident register (not a prefecture)."""
    return validate_municipality_code(value, field, kinds=MUNICIPAL_KINDS).code


def validate_municipality_list(values: Sequence[str], field: str = "municipality_codes") -> list[str]:
    if len(values) > MAX_MUNICIPALITIES:
        raise InvalidArgument(field, f"at most {MAX_MUNICIPALITIES} municipalities per request")
    return [validate_municipality(v, f"{field}[{i}]") for i, v in enumerate(values)]


def validate_household_id(value: str, field: str) -> str:
    return validate_text(value, field, max_chars=HOUSEHOLD_ID_MAX_CHARS)


def validate_address_pair(address: str, postal_code: str, address_field: str, postal_field: str) -> AddressIn:
    return AddressIn(validate_address(address, address_field), validate_postal_code(postal_code, postal_field))


def validate_member(m: MemberIn, prefix: str) -> MemberIn:
    validate_resident_code(m.resident_code, f"{prefix}.resident_code")
    validate_name(m.name, f"{prefix}.name")  # 氏名 is printed on the card
    # The card, the PDF and the MNB1 file print YYYY-MM-DD.
    validate_date(m.birth_date, f"{prefix}.birth_date")
    if m.sex not in (1, 2):
        raise InvalidArgument(f"{prefix}.sex", "must be male or female as on the 住民票")
    return m


def validate_choice(value: str, field: str, allowed: Sequence[str], rule: str) -> str:
    # `rule` is fixed text naming the allowed values; the value itself is never repeated.
    if value not in allowed:
        raise InvalidArgument(field, rule)
    return value


def validate_documents(values: Sequence[str], known: Sequence[str], required: Sequence[str],
                       field: str = "documents") -> list[str]:
    if len(values) > MAX_DOCUMENTS:
        raise InvalidArgument(field, f"at most {MAX_DOCUMENTS} documents")
    for i, d in enumerate(values):
        if d not in known:
            raise InvalidArgument(f"{field}[{i}]", "unknown document kind; known: " + ", ".join(known))
    missing = [d for d in required if d not in values]
    if missing:
        # 別紙 1/2 ①: 居所情報登録申請書・本人確認書類の写し・送付場所の確認のための資料.
        raise InvalidArgument(field, "missing " + ", ".join(missing) +
                              " (居所情報登録申請書, 本人確認書類の写し, 送付場所の確認のための資料 are required)")
    return sorted(set(values))


def validate_mailing_id(value: str, field: str = "mailing_id") -> str:
    if not isinstance(value, str) or not _MAILING_ID.fullmatch(value):
        raise InvalidArgument(field, "must be an envelope id (32 lowercase hex digits)")
    return value


def validate_batch_id(value: str, field: str = "batch_id") -> str:
    if not isinstance(value, str) or not _BATCH_ID.fullmatch(value):
        raise InvalidArgument(field, "must be a batch id (YYYYMMDDhhmmss-8 hex digits)")
    return value
