"""Validation at the edge, from the request alone: every value is checked before the service touches the database,
with the platform's shared code formats and text rules (`mynumber_codes`). Every refusal is
`InvalidArgument(field, rule)`: the field and the rule, never the value."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from mynumber_codes import MUNICIPAL_KINDS, validate_address, validate_date, validate_municipality_code, validate_name
from mynumber_runtime.crypto import KeyedHash
from mynumber_runtime.errors import InvalidArgument

from issuance.channels import CHANNELS, Channel, HandoverMethod

APPLICATION_ID_DIGITS = 23
RULE_APPLICATION_ID = f"must be the form's {APPLICATION_ID_DIGITS} ASCII digits"
RULE_REF = "must be an application reference (32 lowercase hex digits)"
RULE_SEX = "must be male or female as on the 住民票"
RULE_BIRTH_FUTURE = "must not be after today"


@dataclass(frozen=True)
class Applicant:
    """The 4 basic facts as the municipality's register holds them today."""

    name: str
    address: str
    birth_date: dt.date
    sex: int


def validate_municipality(value: str, field: str = "municipality_code") -> str:
    """A 団体コード that names a real municipality (JIS X 0402; a prefecture holds no register)."""
    validate_municipality_code(value, field, kinds=MUNICIPAL_KINDS)
    return value


def validate_application_id(value: str, field: str = "application_id") -> str:
    # Only the shape: the check digit is notice's own convention, and an unknown ID is refused as unknown anyway.
    if not (isinstance(value, str) and len(value) == APPLICATION_ID_DIGITS and value.isascii() and value.isdigit()):
        raise InvalidArgument(field, RULE_APPLICATION_ID)
    return value


def validate_ref(value: str, field: str = "application_ref") -> str:
    if not (isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)):
        raise InvalidArgument(field, RULE_REF)
    return value


def validate_applicant(name: str, address: str, birth_date: str, sex: int, today: dt.date,
                       field: str = "applicant") -> Applicant:
    validate_name(name, f"{field}.name")
    validate_address(address, f"{field}.address")
    born = validate_date(birth_date, f"{field}.birth_date")
    if born > today:
        raise InvalidArgument(f"{field}.birth_date", RULE_BIRTH_FUTURE)
    if sex not in (1, 2):
        raise InvalidArgument(f"{field}.sex", RULE_SEX)
    return Applicant(name, address, born, sex)


def validate_method(channel: Channel, method: HandoverMethod) -> None:
    allowed = CHANNELS[channel].methods
    if method not in allowed:
        raise InvalidArgument("handover_method", "not a hand-over method of this channel (allowed: "
                              + ", ".join(str(int(m)) for m in allowed) + ")")


def normalised(text: str) -> str:
    """NFKC and single spaces: the register and the printed form may differ in full-width forms and spacing
    (U+3000 between surname and given name) without the facts differing."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def facts_digest(key: KeyedHash, name: str, address: str, birth_date: str, sex: int) -> bytes:
    """The keyed digest a form is bound to: the same facts give the same digest; a move or a name change does
    not. Fields are joined by U+001F, which validation refuses inside them."""
    return key("\x1f".join((normalised(name), normalised(address), birth_date, str(sex))).encode())
