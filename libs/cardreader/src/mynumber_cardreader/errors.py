"""Typed card errors. Messages name the operation and the status word, never personal data."""

from __future__ import annotations


class CardReaderError(Exception):
    """Base of every error of this library."""


class NoReaderError(CardReaderError):
    """No PC/SC reader (or not the one asked for)."""


class NoCardError(CardReaderError):
    """No card arrived in time."""


class CardStatusError(CardReaderError):
    """The card answered a status word other than 90 00."""

    def __init__(self, operation: str, sw: int) -> None:
        super().__init__(f"{operation}: card answered {sw:04X}")
        self.operation = operation
        self.sw = sw


class WrongPinError(CardStatusError):
    """63 Cx: the PIN was wrong; `tries_left` more attempts before it blocks."""

    def __init__(self, operation: str, sw: int) -> None:
        super().__init__(operation, sw)
        self.tries_left = sw & 0x0F


class PinBlockedError(CardStatusError):
    """69 84 (or 69 83): the PIN is blocked; only the municipal counter can reset it."""


class SecurityStatusError(CardStatusError):
    """69 82: the file or key needs a PIN that has not been verified."""


class FileNotFoundOnCardError(CardStatusError):
    """6A 82: no such application or file."""


def check(operation: str, sw: int) -> None:
    """Raise the typed error for a status word; 90 00 passes."""
    if sw == 0x9000:
        return
    if sw & 0xFFF0 == 0x63C0:
        raise WrongPinError(operation, sw)
    if sw in (0x6983, 0x6984):
        raise PinBlockedError(operation, sw)
    if sw == 0x6982:
        raise SecurityStatusError(operation, sw)
    if sw == 0x6A82:
        raise FileNotFoundOnCardError(operation, sw)
    raise CardStatusError(operation, sw)
