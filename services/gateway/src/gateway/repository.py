"""The gateway's own table (schema `gateway`) and all its SQL: the first result of every idempotent write.

Nothing personal in clear: the client's key and the request's fingerprint are keyed hashes, the stored response
(it may carry a 個人番号) is sealed (AES-256-GCM, the row's key hash as associated data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from mynumber_runtime.db import Store, make_metadata
from sqlalchemy.dialects.postgresql import BYTEA
from sqlalchemy.dialects.postgresql import insert as pg_insert

SCHEMA = "gateway"
metadata = make_metadata(SCHEMA)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    # The client identity (`municipality:131016`): keys are per client, so two clients never share one.
    sa.Column("client", sa.String(160), primary_key=True),
    # Keyed hash of the Idempotency-Key header.
    sa.Column("key_hash", BYTEA, primary_key=True),
    # Keyed hash of method, path and body: the same key with another request is refused.
    sa.Column("fingerprint", BYTEA, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Null while the first request runs; then its HTTP status and sealed JSON body.
    sa.Column("status_code", sa.SmallInteger),
    sa.Column("sealed_response", BYTEA),
    sa.Index(None, "created_at"),
)


@dataclass(frozen=True)
class KeyRow:
    fingerprint: bytes
    created_at: dt.datetime
    status_code: int | None
    sealed_response: bytes | None


class GatewayStore(Store):
    async def claim(self, client: str, key_hash: bytes, fingerprint: bytes, now: dt.datetime) -> bool:
        """Record a new key as running; False when the client used it already (the row is left as it is)."""
        stmt = (pg_insert(idempotency_keys)
                .values(client=client, key_hash=key_hash, fingerprint=fingerprint, created_at=now)
                .on_conflict_do_nothing(index_elements=["client", "key_hash"])
                .returning(idempotency_keys.c.client))
        return (await self.conn.execute(stmt)).first() is not None

    async def get(self, client: str, key_hash: bytes) -> KeyRow | None:
        t = idempotency_keys
        row = (await self.conn.execute(
            sa.select(t.c.fingerprint, t.c.created_at, t.c.status_code, t.c.sealed_response)
            .where(t.c.client == client, t.c.key_hash == key_hash))).first()
        return KeyRow(*row) if row else None

    async def complete(self, client: str, key_hash: bytes, status_code: int, sealed_response: bytes) -> None:
        t = idempotency_keys
        await self.conn.execute(sa.update(t).where(t.c.client == client, t.c.key_hash == key_hash)
                                .values(status_code=status_code, sealed_response=sealed_response))

    async def release(self, client: str, key_hash: bytes) -> None:
        """Forget a key whose request failed on the platform's side: a retry runs it again."""
        t = idempotency_keys
        await self.conn.execute(sa.delete(t).where(t.c.client == client, t.c.key_hash == key_hash))

    async def expire(self, client: str, key_hash: bytes, before: dt.datetime) -> None:
        """Drop this key's row when it is older than `before` (then the key starts afresh)."""
        t = idempotency_keys
        await self.conn.execute(sa.delete(t).where(t.c.client == client, t.c.key_hash == key_hash,
                                                   t.c.created_at < before))

    async def purge(self, before: dt.datetime) -> int:
        t = idempotency_keys
        return (await self.conn.execute(sa.delete(t).where(t.c.created_at < before))).rowcount
