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


# A bulk assignment job (bulk.py): the client's, counted as numbering answers each chunk; its result file (one entry
# per resident: the number, or why it was refused) sealed once the job is done.
bulk_jobs = sa.Table(
    "bulk_jobs",
    metadata,
    sa.Column("job_id", sa.String(36), primary_key=True),
    sa.Column("client", sa.String(160), nullable=False, index=True),
    # running | completed | failed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("received", sa.Integer, nullable=False),
    sa.Column("assigned", sa.Integer, nullable=False),
    sa.Column("already_assigned", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    # For a failed job: the platform's reason (e.g. UNAVAILABLE), never a value.
    sa.Column("failure_reason", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sealed_results", BYTEA),
)


@dataclass(frozen=True)
class JobRow:
    job_id: str
    status: str
    total: int
    received: int
    assigned: int
    already_assigned: int
    failed: int
    failure_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    sealed_results: bytes | None


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

    async def create_job(self, job_id: str, client: str, total: int, now: dt.datetime) -> None:
        await self.conn.execute(sa.insert(bulk_jobs).values(
            job_id=job_id, client=client, status="running", total=total, received=0, assigned=0,
            already_assigned=0, failed=0, created_at=now, updated_at=now))

    async def update_job(self, job_id: str, now: dt.datetime, *, status: str | None = None,
                         failure_reason: str | None = None, sealed_results: bytes | None = None,
                         counts: dict[str, int] | None = None) -> None:
        values: dict[str, object] = {"updated_at": now, **(counts or {})}
        if status is not None:
            values["status"] = status
        if failure_reason is not None:
            values["failure_reason"] = failure_reason
        if sealed_results is not None:
            values["sealed_results"] = sealed_results
        await self.conn.execute(sa.update(bulk_jobs).where(bulk_jobs.c.job_id == job_id).values(**values))

    async def job(self, client: str, job_id: str) -> JobRow | None:
        """The client's own job; another client's is None, as an unknown one is."""
        t = bulk_jobs
        row = (await self.conn.execute(
            sa.select(t.c.job_id, t.c.status, t.c.total, t.c.received, t.c.assigned, t.c.already_assigned,
                      t.c.failed, t.c.failure_reason, t.c.created_at, t.c.updated_at, t.c.sealed_results)
            .where(t.c.job_id == job_id, t.c.client == client))).first()
        return JobRow(*row) if row else None
