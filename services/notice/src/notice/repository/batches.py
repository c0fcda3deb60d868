"""The store's print batches: the envelopes a batch exports, the recall instructions it sends, its status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from notice.entities import Batch, Mailing, MailingRef
from notice.models import batches, mailings
from notice.repository.base import Rows, _mailing


class BatchRows(Rows):
    async def prepared_for_export(self, municipality_codes: Sequence[str]) -> list[Mailing]:
        m = mailings
        q = sa.select(m).where(m.c.status == "prepared").order_by(m.c.municipality_code, m.c.mailing_id) \
            .with_for_update(skip_locked=True)
        if municipality_codes:
            q = q.where(m.c.municipality_code.in_(list(municipality_codes)))
        return [_mailing(r) for r in (await self.conn.execute(q)).all()]

    async def mark_exported(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        await self._update_mailings(ids, {"status": "exported", "batch_id": batch_id, "updated_at": at})

    async def mark_recalls_sent(self, ids: Sequence[str], batch_id: str, at: dt.datetime) -> None:
        await self._update_mailings(ids, {"recall_batch_id": batch_id, "updated_at": at})

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
