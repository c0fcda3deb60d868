"""The three code formats the service takes or makes, with their check digits.

- 個人番号 (12 digits): 総務省令第85号 第5条; python-stdnum's `stdnum.jp.in_` is the reference, a numpy version
  serves bulk work and is tested against it.
- 住民票コード (11 digits: 10-digit body + check digit): the 告示 formula is not public, so the rule is configurable;
  the default is the modulus-11 scheme with right-to-left weights 2-7 of domain.md §2.1.
- 全国地方公共団体コード (6 digits): JIS X 0402 check digit, prefecture 01-47.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from mynumber_runtime.errors import InvalidArgument
from numpy.typing import NDArray
from stdnum.jp import in_ as stdnum_in

# Left-to-right weights of the 11 base digits of a 個人番号 (the ordinance's Qn read from the left).
_IN_WEIGHTS = np.array([6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_POW10_11 = 10 ** np.arange(10, -1, -1, dtype=np.int64)


def individual_number_check_digit(base11: str) -> str:
    return str(stdnum_in.calc_check_digit(base11))


def individual_numbers(bases: NDArray[np.uint64]) -> list[str]:
    """12-digit numbers for many 11-digit bases (as integers): check digit = (-Σ w·d) mod 11 mod 10."""
    base = np.asarray(bases, dtype=np.int64)
    digits = (base[:, None] // _POW10_11) % 10
    check = (-(digits @ _IN_WEIGHTS)) % 11 % 10
    full = base * 10 + check
    return [f"{v:012d}" for v in full.tolist()]


def validate_individual_number(value: str, field: str = "individual_number") -> str:
    if len(value) != 12:
        raise InvalidArgument(field, "must be exactly 12 digits")
    if not value.isascii() or not value.isdigit():
        raise InvalidArgument(field, "must contain only the digits 0-9")
    if individual_number_check_digit(value[:11]) != value[11]:
        raise InvalidArgument(field, "check digit does not match (総務省令第85号 第5条)")
    return value


@dataclass(frozen=True)
class ResidentCodeRule:
    """The 住民票コード check digit: Σ of body digits times weights (from the right); check = f(Σ mod 11).

    `weights_from_right` applies to the body's last digit first. The check digit is 0 when the remainder is 0 or
    1, else 11 - remainder (the modulus-11 convention of the 個人番号, assumed here; UNCONFIRMED, see domain.md).
    """

    weights_from_right: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)

    def check_digit(self, body: str) -> str:
        total = sum(int(d) * w for d, w in zip(reversed(body), self.weights_from_right, strict=True))
        return str((-total) % 11 % 10)

    def check_digits(self, bodies: NDArray[np.int64]) -> NDArray[np.int64]:
        w = np.array(self.weights_from_right[::-1], dtype=np.int64)
        digits = (bodies[:, None] // (10 ** np.arange(9, -1, -1, dtype=np.int64))) % 10
        return (-(digits @ w)) % 11 % 10

    def validate(self, value: str, field: str = "resident_code") -> str:
        if len(value) != 11:
            raise InvalidArgument(field, "must be exactly 11 digits (10-digit body and a check digit)")
        if not value.isascii() or not value.isdigit():
            raise InvalidArgument(field, "must contain only the digits 0-9")
        if self.check_digit(value[:10]) != value[10]:
            raise InvalidArgument(field, "check digit does not match the 住民票コード rule")
        return value

    def make(self, body: str) -> str:
        """A full code from a 10-digit body (tests and synthetic registers)."""
        return body + self.check_digit(body)


def municipality_check_digit(five: str) -> str:
    total = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def validate_municipality_code(value: str, field: str = "municipality_code") -> str:
    if len(value) != 6:
        raise InvalidArgument(field, "must be exactly 6 digits (JIS X 0402 code with its check digit)")
    if not value.isascii() or not value.isdigit():
        raise InvalidArgument(field, "must contain only the digits 0-9")
    if not 1 <= int(value[:2]) <= 47:
        raise InvalidArgument(field, "prefecture part must be 01-47 (JIS X 0401)")
    if municipality_check_digit(value[:5]) != value[5]:
        raise InvalidArgument(field, "check digit does not match (JIS X 0402)")
    return value


def split_valid(values: Sequence[str], length: int) -> NDArray[np.bool_]:
    """Which values are `length` ASCII digits (vectorised pre-check for bulk paths)."""
    return np.fromiter((len(v) == length and v.isascii() and v.isdigit() for v in values), dtype=bool,
                       count=len(values))
