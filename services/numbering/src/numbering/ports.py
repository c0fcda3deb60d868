"""What the rules need from the registry: one unit of work (a transaction the boundary opened). `NumberStore`
(repository.py) is the real one; unit tests pass an in-memory fake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from mynumber_runtime.outbox import Message

from numbering.records import AccessDetails, NewNumbers, NumberRow, Person


class Registry(Protocol):
    async def people(self, hashes: Sequence[bytes], *, lock: bool = False) -> dict[bytes, Person]:
        """The tenancy facts of every given 住民票コード hash; `lock` takes the active rows FOR UPDATE."""
        ...

    async def by_number_hash(self, number_hash: bytes) -> NumberRow | None: ...

    async def retired_code_hashes(self, hashes: Sequence[bytes]) -> set[bytes]: ...

    async def history(self, current: NumberRow) -> list[NumberRow]:
        """The chain of numbers ending at `current`, newest first."""
        ...

    async def insert_number(self, row: NumberRow) -> bool:
        """False when the number or the person's active slot already exists."""
        ...

    async def copy_new_numbers(self, rows: NewNumbers) -> set[bytes]:
        """Bulk insert of first numbers; the number hashes this call inserted."""
        ...

    async def next_change_counter(self, region: int) -> int: ...

    async def retire(self, number_hash: bytes, at: dt.datetime, reason: int) -> None: ...

    async def change_code(self, current: NumberRow, new_code_hash: bytes, new_sealed: bytes, municipality_code: str,
                          at: dt.datetime) -> None: ...

    async def record_move_out(self, code_hash: bytes, former: str, destination: str, at: dt.datetime) -> bool:
        """False when a 転出 is already pending for the person."""
        ...

    async def close_move(self, code_hash: bytes, at: dt.datetime, *, moved_in: bool) -> bool:
        """Close the pending 転出; False when none was pending."""
        ...

    async def change_holder(self, number_hash: bytes, municipality_code: str) -> None: ...

    async def add_event(self, subject: str, message: Message) -> int: ...

    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: AccessDetails) -> None: ...

    async def checkpoint(self) -> None:
        """Commit what is done so far and go on (only for flows whose steps must survive a later failure)."""
        ...


# Opens a unit of work: `async with units() as store:` commits on a clean exit, rolls back on an exception
# (mynumber_runtime.db.Units in production, a fake in unit tests).
Units = Callable[[], AbstractAsyncContextManager[Registry]]
