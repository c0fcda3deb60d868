"""Durable pull consumers that record what they handled, so a redelivered event changes nothing, and that never
abandon an event.

The handled id and the handler's writes commit in one transaction; the ack follows the commit. A crash between
commit and ack means a redelivery, which finds the id recorded and is only acknowledged.

No event is ever given up (issue 9: a delivery limit once dropped 20,000 `number.assigned` events during a
PostgreSQL outage): the JetStream consumer has no delivery limit; a handler that fails (the database is down, a
downstream times out) gets the event back after a bounded exponential back-off, for as long as it takes, while
the consumer reports itself unhealthy (`check()`, a `PlatformServer` health check) and counts the failures.
Only an event that can never be handled, signalled by the handler raising `PoisonEvent` (or an undecodable
protobuf, or an `InvalidArgument`), leaves the stream: it is parked in the dead-letter stream with its reason,
then acknowledged, and an operator replays it after a fix (`python -m <svc> dead-letters replay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.metrics import CallbackOptions, Observation
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mynumber_runtime import deadletters
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.faults import summary
from mynumber_runtime.streams import ensure_deadletter_stream
from mynumber_runtime.telemetry import meter

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, Msg], Awaitable[None]]


class PoisonEvent(Exception):
    """Raised by a handler for an event it can never handle (undecodable payload, failing validation).

    `reason` is a fixed text chosen by the code (`"number_assigned: sealed fields do not open"`), never a value
    from the event: it is written to the dead-letter stream's headers and printed to operators."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConsumerUnhealthy(Exception):
    """Raised by `IdempotentConsumer.check()` while the handler keeps failing."""


def poison_reason(exc: BaseException) -> str | None:
    """The reason an event can never be handled, or None for a failure that may pass (retry it)."""
    if isinstance(exc, PoisonEvent):
        return exc.reason
    if isinstance(exc, DecodeError):
        return "payload: not a valid protobuf message"
    if isinstance(exc, InvalidArgument):
        # Its message names the field and the rule, never the value (errors.py).
        return f"invalid: {exc.field}: {exc.rule}"
    return None


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


@dataclass(frozen=True)
class Replayed:
    """What replaying one dead letter did: `replayed` (handled, letter removed), `poison` (refused again: parked
    anew with the new reason, the old letter removed) or `failed` (a passing failure: the letter stays)."""

    letter_id: int
    outcome: Literal["replayed", "poison", "failed"]
    reason: str = ""


# Metrics: labels are the service and the durable name, never anything from an event (no personal data).
_meter = meter(__name__)
_handled = _meter.create_counter("mynumber.consumer.handled", description="events handled for the first time")
_duplicates = _meter.create_counter("mynumber.consumer.duplicates", description="redeliveries found already handled")
_failures = _meter.create_counter("mynumber.consumer.failures", description="handling attempts that failed")
_dead_lettered = _meter.create_counter("mynumber.consumer.dead_lettered", description="events parked as poison")
_redeliveries = _meter.create_counter("mynumber.consumer.redeliveries",
                                      description="deliveries of an event after its first (retries, lost acks)")
_live: weakref.WeakSet[IdempotentConsumer] = weakref.WeakSet()


def _observe(attr: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(getattr(c, attr), c.labels) for c in list(_live)]

    return observe


_meter.create_observable_gauge("mynumber.consumer.pending", callbacks=[_observe("pending")],
                               description="events not yet handled: waiting plus delivered and unacknowledged")
_meter.create_observable_gauge("mynumber.consumer.healthy", callbacks=[_observe("healthy")],
                               description="1 while the handler succeeds, 0 while it keeps failing")


