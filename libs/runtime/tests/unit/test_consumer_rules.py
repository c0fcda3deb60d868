"""The consumer's pure rules: bounded back-off, what counts as poison, and what a log may say of an error."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from google.protobuf.message import DecodeError
from mynumber_runtime import consumer as consumer_module
from mynumber_runtime.consumer import IdempotentConsumer, PoisonEvent, poison_reason
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.faults import loggable, summary


def consumer(**kw) -> IdempotentConsumer:
    return IdempotentConsumer(js=None, engine=None, table=sa.table("t"), stream="S", durable="d",  # type: ignore[arg-type]
                              filter_subject="x", handler=None, service="svc", **kw)  # type: ignore[arg-type]


def test_back_off_doubles_from_one_second_up_to_a_minute_and_stays_there():
    c = consumer()
    assert [c.backoff_s(n) for n in (1, 2, 3, 4, 7, 8, 1000)] == [1, 2, 4, 8, 60, 60, 60]


def test_no_delivery_limit_can_give_an_event_up():
    assert consumer().config.max_deliver == -1


def test_poison_is_what_can_never_succeed_and_nothing_else():
    assert poison_reason(PoisonEvent("payload: kind not known")) == "payload: kind not known"
    assert poison_reason(DecodeError("x")) == "payload: not a valid protobuf message"
    assert poison_reason(InvalidArgument("resident_code", "must be 11 digits")) == \
        "invalid: resident_code: must be 11 digits"
    assert poison_reason(ConnectionError("database down")) is None
    assert poison_reason(TimeoutError()) is None


def test_a_database_error_is_summarised_by_its_types_only():
    orig = type("UniqueViolation", (Exception,), {"__module__": "psycopg.errors", "sqlstate": "23505"})(
        "duplicate key: Key (code)=(738401926655) already exists")
    err = sa.exc.IntegrityError("INSERT INTO people VALUES (%(c)s)", {"c": "738401926655"}, orig)
    assert summary(err) == "IntegrityError (UniqueViolation, SQLSTATE 23505)"
    assert loggable(err) is None  # no traceback: its chained messages would repeat the values
    wrapped = RuntimeError("handler failed")
    wrapped.__cause__ = err
    assert "738401926655" not in summary(wrapped) and loggable(wrapped) is None
    plain = ValueError("no values here")
    assert summary(plain) == "ValueError" and loggable(plain) is plain


async def test_slow_handling_tells_jetstream_it_is_in_progress_well_within_the_ack_wait():
    # A beat every third of the ack wait: an event handled for longer than the wait is not redelivered meanwhile.
    class Delivery:
        def __init__(self) -> None:
            self.beats: list[float] = []

        async def in_progress(self) -> None:
            self.beats.append(time.monotonic() - start)

    c, msg = consumer(ack_wait_s=1.5), Delivery()
    start = time.monotonic()
    async with c._working(msg):  # type: ignore[arg-type]
        await asyncio.sleep(1.2)
    # Beats at 0.5 s and 1.0 s: at least one, the first within the wait, and not a flood.
    assert 1 <= len(msg.beats) <= 3 and 0.5 <= msg.beats[0] < 1.5
    beats = len(msg.beats)
    await asyncio.sleep(0.3)
    assert len(msg.beats) == beats  # and no beat once the handling is over


class Delivered:
    """A JetStream delivery as `handle` sees it."""

    def __init__(self) -> None:
        self.headers = {"Nats-Msg-Id": "outbox-1"}

    async def ack_sync(self) -> None:
        pass

    async def in_progress(self) -> None:
        pass


async def test_each_delivery_is_counted_once_as_handled_or_as_a_duplicate(monkeypatch):
    added: list[tuple[str, int]] = []

    class Counter:
        def __init__(self, name: str) -> None:
            self.name = name

        def add(self, amount: int, labels: object) -> None:
            added.append((self.name, amount))

    monkeypatch.setattr(consumer_module, "_handled", Counter("handled"))
    monkeypatch.setattr(consumer_module, "_duplicates", Counter("duplicates"))
    c = consumer()
    fresh = iter([True, False, False])

    async def apply(eid: str, msg: object) -> bool:
        assert eid == "outbox-1"
        return next(fresh)

    c._apply = apply  # type: ignore[method-assign]
    assert [await c.handle(Delivered()) for _ in range(3)] == [True, False, False]  # type: ignore[arg-type]
    assert (c.handled, c.duplicates) == (1, 2)
    assert added == [("handled", 1), ("duplicates", 1), ("duplicates", 1)]


async def test_the_backlog_is_asked_of_the_server_at_most_once_per_refresh_interval_unless_forced():
    class Info:
        num_pending, num_ack_pending = 3, 2

    class JetStream:
        calls = 0

        async def consumer_info(self, stream: str, durable: str) -> Info:
            JetStream.calls += 1
            return Info()

    c = consumer(lag_refresh_s=60.0)
    c.js = JetStream()  # type: ignore[assignment]
    await c._refresh_lag()
    await c._refresh_lag()
    assert (JetStream.calls, c.pending) == (1, 5)
    await c.refresh_lag()  # the host's metrics loop forces it
    assert JetStream.calls == 2


async def test_the_run_loop_keeps_fetching_after_nats_fails_and_recovers():
    c = consumer(backoff_initial_s=0.01, backoff_max_s=0.02)
    stop = asyncio.Event()
    fetches = 0

    async def run_once(timeout: float = 1.0) -> int:
        nonlocal fetches
        fetches += 1
        if fetches <= 2:
            raise ConnectionError("nats away")
        stop.set()
        return 0

    c.run_once = run_once  # type: ignore[method-assign]
    await asyncio.wait_for(c.run(stop), 10)
    assert (fetches, c.failures, c.healthy) == (3, 2, 1)
