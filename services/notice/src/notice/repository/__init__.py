"""All SQL of the notice service. A `NoticeStore` is bound to one open transaction (the unit of work the boundary
opened): its methods take explicit values and return typed records (notice.entities), never rows. One module per
aggregate (residents, residence, mailings, batches, audit), over what they share (base)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mynumber_runtime.consumer import Handler
from mynumber_runtime.db import Store
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncConnection

from notice.repository.audit import AuditRows
from notice.repository.batches import BatchRows
from notice.repository.mailings import MailingRows
from notice.repository.residence import ResidenceRows
from notice.repository.residents import ResidentRows

__all__ = ["NoticeStore", "in_consumer_unit"]


class NoticeStore(ResidentRows, ResidenceRows, MailingRows, BatchRows, AuditRows, Store):
    """Every aggregate's rows, in the one transaction the runtime `Store` holds (`conn`)."""


def in_consumer_unit(handle: Callable[[NoticeStore, Msg], Awaitable[object]]) -> Handler:
    """A consumer's handler on the store: the idempotent consumer's own transaction (the handled id commits with
    the writes) is the unit of work; the handler wraps its connection and opens no other."""

    async def run(conn: AsyncConnection, msg: Msg) -> None:
        await handle(NoticeStore(conn), msg)

    return run
