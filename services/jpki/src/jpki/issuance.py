"""Issuance (Boulder's cycle): check the request and the card key, lint the precertificate, record the pending
certificate, sign it in the HSM, then mark it issued with its first OCSP response, audit record and event."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from mynumber_codes.eras import FIRST_DAY
from mynumber_runtime.clock import JST
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from jpki import events, ocsp, profiles, states, validity
from jpki import models as m
from jpki import validation as v
from jpki.authority import Authorities
from jpki.domain import (
    REASON_CODES,
    REASON_FOR,
    Issued,
    IssueRequest,
    RevocationCause,
    Tuning,
    new_serial,
    serial_hex,
)
from jpki.errors import FailedPrecondition, IdempotencyKeyReused, InvalidArgument, PermissionDenied, WeakKey
from jpki.keycheck import load_card_key
from jpki.ports import CaStorePort
from jpki.profiles import CaKind
from jpki.records import CertificateRecord, PendingCertificate
from jpki.states import Move

# Issuance is the card flow's, never a municipality's own call: the card centre (service:issuance) or operators.
ISSUE_BASES = (Basis.SERVICE_ROLE, Basis.OPERATOR)


def validate(req: IssueRequest, now: dt.datetime) -> None:
    v.validate_card_id(req.card_id)
    v.validate_resident_code(req.resident_code, "resident_code")
    req.partition.validate()
    v.validate_der(req.public_key_der, "public_key", max_bytes=v.MAX_KEY_DER, required=False)
    v.validate_der(req.csr_der, "csr", max_bytes=v.MAX_CSR_DER, required=False)
    today = now.astimezone(JST).date()
    if not FIRST_DAY <= req.birth_date <= today:
        raise InvalidArgument("birth_date", "must lie between 1868-10-23 and today")
    if req.card_expiry <= today:
        raise InvalidArgument("card_expiry", "must be a day after today (no certificate outlives the card)")
    if req.kind is CaKind.SIGN:
        if req.facts is None:
            raise InvalidArgument("facts", "the 署名用 certificate carries the 4 basic facts: they are required")
        req.facts.validate(today)
        if req.facts.birth_date != req.birth_date:
            raise InvalidArgument("facts.birth_date", "must equal birth_date")
        # 署名用 is not issued to persons under 15, nor (in principle) to 成年被後見人 (domain.md §4.4).
        if validity.age_on(req.birth_date, today) < validity.MIN_AGE_SIGN:
            raise FailedPrecondition("birth_date: no 署名用 certificate for a person under 15", reason="UNDER_15")
        if req.adult_ward:
            raise FailedPrecondition("adult_ward: no 署名用 certificate for a 成年被後見人", reason="ADULT_WARD")
    elif req.facts is not None:
        raise InvalidArgument("facts", "the 利用者証明用 certificate carries no basic facts: leave them out")


@dataclass
class Issuance:
    authorities: Authorities
    sealer: FieldSealer
    holder_hash: KeyedHash
    urls: profiles.Urls

    @property
    def tuning(self) -> Tuning:
        return self.authorities.tuning

    async def issue(self, store: CaStorePort, req: IssueRequest, *, caller: Caller) -> Issued:
        cas = self.authorities
        now = cas.now()
        validate(req, now)
        basis = grant(caller, Holding(req.partition.municipality_code), permits=ISSUE_BASES,
                      unknown=lambda: PermissionDenied("municipality_code: the caller may not issue certificates "
                                                       "for this municipality"))
        actor = str(caller)
        card_key = load_card_key(public_key_der=req.public_key_der, csr_der=req.csr_der)
        digest = None
        if req.idempotency_key is not None:
            digest = self.request_digest(req, card_key.public_key)
            earlier = await store.certificate_by_key(req.idempotency_key)
            if earlier is not None:
                return await self._again(store, earlier, digest, req, actor=actor)
        auth = cas.authority(req.kind)
        holder = self.holder_hash(req.resident_code.encode())
        cap = None
        if await store.modulus_known(card_key.modulus_hash):
            raise WeakKey("public_key", "this key was certified before (repeated modulus)")
        if req.kind is CaKind.SIGN:
            # The signing certificate never outlives the authentication certificate (domain.md §4.4).
            live_auth = [r for r in await store.certificates_of_card(req.card_id)
                         if r.ca_kind == CaKind.AUTH and r.status in (m.GOOD, m.HOLD)]
            if not live_auth:
                raise FailedPrecondition("card_id: issue the 利用者証明用 certificate of this card first",
                                         reason="NO_AUTH_CERTIFICATE")
            cap = max(r.not_after for r in live_auth)
        not_after = validity.certificate_not_after(issued_at=now, birth_date=req.birth_date,
                                                   card_expiry=req.card_expiry, cap=cap)
        serial = new_serial()
        not_before = validity.end_entity_not_before(now, auth.cert)
        builder = profiles.end_entity_certificate(
            kind=req.kind, ca_cert=auth.cert, public_key=card_key.public_key, serial=serial, not_before=not_before,
            not_after=not_after, partition=req.partition, subject_id=secrets.token_hex(10).upper(),
            facts=req.facts, policy_critical=True if req.kind is CaKind.SIGN else self.tuning.auth_policy_critical,
            ocsp_url=self.urls.ocsp() if self.tuning.include_ocsp_url else None)
        precert = await asyncio.to_thread(cas.linter.precertificate, builder)
        sh = serial_hex(serial)
        try:
            # Off the event loop (pkilint takes ~12 ms): the same loop serves OCSP and CRLs over HTTP.
            await asyncio.to_thread(cas.linter.check_certificate, precert, kind=req.kind)
        except Exception as exc:
            await store.audit(at=now, actor=actor, action="issuance.refused", subject_ref=sh,
                              details={"ca": req.kind, "why": getattr(exc, "reason", type(exc).__name__)})
            # The refusal stays on record although the error below rolls the unit back.
            await store.checkpoint()
            raise
        # Record the serial and the request before signing (Boulder's issuance cycle): even after a crash the
        # CA knows what it planned to sign.
        await store.ensure_partition(ca_kind=req.kind, code=req.partition.municipality_code,
                                     prefecture=req.partition.prefecture, municipality=req.partition.municipality)
        await store.record_pending(PendingCertificate(
            ca_kind=req.kind, serial_hex=sh, card_id=req.card_id, holder_ref=holder,
            municipality_code=req.partition.municipality_code, subject_id=precert.subject.rfc4514_string(),
            modulus_hash=card_key.modulus_hash, not_before=not_before, not_after=not_after,
            request_sealed=self.sealer.seal(request_json(req), b"jpki.certificates.request_sealed"),
            tbs_der=precert.public_bytes(Encoding.DER), at=now, idempotency_key=req.idempotency_key,
            request_digest=digest))
        await store.audit(at=now, actor=actor, action="issuance.recorded", subject_ref=sh,
                          details={"ca": req.kind, "card_id": req.card_id, "basis": basis,
                                   "municipality_code": req.partition.municipality_code,
                                   "on_hold": req.on_hold, "idempotent": req.idempotency_key is not None})
        # Committed before the HSM signs: a signed certificate must never exist without its pending record (a
        # crash or a failed commit after signing would otherwise leave a certificate the CA knows nothing of).
        await store.checkpoint()
        # Sign only while holding the pending row's lock: a retry under the same idempotency key that arrived
        # since the commit above either waits for this unit, or got the lock first and signed (then this call
        # answers what it issued). Never two signatures for one record.
        row = await store.certificate(req.kind, sh, for_update=True)
        if row is None or row.status != m.PENDING:
            assert row is not None and digest is not None
            return await self._again(store, row, digest, req, actor=actor)
        return await self._sign(store, row, builder, precert, on_hold=req.on_hold, actor=actor)

    def request_digest(self, req: IssueRequest, public_key: rsa.RSAPublicKey) -> bytes:
        """A keyed digest of what an idempotent request asks for (the card key as its SubjectPublicKeyInfo, so a
        CSR re-made by the same card key is the same request). Keyed: the request holds the 住民票コード and the 4
        facts, which a plain hash would let anyone with the certificate guess."""
        f = req.facts
        body = {
            "kind": req.kind.value, "card_id": req.card_id, "resident_code": req.resident_code,
            "partition": [req.partition.municipality_code, req.partition.prefecture, req.partition.municipality],
            "birth_date": req.birth_date.isoformat(), "card_expiry": req.card_expiry.isoformat(),
            "public_key": public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo).hex(),
            "facts": None if f is None else [f.name, f.birth_date.isoformat(), f.sex, f.address,
                                             f.name_substitutes, f.address_substitutes],
            "adult_ward": req.adult_ward, "on_hold": req.on_hold,
        }
        return self.holder_hash(b"jpki.issue.request:" + json.dumps(body, sort_keys=True, ensure_ascii=False).encode())

    async def _again(self, store: CaStorePort, row: CertificateRecord, digest: bytes, req: IssueRequest, *,
                     actor: str) -> Issued:
        """A request under an idempotency key already recorded: the same request gets the certificate issued
        for it (signing it now if the first call stopped between its record and its signature); another request
        is refused."""
        if row.request_digest is None or not hmac.compare_digest(row.request_digest, digest):
            raise IdempotencyKeyReused()
        kind, sh = CaKind(row.ca_kind), row.serial_hex
        if row.status == m.FAILED:
            raise FailedPrecondition("idempotency_key: the issuance under this key failed; certify a new card key "
                                     "under a new key", reason="IDEMPOTENT_ISSUANCE_FAILED")
        if row.status == m.PENDING:
            # Recorded, never signed (the first call's process died, or its signature failed to commit): sign the
            # recorded to-be-signed certificate now. The precertificate carries exactly the TBS that was linted.
            precert = x509.load_der_x509_certificate(row.tbs_der)
            await store.audit(at=self.authorities.now(), actor=actor, action="issuance.resumed", subject_ref=sh,
                              details={"ca": kind, "card_id": row.card_id})
            return await self._sign(store, row, builder_of(precert), precert, on_hold=req.on_hold, actor=actor)
        assert row.cert_der is not None
        await store.audit(at=self.authorities.now(), actor=actor, action="issuance.replayed", subject_ref=sh,
                          details={"ca": kind, "card_id": row.card_id, "status": row.status})
        return Issued(kind, int(sh, 16), row.cert_der, row.not_before, row.not_after, status=row.status,
                      replayed=True)

    async def _sign(self, store: CaStorePort, row: CertificateRecord, builder: x509.CertificateBuilder,
                    precert: x509.Certificate, *, on_hold: bool, actor: str) -> Issued:
        """Sign a recorded pending certificate whose row this unit holds locked; mark it issued (on hold if
        asked), with its pre-produced OCSP response, audit entries and events."""
        cas = self.authorities
        kind, sh = CaKind(row.ca_kind), row.serial_hex
        serial = int(sh, 16)
        now = cas.now()
        auth = cas.authority(kind)
        # Issued on hold: the first OCSP answer already says certificateHold, so no moment exists in which the
        # certificate of a card not yet handed over is good.
        status = (ocsp.Status(False, now, REASON_FOR[RevocationCause.SUSPENSION]) if on_hold
                  else ocsp.Status(good=True))
        try:
            cert = await asyncio.to_thread(builder.sign, auth.key, hashes.SHA256())
            if cert.tbs_certificate_bytes != precert.tbs_certificate_bytes:
                raise RuntimeError("signed TBS differs from the linted TBS")
            response = await asyncio.to_thread(cas.sign_status, kind, serial, status, now)
        except Exception:
            await store.mark_failed(kind, sh, now)
            await store.audit(at=now, actor=actor, action="issuance.failed", subject_ref=sh, details={"ca": kind})
            # The failure is recorded although the error below rolls the unit back.
            await store.checkpoint()
            raise
        der = cert.public_bytes(Encoding.DER)
        await store.mark_issued(kind, sh, der, now)
        await cas.store_status(store, kind, sh, response, status, now)
        await store.audit(at=now, actor=actor, action="certificate.issued", subject_ref=sh,
                          details={"ca": kind, "card_id": row.card_id, "not_after": row.not_after.isoformat(),
                                   "sha256": hashlib.sha256(der).hexdigest(), "on_hold": on_hold})
        await store.add_event(*events.certificate_issued(kind, serial, row.card_id, row.municipality_code, now,
                                                         row.not_after))
        final = m.GOOD
        if on_hold:
            final = states.move(m.GOOD, Move.HOLD)
            code = REASON_CODES[REASON_FOR[RevocationCause.SUSPENSION]]
            await store.set_revoked(kind, sh, status=final, revoked_at=now, reason_code=code,
                                    cause=RevocationCause.SUSPENSION.value, at=now)
            await store.audit(at=now, actor=actor, action="certificate.held", subject_ref=sh,
                              details={"ca": kind, "cause": RevocationCause.SUSPENSION.value, "basis": "issued_on_hold",
                                       "reason_code": code})
            await store.add_event(*events.certificate_revoked(kind, serial, row.card_id,
                                                              RevocationCause.SUSPENSION.value, now, True))
        return Issued(kind, serial, der, row.not_before, row.not_after, status=final)


def builder_of(precert: x509.Certificate) -> x509.CertificateBuilder:
    """The builder of a recorded precertificate: the same names, key, serial, validity and extensions in the same
    order, so its signed TBS is the linted one (checked again after signing)."""
    b = (x509.CertificateBuilder().subject_name(precert.subject).issuer_name(precert.issuer)
         .public_key(precert.public_key()).serial_number(precert.serial_number)  # type: ignore[arg-type]
         .not_valid_before(precert.not_valid_before_utc).not_valid_after(precert.not_valid_after_utc))
    for ext in precert.extensions:
        b = b.add_extension(ext.value, critical=ext.critical)
    return b


def request_json(req: IssueRequest) -> bytes:
    """The issuance request as recorded (sealed) before signing."""
    f = req.facts
    return json.dumps({
        "kind": req.kind.value, "card_id": req.card_id, "resident_code": req.resident_code,
        "municipality_code": req.partition.municipality_code, "birth_date": req.birth_date.isoformat(),
        "card_expiry": req.card_expiry.isoformat(), "public_key": req.public_key_der.hex(), "csr": req.csr_der.hex(),
        "facts": None if f is None else {"name": f.name, "birth_date": f.birth_date.isoformat(), "sex": f.sex,
                                         "address": f.address, "name_substitutes": f.name_substitutes,
                                         "address_substitutes": f.address_substitutes},
        "idempotency_key": req.idempotency_key, "on_hold": req.on_hold,
    }, ensure_ascii=False).encode()
