"""PostgreSQL through SQLAlchemy 2: metadata with named constraints, engines, and Alembic per service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Store:
    """Base of a service's repository bound to one open transaction (the unit of work): every method runs in it,
    and the boundary that opened the unit (the gRPC method, the event handler, the CLI command) commits it or,
    on any exception, rolls it back. Services hold a store, never a connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def checkpoint(self) -> None:
        """Commit what is done so far and go on in a fresh transaction. Only for flows whose steps must survive
        a later failure (bulk chunks, a CA's record-before-sign): the caller says why where it calls this."""
        await self.conn.commit()


S = TypeVar("S", bound=Store)


class Units(Generic[S]):
    """Opens units of work: `async with units() as store:` commits on a clean exit and rolls back on an
    exception. One per service, built from its engine and its store class."""

    def __init__(self, engine: AsyncEngine, store: Callable[[AsyncConnection], S]) -> None:
        self.engine = engine
        self.store = store

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[S]:
        async with self.engine.connect() as conn:
            try:
                yield self.store(conn)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))


def make_metadata(schema: str) -> sa.MetaData:
    """Each service owns one schema; every constraint gets a predictable name (Alembic can then alter it)."""
    return sa.MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def create_async_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # hide_parameters: SQLAlchemy's error text otherwise lists the statement's parameters, i.e. the caller's
    # personal data; faults.py keeps the driver's own text (DETAIL quotes values) out of the logs as well.
    return _create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                                hide_parameters=True)


def sync_url(url: str) -> str:
    """Alembic runs synchronously; psycopg 3 serves both, so only the dialect name may need changing."""
    return url.replace("postgresql+asyncpg://", "postgresql+psycopg://")


def migrate(url: str, migrations_dir: Path, *, revision: str = "head") -> None:
    """Upgrade a service's schema with its own Alembic scripts (the version table lives in that schema)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["url"] = sync_url(url)
    command.upgrade(cfg, revision)


def run_alembic_env(target_metadata: sa.MetaData) -> None:
    """The body of every service's migrations/env.py: online migrations inside the service's schema."""
    from alembic import context

    schema = target_metadata.schema
    cfg = context.config
    url = cfg.attributes.get("url") or cfg.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(str(url), poolclass=sa.pool.NullPool, hide_parameters=True)
    with engine.connect() as conn:
        if schema:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.commit()
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
