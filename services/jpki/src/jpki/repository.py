"""All SQL of the JPKI service: `CaStore`, bound to one unit of work opened by the boundary (gRPC method, HTTP
snapshot refresh, event handler, CLI command, background tick). Methods take explicit values and return records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from mynumber_runtime import audit, outbox
from mynumber_runtime.anchor import AnchorLookup
from mynumber_runtime.db import Store
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jpki import models as m
from jpki.errors import IdempotencyKeyInFlight, WeakKey
from jpki.records import (
    AuditReport,
    CaRecord,
    CertificateRecord,
    CrlEntryRecord,
    CrlRecord,
    OcspDue,
    OcspResponseRecord,
    OcspSignerRecord,
    PartitionRecord,
    PendingCertificate,
    PublishedOcsp,
    VerifierRecord,
)

R = TypeVar("R")
# What a unit of work is opened on (the event boundary gets one from the idempotent consumer).
Connection = AsyncConnection
Engine = AsyncEngine


def _all(record: type[R], rows: Sequence[sa.Row[Any]] | Sequence[Any]) -> list[R]:
    return [record(**r._mapping) for r in rows]


def _one(record: type[R], row: sa.Row[Any] | None) -> R | None:
    return None if row is None else record(**row._mapping)


class CaStore(Store):
    # --- metrics (one grouped count every refresh interval, never per scrape: mynumber_runtime.metrics) --------
    async def count_certificates(self) -> dict[tuple[str, str], int]:
        """Certificates by (CA kind, status): pending, good, hold, revoked, failed."""
        c = m.certificates
        rows = (await self.conn.execute(sa.select(c.c.ca_kind, c.c.status, sa.func.count())
                                        .group_by(c.c.ca_kind, c.c.status))).all()
        return {(str(kind), str(status)): int(n) for kind, status, n in rows}

    # --- CAs and responders ---------------------------------------------------------------------------------
    async def add_ca(self, *, kind: str, generation: int, serial_hex: str, cert_der: bytes, key_label: str,
                     at: dt.datetime) -> None:
        await self.conn.execute(sa.update(m.cas).where(m.cas.c.kind == kind).values(active=False))
        await self.conn.execute(sa.insert(m.cas).values(kind=kind, generation=generation, serial_hex=serial_hex,
                                                        cert_der=cert_der, key_label=key_label, active=True,
                                                        created_at=at))

    async def active_cas(self) -> list[CaRecord]:
        return _all(CaRecord, (await self.conn.execute(sa.select(m.cas).where(m.cas.c.active))).all())

    async def all_cas(self, kind: str) -> list[CaRecord]:
        return _all(CaRecord, (await self.conn.execute(sa.select(m.cas).where(m.cas.c.kind == kind))).all())

    async def next_generation(self, kind: str) -> int:
        cur = (await self.conn.execute(sa.select(sa.func.max(m.cas.c.generation)).where(m.cas.c.kind == kind))
               ).scalar()
        return int(cur or 0) + 1

    async def add_ocsp_signer(self, *, ca_kind: str, cert_der: bytes, key_label: str, not_before: dt.datetime,
                              not_after: dt.datetime) -> int:
        return int((await self.conn.execute(sa.insert(m.ocsp_signers).values(
            ca_kind=ca_kind, cert_der=cert_der, key_label=key_label, not_before=not_before, not_after=not_after)
            .returning(m.ocsp_signers.c.id))).scalar_one())

    async def current_ocsp_signers(self) -> list[OcspSignerRecord]:
        """The newest responder certificate of each CA."""
        t = m.ocsp_signers
        newest = sa.select(t.c.ca_kind, sa.func.max(t.c.id).label("id")).group_by(t.c.ca_kind).subquery()
        return _all(OcspSignerRecord, (await self.conn.execute(sa.select(t).join(newest, t.c.id == newest.c.id))
                                       ).all())

    # --- certificates ---------------------------------------------------------------------------------------
    async def modulus_known(self, modulus_hash: bytes) -> bool:
        return (await self.conn.execute(sa.select(sa.literal(1)).where(
            m.certificates.c.modulus_hash == modulus_hash))).first() is not None

    async def ensure_partition(self, *, ca_kind: str, code: str, prefecture: str, municipality: str) -> None:
        await self.conn.execute(insert(m.partitions).values(
            ca_kind=ca_kind, municipality_code=code, prefecture_name=prefecture, municipality_name=municipality)
            .on_conflict_do_nothing())

    async def partitions(self, ca_kind: str) -> list[PartitionRecord]:
        q = sa.select(m.partitions).where(m.partitions.c.ca_kind == ca_kind)
        return _all(PartitionRecord, (await self.conn.execute(q)).all())

    async def partition(self, ca_kind: str, code: str) -> PartitionRecord | None:
        return _one(PartitionRecord, (await self.conn.execute(sa.select(m.partitions).where(
            m.partitions.c.ca_kind == ca_kind, m.partitions.c.municipality_code == code))).first())

    async def record_pending(self, p: PendingCertificate) -> None:
        try:
            await self._insert_pending(p)
        except sa.exc.IntegrityError as e:
            # A concurrent call recorded the same key or card key first (this insert waited for its commit; either
            # unique constraint may fire first). Under an idempotency key the caller retries and then gets that
            # certificate (or, for another request, the refusal); without one the card key is simply repeated.
            taken = str(e.orig)
            if p.idempotency_key is not None and ("uq_certificates_idempotency_key" in taken
                                                  or "uq_certificates_modulus_hash" in taken):
                raise IdempotencyKeyInFlight() from e
            if "uq_certificates_modulus_hash" in taken:
                raise WeakKey("public_key", "this key was certified before (repeated modulus)") from e
            raise

    async def _insert_pending(self, p: PendingCertificate) -> None:
        await self.conn.execute(sa.insert(m.certificates).values(
            ca_kind=p.ca_kind, serial_hex=p.serial_hex, status=m.PENDING, card_id=p.card_id, holder_ref=p.holder_ref,
            municipality_code=p.municipality_code, subject_id=p.subject_id, modulus_hash=p.modulus_hash,
            not_before=p.not_before, not_after=p.not_after, request_sealed=p.request_sealed, tbs_der=p.tbs_der,
            status_changed_at=p.at, created_at=p.at, idempotency_key=p.idempotency_key,
            request_digest=p.request_digest))

    async def certificate_by_key(self, idempotency_key: str) -> CertificateRecord | None:
        """The certificate recorded under an idempotency key, locked: a concurrent retry waits for this one."""
        q = sa.select(m.certificates).where(m.certificates.c.idempotency_key == idempotency_key).with_for_update()
        return _one(CertificateRecord, (await self.conn.execute(q)).first())

    async def mark_issued(self, ca_kind: str, serial_hex: str, cert_der: bytes, at: dt.datetime) -> None:
        await self.conn.execute(sa.update(m.certificates).where(
            m.certificates.c.ca_kind == ca_kind, m.certificates.c.serial_hex == serial_hex,
            m.certificates.c.status == m.PENDING).values(status=m.GOOD, cert_der=cert_der, status_changed_at=at))

    async def mark_failed(self, ca_kind: str, serial_hex: str, at: dt.datetime) -> None:
        await self.conn.execute(sa.update(m.certificates).where(
            m.certificates.c.ca_kind == ca_kind, m.certificates.c.serial_hex == serial_hex,
            m.certificates.c.status == m.PENDING).values(status=m.FAILED, status_changed_at=at))

    async def certificate(self, ca_kind: str, serial_hex: str, *, for_update: bool = False
                          ) -> CertificateRecord | None:
        q = sa.select(m.certificates).where(m.certificates.c.ca_kind == ca_kind,
                                            m.certificates.c.serial_hex == serial_hex)
        if for_update:
            q = q.with_for_update()
        return _one(CertificateRecord, (await self.conn.execute(q)).first())

    async def certificates_of_card(self, card_id: str, *, for_update: bool = False) -> list[CertificateRecord]:
        q = sa.select(m.certificates).where(m.certificates.c.card_id == card_id).order_by(m.certificates.c.created_at)
        if for_update:
            q = q.with_for_update()
        return _all(CertificateRecord, (await self.conn.execute(q)).all())

    async def live_certificates_of_holder(self, holder_ref: bytes, ca_kind: str) -> list[CertificateRecord]:
        c = m.certificates.c
        return _all(CertificateRecord, (await self.conn.execute(sa.select(m.certificates).where(
            c.holder_ref == holder_ref, c.ca_kind == ca_kind, c.status.in_([m.GOOD, m.HOLD])).with_for_update()
        )).all())

    async def list_certificates(self, *, ca_kind: str | None, municipality_code: str | None, card_id: str | None,
                                status: str | None, issued_from: dt.datetime | None,
                                issued_before: dt.datetime | None, after: tuple[str, str] | None, limit: int
                                ) -> list[CertificateRecord]:
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
        return _all(CertificateRecord, (await self.conn.execute(q.order_by(c.ca_kind, c.serial_hex).limit(limit))
                                        ).all())

    async def set_revoked(self, ca_kind: str, serial_hex: str, *, status: str, revoked_at: dt.datetime,
                          reason_code: int, cause: str, at: dt.datetime) -> None:
        """Hold or revoke (the caller moved the status through jpki.states)."""
        await self.conn.execute(sa.update(m.certificates).where(
            m.certificates.c.ca_kind == ca_kind, m.certificates.c.serial_hex == serial_hex).values(
            status=status, revoked_at=revoked_at, reason_code=reason_code, revocation_cause=cause,
            status_changed_at=at))

    async def set_released(self, ca_kind: str, serial_hex: str, *, status: str, at: dt.datetime) -> None:
        """A hold released: the certificate is good again (its revocation fields stay as history)."""
        await self.conn.execute(sa.update(m.certificates).where(
            m.certificates.c.ca_kind == ca_kind, m.certificates.c.serial_hex == serial_hex).values(
            status=status, hold_released_at=at, status_changed_at=at))

    async def revoked_in_partition(self, ca_kind: str, code: str, *, not_expired_at: dt.datetime,
                                   changed_after: dt.datetime | None = None) -> list[CrlEntryRecord]:
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
        return _all(CrlEntryRecord, (await self.conn.execute(q)).all())

    # --- OCSP responses -------------------------------------------------------------------------------------
    async def upsert_ocsp_response(self, r: OcspResponseRecord) -> None:
        values = {"ca_kind": r.ca_kind, "serial_hex": r.serial_hex, "der": r.der, "good": r.good,
                  "revoked_at": r.revoked_at, "reason_code": r.reason_code, "signer_id": r.signer_id,
                  "this_update": r.this_update, "next_update": r.next_update, "updated_at": r.this_update}
        stmt = insert(m.ocsp_responses).values(values)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["ca_kind", "serial_hex"],
            set_={k: stmt.excluded[k] for k in values if k not in ("ca_kind", "serial_hex")}))

    async def ocsp_due(self, *, before: dt.datetime, signer_ids: Sequence[int], limit: int) -> list[OcspDue]:
        """Responses that expire soon or were signed by a retired responder certificate."""
        r, c = m.ocsp_responses.c, m.certificates.c
        q = (sa.select(r.ca_kind, r.serial_hex, c.status, c.revoked_at, c.reason_code)
             .join(m.certificates, sa.and_(c.ca_kind == r.ca_kind, c.serial_hex == r.serial_hex))
             .where(sa.or_(r.next_update < before, r.signer_id.not_in(list(signer_ids))))
             .order_by(r.next_update).limit(limit))
        return _all(OcspDue, (await self.conn.execute(q)).all())

    async def ocsp_changed_since(self, since: dt.datetime | None) -> list[PublishedOcsp]:
        r = m.ocsp_responses.c
        q = sa.select(r.ca_kind, r.serial_hex, r.der, r.good, r.revoked_at, r.reason_code, r.updated_at)
        if since is not None:
            q = q.where(r.updated_at > since)
        return _all(PublishedOcsp, (await self.conn.execute(q)).all())

    # --- CRLs -----------------------------------------------------------------------------------------------
    async def next_crl_number(self) -> int:
        return int((await self.conn.execute(sa.select(m.crl_number_seq.next_value()))).scalar_one())

    async def add_crl(self, *, ca_kind: str, partition: str, number: int, delta: bool, base_number: int | None,
                      this_update: dt.datetime, next_update: dt.datetime, der: bytes) -> None:
        await self.conn.execute(sa.insert(m.crls).values(
            ca_kind=ca_kind, partition=partition, number=number, delta=delta, base_number=base_number,
            this_update=this_update, next_update=next_update, der=der))

    async def latest_crl(self, ca_kind: str, partition: str, delta: bool) -> CrlRecord | None:
        c = m.crls.c
        return _one(CrlRecord, (await self.conn.execute(sa.select(m.crls).where(
            c.ca_kind == ca_kind, c.partition == partition, c.delta == delta).order_by(c.number.desc()).limit(1)
        )).first())

    async def latest_crls_since(self, since_id: int) -> list[CrlRecord]:
        c = m.crls.c
        return _all(CrlRecord, (await self.conn.execute(sa.select(m.crls).where(c.id > since_id).order_by(c.id))
                                ).all())

    # --- verifiers ------------------------------------------------------------------------------------------
    async def add_verifier(self, *, id: str, kind: str, organization: str, filing_ref: str, token_hash: bytes,
                           by: str, at: dt.datetime) -> None:
        await self.conn.execute(sa.insert(m.verifiers).values(
            id=id, kind=kind, organization=organization, filing_ref=filing_ref, token_hash=token_hash,
            registered_by=by, registered_at=at, updated_at=at))

    async def verifier(self, verifier_id: str) -> VerifierRecord | None:
        return _one(VerifierRecord, (await self.conn.execute(sa.select(m.verifiers).where(
            m.verifiers.c.id == verifier_id))).first())

    async def deregister_verifier(self, verifier_id: str, at: dt.datetime) -> bool:
        res = await self.conn.execute(sa.update(m.verifiers).where(
            m.verifiers.c.id == verifier_id, m.verifiers.c.deregistered_at.is_(None)).values(
            deregistered_at=at, updated_at=at))
        return bool(res.rowcount)

    async def verifiers(self, *, include_deregistered: bool = True) -> list[VerifierRecord]:
        q = sa.select(m.verifiers).order_by(m.verifiers.c.registered_at)
        if not include_deregistered:
            q = q.where(m.verifiers.c.deregistered_at.is_(None))
        return _all(VerifierRecord, (await self.conn.execute(q)).all())

    # --- audit and events -----------------------------------------------------------------------------------
    async def audit(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str,
                    details: Mapping[str, object] | None = None, purpose: str = "jpki") -> int:
        return await audit.append(self.conn, m.audit_log, at=at, actor=actor, action=action,
                                  subject_ref=subject_ref, purpose=purpose, details=details)

    async def verify_audit(self, anchors: AnchorLookup | None = None) -> AuditReport:
        rep = await audit.verify_anchored(self.conn, m.audit_log, anchors)
        return AuditReport(rep.ok, rep.entries, rep.first_bad_seq, rep.problem, rep.anchored_seq, rep.note)

    async def add_event(self, subject: str, message: outbox.Message) -> int:
        return await outbox.add_event(self.conn, m.outbox, subject, message)
