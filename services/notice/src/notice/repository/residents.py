"""The store's households and residents: tenure, the card's status, the pending action, hand-over."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from notice.entities import HeldCard, Household, ListedResident, NumberedResident, ReadyResident, Resident, Tenure
from notice.models import households, mailing_items, residents
from notice.repository.base import Rows, _resident, _slices

# What 返還登録 leaves on the resident: no card, and no move waiting for one.
_RETURN_REGISTERED: dict[str, Any] = {"card_status": "return_registered", "pending_action": None,
                                      "sealed_pending_address": None}


class ResidentRows(Rows):
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
