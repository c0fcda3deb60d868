"""The store's envelopes (mailings) and their items: status updates, readdressing, recalls, returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from mynumber_runtime.pages import Position

from notice.entities import Item, Mailing, MailingRef, PendingRecall
from notice.models import mailing_items, mailings
from notice.repository.base import Rows, _item, _mailing

# Envelopes carrying a card that has not arrived anywhere yet.
OPEN_STATUSES = ("prepared", "exported", "printed", "posted", "recalled")


class MailingRows(Rows):
    # --- metrics (one grouped count every refresh interval, never per scrape: mynumber_runtime.metrics) --------
    async def count_envelopes(self) -> dict[str, int]:
        """Envelopes (mailings) by status: prepared, exported, printed, posted, returned, recalled, ..."""
        m = mailings
        rows = (await self.conn.execute(sa.select(m.c.status, sa.func.count()).group_by(m.c.status))).all()
        return {str(status): int(n) for status, n in rows}

    # --- envelopes -----------------------------------------------------------------------------------------
    async def insert_mailings(self, envelopes: Sequence[Mailing], items: Sequence[Item]) -> None:
        if envelopes:
            await self.conn.execute(sa.insert(mailings), [
                {"mailing_id": m.mailing_id, "municipality_code": m.municipality_code,
                 "household_id": m.household_id, "kind": m.kind, "status": m.status, "destination": m.destination,
                 "sealed_destination": m.sealed_destination, "created_at": m.created_at,
                 "updated_at": m.updated_at, "fee_yen": m.fee_yen, "reissue_reason": m.reissue_reason}
                for m in envelopes])
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

    async def mark_card_handed_back(self, mailing_id: str, resident_hash: bytes, at: dt.datetime) -> bool:
        i = mailing_items
        # One statement: a retry or two clerks at once record it once.
        result = await self.conn.execute(sa.update(i).where(
            i.c.mailing_id == mailing_id, i.c.resident_hash == resident_hash, i.c.handed_back_at.is_(None),
        ).values(handed_back_at=at))
        return bool(result.rowcount == 1)

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

    async def list_mailings(self, municipality_code: str, limit: int, after: Position | None = None
                            ) -> list[Mailing]:
        m = mailings
        counts = (sa.select(sa.func.count()).where(mailing_items.c.mailing_id == m.c.mailing_id)
                  .scalar_subquery().label("items"))
        q = sa.select(m, counts).where(m.c.municipality_code == municipality_code)
        if after is not None:
            q = q.where(sa.tuple_(m.c.created_at, m.c.mailing_id) > sa.tuple_(sa.literal(after.at), after.key))
        rows = (await self.conn.execute(q.order_by(m.c.created_at, m.c.mailing_id).limit(limit))).all()
        return [_mailing(r) for r in rows]

    async def returned_past_hold(self, now: dt.datetime) -> list[MailingRef]:
        m = mailings
        rows = (await self.conn.execute(sa.select(m.c.mailing_id, m.c.municipality_code)
                                        .where(m.c.status == "returned", m.c.hold_until <= now)
                                        .with_for_update(skip_locked=True))).all()
        return [MailingRef(r.mailing_id, r.municipality_code) for r in rows]
