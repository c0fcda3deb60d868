"""The rules of 付番. No SQL (repository.py) and no protobuf (grpc_api.py) here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer
from mynumber_runtime.errors import DomainError, InvalidArgument, PermissionDenied
from mynumber_runtime.identity import Caller

from numbering import events
from numbering.codes import (
    ResidentCodeRule,
    individual_numbers,
    validate_individual_number,
    validate_municipality_code,
)
from numbering.errors import NoNumber, NumberCollision, ResidentCodeInUse, ResidentCodeRetired
from numbering.ff1 import BatchFF1
from numbering.keys import NumberingKeys
from numbering.models import ACTIVE, RETIRED
from numbering.repository import NewNumbers, NumberRepository, NumberRow

SEALED_AAD = b"numbering.numbers"
CHANGE_REASONS = {1: "leaked, on the person's request (請求)", 2: "leaked, ex officio (職権)"}
_DIGIT_RUN = re.compile(r"[0-9]{10,}")


@dataclass(frozen=True)
class Assignment:
    individual_number: str
    newly_assigned: bool
    assigned_at: dt.datetime


@dataclass(frozen=True)
class HistoryEntry:
    individual_number: str
    status: int
    issued_at: dt.datetime
    retired_at: dt.datetime | None
    retired_reason: int | None
    region: int


@dataclass
class PreparedChunk:
    """A bulk chunk after the CPU work (validation, FF1, hashes, sealing), before any database work."""

    start: int
    size: int
    municipality_code: str
    errors: dict[int, DomainError] = field(default_factory=dict)
    # Per valid, distinct 住民票コード: position in the chunk of its first occurrence.
    positions: list[int] = field(default_factory=list)
    duplicates: dict[int, int] = field(default_factory=dict)  # later position -> first position
    codes: list[str] = field(default_factory=list)
    code_hashes: list[bytes] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    rows: NewNumbers | None = None


@dataclass
class ChunkResult:
    """Columns, in the chunk's order; refused items have an empty number and an entry in `errors`."""

    first_index: int
    numbers: list[str]
    newly_assigned: list[bool]
    errors: list[tuple[int, DomainError]] = field(default_factory=list)


@dataclass
class BulkTotals:
    received: int = 0
    assigned: int = 0
    already_assigned: int = 0
    failed: int = 0


def authorize_municipality(caller: Caller, municipality_code: str) -> None:
    """A municipality acts only for its own residents (住基法: the residence municipality keeps the register)."""
    if caller.kind == "operator":
        return
    if caller.kind == "municipality" and caller.id == municipality_code:
        return
    raise PermissionDenied("municipality_code: callers may act only for their own municipality")


