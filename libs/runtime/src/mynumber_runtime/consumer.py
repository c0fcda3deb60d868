"""Durable pull consumers that record what they handled, so a redelivered event changes nothing.

The handled id and the handler's writes commit in one transaction; the ack follows the commit. A crash between
commit and ack means a redelivery, which finds the id recorded and is only acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, Msg], Awaitable[None]]


def processed_events_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "processed_events",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def event_id(msg: Msg) -> str:
    """The producer's outbox id when present, else the stream position (unique within a stream)."""
    if msg.headers and (mid := msg.headers.get("Nats-Msg-Id")):
        return mid
    md = msg.metadata
    return f"{md.stream}:{md.sequence.stream}"


class IdempotentConsumer:
    def __init__(self, *, js: JetStreamContext, engine: AsyncEngine, table: sa.Table, stream: str, durable: str,
                 filter_subject: str, handler: Handler, batch: int = 64, max_deliver: int = 20,
                 ack_wait_s: float = 30.0) -> None:
        self.js = js
        self.engine = engine
        self.table = table
        self.stream = stream
        self.durable = durable
        self.filter_subject = filter_subject
        self.handler = handler
        self.batch = batch
        self.config = ConsumerConfig(
            durable_name=durable, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
            max_deliver=max_deliver, ack_wait=ack_wait_s, filter_subject=filter_subject,
        )
        self._sub: JetStreamContext.PullSubscription | None = None
        self.handled = 0
        self.duplicates = 0

    async def _subscription(self) -> JetStreamContext.PullSubscription:
        if self._sub is None:
            self._sub = await self.js.pull_subscribe(
                self.filter_subject, durable=self.durable, stream=self.stream, config=self.config
            )
        return self._sub

    async def handle(self, msg: Msg) -> bool:
        """Handle one message exactly once in effect; True if it was new."""
        eid = event_id(msg)
        async with self.engine.begin() as conn:
            fresh = (
                await conn.execute(
                    insert(self.table)
                    .values(consumer=self.durable, event_id=eid)
                    .on_conflict_do_nothing()
                    .returning(self.table.c.event_id)
                )
            ).first()
            if fresh is not None:
                await self.handler(conn, msg)
        await msg.ack_sync()
        if fresh is None:
            self.duplicates += 1
            return False
        self.handled += 1
        return True

    async def run_once(self, timeout: float = 1.0) -> int:  # noqa: ASYNC109 - the fetch wait, not a deadline
        sub = await self._subscription()
        try:
            msgs = await sub.fetch(self.batch, timeout=timeout)
        except (NatsTimeoutError, TimeoutError):
            return 0
        for msg in msgs:
            try:
                await self.handle(msg)
            except Exception:
                log.exception("consumer %s: handling an event failed; it will be redelivered", self.durable)
                await msg.nak(delay=1.0)
        return len(msgs)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception:
                    log.exception("consumer %s: fetch failed; retrying", self.durable)
                    await asyncio.sleep(1.0)
        finally:
            # A pull subscription left open makes the connection's drain wait out its whole timeout.
            if self._sub is not None:
                with contextlib.suppress(Exception):
                    await self._sub.unsubscribe()
                self._sub = None
