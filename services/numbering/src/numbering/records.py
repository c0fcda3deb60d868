"""Records of the numbering registry as the rules see them (frozen, no SQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

# numbers.status
ACTIVE, RETIRED = 1, 2
# moves.state
MOVE_PENDING, MOVE_DONE, MOVE_CANCELLED = 1, 2, 3


@dataclass(frozen=True)
class NumberRow:
    number_hash: bytes
    resident_code_hash: bytes
    sealed: bytes
    municipality_code: str
    status: int
    region: int
    issued_at: dt.datetime
    retired_at: dt.datetime | None = None
    retired_reason: int | None = None
    previous_hash: bytes | None = None


@dataclass(frozen=True)
class Person:
    """What the registry knows of one 住民票コード: the active row (None when no one holds it), the destination of a
    pending 転出, and whether the code was replaced by a newer one (retired codes are never numbered again)."""

    row: NumberRow | None
    moving_to: str | None
    retired: bool


@dataclass(frozen=True)
class NewNumbers:
    """First numbers of one bulk chunk, as columns (one object per chunk, not per row, on the hot path)."""

    municipality_code: str
    issued_at: dt.datetime
    number_hashes: list[bytes]
    resident_code_hashes: list[bytes]
    sealed: list[bytes]

    def subset(self, keep: Sequence[int]) -> NewNumbers:
        return NewNumbers(self.municipality_code, self.issued_at, [self.number_hashes[k] for k in keep],
                          [self.resident_code_hashes[k] for k in keep], [self.sealed[k] for k in keep])


# An access record's details: flat JSON of short facts (bases, references, counts), never personal data.
AccessDetails = dict[str, str | int]
