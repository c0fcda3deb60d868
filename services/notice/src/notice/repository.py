"""All SQL of the notice service. Methods take the caller's connection: the service decides the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from mynumber_runtime import audit
from mynumber_runtime.db import Repository
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notice.models import (
    access_log,
    batches,
    endorsements,
    households,
    mailing_items,
    mailings,
    outbox,
    residences,
    residents,
)

# IN lists are cut into slices: one statement may carry at most 65,535 parameters.
SLICE = 10_000
# A row of any width (SQLAlchemy 2.1 types a row by its columns).
Row = sa.Row[*tuple[Any, ...]]
Rows = Sequence[Row]


class NoticeRepository(Repository):
    # --- metrics (one grouped count every refresh interval, never per scrape: mynumber_runtime.metrics) --------

    async def count_envelopes(self) -> dict[str, int]:
        """Envelopes (mailings) by status: prepared, exported, printed, posted, returned, recalled, ..."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(mailings.c.status, sa.func.count()).group_by(mailings.c.status))
                    ).all()
        return {str(status): int(n) for status, n in rows}

    # --- residents and households -------------------------------------------------------------------------
    async def upsert_households(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        if rows:
            stmt = insert(households)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=[households.c.municipality_code, households.c.household_id],
                set_={"sealed_address": stmt.excluded.sealed_address}), rows)

    async def holdings_for_update(self, conn: AsyncConnection, hashes: Sequence[bytes]) -> dict[bytes, Row]:
        """The tenancy columns of the residents already held, locked for the caller's transaction."""
        r, wanted, out = residents, list(hashes), {}
        for i in range(0, len(wanted), SLICE):
            rows = (await conn.execute(
                sa.select(r.c.resident_hash, r.c.municipality_code, r.c.moving_to, r.c.sealed_number)
                .where(r.c.resident_hash.in_(wanted[i:i + SLICE])).with_for_update())).all()
            out.update({bytes(row.resident_hash): row for row in rows})
        return out

    async def upsert_residents_from_list(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> set[bytes]:
        """The residents stored: new ones, and those the list's municipality already holds. The WHERE keeps a
        row another municipality holds untouched (a list never moves anyone), even one created concurrently."""
        if not rows:
            return set()
        stmt = insert(residents)
        upsert = stmt.on_conflict_do_update(
            index_elements=[residents.c.resident_hash],
            set_={"household_id": stmt.excluded.household_id, "sealed_facts": stmt.excluded.sealed_facts},
            where=residents.c.municipality_code == stmt.excluded.municipality_code,
        ).returning(residents.c.resident_hash)
        result = await conn.execute(upsert, rows)
        return {bytes(h) for h in result.scalars().all()}

    async def upsert_residents_from_numbers(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        if rows:
            stmt = insert(residents)
            r = residents
            # The numbering service decides who holds a resident not numbered yet (it checked the register): a
            # list from another municipality that came first claimed nothing, and its facts and household go.
            unclaimed = sa.and_(r.c.sealed_number.is_(None), r.c.municipality_code != stmt.excluded.municipality_code)
            # A redelivered or repeated assignment keeps the first number, time and municipality.
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=[r.c.resident_hash],
                set_={"sealed_number": sa.func.coalesce(r.c.sealed_number, stmt.excluded.sealed_number),
                      "number_assigned_at": sa.func.coalesce(r.c.number_assigned_at,
                                                             stmt.excluded.number_assigned_at),
                      "municipality_code": sa.case((r.c.sealed_number.is_(None), stmt.excluded.municipality_code),
                                                   else_=r.c.municipality_code),
                      "household_id": sa.case((unclaimed, sa.null()), else_=r.c.household_id),
                      "sealed_facts": sa.case((unclaimed, sa.null()), else_=r.c.sealed_facts)}), rows)

    async def ready_to_mail(self, conn: AsyncConnection, municipality_code: str) -> Rows:
        r = residents
        return (await conn.execute(
            sa.select(r.c.resident_hash, r.c.household_id, r.c.sealed_facts, r.c.sealed_number,
                      r.c.number_assigned_at)
            .where(r.c.municipality_code == municipality_code, r.c.card_status == "none",
                   r.c.sealed_number.is_not(None), r.c.sealed_facts.is_not(None), r.c.household_id.is_not(None))
            .order_by(r.c.household_id, r.c.resident_hash))).all()

    async def household_addresses(self, conn: AsyncConnection, municipality_code: str,
                                  ids: Iterable[str]) -> dict[str, bytes]:
        h, wanted, out = households, list(ids), {}
        for i in range(0, len(wanted), SLICE):
            rows = (await conn.execute(sa.select(h.c.household_id, h.c.sealed_address).where(
                h.c.municipality_code == municipality_code, h.c.household_id.in_(wanted[i:i + SLICE])))).all()
            out.update({row.household_id: row.sealed_address for row in rows})
        return out

    async def get_resident(self, conn: AsyncConnection, resident_hash: bytes, *, lock: bool = False) -> Row | None:
        q = sa.select(residents).where(residents.c.resident_hash == resident_hash)
        if lock:
            q = q.with_for_update()
        return (await conn.execute(q)).first()

    async def update_residents(self, conn: AsyncConnection, hashes: Sequence[bytes], **values: Any) -> None:
        for i in range(0, len(hashes), SLICE):
            await conn.execute(sa.update(residents).where(residents.c.resident_hash.in_(list(hashes[i:i + SLICE])))
                               .values(**values))

    async def mark_mailed(self, conn: AsyncConnection, pairs: list[dict[str, Any]]) -> None:
        """One executemany for a whole preparation: [{"rh": resident_hash, "mid": mailing_id}, ...]."""
        if pairs:
            await conn.execute(
                sa.update(residents).where(residents.c.resident_hash == sa.bindparam("rh"))
                .values(card_status="mailed", current_mailing_id=sa.bindparam("mid")), pairs)

    # --- 居所 ------------------------------------------------------------------------------------------------
    async def upsert_residence(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        """Keyed by (resident, registering municipality): only that municipality's own registration replaces it."""
        stmt = insert(residences).values(**row)
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=[residences.c.resident_hash, residences.c.municipality_code],
            set_={k: stmt.excluded[k] for k in row if k not in ("resident_hash", "municipality_code")}))

    async def get_residence(self, conn: AsyncConnection, resident_hash: bytes, municipality_code: str) -> Row | None:
        c = residences.c
        return (await conn.execute(sa.select(residences).where(
            c.resident_hash == resident_hash, c.municipality_code == municipality_code))).first()

    async def residences_of(self, conn: AsyncConnection, municipality_code: str,
                            hashes: Sequence[bytes]) -> dict[bytes, Row]:
        wanted, out, c = list(hashes), {}, residences.c
        for i in range(0, len(wanted), SLICE):
            rows = (await conn.execute(sa.select(residences).where(
                c.municipality_code == municipality_code, c.resident_hash.in_(wanted[i:i + SLICE])))).all()
            out.update({bytes(row.resident_hash): row for row in rows})
        return out

    async def facts_of(self, conn: AsyncConnection, hashes: Sequence[bytes]) -> dict[bytes, bytes]:
        r = residents
        rows = (await conn.execute(sa.select(r.c.resident_hash, r.c.sealed_facts)
                                   .where(r.c.resident_hash.in_(list(hashes))))).all()
        return {bytes(row.resident_hash): row.sealed_facts for row in rows}

    # --- envelopes -----------------------------------------------------------------------------------------
    async def insert_mailings(self, conn: AsyncConnection, envelopes: list[dict[str, Any]],
                              items: list[dict[str, Any]]) -> None:
        if envelopes:
            await conn.execute(sa.insert(mailings), envelopes)
        if items:
            await conn.execute(sa.insert(mailing_items), items)

    async def get_mailing(self, conn: AsyncConnection, mailing_id: str, *, lock: bool = False) -> Row | None:
        q = sa.select(mailings).where(mailings.c.mailing_id == mailing_id)
        if lock:
            q = q.with_for_update()
        return (await conn.execute(q)).first()

    async def open_mailings_of(self, conn: AsyncConnection, resident_hash: bytes, municipality_code: str) -> Rows:
        """The municipality's envelopes carrying this resident's card that have not arrived anywhere yet, locked."""
        m, i = mailings, mailing_items
        return (await conn.execute(
            sa.select(m).join(i, i.c.mailing_id == m.c.mailing_id)
            .where(i.c.resident_hash == resident_hash, m.c.municipality_code == municipality_code,
                   m.c.status.in_(("prepared", "exported", "printed", "posted", "recalled")))
            .order_by(m.c.created_at, m.c.mailing_id).with_for_update(of=m))).all()

    async def move_item(self, conn: AsyncConnection, from_mailing: str, resident_hash: bytes, to_mailing: str) -> None:
        i = mailing_items
        await conn.execute(sa.update(i).where(i.c.mailing_id == from_mailing, i.c.resident_hash == resident_hash)
                           .values(mailing_id=to_mailing, seq=0))

    async def recalls_pending(self, conn: AsyncConnection, municipality_codes: Sequence[str]) -> Rows:
        """Recalled envelopes whose instruction has not gone to the vendor yet (a municipality's own post is
        recalled at the post office, never through the vendor)."""
        m = mailings
        q = sa.select(m.c.mailing_id, m.c.municipality_code, m.c.recalled_from, m.c.batch_id).where(
            m.c.status == "recalled", m.c.recall_batch_id.is_(None), m.c.kind != "municipal_resend",
        ).order_by(m.c.municipality_code, m.c.mailing_id).with_for_update(skip_locked=True)
        if municipality_codes:
            q = q.where(m.c.municipality_code.in_(list(municipality_codes)))
        return (await conn.execute(q)).all()

    async def items_of(self, conn: AsyncConnection, mailing_ids: Sequence[str]) -> Rows:
        i = mailing_items
        return (await conn.execute(sa.select(i).where(i.c.mailing_id.in_(list(mailing_ids)))
                                   .order_by(i.c.mailing_id, i.c.seq))).all()

    async def item_of(self, conn: AsyncConnection, mailing_id: str, resident_hash: bytes) -> Row | None:
        i = mailing_items
        return (await conn.execute(sa.select(i).where(i.c.mailing_id == mailing_id,
                                                      i.c.resident_hash == resident_hash))).first()

    async def update_mailing(self, conn: AsyncConnection, mailing_id: str, **values: Any) -> None:
        await conn.execute(sa.update(mailings).where(mailings.c.mailing_id == mailing_id).values(**values))

    async def list_mailings(self, conn: AsyncConnection, municipality_code: str) -> Rows:
        m = mailings
        counts = (sa.select(sa.func.count()).where(mailing_items.c.mailing_id == m.c.mailing_id)
                  .scalar_subquery().label("items"))
        return (await conn.execute(sa.select(m, counts).where(m.c.municipality_code == municipality_code)
                                   .order_by(m.c.created_at, m.c.mailing_id))).all()

    async def prepared_for_export(self, conn: AsyncConnection, municipality_codes: Sequence[str]) -> Rows:
        m = mailings
        q = sa.select(m).where(m.c.status == "prepared").order_by(m.c.municipality_code, m.c.mailing_id) \
            .with_for_update(skip_locked=True)
        if municipality_codes:
            q = q.where(m.c.municipality_code.in_(list(municipality_codes)))
        return (await conn.execute(q)).all()

    async def set_batch_status(self, conn: AsyncConnection, batch_id: str, from_status: str, to_status: str,
                               at: dt.datetime) -> Rows:
        m = mailings
        result = await conn.execute(sa.update(m).where(m.c.batch_id == batch_id, m.c.status == from_status)
                                    .values(status=to_status, updated_at=at)
                                    .returning(m.c.mailing_id, m.c.municipality_code))
        return result.all()

    async def update_mailings(self, conn: AsyncConnection, ids: Sequence[str], **values: Any) -> None:
        for i in range(0, len(ids), SLICE):
            await conn.execute(sa.update(mailings).where(mailings.c.mailing_id.in_(list(ids[i:i + SLICE])))
                               .values(**values))

    async def insert_batch(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        await conn.execute(sa.insert(batches).values(**row))

    async def get_batch(self, conn: AsyncConnection, batch_id: str) -> Row | None:
        return (await conn.execute(sa.select(batches).where(batches.c.batch_id == batch_id))).first()

    async def update_batch(self, conn: AsyncConnection, batch_id: str, status: str) -> None:
        await conn.execute(sa.update(batches).where(batches.c.batch_id == batch_id).values(status=status))

    async def returned_past_hold(self, conn: AsyncConnection, now: dt.datetime) -> Rows:
        m = mailings
        return (await conn.execute(sa.select(m.c.mailing_id, m.c.municipality_code)
                                   .where(m.c.status == "returned", m.c.hold_until <= now)
                                   .with_for_update(skip_locked=True))).all()

    async def residents_in(self, conn: AsyncConnection, mailing_id: str) -> Rows:
        r, i = residents, mailing_items
        return (await conn.execute(sa.select(r).join(i, i.c.resident_hash == r.c.resident_hash)
                                   .where(i.c.mailing_id == mailing_id).order_by(i.c.seq))).all()

    async def cards_held_in(self, conn: AsyncConnection, mailing_ids: Sequence[str], card_status: str) -> Rows:
        """(mailing_id, resident_hash, municipality_code) of the residents whose current card is in one of these
        envelopes with this status, in envelope order."""
        r, i = residents, mailing_items
        out: list[Row] = []
        for k in range(0, len(mailing_ids), SLICE):
            out += (await conn.execute(
                sa.select(i.c.mailing_id, r.c.resident_hash, r.c.municipality_code)
                .join(r, r.c.resident_hash == i.c.resident_hash)
                .where(i.c.mailing_id.in_(list(mailing_ids[k:k + SLICE])), r.c.current_mailing_id == i.c.mailing_id,
                       r.c.card_status == card_status)
                .order_by(i.c.mailing_id, i.c.seq))).all()
        return out

    async def insert_endorsement(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        await conn.execute(sa.insert(endorsements).values(**row))

    # --- access log ---------------------------------------------------------------------------------------
    async def record_access(self, conn: AsyncConnection, *, at: dt.datetime, actor: str, action: str,
                            subject_ref: str, purpose: str, details: dict[str, Any] | None = None) -> None:
        await audit.append(conn, access_log, at=at, actor=actor, action=action, subject_ref=subject_ref,
                           purpose=purpose, details=details)

    async def access_entries(self, conn: AsyncConnection, subject_ref: str) -> Rows:
        return await audit.entries_for(conn, access_log, subject_ref)

    # --- events --------------------------------------------------------------------------------------------
    async def add_events(self, conn: AsyncConnection, events: list[tuple[str, bytes]]) -> None:
        if events:
            await conn.execute(sa.insert(outbox), [{"subject": s, "payload": p} for s, p in events])
