"""What the notice store's parts share: the connection they run on, IN lists cut into slices, and the row ->
record converters (notice.entities)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from notice.entities import Item, Mailing, Residence, Resident
from notice.models import mailings

# IN lists are cut into slices: one statement may carry at most 65,535 parameters.
SLICE = 10_000


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
    # handed_back_at is the counter's record (mark_card_handed_back), not part of the card.
    fields = {k: v for k, v in row._mapping.items() if k != "handed_back_at"}
    return Item(**{**fields, "resident_hash": bytes(row.resident_hash)})


class Rows:
    """Base of the store's parts (one per aggregate): the open transaction they run in, which the runtime `Store`
    sets, and the envelope update both the mailings and the batches write through."""

    conn: AsyncConnection

    async def _update_mailings(self, ids: Sequence[str], values: dict[str, Any]) -> None:
        for part in _slices(ids):
            await self.conn.execute(sa.update(mailings).where(mailings.c.mailing_id.in_(part)).values(values))
