"""Integration tests that run in one rolled-back transaction (warehouse's habit): every unit of work the code
under test opens becomes a savepoint of the test's own connection, and the test's end rolls everything back, so
tests need no fresh database and leave nothing behind.

Only for code that does not depend on another connection seeing its commits (an outbox relay or a consumer
running beside it would see nothing): those tests keep real `Units`. A `checkpoint()` inside such a unit
releases the savepoint and opens the next one, so what came before it survives a later failure as in production.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mynumber_runtime.db import S, Store, Units


class RolledBackUnits(Units[S]):
    def __init__(self, conn: AsyncConnection, store: Callable[[AsyncConnection], S]) -> None:
        super().__init__(conn.engine, store)
        self.conn = conn

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[S]:
        store = self.store(self.conn)
        savepoint = await self.conn.begin_nested()
        state = {"savepoint": savepoint}

        async def checkpoint() -> None:
            await state["savepoint"].commit()
            state["savepoint"] = await self.conn.begin_nested()

        store.checkpoint = checkpoint  # type: ignore[method-assign]
        try:
            yield store
        except BaseException:
            await state["savepoint"].rollback()
            raise
        await state["savepoint"].commit()

    async def ping(self) -> None:
        return None


@contextlib.asynccontextmanager
async def rolled_back(engine: AsyncEngine, store: Callable[[AsyncConnection], S]) -> AsyncIterator[RolledBackUnits[S]]:
    """`async with rolled_back(engine, NoticeStore) as units:` hand `units` to the service under test."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield RolledBackUnits(conn, store)
        finally:
            await outer.rollback()


__all__ = ["RolledBackUnits", "Store", "rolled_back"]
