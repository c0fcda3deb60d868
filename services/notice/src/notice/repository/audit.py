"""The store's records kept for others: 裏書 endorsements, the access log (mynumber_runtime.audit), the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from mynumber_runtime import audit

from notice.entities import AccessEntry
from notice.models import access_log, endorsements, outbox
from notice.repository.base import Rows


class AuditRows(Rows):
    async def insert_endorsement(self, resident_hash: bytes, municipality_code: str, sealed_address: bytes,
                                 at: dt.datetime) -> None:
        await self.conn.execute(sa.insert(endorsements).values(
            resident_hash=resident_hash, municipality_code=municipality_code, sealed_address=sealed_address,
            endorsed_at=at))

    # --- access log ---------------------------------------------------------------------------------------
    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: dict[str, object] | None = None) -> None:
        await audit.append(self.conn, access_log, at=at, actor=actor, action=action, subject_ref=subject_ref,
                           purpose=purpose, details=details)

    async def access_entries(self, subject_ref: str) -> list[AccessEntry]:
        return [AccessEntry(seq=e.seq, at=e.at, actor=e.actor, action=e.action, purpose=e.purpose)
                for e in await audit.entries_for(self.conn, access_log, subject_ref)]

    # --- events --------------------------------------------------------------------------------------------
    async def add_events(self, events: Sequence[tuple[str, bytes]]) -> None:
        if events:
            await self.conn.execute(sa.insert(outbox), [{"subject": s, "payload": p} for s, p in events])
