"""What may be said about an exception in a log line or a health message.

A database error's text quotes the caller's values: psycopg's DETAIL (`Key (code)=(123456789012) already
exists`), `invalid input syntax for type integer: "山田"`, and SQLAlchemy appends the statement's parameters
unless told not to. None of that may reach a log (番号法: 特定個人情報 in logs), so a database error is described
by its types and SQLSTATE only, and logged without its traceback (whose chained messages repeat the text).

`keep_running` is the loop of the background workers that must outlast a fault (the outbox relay, the audit
anchor publisher): exponential back-off, one log line when the fault starts and one when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

_DB_MODULES = ("sqlalchemy", "psycopg", "asyncpg", "alembic")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def database_error(exc: BaseException) -> BaseException | None:
    """The first database-driver or SQLAlchemy error in the exception's chain, if any."""
    for e in _chain(exc):
        if type(e).__module__.split(".", 1)[0] in _DB_MODULES:
            return e
    return None


def summary(exc: BaseException) -> str:
    """Types only (and the SQLSTATE of a database error): never an exception's message."""
    db = database_error(exc)
    if db is None:
        return type(exc).__name__
    orig = getattr(db, "orig", None) or db
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    inner = type(orig).__name__ + (f", SQLSTATE {sqlstate}" if sqlstate else "")
    outer = type(exc).__name__ if db is exc else f"{type(exc).__name__} from {type(db).__name__}"
    return f"{outer} ({inner})"


def loggable(exc: BaseException) -> BaseException | None:
    """The exception to hand a log call as exc_info: None (no traceback) when a database error is in its chain."""
    return None if database_error(exc) is not None else exc


async def keep_running(step: Callable[[], Awaitable[bool]], stop: asyncio.Event, *, log: logging.Logger, what: str,
                       idle_s: float, backoff_initial_s: float, backoff_max_s: float,
                       on_failure: Callable[[], None] = lambda: None) -> None:
    """Run `step` until `stop` is set: again at once while it returns True (more work waits), after `idle_s` when
    it returns False. A step that raises is retried after `backoff_initial_s`, doubling up to `backoff_max_s`;
    `what` ("outbox relay east: publishing fails", then the kept state) is logged once as the fault starts, with the
    exception's types only, and once more when a step succeeds again."""
    delay, failing_since = backoff_initial_s, None
    while not stop.is_set():
        try:
            busy = await step()
        except Exception as exc:
            on_failure()
            if failing_since is None:  # one line per change of state, not per retry
                failing_since = time.monotonic()
                log.warning("%s (%s); retried with back-off", what, summary(exc))
            await _rest(stop, delay)
            delay = min(backoff_max_s, delay * 2)
            continue
        if failing_since is not None:
            log.info("%s: working again after %.0f s", what.split(":", 1)[0], time.monotonic() - failing_since)
            delay, failing_since = backoff_initial_s, None
        if not busy:
            await _rest(stop, idle_s)


async def _rest(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
