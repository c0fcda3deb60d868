"""Shared pre-checks: every validator refuses a non-string and anything that is not ASCII digits the same way."""

from __future__ import annotations

from mynumber_runtime.errors import InvalidArgument

RULE_NOT_TEXT = "must be a string"
RULE_DIGITS = "must contain only the digits 0-9"


def require_str(value: object, field: str) -> str:
    # Callers pass protobuf strings, but a parser bug must still end as INVALID_ARGUMENT, never TypeError.
    if not isinstance(value, str):
        raise InvalidArgument(field, RULE_NOT_TEXT)
    return value


def require_digits(value: object, field: str, *, length: int, rule: str) -> str:
    """`length` ASCII digits. Full-width digits (０-９) and other Unicode Nd are not digits of any code."""
    text = require_str(value, field)
    if len(text) != length:
        raise InvalidArgument(field, rule)
    # isascii() first: str.isdigit() alone accepts '１２３' and '١٢٣'.
    if not text.isascii() or not text.isdigit():
        raise InvalidArgument(field, RULE_DIGITS)
    return text
