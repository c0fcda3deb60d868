"""Units of work: commit on a clean exit, roll back on an exception, a checkpoint survives a later failure; the
rolled-back variant for tests behaves the same inside one transaction and leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from mynumber_runtime.db import Store, Units, create_async_engine
from mynumber_runtime.testing.units import rolled_back


class Values(Store):
    async def add(self, v: int) -> None:
        await self.conn.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": v})

    async def all(self) -> list[int]:
        return [r[0] for r in await self.conn.execute(sa.text("SELECT v FROM t ORDER BY v"))]


class Boom(RuntimeError):
    pass


async def test_a_unit_commits_on_exit_rolls_back_on_error_and_keeps_what_a_checkpoint_committed(
        new_database: Callable[[], str]) -> None:
    engine = create_async_engine(new_database())
    async with engine.begin() as c:
        await c.execute(sa.text("CREATE TABLE t (v int)"))
    units = Units(engine, Values)
    async with units() as s:
        await s.add(1)
    with pytest.raises(Boom):
        async with units() as s:
            await s.add(2)
            await s.checkpoint()
            await s.add(3)
            raise Boom
    async with units() as s:
        assert await s.all() == [1, 2]

    async with rolled_back(engine, Values) as test_units:
        async with test_units() as s:
            await s.add(4)
        with pytest.raises(Boom):
            async with test_units() as s:
                await s.add(5)
                await s.checkpoint()
                await s.add(6)
                raise Boom
        async with test_units() as s:
            assert await s.all() == [1, 2, 4, 5]
    async with units() as s:
        assert await s.all() == [1, 2]  # the rolled-back test left nothing
    await engine.dispose()
