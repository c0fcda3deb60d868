"""The rules of 付番. No SQL (repository.py) and no protobuf (grpc_api.py) here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from mynumber_codes import (
    MUNICIPAL_KINDS,
    ResidentCodeRule,
    individual_numbers,
    validate_individual_number,
    validate_municipality_code,
    validate_resident_code,
    validate_text,
)
from mynumber_events import numbering as events
from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer
from mynumber_runtime.errors import DomainError, InvalidArgument, PermissionDenied
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant
from sqlalchemy.ext.asyncio import AsyncConnection

from numbering import tenancy
from numbering.errors import (
    MoveOutPending,
    NoNumber,
    NoPendingMove,
    NumberCollision,
    ResidentCodeInUse,
    ResidentCodeUnavailable,
)
from numbering.ff1 import BatchFF1
from numbering.keys import NumberingKeys
from numbering.models import ACTIVE, RETIRED
from numbering.repository import NewNumbers, NumberRepository, NumberRow, Person
from numbering.tenancy import Refused, Tenancy

SEALED_AAD = b"numbering.numbers"
CHANGE_REASONS = {1: "leaked, on the person's request (請求)", 2: "leaked, ex officio (職権)"}
# Any decimal digits, full-width included: a number written as １２３… is still a number.
_DIGIT_RUN = re.compile(r"\d{10,}")
T = TypeVar("T")


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


_CASE_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,32}")


def _municipality(value: str, field: str) -> None:
    """A 団体コード that names a real municipality (JIS X 0402 list; a prefecture holds no register)."""
    validate_municipality_code(value, field, kinds=MUNICIPAL_KINDS)


def authorize_municipality(caller: Caller, municipality_code: str) -> None:
    """A municipality acts only for itself: the request's municipality_code must be its own. Decided from the
    request and the identity alone, before any person is looked at, so it tells nothing about anyone."""
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
        self.tenancy = Tenancy(repo=repo, clock=clock)
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

    def _log(self, conn: AsyncConnection, caller: Caller, basis: Basis, *, action: str, subject_ref: str,
             purpose: str, at: dt.datetime, details: dict[str, Any] | None = None) -> Awaitable[None]:
        """Every grant is recorded with its basis (and, for an operator, the municipality it acted for)."""
        return self.repo.record_access(conn, at=at, actor=str(caller), action=action, subject_ref=subject_ref,
                                       purpose=purpose, details={"basis": basis.value, **(details or {})})

    async def _refusals_recorded(self, caller: Caller, work: Awaitable[T]) -> T:
        """Run one request; a tenancy refusal is recorded (its own transaction) and then raised as the error."""
        try:
            return await work
        except Refused as r:
            await self.tenancy.record_refusal(caller, r)
            raise r.error from None

    # --- single assignment ---------------------------------------------------------------------------------

    async def assign(self, caller: Caller, municipality_code: str, resident_code: str) -> Assignment:
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._assign(caller, municipality_code, resident_code))

    async def _assign(self, caller: Caller, municipality_code: str, resident_code: str) -> Assignment:
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            person = await self.tenancy.load(conn, code_hash)
            if person.row is None and not person.retired:
                # A code no register holds: the caller's register takes the person. That a new code gets a
                # number (and a held one does not) is inherent to assignment; see docs/numbering.md.
                number = self.first_numbers([resident_code])[0]
                row = NumberRow(self.keys.lookup(number.encode()), code_hash, self._seal(number, resident_code),
                                municipality_code, ACTIVE, 0, now)
                if await self.repo.insert_number(conn, row):
                    await self.repo.add_event(conn, events.NUMBER_ASSIGNED, events.number_assigned(
                        self.event_sealer, now, [municipality_code], [resident_code], [number]))
                    basis = Basis.OPERATOR if caller.kind == "operator" else Basis.OWN_REGISTER
                    await self._log(conn, caller, basis, action="number.assign", subject_ref=self._ref(code_hash),
                                    purpose="付番", at=now, details=self._acting(caller, municipality_code))
                    return Assignment(number, True, now)
                # A concurrent request for the same resident committed first: READ COMMITTED shows it now.
                person = await self.tenancy.load(conn, code_hash)
                if person.row is None:
                    raise NumberCollision()
            basis = self.tenancy.check(caller, municipality_code, person, code_hash, action="number.assign",
                                       permits=tenancy.ASSIGN, refusal=ResidentCodeUnavailable)
            assert person.row is not None
            await self._log(conn, caller, basis, action="number.assign.repeat", subject_ref=self._ref(code_hash),
                            purpose="付番", at=now, details=self._acting(caller, municipality_code))
            return Assignment(self._open(person.row)[0], False, person.row.issued_at)

    @staticmethod
    def _acting(caller: Caller, municipality_code: str) -> dict[str, Any]:
        return {"acting_for": municipality_code} if caller.kind == "operator" else {}

    # --- bulk assignment -----------------------------------------------------------------------------------

    def prepare_chunk(self, caller: Caller, municipality_code: str, codes: Sequence[str],
                      start: int) -> PreparedChunk:
        """CPU work only: validation, FF1, check digits, hashes, sealing. Each bad item gets its own error."""
        chunk = PreparedChunk(start=start, size=len(codes), municipality_code=municipality_code)
        try:
            _municipality(municipality_code, "municipality_code")
            authorize_municipality(caller, municipality_code)
        except DomainError as e:
            chunk.errors = dict.fromkeys(range(len(codes)), e)
            return chunk
        first_at: dict[str, int] = {}
        for pos, code in enumerate(codes):
            if len(code) != 11 or not code.isascii() or not code.isdigit():
                try:
                    validate_resident_code(code, "resident_code", self.code_rule)
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
        """One transaction per chunk. The fast path is COPY of every candidate (retired codes are left out first):
        a code some register already holds hits a unique index, and then the chunk falls back to INSERT ... ON
        CONFLICT DO NOTHING and reads the tenancy facts of the codes that were not inserted. Every code that
        was not newly numbered goes through the tenancy rule item by item (a held code of another register and a
        retired code get the same refusal). No pre-read of the held rows: it cost a third of the bulk rate."""
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
                people: dict[bytes, Person] = {h: Person(None, None, True) for h in retired}
                if len(inserted) < len(candidates.number_hashes):
                    people.update(await self.repo.people(conn, [
                        h for h, nh in zip(candidates.resident_code_hashes, candidates.number_hashes, strict=True)
                        if nh not in inserted]))
                new_k = []
                refused: list[str] = []
                for k, pos in enumerate(chunk.positions):
                    h = chunk.code_hashes[k]
                    if rows.number_hashes[k] in inserted:
                        result.numbers[pos] = chunk.numbers[k]
                        result.newly_assigned[pos] = True
                        new_k.append(k)
                        continue
                    person = people.get(h, Person(None, None, False))
                    if person.row is None and not person.retired:
                        chunk.errors[pos] = NumberCollision()
                        continue
                    try:
                        tenancy.decide(caller, chunk.municipality_code, person, permits=tenancy.ASSIGN,
                                       refusal=ResidentCodeUnavailable)
                    except ResidentCodeUnavailable as e:
                        chunk.errors[pos] = e
                        refused.append(self._ref(h))
                        continue
                    assert person.row is not None
                    result.numbers[pos] = self._open(person.row)[0]
                if new_k:
                    await self.repo.add_event(conn, events.NUMBER_ASSIGNED, events.number_assigned(
                        self.event_sealer, now, [chunk.municipality_code] * len(new_k),
                        [chunk.codes[k] for k in new_k], [chunk.numbers[k] for k in new_k]))
                # One access record per chunk: the bulk request is one act of one caller (its basis: the
                # caller's own register, or an operator's). A refused item is recorded on its own, so the
                # person's access record shows the attempt.
                basis = Basis.OPERATOR if caller.kind == "operator" else Basis.OWN_REGISTER
                await self._log(conn, caller, basis, action="number.assign.bulk",
                                subject_ref=f"municipality:{chunk.municipality_code}", purpose="付番 (一括)", at=now,
                                details={"first_index": chunk.start, "items": len(chunk.positions),
                                         "new": len(new_k), "refused": len(refused),
                                         **self._acting(caller, chunk.municipality_code)})
                for ref in refused:
                    await self.repo.record_access(conn, at=now, actor=str(caller), action="number.assign.refused",
                                                  subject_ref=ref, purpose="refused: no basis",
                                                  details={"basis": tenancy.REFUSED})
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
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        if reason not in CHANGE_REASONS:
            raise InvalidArgument("reason", "required: LEAKED_ON_REQUEST or LEAKED_EX_OFFICIO (番号法 第7条2項)")
        validate_text(reason_detail, "reason_detail", max_chars=500, required=False, multiline=False)
        if _DIGIT_RUN.search(reason_detail):
            raise InvalidArgument("reason_detail", "must not contain personal data (a run of 10 or more digits)")
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._change_number(
            caller, municipality_code, resident_code, reason, reason_detail))

    async def _change_number(self, caller: Caller, municipality_code: str, resident_code: str, reason: int,
                             reason_detail: str) -> Assignment:
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            held = await self.tenancy.admit(conn, caller, municipality_code, code_hash, action="number.change",
                                            permits=tenancy.CHANGE, refusal=NoNumber, lock=True)
            current = held.row
            old_number, _ = self._open(current)
            counter = await self.repo.next_change_counter(conn, self.region)
            (number,) = self.changed_numbers([counter])
            await self.repo.retire(conn, current.number_hash, now, reason)
            # The holder stays the holder (a pending 転出 stays pending: it follows the 住民票コード).
            row = NumberRow(self.keys.lookup(number.encode()), code_hash, self._seal(number, resident_code),
                            current.municipality_code, ACTIVE, self.region, now, previous_hash=current.number_hash)
            if not await self.repo.insert_number(conn, row):
                raise NumberCollision()
            await self.repo.add_event(conn, events.NUMBER_CHANGED, events.number_changed(
                self.event_sealer, now, current.municipality_code, resident_code, number, old_number, reason))
            await self._log(conn, caller, held.basis, action="number.change", subject_ref=self._ref(code_hash),
                            purpose="個人番号の変更 (番号法 第7条2項)", at=now,
                            details={"reason": reason, "detail": reason_detail,
                                     **self._acting(caller, municipality_code)})
        return Assignment(number, True, now)

    async def change_resident_code(self, caller: Caller, municipality_code: str, old_code: str,
                                   new_code: str) -> Assignment:
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(old_code, "old_resident_code", self.code_rule)
        validate_resident_code(new_code, "new_resident_code", self.code_rule)
        if old_code == new_code:
            raise InvalidArgument("new_resident_code", "must differ from old_resident_code")
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._change_resident_code(
            caller, municipality_code, old_code, new_code))

    async def _change_resident_code(self, caller: Caller, municipality_code: str, old_code: str,
                                    new_code: str) -> Assignment:
        old_hash, new_hash = self.keys.lookup(old_code.encode()), self.keys.lookup(new_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            held = await self.tenancy.admit(conn, caller, municipality_code, old_hash, action="resident_code.change",
                                            permits=tenancy.CHANGE, refusal=lambda: NoNumber("old_resident_code"),
                                            lock=True)
            current = held.row
            if held.moving_to is not None:
                # The destination knows the person by the code on the 転出証明書: keep it until the 転入.
                raise MoveOutPending("old_resident_code")
            # Whether the new code is free is what an assignment of it would tell too (docs/numbering.md).
            target = await self.tenancy.load(conn, new_hash)
            if target.row is not None or target.retired:
                raise ResidentCodeInUse()
            number, _ = self._open(current)
            await self.repo.change_code(conn, current, new_hash, self._seal(number, new_code),
                                        current.municipality_code, now)
            await self.repo.add_event(conn, events.RESIDENT_CODE_CHANGED, events.resident_code_changed(
                self.event_sealer, now, current.municipality_code, new_code, old_code, number))
            await self._log(conn, caller, held.basis, action="resident_code.change", subject_ref=self._ref(new_hash),
                            purpose="住民票コードの変更", at=now,
                            details={"previous_ref": self._ref(old_hash), **self._acting(caller, municipality_code)})
        return Assignment(number, False, now)

    # --- moves (転出 / 転入) -----------------------------------------------------------------------------------

    async def record_move_out(self, caller: Caller, municipality_code: str, resident_code: str,
                              destination: str) -> dt.datetime:
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        _municipality(destination, "destination_municipality_code")
        if destination == municipality_code:
            raise InvalidArgument("destination_municipality_code",
                                  "must differ from municipality_code (a move within one municipality is a 転居)")
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._record_move_out(
            caller, municipality_code, resident_code, destination))

    async def _record_move_out(self, caller: Caller, municipality_code: str, resident_code: str,
                               destination: str) -> dt.datetime:
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            held = await self.tenancy.admit(conn, caller, municipality_code, code_hash, action="move.out",
                                            permits=tenancy.MOVE_OUT, refusal=NoNumber, lock=True)
            if held.moving_to is not None or not await self.repo.record_move_out(
                    conn, code_hash, held.row.municipality_code, destination, now):
                raise MoveOutPending()
            await self._log(conn, caller, held.basis, action="move.out", subject_ref=self._ref(code_hash),
                            purpose="転出 (住基法 第24条)", at=now,
                            details={"to": destination, **self._acting(caller, municipality_code)})
        return now

    async def cancel_move_out(self, caller: Caller, municipality_code: str, resident_code: str) -> dt.datetime:
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._cancel_move_out(caller, municipality_code, resident_code))

    async def _cancel_move_out(self, caller: Caller, municipality_code: str, resident_code: str) -> dt.datetime:
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            held = await self.tenancy.admit(conn, caller, municipality_code, code_hash, action="move.cancel",
                                            permits=tenancy.MOVE_OUT, refusal=NoNumber, lock=True)
            if held.moving_to is None or not await self.repo.close_move(conn, code_hash, now, moved_in=False):
                raise NoPendingMove()
            await self._log(conn, caller, held.basis, action="move.cancel", subject_ref=self._ref(code_hash),
                            purpose="転出の取消し", at=now,
                            details={"to": held.moving_to, **self._acting(caller, municipality_code)})
        return now

    async def record_move_in(self, caller: Caller, municipality_code: str, resident_code: str) -> Assignment:
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._record_move_in(caller, municipality_code, resident_code))

    async def _record_move_in(self, caller: Caller, municipality_code: str, resident_code: str) -> Assignment:
        code_hash = self.keys.lookup(resident_code.encode())
        now = self.clock.now()
        async with self.repo.begin() as conn:
            # Only the destination the pending 転出 names has a basis (TENNYU_DESTINATION); a third municipality,
            # or the destination after a withdrawal, sees "unknown". The holder is admitted to be told "no 転入".
            held = await self.tenancy.admit(conn, caller, municipality_code, code_hash, action="move.in",
                                            permits=tenancy.MOVE_IN, refusal=NoNumber, lock=True)
            former = held.row.municipality_code
            # The holder itself (or an operator acting for it) has no 転入 to record. The result of close_move
            # decides under a race (a concurrent withdrawal or 転入 committed while we waited for the row lock).
            if held.moving_to != municipality_code or not await self.repo.close_move(conn, code_hash, now,
                                                                                     moved_in=True):
                raise NoPendingMove()
            await self.repo.change_holder(conn, held.row.number_hash, municipality_code)
            number, _ = self._open(held.row)
            await self.repo.add_event(conn, events.NUMBER_MOVED, events.number_moved(
                self.event_sealer, now, former, municipality_code, resident_code, number))
            await self._log(conn, caller, held.basis, action="move.in", subject_ref=self._ref(code_hash),
                            purpose="転入 (住基法 第22条)", at=now,
                            details={"from": former, **self._acting(caller, municipality_code)})
        return Assignment(number, False, now)

    # --- reads ---------------------------------------------------------------------------------------------

    async def lookup(self, caller: Caller, municipality_code: str, resident_code: str, *,
                     basis: Basis = Basis.OWN_REGISTER, case_reference: str = "") -> Assignment:
        """The person's current number. `basis` SAME_PREFECTURE is 住基法 第30条の10: a municipality caller asks
        for a person of another municipality of its prefecture, naming its case (`case_reference`)."""
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        permits, purpose, details = tenancy.READ, "個人番号の確認", self._acting(caller, municipality_code)
        if basis is Basis.SAME_PREFECTURE:
            if caller.kind != "municipality":
                raise PermissionDenied("only a municipality asks for provision under 住基法 第30条の10")
            if not _CASE_REFERENCE.fullmatch(case_reference):
                raise InvalidArgument("case_reference", "1-32 characters of A-Z, a-z, 0-9 and '-', required with "
                                                        "the same-prefecture basis")
            permits, purpose = tenancy.SAME_PREFECTURE_READ, "住基法第30条の10 本人確認情報の提供"
            details = {"case_reference": case_reference}
        elif basis is not Basis.OWN_REGISTER:
            raise InvalidArgument("basis", "own register or same prefecture")
        elif case_reference:
            raise InvalidArgument("case_reference", "only with the same-prefecture basis")
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._lookup(caller, municipality_code, resident_code,
                                                                  permits=permits, purpose=purpose, details=details))

    async def _lookup(self, caller: Caller, municipality_code: str, resident_code: str, *,
                      permits: Sequence[Basis], purpose: str, details: dict[str, Any]) -> Assignment:
        code_hash = self.keys.lookup(resident_code.encode())
        async with self.repo.begin() as conn:
            held = await self.tenancy.admit(conn, caller, municipality_code, code_hash, action="number.lookup",
                                            permits=permits, refusal=NoNumber)
            await self._log(conn, caller, held.basis, action="number.lookup", subject_ref=self._ref(code_hash),
                            purpose=purpose, at=self.clock.now(), details=details)
        return Assignment(self._open(held.row)[0], False, held.row.issued_at)

    async def history(self, caller: Caller, municipality_code: str, resident_code: str) -> list[HistoryEntry]:
        _municipality(municipality_code, "municipality_code")
        validate_resident_code(resident_code, "resident_code", self.code_rule)
        authorize_municipality(caller, municipality_code)
        return await self._refusals_recorded(caller, self._history(caller, municipality_code, resident_code))

    async def _history(self, caller: Caller, municipality_code: str, resident_code: str) -> list[HistoryEntry]:
        code_hash = self.keys.lookup(resident_code.encode())
        async with self.repo.begin() as conn:
            held = await self.tenancy.admit(conn, caller, municipality_code, code_hash, action="number.history",
                                            permits=tenancy.READ, refusal=NoNumber)
            chain = await self.repo.history(conn, held.row)
            await self._log(conn, caller, held.basis, action="number.history", subject_ref=self._ref(code_hash),
                            purpose="個人番号の履歴", at=self.clock.now(),
                            details=self._acting(caller, municipality_code))
        return [HistoryEntry(self._open(r)[0], r.status, r.issued_at, r.retired_at, r.retired_reason, r.region)
                for r in chain]

    async def sector_code(self, caller: Caller, agency_code: str, individual_number: str) -> str:
        if not (1 <= len(agency_code) <= 32 and agency_code.isascii() and agency_code.replace("-", "").isalnum()):
            raise InvalidArgument("agency_code", "1-32 characters of A-Z, a-z, 0-9 and '-'")
        validate_individual_number(individual_number, "individual_number")
        number_hash = self.keys.lookup(individual_number.encode())
        async with self.repo.begin() as conn:
            row = await self.repo.by_number_hash(conn, number_hash)
            active = row if row is not None and row.status == ACTIVE else None
            # The linkage network's role (SERVICE_ROLE, allow-listed as `service:linkage`) or an operator: the
            # 符号 names no municipality, so no register's tenancy applies beyond "the number is active".
            basis = grant(caller, None if active is None else Holding(active.municipality_code),
                          permits=(Basis.SERVICE_ROLE, Basis.OPERATOR), unknown=lambda: NoNumber("individual_number"))
            assert active is not None
            await self._log(conn, caller, basis, action="sector_code.issue",
                            subject_ref=self._ref(active.resident_code_hash), purpose="符号の生成", at=self.clock.now(),
                            details={"agency": agency_code})
        return self.keys.sector_code(agency_code, individual_number)


__all__ = ["RETIRED", "Assignment", "BulkTotals", "ChunkResult", "HistoryEntry", "NumberingService"]
