"""An in-memory registry implementing `numbering.ports.Registry`, and units of work over it that commit on a
clean exit and roll back on an exception (each unit works on a copy of the committed state)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from mynumber_runtime.outbox import Message
from numbering.records import ACTIVE, RETIRED, AccessDetails, NewNumbers, NumberRow, Person


@dataclass
class State:
    numbers: dict[bytes, NumberRow] = field(default_factory=dict)  # by number hash
    retired_codes: dict[bytes, bytes] = field(default_factory=dict)  # old code hash -> new code hash
    pending_moves: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # code hash -> (from, to)
    counters: dict[int, int] = field(default_factory=dict)
    events: list[tuple[str, bytes]] = field(default_factory=list)
    access: list[dict[str, object]] = field(default_factory=list)


class FakeRegistry:
    def __init__(self, state: State, *, on_insert: Callable[[State, NumberRow], None] | None = None) -> None:
        self.state = state
        self.on_insert = on_insert  # runs before an insert: a concurrent writer committing first
        self.reads = 0
        self.checkpoints = 0

    def active(self, code_hash: bytes) -> NumberRow | None:
        return next((r for r in self.state.numbers.values()
                     if r.resident_code_hash == code_hash and r.status == ACTIVE), None)

    async def people(self, hashes: Sequence[bytes], *, lock: bool = False) -> dict[bytes, Person]:
        self.reads += 1
        out = {}
        for h in hashes:
            row = self.active(h)
            move = self.state.pending_moves.get(h)
            out[h] = Person(row, move[1] if move and row else None, h in self.state.retired_codes)
        return out

    async def by_number_hash(self, number_hash: bytes) -> NumberRow | None:
        return self.state.numbers.get(number_hash)

    async def retired_code_hashes(self, hashes: Sequence[bytes]) -> set[bytes]:
        return {h for h in hashes if h in self.state.retired_codes}

    async def history(self, current: NumberRow) -> list[NumberRow]:
        chain = [current]
        while chain[-1].previous_hash is not None:
            chain.append(self.state.numbers[chain[-1].previous_hash])
        return chain

    async def insert_number(self, row: NumberRow) -> bool:
        if self.on_insert is not None:
            self.on_insert(self.state, row)
        if row.number_hash in self.state.numbers or self.active(row.resident_code_hash) is not None:
            return False
        self.state.numbers[row.number_hash] = row
        return True

    async def copy_new_numbers(self, rows: NewNumbers) -> set[bytes]:
        inserted = set()
        for nh, ch, sl in zip(rows.number_hashes, rows.resident_code_hashes, rows.sealed, strict=True):
            if await self.insert_number(NumberRow(nh, ch, sl, rows.municipality_code, ACTIVE, 0, rows.issued_at)):
                inserted.add(nh)
        return inserted

    async def next_change_counter(self, region: int) -> int:
        self.state.counters[region] = n = self.state.counters.get(region, 0) + 1
        return n

    async def retire(self, number_hash: bytes, at: dt.datetime, reason: int) -> None:
        row = self.state.numbers[number_hash]
        if row.status == ACTIVE:
            self.state.numbers[number_hash] = dataclasses.replace(row, status=RETIRED, retired_at=at,
                                                                  retired_reason=reason)

    async def change_code(self, current: NumberRow, new_code_hash: bytes, new_sealed: bytes, municipality_code: str,
                          at: dt.datetime) -> None:
        self.state.retired_codes[current.resident_code_hash] = new_code_hash
        self.state.numbers[current.number_hash] = dataclasses.replace(
            current, resident_code_hash=new_code_hash, sealed=new_sealed)

    async def record_move_out(self, code_hash: bytes, former: str, destination: str, at: dt.datetime) -> bool:
        if code_hash in self.state.pending_moves:
            return False
        self.state.pending_moves[code_hash] = (former, destination)
        return True

    async def close_move(self, code_hash: bytes, at: dt.datetime, *, moved_in: bool) -> bool:
        return self.state.pending_moves.pop(code_hash, None) is not None

    async def change_holder(self, number_hash: bytes, municipality_code: str) -> None:
        row = self.state.numbers[number_hash]
        if row.status == ACTIVE:
            self.state.numbers[number_hash] = dataclasses.replace(row, municipality_code=municipality_code)

    async def add_event(self, subject: str, message: Message) -> int:
        self.state.events.append((subject, message.SerializeToString()))
        return len(self.state.events)

    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: AccessDetails) -> None:
        self.state.access.append({"actor": actor, "action": action, "subject_ref": subject_ref, "purpose": purpose,
                                  **details})

    async def checkpoint(self) -> None:
        self.checkpoints += 1


class FakeUnits:
    """`async with units() as store:`: the store works on a copy; a clean exit commits it, an exception drops it."""

    def __init__(self) -> None:
        self.state = State()
        self.on_insert: Callable[[State, NumberRow], None] | None = None
        self.opened = 0

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[FakeRegistry]:
        self.opened += 1
        store = FakeRegistry(copy.deepcopy(self.state), on_insert=self.on_insert)
        yield store
        self.state = store.state
