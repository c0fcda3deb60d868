"""Issuance (Boulder's cycle): check the request and the card key, lint the precertificate, record the pending
certificate, sign it in the HSM, then mark it issued with its first OCSP response, audit record and event."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from mynumber_codes.eras import FIRST_DAY
from mynumber_runtime.clock import JST
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from jpki import events, ocsp, profiles, validity
from jpki import models as m
from jpki import validation as v
from jpki.authority import Authorities
from jpki.domain import Issued, IssueRequest, Tuning, new_serial, serial_hex
from jpki.errors import FailedPrecondition, InvalidArgument, PermissionDenied, WeakKey
from jpki.keycheck import load_card_key
from jpki.ports import CaStorePort
from jpki.profiles import CaKind
from jpki.records import PendingCertificate

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
            tbs_der=precert.public_bytes(Encoding.DER), at=now))
        await store.audit(at=now, actor=actor, action="issuance.recorded", subject_ref=sh,
                          details={"ca": req.kind, "card_id": req.card_id, "basis": basis,
                                   "municipality_code": req.partition.municipality_code})
        # Committed before the HSM signs: a signed certificate must never exist without its pending record (a
        # crash or a failed commit after signing would otherwise leave a certificate the CA knows nothing of).
        await store.checkpoint()
        good = ocsp.Status(good=True)
        try:
            cert = await asyncio.to_thread(builder.sign, auth.key, hashes.SHA256())
            if cert.tbs_certificate_bytes != precert.tbs_certificate_bytes:
                raise RuntimeError("signed TBS differs from the linted TBS")
            response = await asyncio.to_thread(cas.sign_status, req.kind, serial, good, now)
        except Exception:
            await store.mark_failed(req.kind, sh, now)
            await store.audit(at=now, actor=actor, action="issuance.failed", subject_ref=sh,
                              details={"ca": req.kind})
            # The failure is recorded although the error below rolls the unit back.
            await store.checkpoint()
            raise
        der = cert.public_bytes(Encoding.DER)
        await store.mark_issued(req.kind, sh, der, now)
        await cas.store_status(store, req.kind, sh, response, good, now)
        await store.audit(at=now, actor=actor, action="certificate.issued", subject_ref=sh,
                          details={"ca": req.kind, "card_id": req.card_id, "not_after": not_after.isoformat(),
                                   "sha256": hashlib.sha256(der).hexdigest()})
        await store.add_event(*events.certificate_issued(req.kind, serial, req.card_id,
                                                         req.partition.municipality_code, now, not_after))
        return Issued(req.kind, serial, der, not_before, not_after)


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
    }, ensure_ascii=False).encode()
