"""Vectorised pre-checks for bulk paths (a register of 100,000 rows is screened before any per-row work)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def split_valid(values: Sequence[str], length: int) -> NDArray[np.bool_]:
    """Which values are exactly `length` ASCII digits (full-width digits are not; isascii() first)."""
    return np.fromiter((isinstance(v, str) and len(v) == length and v.isascii() and v.isdigit() for v in values),
                       dtype=bool, count=len(values))
