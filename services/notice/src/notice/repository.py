"""All SQL of the notice service. A `NoticeStore` is bound to one open transaction (the unit of work the boundary
opened): its methods take explicit values and return typed records (notice.entities), never rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from mynumber_runtime import audit
from mynumber_runtime.consumer import Handler
from mynumber_runtime.db import Store
from nats.aio.msg import Msg
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notice.entities import (
    AccessEntry,
    Batch,
    HeldCard,
    Household,
    Item,
    ListedResident,
    Mailing,
    MailingRef,
    NumberedResident,
    PendingRecall,
    ReadyResident,
    Residence,
    Resident,
    Tenure,
)
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
# Envelopes carrying a card that has not arrived anywhere yet.
OPEN_STATUSES = ("prepared", "exported", "printed", "posted", "recalled")
# What 返還登録 leaves on the resident: no card, and no move waiting for one.
_RETURN_REGISTERED: dict[str, Any] = {"card_status": "return_registered", "pending_action": None,
                                      "sealed_pending_address": None}


def _slices(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for i in range(0, len(items), SLICE):
        yield items[i:i + SLICE]


def _resident(row: Any) -> Resident:
    return Resident(**{**row._mapping, "resident_hash": bytes(row.resident_hash)})


def _mailing(row: Any) -> Mailing:
    return Mailing(**row._mapping)


def _residence(row: Any) -> Residence:
    return Residence(**{**row._mapping, "resident_hash": bytes(row.resident_hash),
                        "documents": tuple(row.documents)})


def _item(row: Any) -> Item:
    return Item(**{**row._mapping, "resident_hash": bytes(row.resident_hash)})


class NoticeStore(Store):
    # --- metrics (one grouped count every refresh interval, never per scrape: mynumber_runtime.metrics) --------
    async def count_envelopes(self) -> dict[str, int]:
        """Envelopes (mailings) by status: prepared, exported, printed, posted, returned, recalled, ..."""
        m = mailings
        rows = (await self.conn.execute(sa.select(m.c.status, sa.func.count()).group_by(m.c.status))).all()
        return {str(status): int(n) for status, n in rows}

    # --- residents and households -------------------------------------------------------------------------
    async def upsert_households(self, rows: Sequence[Household]) -> None:
        if rows:
            stmt = insert(households)
            await self.conn.execute(stmt.on_conflict_do_update(
                index_elements=[households.c.municipality_code, households.c.household_id],
                set_={"sealed_address": stmt.excluded.sealed_address}),
                [{"municipality_code": h.municipality_code, "household_id": h.household_id,
                  "sealed_address": h.sealed_address} for h in rows])

    async def tenures_for_update(self, hashes: Sequence[bytes]) -> dict[bytes, Tenure]:
        """The tenancy columns of the residents already held, locked for this unit."""
        r, out = residents, {}
        for part in _slices(hashes):
            rows = (await self.conn.execute(
                sa.select(r.c.resident_hash, r.c.municipality_code, r.c.moving_to, r.c.sealed_number)
                .where(r.c.resident_hash.in_(part)).with_for_update())).all()
            out.update({bytes(row.resident_hash): Tenure(bytes(row.resident_hash), row.municipality_code,
                                                         row.moving_to, row.sealed_number) for row in rows})
        return out

    async def upsert_residents_from_list(self, rows: Sequence[ListedResident]) -> set[bytes]:
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
        result = await self.conn.execute(upsert, [
            {"resident_hash": x.resident_hash, "municipality_code": x.municipality_code,
             "household_id": x.household_id, "sealed_facts": x.sealed_facts} for x in rows])
        return {bytes(h) for h in result.scalars().all()}

    async def upsert_residents_from_numbers(self, rows: Sequence[NumberedResident]) -> None:
        if not rows:
            return
        stmt = insert(residents)
        r = residents
        # The numbering service decides who holds a resident not numbered yet (it checked the register): a
        # list from another municipality that came first claimed nothing, and its facts and household go.
        unclaimed = sa.and_(r.c.sealed_number.is_(None), r.c.municipality_code != stmt.excluded.municipality_code)
        # A redelivered or repeated assignment keeps the first number, time and municipality.
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=[r.c.resident_hash],
            set_={"sealed_number": sa.func.coalesce(r.c.sealed_number, stmt.excluded.sealed_number),
                  "number_assigned_at": sa.func.coalesce(r.c.number_assigned_at, stmt.excluded.number_assigned_at),
                  "municipality_code": sa.case((r.c.sealed_number.is_(None), stmt.excluded.municipality_code),
                                               else_=r.c.municipality_code),
                  "household_id": sa.case((unclaimed, sa.null()), else_=r.c.household_id),
                  "sealed_facts": sa.case((unclaimed, sa.null()), else_=r.c.sealed_facts)}),
            [{"resident_hash": x.resident_hash, "municipality_code": x.municipality_code,
              "sealed_number": x.sealed_number, "number_assigned_at": x.number_assigned_at} for x in rows])

    async def ready_to_mail(self, municipality_code: str) -> list[ReadyResident]:
        r = residents
        rows = (await self.conn.execute(
            sa.select(r.c.resident_hash, r.c.household_id, r.c.sealed_facts, r.c.sealed_number,
                      r.c.number_assigned_at)
            .where(r.c.municipality_code == municipality_code, r.c.card_status == "none",
                   r.c.sealed_number.is_not(None), r.c.sealed_facts.is_not(None), r.c.household_id.is_not(None))
            .order_by(r.c.household_id, r.c.resident_hash))).all()
        return [ReadyResident(bytes(x.resident_hash), x.household_id, x.sealed_facts, x.sealed_number,
                              x.number_assigned_at) for x in rows]

    async def household_addresses(self, municipality_code: str, ids: Iterable[str]) -> dict[str, bytes]:
        h, out = households, {}
        for part in _slices(ids):
            rows = (await self.conn.execute(sa.select(h.c.household_id, h.c.sealed_address).where(
                h.c.municipality_code == municipality_code, h.c.household_id.in_(part)))).all()
            out.update({row.household_id: row.sealed_address for row in rows})
        return out

    async def get_resident(self, resident_hash: bytes, *, lock: bool = False) -> Resident | None:
        q = sa.select(residents).where(residents.c.resident_hash == resident_hash)
        if lock:
            q = q.with_for_update()
        row = (await self.conn.execute(q)).first()
        return _resident(row) if row is not None else None

    async def _update_residents(self, hashes: Sequence[bytes], values: dict[str, Any]) -> None:
        for part in _slices(hashes):
            await self.conn.execute(sa.update(residents).where(residents.c.resident_hash.in_(part)).values(values))

    async def move_resident(self, resident_hash: bytes, *, municipality_code: str, household_id: str,
                            sealed_facts: bytes | None) -> None:
        """The resident now belongs to this municipality and household (a 転入 completes the 転出); new facts
        replace the old ones when given."""
        values: dict[str, Any] = {"municipality_code": municipality_code, "household_id": household_id,
                                  "moving_to": None}
        if sealed_facts is not None:
            values["sealed_facts"] = sealed_facts
        await self._update_residents([resident_hash], values)

    async def set_moving_to(self, resident_hash: bytes, destination: str) -> None:
        await self._update_residents([resident_hash], {"moving_to": destination})

    async def set_pending_action(self, resident_hash: bytes, action: str, sealed_address: bytes) -> None:
        await self._update_residents([resident_hash], {"pending_action": action,
                                                       "sealed_pending_address": sealed_address})

    async def set_card_status(self, hashes: Sequence[bytes], status: str) -> None:
        await self._update_residents(hashes, {"card_status": status})

    async def mark_mailed(self, pairs: Sequence[tuple[bytes, str]]) -> None:
        """One executemany for a whole preparation: (resident_hash, mailing_id) pairs."""
        if pairs:
            await self.conn.execute(
                sa.update(residents).where(residents.c.resident_hash == sa.bindparam("rh"))
                .values(card_status="mailed", current_mailing_id=sa.bindparam("mid")),
                [{"rh": rh, "mid": mid} for rh, mid in pairs])

    async def mail_card(self, resident_hash: bytes, mailing_id: str, *, clear_pending: bool) -> None:
        values: dict[str, Any] = {"card_status": "mailed", "current_mailing_id": mailing_id}
        if clear_pending:
            values |= {"pending_action": None, "sealed_pending_address": None}
        await self._update_residents([resident_hash], values)

    async def set_current_mailing(self, resident_hash: bytes, mailing_id: str) -> None:
        await self._update_residents([resident_hash], {"current_mailing_id": mailing_id})

    async def register_return(self, hashes: Sequence[bytes]) -> None:
        await self._update_residents(hashes, _RETURN_REGISTERED)

    async def hand_over(self, resident_hash: bytes) -> None:
        await self._update_residents([resident_hash], {"card_status": "handed_over", "pending_action": None,
                                                       "sealed_pending_address": None})

    # --- 居所 ------------------------------------------------------------------------------------------------
    async def upsert_residence(self, residence: Residence) -> None:
        """Keyed by (resident, registering municipality): only that municipality's own registration replaces it."""
        row = {"resident_hash": residence.resident_hash, "municipality_code": residence.municipality_code,
               "kind": residence.kind, "sealed_address": residence.sealed_address,
               "documents": list(residence.documents), "hold_at_office": residence.hold_at_office,
               "registered_at": residence.registered_at}
        stmt = insert(residences).values(row)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=[residences.c.resident_hash, residences.c.municipality_code],
            set_={k: stmt.excluded[k] for k in row if k not in ("resident_hash", "municipality_code")}))

    async def get_residence(self, resident_hash: bytes, municipality_code: str) -> Residence | None:
        c = residences.c
        row = (await self.conn.execute(sa.select(residences).where(
            c.resident_hash == resident_hash, c.municipality_code == municipality_code))).first()
        return _residence(row) if row is not None else None

    async def residences_of(self, municipality_code: str, hashes: Sequence[bytes]) -> dict[bytes, Residence]:
        out, c = {}, residences.c
        for part in _slices(hashes):
            rows = (await self.conn.execute(sa.select(residences).where(
                c.municipality_code == municipality_code, c.resident_hash.in_(part)))).all()
            out.update({bytes(row.resident_hash): _residence(row) for row in rows})
        return out

    async def facts_of(self, hashes: Sequence[bytes]) -> dict[bytes, bytes | None]:
        r = residents
        rows = (await self.conn.execute(sa.select(r.c.resident_hash, r.c.sealed_facts)
                                        .where(r.c.resident_hash.in_(list(hashes))))).all()
        return {bytes(row.resident_hash): row.sealed_facts for row in rows}

    # --- envelopes -----------------------------------------------------------------------------------------
    async def insert_mailings(self, envelopes: Sequence[Mailing], items: Sequence[Item]) -> None:
        if envelopes:
            await self.conn.execute(sa.insert(mailings), [
                {"mailing_id": m.mailing_id, "municipality_code": m.municipality_code,
                 "household_id": m.household_id, "kind": m.kind, "status": m.status, "destination": m.destination,
                 "sealed_destination": m.sealed_destination, "created_at": m.created_at,
                 "updated_at": m.updated_at, "fee_yen": m.fee_yen} for m in envelopes])
        if items:
            await self.conn.execute(sa.insert(mailing_items), [
                {"mailing_id": i.mailing_id, "resident_hash": i.resident_hash, "seq": i.seq,
                 "document": i.document, "application_id": i.application_id, "sealed_card": i.sealed_card}
                for i in items])

    async def get_mailing(self, mailing_id: str, *, lock: bool = False) -> Mailing | None:
        q = sa.select(mailings).where(mailings.c.mailing_id == mailing_id)
        if lock:
            q = q.with_for_update()
        row = (await self.conn.execute(q)).first()
        return _mailing(row) if row is not None else None

    async def open_mailings_of(self, resident_hash: bytes, municipality_code: str) -> list[Mailing]:
        """The municipality's envelopes carrying this resident's card that have not arrived anywhere yet, locked."""
        m, i = mailings, mailing_items
        rows = (await self.conn.execute(
            sa.select(m).join(i, i.c.mailing_id == m.c.mailing_id)
            .where(i.c.resident_hash == resident_hash, m.c.municipality_code == municipality_code,
                   m.c.status.in_(OPEN_STATUSES))
            .order_by(m.c.created_at, m.c.mailing_id).with_for_update(of=m))).all()
        return [_mailing(r) for r in rows]

    async def move_item(self, from_mailing: str, resident_hash: bytes, to_mailing: str) -> None:
        i = mailing_items
        await self.conn.execute(sa.update(i).where(i.c.mailing_id == from_mailing, i.c.resident_hash == resident_hash)
                                .values(mailing_id=to_mailing, seq=0))

    async def recalls_pending(self, municipality_codes: Sequence[str]) -> list[PendingRecall]:
        """Recalled envelopes whose instruction has not gone to the vendor yet (a municipality's own post is
        recalled at the post office, never through the vendor)."""
        m = mailings
        q = sa.select(m.c.mailing_id, m.c.municipality_code, m.c.recalled_from, m.c.batch_id).where(
            m.c.status == "recalled", m.c.recall_batch_id.is_(None), m.c.kind != "municipal_resend",
        ).order_by(m.c.municipality_code, m.c.mailing_id).with_for_update(skip_locked=True)
        if municipality_codes:
            q = q.where(m.c.municipality_code.in_(list(municipality_codes)))
        return [PendingRecall(r.mailing_id, r.municipality_code, r.recalled_from, r.batch_id)
                for r in (await self.conn.execute(q)).all()]

    async def items_of(self, mailing_ids: Sequence[str]) -> list[Item]:
        i = mailing_items
        rows = (await self.conn.execute(sa.select(i).where(i.c.mailing_id.in_(list(mailing_ids)))
                                        .order_by(i.c.mailing_id, i.c.seq))).all()
        return [_item(r) for r in rows]

    async def item_of(self, mailing_id: str, resident_hash: bytes) -> Item | None:
        i = mailing_items
        row = (await self.conn.execute(sa.select(i).where(i.c.mailing_id == mailing_id,
                                                          i.c.resident_hash == resident_hash))).first()
        return _item(row) if row is not None else None

    async def _update_mailings(self, ids: Sequence[str], values: dict[str, Any]) -> None:
        for part in _slices(ids):
            await self.conn.execute(sa.update(mailings).where(mailings.c.mailing_id.in_(part)).values(values))

    async def set_mailing_status(self, mailing_id: str, status: str, at: dt.datetime) -> None:
        await self._update_mailings([mailing_id], {"status": status, "updated_at": at})

    async def set_mailings_status(self, ids: Sequence[str], status: str, at: dt.datetime) -> None:
        await self._update_mailings(ids, {"status": status, "updated_at": at})

    async def readdress_mailing(self, mailing_id: str, *, sealed_destination: bytes, at: dt.datetime,
                                destination: str | None = None) -> None:
        values: dict[str, Any] = {"sealed_destination": sealed_destination, "updated_at": at}
        if destination is not None:
            values["destination"] = destination
        await self._update_mailings([mailing_id], values)

    async def recall_mailing(self, mailing_id: str, *, recalled_from: str, at: dt.datetime) -> None:
        await self._update_mailings([mailing_id], {"status": "recalled", "recalled_from": recalled_from,
                                                   "recall_requested_at": at, "updated_at": at})

    async def return_mailing(self, mailing_id: str, *, reason: str, at: dt.datetime, hold_until: dt.datetime) -> None:
        await self._update_mailings([mailing_id], {"status": "returned", "return_reason": reason, "returned_at": at,
                                                   "hold_until": hold_until, "updated_at": at})

    async def mark_exported(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        await self._update_mailings(ids, {"status": "exported", "batch_id": batch_id, "updated_at": at})

    async def mark_recalls_sent(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        await self._update_mailings(ids, {"recall_batch_id": batch_id, "updated_at": at})

    async def list_mailings(self, municipality_code: str) -> list[Mailing]:
        m = mailings
        counts = (sa.select(sa.func.count()).where(mailing_items.c.mailing_id == m.c.mailing_id)
                  .scalar_subquery().label("items"))
        rows = (await self.conn.execute(sa.select(m, counts).where(m.c.municipality_code == municipality_code)
                                        .order_by(m.c.created_at, m.c.mailing_id))).all()
        return [_mailing(r) for r in rows]

    async def prepared_for_export(self, municipality_codes: Sequence[str]) -> list[Mailing]:
        m = mailings
        q = sa.select(m).where(m.c.status == "prepared").order_by(m.c.municipality_code, m.c.mailing_id) \
            .with_for_update(skip_locked=True)
        if municipality_codes:
            q = q.where(m.c.municipality_code.in_(list(municipality_codes)))
        return [_mailing(r) for r in (await self.conn.execute(q)).all()]

    async def set_batch_status(self, batch_id: str, from_status: str, to_status: str,
                               at: dt.datetime) -> list[MailingRef]:
        m = mailings
        result = await self.conn.execute(sa.update(m).where(m.c.batch_id == batch_id, m.c.status == from_status)
                                         .values(status=to_status, updated_at=at)
                                         .returning(m.c.mailing_id, m.c.municipality_code))
        return [MailingRef(r.mailing_id, r.municipality_code) for r in result.all()]

    async def insert_batch(self, batch: Batch) -> None:
        await self.conn.execute(sa.insert(batches).values(
            batch_id=batch.batch_id, created_at=batch.created_at, envelopes=batch.envelopes, records=batch.records,
            sha256=batch.sha256, status=batch.status, recalls=batch.recalls))

    async def get_batch(self, batch_id: str) -> Batch | None:
        row = (await self.conn.execute(sa.select(batches).where(batches.c.batch_id == batch_id))).first()
        return Batch(**row._mapping) if row is not None else None

    async def update_batch(self, batch_id: str, status: str) -> None:
        await self.conn.execute(sa.update(batches).where(batches.c.batch_id == batch_id).values(status=status))

    async def returned_past_hold(self, now: dt.datetime) -> list[MailingRef]:
        m = mailings
        rows = (await self.conn.execute(sa.select(m.c.mailing_id, m.c.municipality_code)
                                        .where(m.c.status == "returned", m.c.hold_until <= now)
                                        .with_for_update(skip_locked=True))).all()
        return [MailingRef(r.mailing_id, r.municipality_code) for r in rows]

    async def residents_in(self, mailing_id: str) -> list[Resident]:
        r, i = residents, mailing_items
        rows = (await self.conn.execute(sa.select(r).join(i, i.c.resident_hash == r.c.resident_hash)
                                        .where(i.c.mailing_id == mailing_id).order_by(i.c.seq))).all()
        return [_resident(x) for x in rows]

    async def cards_held_in(self, mailing_ids: Sequence[str], card_status: str) -> list[HeldCard]:
        """The residents whose current card is in one of these envelopes with this status, in envelope order."""
        r, i = residents, mailing_items
        out: list[HeldCard] = []
        for part in _slices(mailing_ids):
            rows = (await self.conn.execute(
                sa.select(i.c.mailing_id, r.c.resident_hash, r.c.municipality_code)
                .join(r, r.c.resident_hash == i.c.resident_hash)
                .where(i.c.mailing_id.in_(part), r.c.current_mailing_id == i.c.mailing_id,
                       r.c.card_status == card_status)
                .order_by(i.c.mailing_id, i.c.seq))).all()
            out += [HeldCard(x.mailing_id, bytes(x.resident_hash), x.municipality_code) for x in rows]
        return out

    async def insert_endorsement(self, resident_hash: bytes, municipality_code: str, sealed_address: bytes,
                                 at: dt.datetime) -> None:
        await self.conn.execute(sa.insert(endorsements).values(
            resident_hash=resident_hash, municipality_code=municipality_code, sealed_address=sealed_address,
            endorsed_at=at))

    # --- access log ---------------------------------------------------------------------------------------
    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: dict[str, object] | None = None) -> None:
        await audit.append(self.conn, access_log, at=at, actor=actor, action=action, subject_ref=subject_ref,
                           purpose=purpose, details=details)

    async def access_entries(self, subject_ref: str) -> list[AccessEntry]:
        return [AccessEntry(seq=e.seq, at=e.at, actor=e.actor, action=e.action, purpose=e.purpose)
                for e in await audit.entries_for(self.conn, access_log, subject_ref)]

    # --- events --------------------------------------------------------------------------------------------
    async def add_events(self, events: Sequence[tuple[str, bytes]]) -> None:
        if events:
            await self.conn.execute(sa.insert(outbox), [{"subject": s, "payload": p} for s, p in events])


def in_consumer_unit(handle: Callable[[NoticeStore, Msg], Awaitable[object]]) -> Handler:
    """A consumer's handler on the store: the idempotent consumer's own transaction (the handled id commits with
    the writes) is the unit of work; the handler wraps its connection and opens no other."""

    async def run(conn: AsyncConnection, msg: Msg) -> None:
        await handle(NoticeStore(conn), msg)

    return run
