"""All SQL of the JPKI service. Methods take the caller's connection: the service decides the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from mynumber_runtime import audit, outbox
from mynumber_runtime.audit import ChainReport
from mynumber_runtime.db import Repository
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jpki import models as m

Row = sa.Row[Any]


def _rows(rows: Sequence[Any]) -> list[Row]:
    """Rows of a typed multi-column select as the module's plain `Row` (for annotations only)."""
    return list(rows)


class JpkiRepository(Repository):
    # --- metrics (one grouped count every refresh interval, never per scrape: mynumber_runtime.metrics) --------

    async def count_certificates(self) -> dict[tuple[str, str], int]:
        """Certificates by (CA kind, status): pending, good, hold, revoked, failed."""
        c = m.certificates
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(c.c.ca_kind, c.c.status, sa.func.count())
                                       .group_by(c.c.ca_kind, c.c.status))).all()
        return {(str(kind), str(status)): int(n) for kind, status, n in rows}

    # --- CAs and responders ---------------------------------------------------------------------------------
    async def add_ca(self, conn: AsyncConnection, *, kind: str, generation: int, serial_hex: str, cert_der: bytes,
                     key_label: str, at: dt.datetime) -> None:
        await conn.execute(sa.update(m.cas).where(m.cas.c.kind == kind).values(active=False))
        await conn.execute(sa.insert(m.cas).values(kind=kind, generation=generation, serial_hex=serial_hex,
                                                   cert_der=cert_der, key_label=key_label, active=True,
                                                   created_at=at))

    async def active_cas(self, conn: AsyncConnection) -> list[Row]:
        return list((await conn.execute(sa.select(m.cas).where(m.cas.c.active))).all())

    async def all_cas(self, conn: AsyncConnection, kind: str) -> list[Row]:
        return list((await conn.execute(sa.select(m.cas).where(m.cas.c.kind == kind))).all())

    async def next_generation(self, conn: AsyncConnection, kind: str) -> int:
        cur = (await conn.execute(sa.select(sa.func.max(m.cas.c.generation)).where(m.cas.c.kind == kind))).scalar()
        return int(cur or 0) + 1

    async def add_ocsp_signer(self, conn: AsyncConnection, *, ca_kind: str, cert_der: bytes, key_label: str,
                              not_before: dt.datetime, not_after: dt.datetime) -> int:
        return int((await conn.execute(sa.insert(m.ocsp_signers).values(
            ca_kind=ca_kind, cert_der=cert_der, key_label=key_label, not_before=not_before, not_after=not_after)
            .returning(m.ocsp_signers.c.id))).scalar_one())

    async def current_ocsp_signers(self, conn: AsyncConnection) -> list[Row]:
        """The newest responder certificate of each CA."""
        t = m.ocsp_signers
        newest = sa.select(t.c.ca_kind, sa.func.max(t.c.id).label("id")).group_by(t.c.ca_kind).subquery()
        return list((await conn.execute(sa.select(t).join(newest, t.c.id == newest.c.id))).all())

    # --- certificates ---------------------------------------------------------------------------------------
    async def modulus_known(self, conn: AsyncConnection, modulus_hash: bytes) -> bool:
        return (await conn.execute(sa.select(sa.literal(1)).where(m.certificates.c.modulus_hash == modulus_hash)
                                   )).first() is not None

    async def ensure_partition(self, conn: AsyncConnection, *, ca_kind: str, code: str, prefecture: str,
                               municipality: str) -> None:
        await conn.execute(insert(m.partitions).values(
            ca_kind=ca_kind, municipality_code=code, prefecture_name=prefecture, municipality_name=municipality)
            .on_conflict_do_nothing())

    async def partitions(self, conn: AsyncConnection, ca_kind: str | None = None) -> list[Row]:
        q = sa.select(m.partitions)
        if ca_kind:
            q = q.where(m.partitions.c.ca_kind == ca_kind)
        return _rows((await conn.execute(q)).all())

    async def partition(self, conn: AsyncConnection, ca_kind: str, code: str) -> Row | None:
        return (await conn.execute(sa.select(m.partitions).where(
            m.partitions.c.ca_kind == ca_kind, m.partitions.c.municipality_code == code))).first()

    async def record_pending(self, conn: AsyncConnection, **values: Any) -> None:
        await conn.execute(sa.insert(m.certificates).values(status=m.PENDING, **values))

    async def mark_issued(self, conn: AsyncConnection, ca_kind: str, serial_hex: str, cert_der: bytes,
                          at: dt.datetime) -> None:
        await conn.execute(sa.update(m.certificates).where(
            m.certificates.c.ca_kind == ca_kind, m.certificates.c.serial_hex == serial_hex,
            m.certificates.c.status == m.PENDING).values(status=m.GOOD, cert_der=cert_der, status_changed_at=at))

    async def mark_failed(self, conn: AsyncConnection, ca_kind: str, serial_hex: str, at: dt.datetime) -> None:
        await conn.execute(sa.update(m.certificates).where(
            m.certificates.c.ca_kind == ca_kind, m.certificates.c.serial_hex == serial_hex,
            m.certificates.c.status == m.PENDING).values(status=m.FAILED, status_changed_at=at))

    async def certificate(self, conn: AsyncConnection, ca_kind: str, serial_hex: str, *,
                          for_update: bool = False) -> Row | None:
        q = sa.select(m.certificates).where(m.certificates.c.ca_kind == ca_kind,
                                            m.certificates.c.serial_hex == serial_hex)
        if for_update:
            q = q.with_for_update()
        return (await conn.execute(q)).first()

    async def certificates_of_card(self, conn: AsyncConnection, card_id: str, *, for_update: bool = False
                                   ) -> list[Row]:
        q = sa.select(m.certificates).where(m.certificates.c.card_id == card_id).order_by(m.certificates.c.created_at)
        if for_update:
            q = q.with_for_update()
        return _rows((await conn.execute(q)).all())

    async def live_certificates_of_holder(self, conn: AsyncConnection, holder_ref: bytes, ca_kind: str
                                          ) -> list[Row]:
        c = m.certificates.c
        return list((await conn.execute(sa.select(m.certificates).where(
            c.holder_ref == holder_ref, c.ca_kind == ca_kind, c.status.in_([m.GOOD, m.HOLD])).with_for_update()
        )).all())

    async def list_certificates(self, conn: AsyncConnection, *, ca_kind: str | None, municipality_code: str | None,
                                card_id: str | None, status: str | None, issued_from: dt.datetime | None,
                                issued_before: dt.datetime | None, after: tuple[str, str] | None, limit: int
                                ) -> list[Row]:
        """Issued certificates (never pending or failed rows) matching every given filter, in (ca, serial) order
        after the key `after`."""
        c = m.certificates.c
        q = sa.select(m.certificates).where(c.status.in_([m.GOOD, m.HOLD, m.REVOKED]))
        if ca_kind is not None:
            q = q.where(c.ca_kind == ca_kind)
        if municipality_code is not None:
            q = q.where(c.municipality_code == municipality_code)
        if card_id is not None:
            q = q.where(c.card_id == card_id)
        if status is not None:
            q = q.where(c.status == status)
        if issued_from is not None:
            q = q.where(c.created_at >= issued_from)
        if issued_before is not None:
            q = q.where(c.created_at < issued_before)
        if after is not None:
            q = q.where(sa.tuple_(c.ca_kind, c.serial_hex) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
        return _rows((await conn.execute(q.order_by(c.ca_kind, c.serial_hex).limit(limit))).all())

    async def set_status(self, conn: AsyncConnection, ca_kind: str, serial_hex: str, **values: Any) -> None:
        await conn.execute(sa.update(m.certificates).where(
            m.certificates.c.ca_kind == ca_kind, m.certificates.c.serial_hex == serial_hex).values(**values))

    async def revoked_in_partition(self, conn: AsyncConnection, ca_kind: str, code: str, *,
                                   not_expired_at: dt.datetime, changed_after: dt.datetime | None = None
                                   ) -> list[Row]:
        """Revoked or held certificates (all, or those changed after a base CRL), plus released holds since."""
        c = m.certificates.c
        q = sa.select(c.serial_hex, c.status, c.revoked_at, c.reason_code, c.hold_released_at).where(
            c.ca_kind == ca_kind, c.municipality_code == code, c.not_after > not_expired_at)
        if changed_after is None:
            q = q.where(c.status.in_([m.HOLD, m.REVOKED]))
        else:
            q = q.where(sa.or_(
                sa.and_(c.status.in_([m.HOLD, m.REVOKED]), c.status_changed_at >= changed_after),
                sa.and_(c.status == m.GOOD, c.hold_released_at >= changed_after)))
        return _rows((await conn.execute(q)).all())

    # --- OCSP responses -------------------------------------------------------------------------------------
    async def upsert_ocsp_response(self, conn: AsyncConnection, **values: Any) -> None:
        stmt = insert(m.ocsp_responses).values(**values)
        keys = ("ca_kind", "serial_hex")
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=list(keys), set_={k: stmt.excluded[k] for k in values if k not in keys}))

    async def ocsp_due(self, conn: AsyncConnection, *, before: dt.datetime, signer_ids: Sequence[int],
                       limit: int) -> list[Row]:
        """Responses that expire soon or were signed by a retired responder certificate."""
        r, c = m.ocsp_responses.c, m.certificates.c
        q = (sa.select(r.ca_kind, r.serial_hex, c.status, c.revoked_at, c.reason_code)
             .join(m.certificates, sa.and_(c.ca_kind == r.ca_kind, c.serial_hex == r.serial_hex))
             .where(sa.or_(r.next_update < before, r.signer_id.not_in(list(signer_ids))))
             .order_by(r.next_update).limit(limit))
        return _rows((await conn.execute(q)).all())

    async def ocsp_changed_since(self, conn: AsyncConnection, since: dt.datetime | None) -> list[Row]:
        r = m.ocsp_responses.c
        q = sa.select(r.ca_kind, r.serial_hex, r.der, r.good, r.revoked_at, r.reason_code, r.updated_at)
        if since is not None:
            q = q.where(r.updated_at > since)
        return _rows((await conn.execute(q)).all())

    # --- CRLs -----------------------------------------------------------------------------------------------
    async def next_crl_number(self, conn: AsyncConnection) -> int:
        return int((await conn.execute(sa.select(m.crl_number_seq.next_value()))).scalar_one())

    async def add_crl(self, conn: AsyncConnection, **values: Any) -> None:
        await conn.execute(sa.insert(m.crls).values(**values))

    async def latest_crl(self, conn: AsyncConnection, ca_kind: str, partition: str, delta: bool) -> Row | None:
        c = m.crls.c
        return (await conn.execute(sa.select(m.crls).where(
            c.ca_kind == ca_kind, c.partition == partition, c.delta == delta).order_by(c.number.desc()).limit(1)
        )).first()

    async def latest_crls_since(self, conn: AsyncConnection, since_id: int) -> list[Row]:
        c = m.crls.c
        return _rows((await conn.execute(sa.select(c.id, c.ca_kind, c.partition, c.delta, c.number, c.this_update,
                                                   c.next_update, c.der).where(c.id > since_id).order_by(c.id))
                      ).all())

    # --- verifiers ------------------------------------------------------------------------------------------
    async def add_verifier(self, conn: AsyncConnection, **values: Any) -> None:
        await conn.execute(sa.insert(m.verifiers).values(**values))

    async def verifier(self, conn: AsyncConnection, verifier_id: str) -> Row | None:
        return (await conn.execute(sa.select(m.verifiers).where(m.verifiers.c.id == verifier_id))).first()

    async def deregister_verifier(self, conn: AsyncConnection, verifier_id: str, at: dt.datetime) -> bool:
        res = await conn.execute(sa.update(m.verifiers).where(
            m.verifiers.c.id == verifier_id, m.verifiers.c.deregistered_at.is_(None)).values(
            deregistered_at=at, updated_at=at))
        return bool(res.rowcount)

    async def verifiers(self, conn: AsyncConnection, *, include_deregistered: bool = True) -> list[Row]:
        q = sa.select(m.verifiers).order_by(m.verifiers.c.registered_at)
        if not include_deregistered:
            q = q.where(m.verifiers.c.deregistered_at.is_(None))
        return _rows((await conn.execute(q)).all())

    # --- audit and events -----------------------------------------------------------------------------------
    async def audit(self, conn: AsyncConnection, *, at: dt.datetime, actor: str, action: str, subject_ref: str,
                    details: Mapping[str, Any] | None = None, purpose: str = "jpki") -> int:
        return await audit.append(conn, m.audit_log, at=at, actor=actor, action=action, subject_ref=subject_ref,
                                  purpose=purpose, details=details)

    async def verify_audit(self, conn: AsyncConnection) -> ChainReport:
        return await audit.verify_chain(conn, m.audit_log)

    async def add_event(self, conn: AsyncConnection, subject: str, message: outbox.Message) -> int:
        return await outbox.add_event(conn, m.outbox, subject, message)