class NumberingService:
    def __init__(self, *, repo: NumberRepository, keys: NumberingKeys, sealer: FieldSealer,
                 event_sealer: events.EventSealer, region_digit: int, code_rule: ResidentCodeRule,
                 clock: Clock) -> None:
        if not 1 <= region_digit <= 9:
            raise ValueError("region_digit must be 1-9 (0 is reserved for first numbers)")
        self.repo = repo
        self.keys = keys
        self.sealer = sealer
        self.event_sealer = event_sealer
        self.region = region_digit
        self.code_rule = code_rule
        self.clock = clock
        self._ff1 = BatchFF1(keys.ff1, 11)

    # --- numbers from inputs -------------------------------------------------------------------------------

    def first_numbers(self, resident_codes: Sequence[str]) -> list[str]:
        """番号法 第8条: FF1_K(0 || body) plus the check digit. The 11-digit numeral "0"+body is the body's value."""
        bodies = np.fromiter((int(c[:10]) for c in resident_codes), dtype=np.uint64, count=len(resident_codes))
        return individual_numbers(self._ff1.encrypt(bodies))

    def changed_numbers(self, counters: Sequence[int]) -> list[str]:
        """Changed numbers: FF1_K(r || counter), r the issuing region. Distinct from every first number (whose
        input starts with 0) and from every other region's changes, with no cross-region coordination."""
        if any(not 0 <= c < 10**10 for c in counters):
            raise ValueError("the region's change counter is exhausted (10 digits)")
        values = np.fromiter((self.region * 10**10 + c for c in counters), dtype=np.uint64, count=len(counters))
        return individual_numbers(self._ff1.encrypt(values))

    def _open(self, row: NumberRow) -> tuple[str, str]:
        plain = self.sealer.open(row.sealed, SEALED_AAD).decode()
        return plain[:12], plain[12:]

    def _seal(self, number: str, code: str) -> bytes:
        return self.sealer.seal((number + code).encode(), SEALED_AAD)

    def _ref(self, code_hash: bytes) -> str:
        return code_hash.hex()

    # --- single assignment ---------------------------------------------------------------------------------

    async def assign(self, caller: Caller, municipality_code: str, resident_code: str) -> Assignment:
        validate_municipality_code(municipality_code)
        self.code_rule.validate(resident_code)
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            existing = await self.repo.active_by_code_hash(conn, code_hash)
            if existing is None:
                if await self.repo.retired_code_hashes(conn, [code_hash]):
                    raise ResidentCodeRetired()
                number = self.first_numbers([resident_code])[0]
                row = NumberRow(self.keys.lookup(number.encode()), code_hash, self._seal(number, resident_code),
                                municipality_code, ACTIVE, 0, now)
                if await self.repo.insert_number(conn, row):
                    await self.repo.add_event(conn, events.NUMBER_ASSIGNED, events.number_assigned(
                        self.event_sealer, now, [municipality_code], [resident_code], [number]))
                    await self.repo.record_access(conn, at=now, actor=str(caller), action="number.assign",
                                                  subject_ref=self._ref(code_hash), purpose="付番")
                    return Assignment(number, True, now)
                # A concurrent request for the same resident committed first: READ COMMITTED shows it now.
                existing = await self.repo.active_by_code_hash(conn, code_hash)
                if existing is None:
                    raise NumberCollision()
            await self.repo.record_access(conn, at=now, actor=str(caller), action="number.assign.repeat",
                                          subject_ref=self._ref(code_hash), purpose="付番")
            return Assignment(self._open(existing)[0], False, existing.issued_at)

    # --- bulk assignment -----------------------------------------------------------------------------------

    def prepare_chunk(self, caller: Caller, municipality_code: str, codes: Sequence[str],
                      start: int) -> PreparedChunk:
        """CPU work only: validation, FF1, check digits, hashes, sealing. Each bad item gets its own error."""
        chunk = PreparedChunk(start=start, size=len(codes), municipality_code=municipality_code)
        try:
            validate_municipality_code(municipality_code)
            authorize_municipality(caller, municipality_code)
        except DomainError as e:
            chunk.errors = dict.fromkeys(range(len(codes)), e)
            return chunk
        first_at: dict[str, int] = {}
        for pos, code in enumerate(codes):
            if len(code) != 11 or not code.isascii() or not code.isdigit():
                try:
                    self.code_rule.validate(code)
                except DomainError as e:
                    chunk.errors[pos] = e
                continue
            seen = first_at.setdefault(code, pos)
            if seen != pos:
                chunk.duplicates[pos] = seen
                continue
            chunk.positions.append(pos)
            chunk.codes.append(code)
        if chunk.codes:
            # Check digits of all codes at once; drop the bad ones.
            bodies = np.fromiter((int(c[:10]) for c in chunk.codes), dtype=np.int64, count=len(chunk.codes))
            given = np.fromiter((ord(c[10]) - 48 for c in chunk.codes), dtype=np.int64, count=len(chunk.codes))
            bad = np.flatnonzero(self.code_rule.check_digits(bodies) != given)
            if bad.size:
                drop = set(bad.tolist())
                for k in drop:
                    chunk.errors[chunk.positions[k]] = InvalidArgument(
                        "resident_code", "check digit does not match the 住民票コード rule")
                keep = [k for k in range(len(chunk.codes)) if k not in drop]
                chunk.positions = [chunk.positions[k] for k in keep]
                chunk.codes = [chunk.codes[k] for k in keep]
                for later, first in list(chunk.duplicates.items()):
                    if first in chunk.errors:
                        chunk.errors[later] = chunk.errors[first]
                        del chunk.duplicates[later]
        if not chunk.codes:
            return chunk
        now = self.clock.now()
        chunk.code_hashes = self.keys.lookup.many([c.encode() for c in chunk.codes])
        chunk.numbers = self.first_numbers(chunk.codes)
        number_hashes = self.keys.lookup.many([n.encode() for n in chunk.numbers])
        sealed = self.sealer.seal_many([(n + c).encode() for n, c in zip(chunk.numbers, chunk.codes, strict=True)],
                                       SEALED_AAD)
        chunk.rows = NewNumbers(municipality_code, now, number_hashes, chunk.code_hashes, sealed)
        return chunk

    async def write_chunk(self, caller: Caller, chunk: PreparedChunk, totals: BulkTotals) -> ChunkResult:
        """One transaction per chunk. The fast path is COPY of every candidate: a resident who already has a
        number (or whose first number exists for any reason) hits a unique index, and then the chunk falls back
        to INSERT ... ON CONFLICT DO NOTHING and reads the existing numbers."""
        size = chunk.size
        result = ChunkResult(first_index=chunk.start, numbers=[""] * size, newly_assigned=[False] * size)
        if chunk.rows is not None:
            rows = chunk.rows
            now = rows.issued_at
            async with self.repo.begin() as conn:
                retired = await self.repo.retired_code_hashes(conn, chunk.code_hashes)
                candidates = rows if not retired else rows.subset(
                    [k for k, h in enumerate(rows.resident_code_hashes) if h not in retired])
                inserted = await self.repo.copy_new_numbers(conn, candidates)
                existing = {}
                if len(inserted) < len(candidates.number_hashes):
                    existing = await self.repo.active_by_code_hashes(conn, [
                        h for h, nh in zip(candidates.resident_code_hashes, candidates.number_hashes, strict=True)
                        if nh not in inserted])
                new_k = []
                for k, pos in enumerate(chunk.positions):
                    h = chunk.code_hashes[k]
                    if h in retired:
                        chunk.errors[pos] = ResidentCodeRetired()
                    elif rows.number_hashes[k] in inserted:
                        result.numbers[pos] = chunk.numbers[k]
                        result.newly_assigned[pos] = True
                        new_k.append(k)
                    elif h in existing:
                        result.numbers[pos] = self._open(existing[h])[0]
                    else:
                        chunk.errors[pos] = NumberCollision()
                if new_k:
                    await self.repo.add_event(conn, events.NUMBER_ASSIGNED, events.number_assigned(
                        self.event_sealer, now, [chunk.municipality_code] * len(new_k),
                        [chunk.codes[k] for k in new_k], [chunk.numbers[k] for k in new_k]))
                # One access record per chunk: the bulk request is one act of one caller.
                await self.repo.record_access(
                    conn, at=now, actor=str(caller), action="number.assign.bulk",
                    subject_ref=f"municipality:{chunk.municipality_code}", purpose="付番 (一括)",
                    details={"first_index": chunk.start, "items": len(chunk.positions), "new": len(new_k)})
        for later, first in chunk.duplicates.items():
            if first in chunk.errors:
                chunk.errors[later] = chunk.errors[first]
            else:
                result.numbers[later] = result.numbers[first]
        result.errors = sorted(((chunk.start + p, e) for p, e in chunk.errors.items()), key=lambda t: t[0])
        new = sum(result.newly_assigned)
        totals.received += size
        totals.assigned += new
        totals.failed += len(result.errors)
        totals.already_assigned += size - new - len(result.errors)
        return result

    # --- changes -------------------------------------------------------------------------------------------

    async def change_number(self, caller: Caller, municipality_code: str, resident_code: str, reason: int,
                            reason_detail: str) -> Assignment:
        validate_municipality_code(municipality_code)
        self.code_rule.validate(resident_code)
        if reason not in CHANGE_REASONS:
            raise InvalidArgument("reason", "required: LEAKED_ON_REQUEST or LEAKED_EX_OFFICIO (番号法 第7条2項)")
        if len(reason_detail) > 500:
            raise InvalidArgument("reason_detail", "at most 500 characters")
        if _DIGIT_RUN.search(reason_detail):
            raise InvalidArgument("reason_detail", "must not contain personal data (a run of 10 or more digits)")
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            current = await self.repo.active_by_code_hash(conn, code_hash, lock=True)
            if current is None:
                raise NoNumber()
            if current.municipality_code != municipality_code and caller.kind != "operator":
                raise PermissionDenied("municipality_code: the person is registered in another municipality")
            old_number, _ = self._open(current)
            counter = await self.repo.next_change_counter(conn, self.region)
            (number,) = self.changed_numbers([counter])
            await self.repo.retire(conn, current.number_hash, now, reason)
            row = NumberRow(self.keys.lookup(number.encode()), code_hash, self._seal(number, resident_code),
                            municipality_code, ACTIVE, self.region, now, previous_hash=current.number_hash)
            if not await self.repo.insert_number(conn, row):
                raise NumberCollision()
            await self.repo.add_event(conn, events.NUMBER_CHANGED, events.number_changed(
                self.event_sealer, now, municipality_code, resident_code, number, old_number, reason))
            await self.repo.record_access(conn, at=now, actor=str(caller), action="number.change",
                                          subject_ref=self._ref(code_hash), purpose="個人番号の変更 (番号法 第7条2項)",
                                          details={"reason": reason, "detail": reason_detail})
        return Assignment(number, True, now)

    async def change_resident_code(self, caller: Caller, municipality_code: str, old_code: str,
                                   new_code: str) -> Assignment:
        validate_municipality_code(municipality_code)
        self.code_rule.validate(old_code, "old_resident_code")
        self.code_rule.validate(new_code, "new_resident_code")
        if old_code == new_code:
            raise InvalidArgument("new_resident_code", "must differ from old_resident_code")
        authorize_municipality(caller, municipality_code)
        old_hash, new_hash = self.keys.lookup(old_code.encode()), self.keys.lookup(new_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            current = await self.repo.active_by_code_hash(conn, old_hash, lock=True)
            if current is None:
                raise NoNumber("old_resident_code")
            if current.municipality_code != municipality_code and caller.kind != "operator":
                raise PermissionDenied("municipality_code: the person is registered in another municipality")
            if await self.repo.active_by_code_hash(conn, new_hash) or await self.repo.retired_code_hashes(
                    conn, [new_hash]):
                raise ResidentCodeInUse()
            number, _ = self._open(current)
            await self.repo.change_code(conn, current, new_hash, self._seal(number, new_code), municipality_code, now)
            await self.repo.add_event(conn, events.RESIDENT_CODE_CHANGED, events.resident_code_changed(
                self.event_sealer, now, municipality_code, new_code, old_code, number))
            await self.repo.record_access(conn, at=now, actor=str(caller), action="resident_code.change",
                                          subject_ref=self._ref(new_hash), purpose="住民票コードの変更",
                                          details={"previous_ref": self._ref(old_hash)})
        return Assignment(number, False, now)

    # --- reads ---------------------------------------------------------------------------------------------

    async def lookup(self, caller: Caller, municipality_code: str, resident_code: str) -> Assignment:
        validate_municipality_code(municipality_code)
        self.code_rule.validate(resident_code)
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        async with self.repo.begin() as conn:
            current = await self.repo.active_by_code_hash(conn, code_hash)
            if current is None or (current.municipality_code != municipality_code and caller.kind != "operator"):
                raise NoNumber()
            await self.repo.record_access(conn, at=self.clock.now(), actor=str(caller), action="number.lookup",
                                          subject_ref=self._ref(code_hash), purpose="個人番号の確認")
        return Assignment(self._open(current)[0], False, current.issued_at)

    async def history(self, caller: Caller, municipality_code: str, resident_code: str) -> list[HistoryEntry]:
        validate_municipality_code(municipality_code)
        self.code_rule.validate(resident_code)
        authorize_municipality(caller, municipality_code)
        code_hash = self.keys.lookup(resident_code.encode())
        async with self.repo.begin() as conn:
            current = await self.repo.active_by_code_hash(conn, code_hash)
            if current is None or (current.municipality_code != municipality_code and caller.kind != "operator"):
                raise NoNumber()
            chain = await self.repo.history(conn, current)
            await self.repo.record_access(conn, at=self.clock.now(), actor=str(caller), action="number.history",
                                          subject_ref=self._ref(code_hash), purpose="個人番号の履歴")
        return [HistoryEntry(self._open(r)[0], r.status, r.issued_at, r.retired_at, r.retired_reason, r.region)
                for r in chain]

    async def sector_code(self, caller: Caller, agency_code: str, individual_number: str) -> str:
        if not (1 <= len(agency_code) <= 32 and agency_code.isascii() and agency_code.replace("-", "").isalnum()):
            raise InvalidArgument("agency_code", "1-32 characters of A-Z, a-z, 0-9 and '-'")
        validate_individual_number(individual_number)
        if caller.kind == "agency" and caller.id != agency_code:
            raise PermissionDenied("agency_code: an agency may obtain only its own 符号")
        number_hash = self.keys.lookup(individual_number.encode())
        async with self.repo.begin() as conn:
            row = await self.repo.by_number_hash(conn, number_hash)
            if row is None or row.status != ACTIVE:
                raise NoNumber("individual_number")
            await self.repo.record_access(conn, at=self.clock.now(), actor=str(caller), action="sector_code.issue",
                                          subject_ref=self._ref(row.resident_code_hash), purpose="符号の生成",
                                          details={"agency": agency_code})
        return self.keys.sector_code(agency_code, individual_number)


__all__ = ["RETIRED", "Assignment", "BulkTotals", "ChunkResult", "HistoryEntry", "NumberingService"]
