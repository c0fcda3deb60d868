"""All SQL of the numbering service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from mynumber_runtime import audit
from mynumber_runtime.crypto import HASH_BYTES
from mynumber_runtime.db import Store
from mynumber_runtime.outbox import Message, add_event
from sqlalchemy.dialects.postgresql import BYTEA, insert
from sqlalchemy.exc import IntegrityError

from numbering.models import (
    access_log,
    change_counter,
    moves,
    numbers,
    outbox,
    resident_code_changes,
)
from numbering.records import (
    ACTIVE,
    MOVE_CANCELLED,
    MOVE_DONE,
    MOVE_PENDING,
    RETIRED,
    AccessDetails,
    NewNumbers,
    NumberRow,
    Person,
)

_COLUMNS = (numbers.c.number_hash, numbers.c.resident_code_hash, numbers.c.sealed, numbers.c.municipality_code,
            numbers.c.status, numbers.c.region, numbers.c.issued_at, numbers.c.retired_at, numbers.c.retired_reason,
            numbers.c.previous_hash)
_COPY_SQL = ("COPY numbering.numbers (number_hash, resident_code_hash, sealed, municipality_code, status, region, "
             "issued_at) FROM STDIN")


def _in_hashes(column: sa.ColumnElement[bytes], hashes: Sequence[bytes]) -> sa.ColumnElement[bool]:
    """`column IN (the hashes)` with the hashes sent as ONE bytea parameter (fixed 16-byte slices), not thousands
    of bind parameters: on bulk paths, binding each value cost more than the query itself."""
    if any(len(h) != HASH_BYTES for h in hashes):
        raise ValueError("look-up hashes are 16 bytes")
    i = sa.func.generate_series(0, len(hashes) - 1).table_valued("value").render_derived(name="i")
    blob = sa.bindparam("hashes_blob", value=b"".join(hashes), type_=BYTEA)
    return column.in_(sa.select(sa.func.substring(blob, 1 + HASH_BYTES * i.c.value, HASH_BYTES)).select_from(i))


def _row(r: Any) -> NumberRow:
    return NumberRow(bytes(r.number_hash), bytes(r.resident_code_hash), bytes(r.sealed), r.municipality_code,
                     r.status, r.region, r.issued_at, r.retired_at, r.retired_reason,
                     bytes(r.previous_hash) if r.previous_hash is not None else None)


def _code_in(column: sa.ColumnElement[bytes], hashes: Sequence[bytes]) -> sa.ColumnElement[bool]:
    return column == hashes[0] if len(hashes) == 1 else _in_hashes(column, hashes)


class NumberStore(Store):
    """The numbering registry inside one unit of work (the transaction the boundary opened): `self.conn`."""

    # --- metrics (one grouped count every refresh interval, never per scrape: mynumber_runtime.metrics) --------

    async def count_numbers(self) -> dict[str, int]:
        """Numbers in the registry by status (active, retired)."""
        names = {ACTIVE: "active", RETIRED: "retired"}
        rows = (await self.conn.execute(sa.select(numbers.c.status, sa.func.count()).group_by(numbers.c.status))).all()
        return {names.get(int(status), str(status)): int(n) for status, n in rows}

    # --- reads ---------------------------------------------------------------------------------------------

    async def people(self, hashes: Sequence[bytes], *, lock: bool = False
                     ) -> dict[bytes, Person]:
        """The tenancy facts of every given 住民票コード hash, in two queries whatever the outcome (the same work for
        a code held here, held elsewhere, retired or unknown). `lock` takes the active rows FOR UPDATE."""
        if not hashes:
            return {}
        q = (sa.select(*_COLUMNS, moves.c.to_municipality_code.label("moving_to"))
             .select_from(numbers.outerjoin(moves, sa.and_(moves.c.resident_code_hash == numbers.c.resident_code_hash,
                                                           moves.c.state == MOVE_PENDING)))
             .where(_code_in(numbers.c.resident_code_hash, hashes), numbers.c.status == ACTIVE))
        if lock:
            q = q.with_for_update(of=numbers)
        active = {bytes(r.resident_code_hash): (_row(r), r.moving_to) for r in await self.conn.execute(q)}
        retired = {bytes(r.old_code_hash) for r in await self.conn.execute(
            sa.select(resident_code_changes.c.old_code_hash).where(
                _code_in(resident_code_changes.c.old_code_hash, hashes)))}
        out = {}
        for h in hashes:
            row, moving_to = active.get(h, (None, None))
            out[h] = Person(row, moving_to, h in retired)
        return out

    async def by_number_hash(self, number_hash: bytes) -> NumberRow | None:
        r = (await self.conn.execute(sa.select(*_COLUMNS).where(numbers.c.number_hash == number_hash))).first()
        return _row(r) if r else None

    async def retired_code_hashes(self, hashes: Sequence[bytes]) -> set[bytes]:
        if not hashes:
            return set()
        rows = await self.conn.execute(
            sa.select(resident_code_changes.c.old_code_hash).where(
                _in_hashes(resident_code_changes.c.old_code_hash, hashes)))
        return {bytes(r.old_code_hash) for r in rows}

    async def history(self, current: NumberRow) -> list[NumberRow]:
        """The chain of numbers, newest first (changes are rare: the chain is short)."""
        chain = [current]
        while chain[-1].previous_hash is not None:
            prev = await self.by_number_hash(chain[-1].previous_hash)
            if prev is None:
                break
            chain.append(prev)
        return chain

    # --- writes --------------------------------------------------------------------------------------------

    async def insert_number(self, row: NumberRow) -> bool:
        """False when the number or the person's active slot already exists (a concurrent duplicate)."""
        result = await self.conn.execute(
            insert(numbers).values(
                number_hash=row.number_hash, resident_code_hash=row.resident_code_hash, sealed=row.sealed,
                municipality_code=row.municipality_code, status=row.status, region=row.region,
                issued_at=row.issued_at, previous_hash=row.previous_hash,
            ).on_conflict_do_nothing().returning(numbers.c.number_hash))
        return result.first() is not None

    async def copy_new_numbers(self, rows: NewNumbers) -> set[bytes]:
        """Bulk insert of first numbers. The fast path is COPY; if any row hits a unique index (a resident who
        already has a number, or a concurrent writer), the chunk falls back to INSERT ... ON CONFLICT DO NOTHING.
        Returns the number hashes this call inserted."""
        if not rows.number_hashes:
            return set()
        try:
            async with self.conn.begin_nested():
                raw = (await self.conn.get_raw_connection()).driver_connection
                assert raw is not None
                # Text COPY; bytea as \\x<hex>. Values are digits and hex only: nothing needs escaping.
                tail = f"\t{rows.municipality_code}\t{ACTIVE}\t0\t{rows.issued_at.isoformat()}\n"
                buf = "".join(
                    f"\\\\x{nh.hex()}\t\\\\x{ch.hex()}\t\\\\x{sl.hex()}{tail}"
                    for nh, ch, sl in zip(rows.number_hashes, rows.resident_code_hashes, rows.sealed, strict=True)
                ).encode()
                async with raw.cursor() as cur, cur.copy(_COPY_SQL) as copy:
                    await copy.write(buf)
            return set(rows.number_hashes)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            result = await self.conn.execute(
                insert(numbers).values([
                    {"number_hash": nh, "resident_code_hash": ch, "sealed": sl,
                     "municipality_code": rows.municipality_code, "status": ACTIVE, "region": 0,
                     "issued_at": rows.issued_at}
                    for nh, ch, sl in zip(rows.number_hashes, rows.resident_code_hashes, rows.sealed, strict=True)
                ]).on_conflict_do_nothing().returning(numbers.c.number_hash))
            return {bytes(r.number_hash) for r in result}

    async def next_change_counter(self, region: int) -> int:
        return int((await self.conn.execute(sa.select(sa.func.nextval(change_counter(region))))).scalar_one())

    async def retire(self, number_hash: bytes, at: dt.datetime, reason: int) -> None:
        await self.conn.execute(
            sa.update(numbers).where(numbers.c.number_hash == number_hash, numbers.c.status == ACTIVE)
            .values(status=RETIRED, retired_at=at, retired_reason=reason))

    async def change_code(self, current: NumberRow, new_code_hash: bytes, new_sealed: bytes,
                          municipality_code: str, at: dt.datetime) -> None:
        await self.conn.execute(sa.insert(resident_code_changes).values(
            old_code_hash=current.resident_code_hash, new_code_hash=new_code_hash, number_hash=current.number_hash,
            municipality_code=municipality_code, changed_at=at))
        await self.conn.execute(sa.update(numbers).where(numbers.c.number_hash == current.number_hash)
                           .values(resident_code_hash=new_code_hash, sealed=new_sealed))

    async def record_move_out(self, code_hash: bytes, former: str, destination: str,
                              at: dt.datetime) -> bool:
        """False when a 転出 is already pending for the person (the partial unique index decides under races)."""
        result = await self.conn.execute(
            insert(moves).values(resident_code_hash=code_hash, from_municipality_code=former,
                                 to_municipality_code=destination, state=MOVE_PENDING, moved_out_at=at)
            .on_conflict_do_nothing().returning(moves.c.id))
        return result.first() is not None

    async def close_move(self, code_hash: bytes, at: dt.datetime, *, moved_in: bool) -> bool:
        """Close the pending 転出 (by the 転入, or withdrawn); False when none was pending."""
        result = await self.conn.execute(
            sa.update(moves).where(moves.c.resident_code_hash == code_hash, moves.c.state == MOVE_PENDING)
            .values(state=MOVE_DONE if moved_in else MOVE_CANCELLED, closed_at=at).returning(moves.c.id))
        return result.first() is not None

    async def change_holder(self, number_hash: bytes, municipality_code: str) -> None:
        await self.conn.execute(
            sa.update(numbers).where(numbers.c.number_hash == number_hash, numbers.c.status == ACTIVE)
            .values(municipality_code=municipality_code))

    async def add_event(self, subject: str, message: Message) -> int:
        return await add_event(self.conn, outbox, subject, message)

    async def record_access(self, *, at: dt.datetime, actor: str, action: str,
                            subject_ref: str, purpose: str, details: AccessDetails) -> None:
        await audit.append(self.conn, access_log, at=at, actor=actor, action=action, subject_ref=subject_ref,
                           purpose=purpose, details=details)
