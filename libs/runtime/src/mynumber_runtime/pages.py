"""Keyset page tokens for the lists that grow (a municipality's applications, its envelopes): a page ends at a
(time, id) position, and the token that names it is opaque to clients. It names only what the caller saw on the
page it was given; a token that is not of this form is the `page_token` field's error, never echoed."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from mynumber_runtime.errors import InvalidArgument

RULE = "not a token this service issued"
FIELD = "page_token"


@dataclass(frozen=True)
class Position:
    at: dt.datetime
    key: str

    def token(self) -> str:
        return base64.urlsafe_b64encode(f"{self.at.isoformat()}|{self.key}".encode()).decode().rstrip("=")


def position(token: str, *, key_length: int) -> Position:
    """The position a token names; InvalidArgument(page_token) for anything this module did not write, or a key
    that is not `key_length` letters and digits (the list's id form)."""
    try:
        at, sep, key = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().partition("|")
        when = dt.datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(FIELD, RULE) from None
    if not sep or when.tzinfo is None or len(key) != key_length or not key.isascii() or not key.isalnum():
        raise InvalidArgument(FIELD, RULE)
    return Position(when, key)
