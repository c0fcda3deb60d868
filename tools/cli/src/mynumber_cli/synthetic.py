"""Synthetic residents for demos, tests and benchmarks (never real people)."""

from __future__ import annotations

import random
from collections.abc import Iterator

WEIGHTS_FROM_RIGHT = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)


def resident_code(body: int) -> str:
    """A 住民票コード from a 10-digit body, with the default modulus-11 check digit."""
    text = f"{body:010d}"
    total = sum(int(d) * w for d, w in zip(reversed(text), WEIGHTS_FROM_RIGHT, strict=True))
    return text + str((-total) % 11 % 10)


def resident_codes(rng: random.Random, count: int) -> Iterator[str]:
    """Distinct random codes: a random affine walk over the 10^10 bodies never repeats within one run."""
    start = rng.randrange(10**10)
    step = rng.randrange(1, 10**10)
    while step % 2 == 0 or step % 5 == 0:  # coprime with 10^10, so the walk visits every body once
        step = rng.randrange(1, 10**10)
    for i in range(count):
        yield resident_code((start + i * step) % 10**10)
