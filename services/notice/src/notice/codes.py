"""申請書ID and QR payload; the 4-4-4 display of a number."""

from __future__ import annotations

import secrets

from stdnum import luhn

# domain.md §6 [S77]: the 交付申請書 carries a 23-digit 申請書ID not derivable to the 個人番号. We draw 22 random
# digits from the OS CSPRNG (~73 bits: unguessable) and append a Luhn check digit to catch typing errors at the
# counter; it is never computed from the number or the 住民票コード.
APPLICATION_ID_DIGITS = 23
# The real payload is UNCONFIRMED (domain.md §6): ours names the scheme, its version and the 申請書ID only.
QR_PREFIX = "MYNA-APPLY:1:"


def luhn_digit(body: str) -> str:
    """The Luhn check digit of ASCII digits (python-stdnum's, the reference implementation)."""
    return str(luhn.calc_check_digit(body))


def new_application_id() -> str:
    body = f"{secrets.randbelow(10 ** (APPLICATION_ID_DIGITS - 1)):0{APPLICATION_ID_DIGITS - 1}d}"
    return body + luhn_digit(body)


def application_id_valid(value: str) -> bool:
    return (isinstance(value, str) and len(value) == APPLICATION_ID_DIGITS and value.isascii() and value.isdigit()
            and luhn.is_valid(value))


def qr_payload(application_id: str) -> str:
    return QR_PREFIX + application_id


def grouped_number(number: str) -> str:
    """The 通知カード prints the 12 digits as 4-4-4."""
    return f"{number[0:4]} {number[4:8]} {number[8:12]}"
