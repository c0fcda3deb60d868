"""住民票コード (11 digits: 10-digit body + check digit).

The 告示 formula is not public, so the rule is configurable; the default is the modulus-11 scheme with
right-to-left weights 2-7 of domain.md §2.1 (UNCONFIRMED there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mynumber_runtime.errors import InvalidArgument
from numpy.typing import NDArray

from mynumber_codes._strings import require_digits

RESIDENT_CODE_DIGITS = 11
RULE_RESIDENT_CODE_LENGTH = "must be exactly 11 digits (10-digit body and a check digit)"
RULE_RESIDENT_CODE_CHECK = "check digit does not match the 住民票コード rule"


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
        result: NDArray[np.int64] = (-(digits @ w)) % 11 % 10
        return result

    def validate(self, value: str, field: str = "resident_code") -> str:
        code = require_digits(value, field, length=RESIDENT_CODE_DIGITS, rule=RULE_RESIDENT_CODE_LENGTH)
        if self.check_digit(code[:10]) != code[10]:
            raise InvalidArgument(field, RULE_RESIDENT_CODE_CHECK)
        return code

    def make(self, body: str) -> str:
        """A full code from a 10-digit body (tests and synthetic registers)."""
        return body + self.check_digit(body)


DEFAULT_RESIDENT_CODE_RULE = ResidentCodeRule()


def validate_resident_code(
    value: str, field: str = "resident_code", rule: ResidentCodeRule = DEFAULT_RESIDENT_CODE_RULE
) -> str:
    return rule.validate(value, field)
