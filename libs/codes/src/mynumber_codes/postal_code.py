"""郵便番号: 7 ASCII digits, written NNN-NNNN (the hyphen optional on input)."""

from __future__ import annotations

from mynumber_runtime.errors import InvalidArgument

from mynumber_codes._strings import RULE_DIGITS, require_str

RULE_POSTAL_FORMAT = "must be NNN-NNNN or NNNNNNN (ASCII digits)"
RULE_POSTAL_ZERO = "000-0000 is not a postal code"


def validate_postal_code(value: str, field: str = "postal_code") -> str:
    """The canonical form NNN-NNNN."""
    text = require_str(value, field)
    if len(text) == 8 and text[3] == "-":
        digits = text[:3] + text[4:]
    elif len(text) == 7:
        digits = text
    else:
        raise InvalidArgument(field, RULE_POSTAL_FORMAT)
    if not digits.isascii() or not digits.isdigit():
        raise InvalidArgument(field, RULE_DIGITS)
    if digits == "0000000":
        raise InvalidArgument(field, RULE_POSTAL_ZERO)
    return f"{digits[:3]}-{digits[3:]}"
