"""個人番号 (12 digits: 11-digit base + 検査用数字).

The check digit is 総務省令第85号 第5条: with the base digits Pn read from the right (n = 1..11) and weights
Qn = n + 1 for n <= 6, n - 5 for n >= 7, the check digit is 11 - (Σ Pn·Qn mod 11), or 0 when the remainder is
0 or 1. python-stdnum's `stdnum.jp.in_` is the reference; the numpy version serves bulk work and is tested
against it.
"""

from __future__ import annotations

import numpy as np
from mynumber_runtime.errors import InvalidArgument
from numpy.typing import NDArray
from stdnum.jp import in_ as stdnum_in

from mynumber_codes._strings import require_digits

INDIVIDUAL_NUMBER_DIGITS = 12
RULE_INDIVIDUAL_NUMBER_LENGTH = "must be exactly 12 digits"
RULE_INDIVIDUAL_NUMBER_CHECK = "check digit does not match (総務省令第85号 第5条)"

# Left-to-right weights of the 11 base digits (the ordinance's Qn read from the left).
_WEIGHTS = np.array([6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_POW10_11 = 10 ** np.arange(10, -1, -1, dtype=np.int64)


def individual_number_check_digit(base11: str) -> str:
    """The check digit of an 11-digit base (ASCII digits; the caller has validated them)."""
    return str(stdnum_in.calc_check_digit(base11))


def individual_numbers(bases: NDArray[np.uint64]) -> list[str]:
    """12-digit numbers for many 11-digit bases given as integers: check = (-Σ w·d) mod 11 mod 10."""
    base = np.asarray(bases, dtype=np.int64)
    digits = (base[:, None] // _POW10_11) % 10
    check = (-(digits @ _WEIGHTS)) % 11 % 10
    full = base * 10 + check
    return [f"{v:012d}" for v in full.tolist()]


def validate_individual_number(value: str, field: str = "individual_number") -> str:
    number = require_digits(value, field, length=INDIVIDUAL_NUMBER_DIGITS, rule=RULE_INDIVIDUAL_NUMBER_LENGTH)
    if individual_number_check_digit(number[:11]) != number[11]:
        raise InvalidArgument(field, RULE_INDIVIDUAL_NUMBER_CHECK)
    return number
