"""Transactional outbox: an event row is written in the same transaction as the state change; a relay publishes
it to JetStream after commit, with the outbox id as `Nats-Msg-Id`, so a relay that dies between publishing and
marking re-publishes rows the server then drops as duplicates: every event lands exactly once in effect.

Outages of PostgreSQL or NATS stop the relay, never lose a row: it retries with a bounded exponential back-off
(the engine's pre-ping and the NATS client's reconnect bring the connections back), logs one line when publishing
starts failing and one when it works again, and converges on its own."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mynumber_runtime.faults import keep_running, summary

log = logging.getLogger(__name__)


class Message(Protocol):
    def SerializeToString(self) -> bytes: ...


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    table = sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    sa.Index("ix_outbox_unpublished", table.c.id, postgresql_where=table.c.published_at.is_(None))
    return table


def message_id(origin: str, table: sa.Table, outbox_id: int) -> str:
    """Unique across services (the schema) and databases (the origin, e.g. `east/numbering`): two regions' outboxes
    both count from 1, and their streams are mirrored into one another."""
    return f"{origin}.{table.schema}.outbox.{outbox_id}"


async def add_event(conn: AsyncConnection, table: sa.Table, subject: str, message: Message | bytes) -> int:
    payload = message if isinstance(message, bytes) else message.SerializeToString()
    result = await conn.execute(sa.insert(table).values(subject=subject, payload=payload).returning(table.c.id))
    return int(result.scalar_one())


class OutboxRelay:
    """Publishes unpublished rows in id order. Several relays may run: rows are claimed with SKIP LOCKED."""

    def __init__(self, *, engine: AsyncEngine, table: sa.Table, js: JetStreamContext, origin: str,
                 batch_size: int = 256, idle_interval_s: float = 0.2, backoff_initial_s: float = 0.5,
                 backoff_max_s: float = 30.0, publish_timeout_s: float = 30.0, keep_published_s: float = 7 * 86400,
                 prune_every_s: float = 3600.0, prune_batch: int = 10_000) -> None:
        if not origin or "." in origin or " " in origin:
            raise ValueError("origin names the database (e.g. east-numbering): no dots or spaces")
        self.origin = origin
        self.engine = engine
        self.table = table
        self.js = js
        self.batch_size = batch_size
        self.idle_interval_s = idle_interval_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.publish_timeout_s = publish_timeout_s
        self.keep_published_s = keep_published_s
        self.prune_every_s = prune_every_s
        self.prune_batch = prune_batch
        self.published = 0
        self.failures = 0
        self.pruned = 0
        self._pruned_at: float | None = None

    @classmethod
    def for_region(cls, region: str, *, engine: AsyncEngine, table: sa.Table, js: JetStreamContext,
                   **kwargs: Any) -> OutboxRelay:
        """A service's relay: the origin is the region and the database name, unique across the platform."""
        return cls(engine=engine, table=table, js=js, origin=f"{region}-{engine.url.database}", **kwargs)

    async def run_once(self) -> int:
        t = self.table
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.c.id, t.c.subject, t.c.payload)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Windowed: every publish goes out in order on one connection, then all acks are awaited.
            futures = [
                await self.js.publish_async(r.subject, r.payload,
                                            headers={"Nats-Msg-Id": message_id(self.origin, t, r.id)})
                for r in rows
            ]
            # Bounded: acks that never come (NATS went away mid-batch) fail the batch; the rows stay unpublished.
            async with asyncio.timeout(self.publish_timeout_s):
                await asyncio.gather(*futures)
            await conn.execute(
                sa.update(t).where(t.c.id.in_([r.id for r in rows])).values(published_at=sa.func.now())
            )
        self.published += len(rows)
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        async def step() -> bool:
            if await self.run_once() == self.batch_size:
                return True  # a full batch: more rows may wait
            await self._prune_when_due()
            return False

        def failed() -> None:
            self.failures += 1

        await keep_running(step, stop, log=log, what=f"outbox relay {self.origin}: publishing fails, rows are kept",
                           idle_s=self.idle_interval_s, backoff_initial_s=self.backoff_initial_s,
                           backoff_max_s=self.backoff_max_s, on_failure=failed)

    async def backlog(self) -> int:
        """Rows not yet published (the `mynumber.outbox.backlog` gauge): the partial index keeps this cheap."""
        t = self.table
        async with self.engine.connect() as conn:
            n = await conn.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.published_at.is_(None)))
        return int(n or 0)

    async def _prune_when_due(self) -> None:
        """Between batches, when idle, at most every `prune_every_s`: a failure is said and tried next time, it
        never holds up publishing."""
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < self.prune_every_s:
            return
        self._pruned_at = now
        try:
            self.pruned += await self.prune(self.keep_published_s)
        except Exception as exc:
            log.warning("outbox relay %s: pruning published rows fails (%s); tried again later", self.origin,
                        summary(exc))

    async def prune(self, older_than_s: float = 7 * 86400) -> int:
        """Published rows are kept a while for audit and replay, then dropped; in batches of `prune_batch`, each its
        own short transaction, so a large backlog of old rows never holds one long lock."""
        t = self.table
        cutoff = sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, older_than_s)
        total = 0
        while True:
            old = sa.select(t.c.id).where(t.c.published_at < cutoff).limit(self.prune_batch)
            async with self.engine.begin() as conn:
                result = await conn.execute(sa.delete(t).where(t.c.id.in_(old)))
            n = int(result.rowcount or 0)
            total += n
            if n < self.prune_batch:
                return total
