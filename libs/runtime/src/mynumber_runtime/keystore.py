"""Data keys of a service, wrapped by its key-encryption key and kept in its own schema."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from mynumber_runtime.crypto import FieldSealer, new_data_key, unwrap_data_key, wrap_data_key


def data_keys_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "data_keys",
        metadata,
        sa.Column("key_id", sa.SmallInteger, primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("key_id BETWEEN 1 AND 255", name="key_id_range"),
    )


async def load_sealer(engine: AsyncEngine, table: sa.Table, kek: bytes) -> FieldSealer:
    """Unwrap every data key; make the first one on a fresh database. The newest key seals new values."""
    async with engine.begin() as conn:
        await conn.execute(
            postgresql.insert(table)
            .values(key_id=1, wrapped_key=wrap_data_key(kek, new_data_key()))
            .on_conflict_do_nothing()
        )
        rows = (await conn.execute(sa.select(table.c.key_id, table.c.wrapped_key))).all()
    keys = {int(r.key_id): unwrap_data_key(kek, r.wrapped_key) for r in rows}
    return FieldSealer(keys, current=max(keys))


async def rotate_data_key(engine: AsyncEngine, table: sa.Table, kek: bytes) -> int:
    """Add a new data key; values sealed before stay readable under their old key id."""
    async with engine.begin() as conn:
        current = (await conn.execute(sa.select(sa.func.max(table.c.key_id)))).scalar_one()
        new_id = int(current or 0) + 1
        await conn.execute(sa.insert(table).values(key_id=new_id, wrapped_key=wrap_data_key(kek, new_data_key())))
    return new_id
