"""A relay in its own process, for the crash test. With DIE=1 it kills itself (SIGKILL, no clean-up) right after
its first batch is published and before the rows are marked: the worst moment to die."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import sqlalchemy as sa
from mynumber_runtime.db import create_async_engine, make_metadata
from mynumber_runtime.nats_identity import connect_nats
from mynumber_runtime.outbox import OutboxRelay, outbox_table
from mynumber_runtime.settings import NatsSettings
from sqlalchemy.ext.asyncio import AsyncConnection


async def main(db_url: str, schema: str, nats_url: str, nats_user: str, password_file: str) -> None:
    if os.environ.get("DIE") == "1":
        original = AsyncConnection.execute

        async def execute(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
            if isinstance(statement, sa.Update) and statement.table.name == "outbox":
                os.kill(os.getpid(), signal.SIGKILL)
            return await original(self, statement, *args, **kwargs)

        AsyncConnection.execute = execute  # type: ignore[method-assign]
    table = outbox_table(make_metadata(schema))
    engine = create_async_engine(db_url)
    nc = await connect_nats(NatsSettings(url=nats_url, user=nats_user, password_file=Path(password_file)), name="relay")
    relay = OutboxRelay(engine=engine, table=table, js=nc.jetstream(), origin="test", batch_size=40)
    while await relay.run_once():
        pass
    await nc.close()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
