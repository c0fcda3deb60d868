"""The consumer's pure rules: bounded back-off, what counts as poison, and what a log may say of an error."""

from __future__ import annotations

import sqlalchemy as sa
from google.protobuf.message import DecodeError
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