class IdempotentConsumer:
    def __init__(self, *, js: JetStreamContext, engine: AsyncEngine, table: sa.Table, stream: str, durable: str,
                 filter_subject: str, handler: Handler, service: str, batch: int = 64, ack_wait_s: float = 30.0,
                 backoff_initial_s: float = 1.0, backoff_max_s: float = 60.0, unhealthy_after_s: float = 30.0,
                 unhealthy_after_failures: int = 10, lag_refresh_s: float = 5.0) -> None:
        if not service or "." in service or not durable or "." in durable:
            raise ValueError("service and durable name a subject token: non-empty, no dots")
        self.js = js
        self.engine = engine
        self.table = table
        self.stream = stream
        self.durable = durable
        self.service = service
        self.filter_subject = filter_subject
        self.handler = handler
        self.batch = batch
        self.ack_wait_s = ack_wait_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.unhealthy_after_s = unhealthy_after_s
        self.unhealthy_after_failures = unhealthy_after_failures
        self.lag_refresh_s = lag_refresh_s
        self.config = ConsumerConfig(
            name=durable, durable_name=durable, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
            # Unlimited: JetStream never gives an event up; the back-off below paces the retries.
            max_deliver=-1, ack_wait=ack_wait_s, filter_subject=filter_subject,
        )
        self.labels = {"mynumber.service": service, "messaging.consumer.group.name": durable}
        self._sub: JetStreamContext.PullSubscription | None = None
        self.handled = 0
        self.duplicates = 0
        self.failures = 0
        self.dead_lettered = 0
        self.redeliveries = 0
        self.pending = 0
        self._lag_at = 0.0
        self._failing_since: float | None = None
        self._streak = 0
        self.unhealthy_seen = False  # set once the check has reported unhealthy (tests, operators' post-mortems)
        # When each event still being retried first failed: goes into its dead letter if it turns out poison.
        self._first_failure: dict[tuple[str, int], dt.datetime] = {}
        _live.add(self)

    # -- health ------------------------------------------------------------------------------------------------

    @property
    def healthy(self) -> int:
        return 0 if self._unhealthy_reason() else 1

    def _unhealthy_reason(self) -> str | None:
        if self._failing_since is None:
            return None
        failing_for = time.monotonic() - self._failing_since
        if self._streak >= self.unhealthy_after_failures or failing_for >= self.unhealthy_after_s:
            return (f"consumer {self.durable}: handling has failed {self._streak} times in a row "
                    f"for {failing_for:.0f} s; events are kept and retried")
        return None

    async def check(self) -> None:
        """A `PlatformServer` health check: raises while the handler keeps failing (N in a row, or for longer
        than `unhealthy_after_s`); healthy again after the next success."""
        if reason := self._unhealthy_reason():
            self.unhealthy_seen = True
            raise ConsumerUnhealthy(reason)

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        self._streak += 1
        _failures.add(1, {**self.labels, "error.type": type(exc).__name__})
        if self._failing_since is None:
            # One line per change of state, not per retry: an outage of minutes would otherwise flood the log.
            self._failing_since = time.monotonic()
            log.warning("consumer %s: handling fails (%s); events are kept and retried with back-off",
                        self.durable, summary(exc))
        if self._unhealthy_reason():
            self.unhealthy_seen = True

    def _succeeded(self) -> None:
        if self._failing_since is not None:
            log.info("consumer %s: handling recovered after %d failed attempts over %.0f s", self.durable,
                     self._streak, time.monotonic() - self._failing_since)
        self._failing_since = None
        self._streak = 0

    def backoff_s(self, deliveries: int) -> float:
        """Bounded exponential: initial, doubling per delivery, capped."""
        return float(min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, min(deliveries - 1, 30))))

    # -- handling ----------------------------------------------------------------------------------------------

    async def _subscription(self) -> JetStreamContext.PullSubscription:
        if self._sub is None:
            await ensure_deadletter_stream(self.js)
            # Create or update: a durable created by an older release with a delivery limit loses it here.
            await self.js.add_consumer(self.stream, self.config)
            self._sub = await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        return self._sub

    async def _apply(self, eid: str, msg: Msg) -> bool:
        """Record the id and run the handler in one transaction; False if the id was already recorded."""
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
        return fresh is not None

    @contextlib.asynccontextmanager
    async def _working(self, msg: Msg) -> AsyncIterator[None]:
        """Slow handling tells JetStream the event is in progress, so it is not redelivered meanwhile."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.ack_wait_s / 3)
                with contextlib.suppress(Exception):
                    await msg.in_progress()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def handle(self, msg: Msg) -> bool:
        """Handle one message exactly once in effect; True if it was new."""
        async with self._working(msg):
            fresh = await self._apply(event_id(msg), msg)
        await msg.ack_sync()
        if fresh:
            self.handled += 1
            _handled.add(1, self.labels)
        else:
            self.duplicates += 1
            _duplicates.add(1, self.labels)
        return fresh

    async def _process(self, msg: Msg) -> None:
        md = msg.metadata
        key = (md.stream, md.sequence.stream)
        self.pending = md.num_pending
        if md.num_delivered > 1:
            self.redeliveries += 1
            _redeliveries.add(1, self.labels)
        try:
            try:
                await self.handle(msg)
            except Exception as exc:
                reason = poison_reason(exc)
                if reason is None:
                    raise
                await self._park(msg, reason)
        except Exception as exc:
            self._first_failure.setdefault(key, dt.datetime.now(dt.UTC))
            self._failed(exc)
            with contextlib.suppress(Exception):  # NATS down too: the ack wait brings the event back anyway
                await msg.nak(delay=self.backoff_s(md.num_delivered))
            return
        self._first_failure.pop(key, None)
        self._succeeded()

    async def _park(self, msg: Msg, reason: str) -> None:
        md = msg.metadata
        first = self._first_failure.get((md.stream, md.sequence.stream), dt.datetime.now(dt.UTC))
        await deadletters.park(
            self.js, service=self.service, consumer=self.durable, reason=reason, first_failure=first,
            payload=msg.data, original_subject=msg.subject, original_stream=md.stream,
            original_sequence=md.sequence.stream, original_msg_id=(msg.headers or {}).get("Nats-Msg-Id"),
        )
        await msg.ack_sync()  # only after the letter is stored: a crash in between parks it again (deduplicated)
        self.dead_lettered += 1
        _dead_lettered.add(1, self.labels)
        log.warning("consumer %s: event at %s #%d dead-lettered: %s", self.durable, md.stream, md.sequence.stream,
                    deadletters.clean_reason(reason))

    async def refresh_lag(self) -> None:
        """The backlog from the server now (the host's metrics loop calls it: a handler that hangs holds this
        consumer's own loop, and its backlog must still show growing)."""
        await self._refresh_lag(force=True)

    async def _refresh_lag(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._lag_at < self.lag_refresh_s:
            return
        self._lag_at = now
        with contextlib.suppress(Exception):
            info = await self.js.consumer_info(self.stream, self.durable)
            self.pending = int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def run_once(self, timeout: float = 1.0) -> int:  # noqa: ASYNC109 - the fetch wait, not a deadline
        sub = await self._subscription()
        try:
            msgs = await sub.fetch(self.batch, timeout=timeout)
        except (NatsTimeoutError, TimeoutError):
            await self._refresh_lag(force=True)
            return 0
        for msg in msgs:
            await self._process(msg)
        await self._refresh_lag()
        return len(msgs)

    async def run(self, stop: asyncio.Event) -> None:
        delay, fetch_failed = self.backoff_initial_s, False
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception as exc:
                    # NATS unreachable or the consumer gone: the client reconnects by itself; wait and rebind.
                    self._failed(exc)
                    fetch_failed = True
                    self._sub = None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    delay = min(self.backoff_max_s, delay * 2)
                    continue
                if fetch_failed:
                    # Reachable again. A handler still failing re-enters the failing state with its next event.
                    delay, fetch_failed = self.backoff_initial_s, False
                    self._succeeded()
        finally:
            # A pull subscription left open makes the connection's drain wait out its whole timeout.
            if self._sub is not None:
                with contextlib.suppress(Exception):
                    await self._sub.unsubscribe()
                self._sub = None

    # -- replay ------------------------------------------------------------------------------------------------

    async def replay(self, letter: deadletters.DeadLetter) -> Replayed:
        """Run the handler on one of this consumer's dead letters through the same idempotent path (the original
        event id is recorded), then remove the letter. The handler sees the original subject, payload and
        Nats-Msg-Id; it is not a JetStream delivery (no metadata, nothing to ack)."""
        headers = {"Nats-Msg-Id": letter.original_msg_id} if letter.original_msg_id else None
        msg = Msg(_client=self.js._nc, subject=letter.original_subject, data=letter.payload, headers=headers)
        try:
            fresh = await self._apply(letter.event_id, msg)
        except Exception as exc:
            reason = poison_reason(exc)
            if reason is None:
                return Replayed(letter.id, "failed", summary(exc))
            await deadletters.park(
                self.js, service=self.service, consumer=self.durable, reason=reason,
                first_failure=letter.first_failure, payload=letter.payload,
                original_subject=letter.original_subject, original_stream=letter.original_stream,
                original_sequence=letter.original_sequence, original_msg_id=letter.original_msg_id,
                replayed_from=letter.id,
            )
            await deadletters.remove(self.js, letter)
            return Replayed(letter.id, "poison", deadletters.clean_reason(reason))
        await deadletters.remove(self.js, letter)
        if fresh:
            self.handled += 1
            _handled.add(1, self.labels)
        return Replayed(letter.id, "replayed")
