"""Bulk 付番 of a register: the CPU work of a chunk (validation, FF1, hashes, sealing), then its database work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from mynumber_codes import validate_resident_code
from mynumber_events import numbering as events
from mynumber_runtime.errors import DomainError, InvalidArgument
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from numbering import tenancy
from numbering.errors import NumberCollision, ResidentCodeUnavailable
from numbering.ports import Registry
from numbering.records import NewNumbers, Person
from numbering.rules import SEALED_AAD, Rules, acting, authorize_municipality, municipality, ref


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


class BulkRules(Rules):
    def prepare_chunk(self, caller: Caller, municipality_code: str, codes: Sequence[str],
                      start: int) -> PreparedChunk:
        """CPU work only: validation, FF1, check digits, hashes, sealing. Each bad item gets its own error."""
        chunk = PreparedChunk(start=start, size=len(codes), municipality_code=municipality_code)
        try:
            municipality(municipality_code, "municipality_code")
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

    async def write_chunk(self, store: Registry, caller: Caller, chunk: PreparedChunk, totals: BulkTotals
                          ) -> ChunkResult:
        """One chunk in the store's unit of work (the boundary commits after each chunk). The fast path is COPY of
        every candidate (retired codes are left out first): a code some register already holds hits a unique
        index, and then the chunk falls back to INSERT ... ON
        CONFLICT DO NOTHING and reads the tenancy facts of the codes that were not inserted. Every code that
        was not newly numbered goes through the tenancy rule item by item (a held code of another register and a
        retired code get the same refusal). No pre-read of the held rows: it cost a third of the bulk rate."""
        size = chunk.size
        result = ChunkResult(first_index=chunk.start, numbers=[""] * size, newly_assigned=[False] * size)
        if chunk.rows is not None:
            rows = chunk.rows
            now = rows.issued_at
            retired = await store.retired_code_hashes(chunk.code_hashes)
            candidates = rows if not retired else rows.subset(
                [k for k, h in enumerate(rows.resident_code_hashes) if h not in retired])
            inserted = await store.copy_new_numbers(candidates)
            people: dict[bytes, Person] = {h: Person(None, None, True) for h in retired}
            if len(inserted) < len(candidates.number_hashes):
                people.update(await self.tenancy.load_many(store, [
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
                    refused.append(ref(h))
                    continue
                assert person.row is not None
                result.numbers[pos] = self._open(person.row)[0]
            if new_k:
                await store.add_event(events.NUMBER_ASSIGNED, events.number_assigned(
                    self.event_sealer, now, [chunk.municipality_code] * len(new_k),
                    [chunk.codes[k] for k in new_k], [chunk.numbers[k] for k in new_k]))
            # One access record per chunk: the bulk request is one act of one caller (its basis: the
            # caller's own register, or an operator's). A refused item is recorded on its own, so the
            # person's access record shows the attempt.
            basis = Basis.OPERATOR if caller.kind == "operator" else Basis.OWN_REGISTER
            await self._log(store, caller, basis, action="number.assign.bulk",
                            subject_ref=f"municipality:{chunk.municipality_code}", purpose="付番 (一括)", at=now,
                            details={"first_index": chunk.start, "items": len(chunk.positions),
                                     "new": len(new_k), "refused": len(refused),
                                     **acting(caller, chunk.municipality_code)})
            for subject in refused:
                await store.record_access(at=now, actor=str(caller), action="number.assign.refused",
                                          subject_ref=subject, purpose="refused: no basis",
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
