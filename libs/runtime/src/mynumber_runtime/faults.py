"""What may be said about an exception in a log line or a health message.

A database error's text quotes the caller's values: psycopg's DETAIL (`Key (code)=(123456789012) already
exists`), `invalid input syntax for type integer: "山田"`, and SQLAlchemy appends the statement's parameters
unless told not to. None of that may reach a log (番号法: 特定個人情報 in logs), so a database error is described
by its types and SQLSTATE only, and logged without its traceback (whose chained messages repeat the text).
"""

from __future__ import annotations

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
