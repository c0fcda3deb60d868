"""The rules of the JPKI CAs: issuance (Boulder's cycle: check, lint, record, sign, store), revocation and holds,
CRL generation, OCSP response production, verifier registration, and the audit trail of all of it.

No proto and no SQL here: the repository holds the SQL, grpc_api and events translate to and from proto.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from mynumber_codes.eras import FIRST_DAY
from mynumber_runtime.clock import JST, Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant
from sqlalchemy.ext.asyncio import AsyncConnection

from jpki import crl as crlmod
from jpki import events, ocsp, profiles, states
from jpki import models as m
from jpki import validation as v
from jpki.errors import (
    CardNotFound,
    CertificateNotFound,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    WeakKey,
)
from jpki.hsm import Hsm, HsmError, HsmRsaKey
from jpki.keycheck import load_card_key
from jpki.lint import Linter
from jpki.profiles import CaKind
from jpki.repository import JpkiRepository, Row
from jpki.states import Move

log = logging.getLogger(__name__)

SYSTEM = "service:jpki"

# Tenancy (runtime `tenancy.grant`): on whose behalf a caller may read or change a person's certificates. A
# certificate is held by the municipality named in it (its CRL partition: the 住所地 where it was issued).
# - municipality:<code>: only certificates of its own residents (OWN_REGISTER), as the 住所地市町村長 through whom
#   the holder asks for revocation (公的個人認証法 第9条・第28条) or for resumption after a found card.
#   No 住基法 第30条の10 provision here: that covers 本人確認情報, not certificates.
# - service:<id> named in the allow-list (SERVICE_ROLE): the card centre's issuance service, which acts for every
#   municipality in the card flows; the allow-list, not this rule, keeps other services out.
# - operator:<id> (OPERATOR): J-LIS staff (the 24-hour suspension line, ex officio revocation).
# "Not yours" raises exactly what "no such certificate/card" raises: the refusal is no existence oracle.
PERSON_BASES = (Basis.OWN_REGISTER, Basis.SERVICE_ROLE, Basis.OPERATOR)
# Issuance is the card flow's, never a municipality's own call: the card centre (service:issuance) or operators.
ISSUE_BASES = (Basis.SERVICE_ROLE, Basis.OPERATOR)


class RevocationCause(enum.StrEnum):
    """Why a certificate is revoked (domain.md §4.4 'Other revocation'), and the RFC 5280 reason each carries."""

    LOSS_OR_COMPROMISE = "loss_or_compromise"  # 紛失・鍵の危殆化
    HOLDER_REQUEST = "holder_request"  # 本人の失効申請
    DEATH = "death"  # 死亡
    RECORD_ERROR = "record_error"  # 記録誤り (ex officio by the CA)
    SUSPENSION = "suspension"  # 一時利用停止: certificateHold, removable
    FACTS_CHANGED = "facts_changed"  # 基本4情報の変更 (署名用 only, automatic)


# Causes only J-LIS itself asserts: a record error is corrected ex officio by the CA, and a change of the 4 facts
# comes from the resident register's event (events.facts_changed_handler); a municipality or the issuance service
# asks for loss, death, the holder's request or a suspension.
OPERATOR_ONLY_CAUSES = frozenset({RevocationCause.RECORD_ERROR, RevocationCause.FACTS_CHANGED})


REASON_FOR: dict[RevocationCause, x509.ReasonFlags] = {
    RevocationCause.LOSS_OR_COMPROMISE: x509.ReasonFlags.key_compromise,
    # RFC 5280 §5.3.1: unspecified means the reasonCode extension is left out.
    RevocationCause.HOLDER_REQUEST: x509.ReasonFlags.unspecified,
    RevocationCause.DEATH: x509.ReasonFlags.cessation_of_operation,
    RevocationCause.RECORD_ERROR: x509.ReasonFlags.superseded,
    RevocationCause.SUSPENSION: x509.ReasonFlags.certificate_hold,
    RevocationCause.FACTS_CHANGED: x509.ReasonFlags.affiliation_changed,
}
REASON_CODES: dict[x509.ReasonFlags, int] = {
    x509.ReasonFlags.unspecified: 0, x509.ReasonFlags.key_compromise: 1, x509.ReasonFlags.ca_compromise: 2,
    x509.ReasonFlags.affiliation_changed: 3, x509.ReasonFlags.superseded: 4,
    x509.ReasonFlags.cessation_of_operation: 5, x509.ReasonFlags.certificate_hold: 6,
    x509.ReasonFlags.remove_from_crl: 8, x509.ReasonFlags.privilege_withdrawn: 9, x509.ReasonFlags.aa_compromise: 10,
}
REASON_BY_CODE = {code: flag for flag, code in REASON_CODES.items()}

# Which CA's status a verifier may ask about (公的個人認証法 17条: 署名検証者; 36条: 利用者証明検証者).
VERIFIER_SCOPE: dict[str, frozenset[str]] = {
    "signature_verifier": frozenset({CaKind.SIGN.value}),
    "user_verifier": frozenset({CaKind.AUTH.value}),
    "platform_operator": frozenset({CaKind.SIGN.value, CaKind.AUTH.value}),
    "platform_service": frozenset({CaKind.SIGN.value, CaKind.AUTH.value}),
}


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class IssueRequest:
    kind: CaKind
    card_id: str  # the card's opaque identifier (not personal data)
    resident_code: str  # 住民票コード: only its keyed hash is kept, to find the holder's certificates
    partition: profiles.Partition
    birth_date: dt.date  # sizes the validity of both certificates (5th birthday)
    card_expiry: dt.date
    public_key_der: bytes = b""
    csr_der: bytes = b""
    facts: profiles.BasicFacts | None = None  # 署名用 only
    adult_ward: bool = False  # 成年被後見人: no 署名用 certificate (in principle, domain.md §4.4)


@dataclass(frozen=True)
class Issued:
    kind: CaKind
    serial: int
    cert_der: bytes
    not_before: dt.datetime
    not_after: dt.datetime


@dataclass(frozen=True)
class CertificateStatus:
    kind: CaKind
    serial: int
    status: str
    revoked_at: dt.datetime | None
    reason: x509.ReasonFlags | None
    cause: str | None
    not_after: dt.datetime
    cert_der: bytes | None


@dataclass(frozen=True)
class CertificateFilter:
    """An operator's selection of issued certificates (every given field must hold)."""

    kind: CaKind | None = None
    municipality_code: str | None = None
    card_id: str | None = None
    status: str | None = None
    issued_from: dt.datetime | None = None
    issued_before: dt.datetime | None = None


@dataclass(frozen=True)
class Listed:
    status: CertificateStatus
    card_id: str
    municipality_code: str
    issued_at: dt.datetime


@dataclass(frozen=True)
class Verifier:
    id: str
    kind: str
    organization: str
    filing_ref: str
    registered_at: dt.datetime
    deregistered_at: dt.datetime | None


@dataclass
class Authority:
    """A CA as the service uses it: certificate, HSM key, and its current delegated OCSP responder."""

    kind: CaKind
    cert: x509.Certificate
    key: HsmRsaKey
    signer_id: int = 0
    signer: ocsp.Signer | None = None


@dataclass
class Tuning:
    crl_validity: dt.timedelta = dt.timedelta(days=2)
    ocsp_validity: dt.timedelta = dt.timedelta(days=1)
    ocsp_signer_life: dt.timedelta = dt.timedelta(days=30)
    auth_policy_critical: bool = True
    include_ocsp_url: bool = False
    ca_validity_years: int = 10
    full_crl_interval: dt.timedelta = dt.timedelta(hours=1)
    delta_crl_interval: dt.timedelta = dt.timedelta(minutes=5)


def _serial() -> int:
    # 63 CSPRNG bits under a fixed top bit: unpredictable (the defence against chosen-prefix collisions), 64 bits
    # long (jpki.lint), at most 9 octets in DER: a client keeping serials in a 64-bit integer reads them. The real
    # J-LIS CA certificates carry small serials (1, 108816929); their end-entity serials are not public.
    return (1 << 63) | secrets.randbits(63)


@dataclass
class JpkiService:
    repo: JpkiRepository
    hsm: Hsm
    clock: Clock
    sealer: FieldSealer
    holder_hash: KeyedHash
    urls: profiles.Urls
    linter: Linter
    tuning: Tuning = field(default_factory=Tuning)
    authorities: dict[CaKind, Authority] = field(default_factory=dict)
    # Prepended to HSM key labels (several CA instances may share one test token).
    label_prefix: str = ""

    def now(self) -> dt.datetime:
        return self.clock.now().astimezone(dt.UTC).replace(microsecond=0)

    # --- key ceremony and start-up --------------------------------------------------------------------------
    async def ceremony(self, *, actor: str) -> list[CaKind]:
        """Create each CA that does not exist yet: key pair inside the HSM, self-signed certificate, audit."""
        made = []
        async with self.repo.begin() as conn:
            existing = {CaKind(r.kind) for r in await self.repo.active_cas(conn)}
        for kind in CaKind:
            if kind in existing:
                continue
            async with self.repo.begin() as conn:
                gen = await self.repo.next_generation(conn, kind)
                label = f"{self.label_prefix}jpki-{kind}-ca-{gen}"
                at = self.now()
                if await asyncio.to_thread(self.hsm.has_key, label):
                    # An interrupted ceremony generated this key but never certified it (its transaction rolled
                    # back): adopt it rather than leave the label blocked, if it never could have left the HSM.
                    if await asyncio.to_thread(self.hsm.is_extractable, label):
                        raise HsmError(f"the uncertified key {label!r} on the token is extractable: "
                                       "remove it by hand")
                    action = "key.adopted"
                else:
                    await asyncio.to_thread(self.hsm.generate_rsa, label)
                    action = "key.generated"
                await self.repo.audit(conn, at=at, actor=actor, action=action, subject_ref=label,
                                      details={"ca": kind, "token": self.hsm.token_label, "bits": 2048,
                                               "extractable": False})
                key = self.hsm.key(label)
                serial = _serial()
                end = profiles.ca_not_after(at, self.tuning.ca_validity_years)
                build = functools.partial(profiles.ca_certificate, kind=kind, serial=serial, not_before=at,
                                          not_after=end)
                builder = build(public_key=key.public_key())
                self.linter.check_certificate(self.linter.self_signed_precertificate(
                    lambda public_key: build(public_key=public_key)))  # noqa: B023 - called here, at once
                cert = await asyncio.to_thread(builder.sign, key, hashes.SHA256())
                der = cert.public_bytes(Encoding.DER)
                await self.repo.add_ca(conn, kind=kind, generation=gen, serial_hex=serial_hex(serial), cert_der=der,
                                       key_label=label, at=at)
                await self.repo.audit(conn, at=at, actor=actor, action="ca.certificate.created",
                                      subject_ref=serial_hex(serial),
                                      details={"ca": kind, "generation": gen,
                                               "sha256": hashlib.sha256(der).hexdigest()})
            made.append(kind)
        await self.load()
        await self.ensure_ocsp_signers(actor=actor)
        return made

    async def load(self) -> None:
        """Bind the active CAs and responders in the database to their HSM keys."""
        async with self.repo.begin() as conn:
            cas = await self.repo.active_cas(conn)
            signers = await self.repo.current_ocsp_signers(conn)
        for r in cas:
            kind = CaKind(r.kind)
            self.authorities[kind] = Authority(kind, x509.load_der_x509_certificate(r.cert_der),
                                               self.hsm.key(r.key_label))
        for s in signers:
            auth = self.authorities.get(CaKind(s.ca_kind))
            if auth is not None:
                auth.signer_id = int(s.id)
                auth.signer = ocsp.Signer(auth.cert, x509.load_der_x509_certificate(s.cert_der),
                                          self.hsm.key(s.key_label))

    def authority(self, kind: CaKind) -> Authority:
        auth = self.authorities.get(kind)
        if auth is None:
            raise FailedPrecondition(f"the {kind} CA has not been created (run the key ceremony)")
        return auth

    async def ensure_ocsp_signers(self, *, actor: str = SYSTEM, min_left: dt.timedelta = dt.timedelta(days=7)
                                  ) -> int:
        """Issue a fresh delegated responder certificate (key in the HSM) for each CA whose current one is missing
        or ends within `min_left`. Pre-produced responses signed by the old one are re-signed by the producer."""
        made = 0
        now = self.now()
        for kind, auth in self.authorities.items():
            if auth.signer is not None and auth.signer.responder_cert.not_valid_after_utc - now > min_left:
                continue
            label = f"{self.label_prefix}jpki-{kind}-ocsp-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
            info = await asyncio.to_thread(self.hsm.generate_rsa, label)
            builder = profiles.ocsp_signer_certificate(kind=kind, ca_cert=auth.cert, public_key=info.public_key,
                                                       serial=_serial(), not_before=now,
                                                       not_after=now + self.tuning.ocsp_signer_life)
            self.linter.check_certificate(self.linter.precertificate(builder))
            cert = await asyncio.to_thread(builder.sign, auth.key, hashes.SHA256())
            async with self.repo.begin() as conn:
                sid = await self.repo.add_ocsp_signer(conn, ca_kind=kind, cert_der=cert.public_bytes(Encoding.DER),
                                                      key_label=label, not_before=now,
                                                      not_after=cert.not_valid_after_utc)
                await self.repo.audit(conn, at=now, actor=actor, action="key.generated", subject_ref=label,
                                      details={"ca": kind, "purpose": "ocsp-signing", "extractable": False})
                await self.repo.audit(conn, at=now, actor=actor, action="ocsp.signer.issued",
                                      subject_ref=serial_hex(cert.serial_number), details={"ca": kind})
            auth.signer_id, auth.signer = sid, ocsp.Signer(auth.cert, cert, self.hsm.key(label))
            made += 1
        return made

    # --- issuance --------------------------------------------------------------------------------------------
    def _validate(self, req: IssueRequest, now: dt.datetime) -> None:
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
            if profiles.age_on(req.birth_date, today) < profiles.MIN_AGE_SIGN:
                raise FailedPrecondition("birth_date: no 署名用 certificate for a person under 15",
                                         reason="UNDER_15")
            if req.adult_ward:
                raise FailedPrecondition("adult_ward: no 署名用 certificate for a 成年被後見人", reason="ADULT_WARD")
        elif req.facts is not None:
            raise InvalidArgument("facts", "the 利用者証明用 certificate carries no basic facts: leave them out")

    async def issue(self, req: IssueRequest, *, caller: Caller) -> Issued:
        now = self.now()
        self._validate(req, now)
        basis = grant(caller, Holding(req.partition.municipality_code), permits=ISSUE_BASES,
                      unknown=lambda: PermissionDenied("municipality_code: the caller may not issue certificates "
                                                       "for this municipality"))
        actor = str(caller)
        card_key = load_card_key(public_key_der=req.public_key_der, csr_der=req.csr_der)
        auth = self.authority(req.kind)
        holder = self.holder_hash(req.resident_code.encode())
        cap = None
        async with self.repo.begin() as conn:
            if await self.repo.modulus_known(conn, card_key.modulus_hash):
                raise WeakKey("public_key", "this key was certified before (repeated modulus)")
            if req.kind is CaKind.SIGN:
                # The signing certificate never outlives the authentication certificate (domain.md §4.4).
                live_auth = [r for r in await self.repo.certificates_of_card(conn, req.card_id)
                             if r.ca_kind == CaKind.AUTH and r.status in (m.GOOD, m.HOLD)]
                if not live_auth:
                    raise FailedPrecondition("card_id: issue the 利用者証明用 certificate of this card first",
                                             reason="NO_AUTH_CERTIFICATE")
                cap = max(r.not_after for r in live_auth)
        not_after = profiles.certificate_not_after(issued_at=now, birth_date=req.birth_date,
                                                   card_expiry=req.card_expiry, cap=cap)
        serial = _serial()
        not_before = profiles.end_entity_not_before(now, auth.cert)
        builder = profiles.end_entity_certificate(
            kind=req.kind, ca_cert=auth.cert, public_key=card_key.public_key, serial=serial, not_before=not_before,
            not_after=not_after, partition=req.partition, subject_id=secrets.token_hex(10).upper(),
            facts=req.facts, policy_critical=True if req.kind is CaKind.SIGN else self.tuning.auth_policy_critical,
            ocsp_url=self.urls.ocsp() if self.tuning.include_ocsp_url else None)
        precert = await asyncio.to_thread(self.linter.precertificate, builder)
        sh = serial_hex(serial)
        try:
            # Off the event loop (pkilint takes ~12 ms): the same loop serves OCSP and CRLs over HTTP.
            await asyncio.to_thread(self.linter.check_certificate, precert, kind=req.kind)
        except Exception as exc:
            async with self.repo.begin() as conn:
                await self.repo.audit(conn, at=now, actor=actor, action="issuance.refused", subject_ref=sh,
                                      details={"ca": req.kind, "why": getattr(exc, "reason", type(exc).__name__)})
            raise
        # Record the serial and the request before signing (Boulder's issuance cycle): even after a crash the
        # CA knows what it planned to sign.
        async with self.repo.begin() as conn:
            await self.repo.ensure_partition(conn, ca_kind=req.kind, code=req.partition.municipality_code,
                                             prefecture=req.partition.prefecture,
                                             municipality=req.partition.municipality)
            await self.repo.record_pending(
                conn, ca_kind=req.kind, serial_hex=sh, card_id=req.card_id, holder_ref=holder,
                municipality_code=req.partition.municipality_code, subject_id=precert.subject.rfc4514_string(),
                modulus_hash=card_key.modulus_hash, not_before=not_before, not_after=not_after,
                request_sealed=self.sealer.seal(_request_json(req), b"jpki.certificates.request_sealed"),
                tbs_der=precert.public_bytes(Encoding.DER), status_changed_at=now, created_at=now)
            await self.repo.audit(conn, at=now, actor=actor, action="issuance.recorded", subject_ref=sh,
                                  details={"ca": req.kind, "card_id": req.card_id, "basis": basis,
                                           "municipality_code": req.partition.municipality_code})
        try:
            cert = await asyncio.to_thread(builder.sign, auth.key, hashes.SHA256())
            if cert.tbs_certificate_bytes != precert.tbs_certificate_bytes:
                raise RuntimeError("signed TBS differs from the linted TBS")
            response = await asyncio.to_thread(self._sign_ocsp, auth, serial, ocsp.Status(good=True), now)
        except Exception:
            async with self.repo.begin() as conn:
                await self.repo.mark_failed(conn, req.kind, sh, now)
                await self.repo.audit(conn, at=now, actor=actor, action="issuance.failed", subject_ref=sh,
                                      details={"ca": req.kind})
            raise
        der = cert.public_bytes(Encoding.DER)
        async with self.repo.begin() as conn:
            await self.repo.mark_issued(conn, req.kind, sh, der, now)
            await self._store_ocsp(conn, auth, sh, response, good=True, revoked_at=None, reason=None, at=now)
            await self.repo.audit(conn, at=now, actor=actor, action="certificate.issued", subject_ref=sh,
                                  details={"ca": req.kind, "card_id": req.card_id,
                                           "not_after": not_after.isoformat(),
                                           "sha256": hashlib.sha256(der).hexdigest()})
            await self.repo.add_event(conn, *events.certificate_issued(req.kind, serial, req.card_id,
                                                                       req.partition.municipality_code, now,
                                                                       not_after))
        return Issued(req.kind, serial, der, not_before, not_after)

    # --- status and revocation -------------------------------------------------------------------------------
    async def status(self, kind: CaKind, serial: int) -> CertificateStatus:
        """The standing of a certificate the caller presents (CheckCertificateStatus, OCSP's twin): revocation
        status is given to every registered verifier by law (公的個人認証法 17条・36条), whoever the holder is, so
        this is not a tenancy read; it returns no certificate."""
        async with self.repo.begin() as conn:
            row = await self.repo.certificate(conn, kind, serial_hex(serial))
        if row is None or row.status in (m.PENDING, m.FAILED):
            raise CertificateNotFound()
        return dataclasses.replace(_status_of(row), cert_der=None)

    @staticmethod
    def _granted(caller: Caller, row: Row | None) -> Basis:
        """The tenancy rule on one certificate row: pending/failed rows were never issued, so they are unknown."""
        holding = None if row is None or row.status in (m.PENDING, m.FAILED) else Holding(row.municipality_code)
        return grant(caller, holding, permits=PERSON_BASES, unknown=CertificateNotFound)

    async def certificate(self, kind: CaKind, serial: int, *, caller: Caller) -> CertificateStatus:
        """A certificate (the 署名用 one carries the 4 facts) and its status, for a caller that may read it."""
        async with self.repo.begin() as conn:
            row = await self.repo.certificate(conn, kind, serial_hex(serial))
        self._granted(caller, row)
        assert row is not None
        return _status_of(row)

    async def list_certificates(self, selection: CertificateFilter, *, caller: Caller, limit: int,
                                after: tuple[str, str] | None = None) -> tuple[list[Listed], tuple[str, str] | None]:
        """A page of issued certificates for a J-LIS operator (an incident's selection), and the key of the next
        page. Recorded in the audit log with the filter: who looked at which certificates, and why is theirs."""
        if caller.kind != "operator":
            raise PermissionDenied("only J-LIS operators list certificates")
        f = selection
        async with self.repo.begin() as conn:
            rows = await self.repo.list_certificates(
                conn, ca_kind=f.kind, municipality_code=f.municipality_code, card_id=f.card_id, status=f.status,
                issued_from=f.issued_from, issued_before=f.issued_before, after=after, limit=limit + 1)
            await self.repo.audit(conn, at=self.now(), actor=str(caller), action="certificates.listed",
                                  subject_ref="-", details={
                                      "ca": f.kind, "municipality_code": f.municipality_code, "card_id": f.card_id,
                                      "status": f.status, "page": len(rows[:limit]),
                                      "issued_from": f.issued_from.isoformat() if f.issued_from else None,
                                      "issued_before": f.issued_before.isoformat() if f.issued_before else None})
        page = [Listed(dataclasses.replace(_status_of(r), cert_der=None), r.card_id, r.municipality_code,
                       r.created_at) for r in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        return page, (None if last is None else (last.ca_kind, last.serial_hex))

    def _check_cause(self, kind: CaKind, cause: RevocationCause, caller: Caller) -> None:
        # Both are about the request alone, so they are answered before the certificate is looked up: otherwise
        # the difference between this refusal and "unknown" would tell a caller that a serial exists.
        if cause in OPERATOR_ONLY_CAUSES and caller.kind != "operator":
            raise PermissionDenied("cause: only J-LIS operators revoke for a record error or a change of the "
                                   "4 facts (the register's event does the latter)")
        if kind is CaKind.AUTH and cause is RevocationCause.FACTS_CHANGED:
            raise InvalidArgument("cause", "a change of the 4 facts revokes only the 署名用 certificate")

    async def revoke(self, kind: CaKind, serial: int, cause: RevocationCause, *, caller: Caller
                     ) -> CertificateStatus:
        self._check_cause(kind, cause, caller)
        async with self.repo.begin() as conn:
            row = await self.repo.certificate(conn, kind, serial_hex(serial), for_update=True)
            basis = self._granted(caller, row)
            assert row is not None
            return await self._revoke_row(conn, row, cause, actor=str(caller), basis=basis)

    async def _revoke_row(self, conn: AsyncConnection, row: Row, cause: RevocationCause, *, actor: str,
                          basis: str = "resident_register_event") -> CertificateStatus:
        r = row
        status: str = r.status
        kind = CaKind(r.ca_kind)
        sh: str = r.serial_hex
        new_status = states.move(status, Move.HOLD if cause is RevocationCause.SUSPENSION else Move.REVOKE)
        now = self.now()
        reason = REASON_FOR[cause]
        # A hold that becomes permanent keeps its original date (RFC 5280 §5.3.1, certificateHold).
        revoked_at = r.revoked_at if status == m.HOLD else now
        auth = self.authority(kind)
        response = await asyncio.to_thread(self._sign_ocsp, auth, int(sh, 16), ocsp.Status(False, revoked_at, reason),
                                           now)
        await self.repo.set_status(conn, kind, sh, status=new_status, revoked_at=revoked_at,
                                   reason_code=REASON_CODES[reason], revocation_cause=cause.value,
                                   status_changed_at=now)
        await self._store_ocsp(conn, auth, sh, response, good=False, revoked_at=revoked_at, reason=reason, at=now)
        await self.repo.audit(conn, at=now, actor=actor,
                              action="certificate.held" if new_status == m.HOLD else "certificate.revoked",
                              subject_ref=sh, details={"ca": kind, "cause": cause.value, "basis": basis,
                                                       "reason_code": REASON_CODES[reason]})
        await self.repo.add_event(conn, *events.certificate_revoked(kind, int(sh, 16), r.card_id,
                                                                    cause.value, revoked_at, new_status == m.HOLD))
        updated = await self.repo.certificate(conn, kind, sh)
        assert updated is not None
        return _status_of(updated)

    async def release_hold(self, kind: CaKind, serial: int, *, caller: Caller) -> CertificateStatus:
        async with self.repo.begin() as conn:
            row = await self.repo.certificate(conn, kind, serial_hex(serial), for_update=True)
            basis = self._granted(caller, row)
            assert row is not None
            return await self._release_row(conn, row, actor=str(caller), basis=basis)

    async def _release_row(self, conn: AsyncConnection, row: Row, *, actor: str, basis: str) -> CertificateStatus:
        r = row
        new_status = states.move(r.status, Move.RELEASE)
        kind, sh = CaKind(r.ca_kind), r.serial_hex
        now = self.now()
        auth = self.authority(kind)
        response = await asyncio.to_thread(self._sign_ocsp, auth, int(sh, 16), ocsp.Status(good=True), now)
        await self.repo.set_status(conn, kind, sh, status=new_status, hold_released_at=now, status_changed_at=now)
        await self._store_ocsp(conn, auth, sh, response, good=True, revoked_at=None, reason=None, at=now)
        await self.repo.audit(conn, at=now, actor=actor, action="certificate.hold_released", subject_ref=sh,
                              details={"ca": kind, "basis": basis})
        updated = await self.repo.certificate(conn, kind, sh)
        assert updated is not None
        return _status_of(updated)

    async def _card(self, conn: AsyncConnection, card_id: str, caller: Caller) -> tuple[list[Row], Basis]:
        """The issued certificates of a card, if the caller may act on every one of them. A card whose
        certificates name another municipality (even one of them, after a move) is unknown to a municipality:
        acting on part of a card would tell it that the rest exists."""
        v.validate_card_id(card_id)
        rows = [r for r in await self.repo.certificates_of_card(conn, card_id, for_update=True)
                if r.status not in (m.PENDING, m.FAILED)]
        if not rows:
            raise CardNotFound()
        bases = {grant(caller, Holding(r.municipality_code), permits=PERSON_BASES, unknown=CardNotFound)
                 for r in rows}
        return rows, bases.pop()

    async def suspend_card(self, card_id: str, *, caller: Caller) -> list[CertificateStatus]:
        """一時利用停止 of a card: every live certificate of the card goes on hold."""
        async with self.repo.begin() as conn:
            rows, basis = await self._card(conn, card_id, caller)
            good = [r for r in rows if r.status == m.GOOD]
            if not good:
                raise FailedPrecondition("card_id: the card has no valid certificate to suspend",
                                         reason="NOTHING_TO_SUSPEND")
            return [await self._revoke_row(conn, r, RevocationCause.SUSPENSION, actor=str(caller), basis=basis)
                    for r in good]

    async def resume_card(self, card_id: str, *, caller: Caller) -> list[CertificateStatus]:
        async with self.repo.begin() as conn:
            rows, basis = await self._card(conn, card_id, caller)
            held = [r for r in rows if r.status == m.HOLD]
            if not held:
                raise FailedPrecondition("card_id: the card has no certificate on hold", reason="NOTHING_ON_HOLD")
            return [await self._release_row(conn, r, actor=str(caller), basis=basis) for r in held]

    async def facts_changed(self, conn: AsyncConnection, resident_code: str, *, actor: str) -> list[CertificateStatus]:
        """A change of 氏名・住所・生年月日・性別 revokes the 署名用 certificate; 利用者証明用 survives
        (domain.md §4.4). Runs inside the event consumer's transaction."""
        v.validate_resident_code(resident_code, "resident_code")
        holder = self.holder_hash(resident_code.encode())
        rows = await self.repo.live_certificates_of_holder(conn, holder, CaKind.SIGN)
        out = []
        for r in rows:
            if r.status == m.HOLD:
                # Permanent now; the hold's date stays.
                out.append(await self._revoke_row(conn, r, RevocationCause.FACTS_CHANGED, actor=actor))
            else:
                out.append(await self._revoke_row(conn, r, RevocationCause.FACTS_CHANGED, actor=actor))
        return out

    # --- OCSP production -------------------------------------------------------------------------------------
    def _sign_ocsp(self, auth: Authority, serial: int, status: ocsp.Status, now: dt.datetime) -> bytes:
        if auth.signer is None:
            raise FailedPrecondition(f"the {auth.kind} CA has no OCSP responder certificate")
        return auth.signer.sign(serial=serial, status=status, this_update=now,
                                next_update=now + self.tuning.ocsp_validity)

    async def _store_ocsp(self, conn: AsyncConnection, auth: Authority, sh: str, der: bytes, *, good: bool,
                          revoked_at: dt.datetime | None, reason: x509.ReasonFlags | None, at: dt.datetime) -> None:
        await self.repo.upsert_ocsp_response(
            conn, ca_kind=auth.kind.value, serial_hex=sh, der=der, good=good, revoked_at=revoked_at,
            reason_code=REASON_CODES[reason] if reason else None, signer_id=auth.signer_id, this_update=at,
            next_update=at + self.tuning.ocsp_validity, updated_at=at)

    async def refresh_ocsp(self, *, limit: int = 1000) -> int:
        """Re-sign responses past half their validity or signed by a retired responder certificate."""
        now = self.now()
        signer_ids = [a.signer_id for a in self.authorities.values()]
        async with self.repo.begin() as conn:
            due = await self.repo.ocsp_due(conn, before=now + self.tuning.ocsp_validity / 2, signer_ids=signer_ids,
                                           limit=limit)
            for r in due:
                auth = self.authority(CaKind(r.ca_kind))
                good = r.status == m.GOOD
                reason = REASON_BY_CODE.get(r.reason_code) if not good else None
                status = ocsp.Status(good, None if good else r.revoked_at, reason)
                der = await asyncio.to_thread(self._sign_ocsp, auth, int(r.serial_hex, 16), status, now)
                await self._store_ocsp(conn, auth, r.serial_hex, der, good=good,
                                       revoked_at=None if good else r.revoked_at, reason=reason, at=now)
        return len(due)

    def live_ocsp(self, kind: str, req: ocsp.Request, status: ocsp.Status | None) -> bytes:
        """Sign on the spot (nonce, non-SHA-1 CertID, unknown serial)."""
        auth = self.authority(CaKind(kind))
        assert auth.signer is not None
        now = self.now()
        return auth.signer.sign(serial=req.serial, status=status, this_update=now,
                                next_update=now + self.tuning.ocsp_validity, algorithm=req.algorithm,
                                nonce=req.nonce)

    # --- CRLs ------------------------------------------------------------------------------------------------
    async def generate_crl(self, kind: CaKind, code: str, *, delta: bool, actor: str = SYSTEM) -> bytes:
        auth = self.authority(kind)
        now = self.now()
        async with self.repo.begin() as conn:
            part = await self.repo.partition(conn, kind, code)
            if part is None:
                raise NotFound("municipality_code: this CA has issued no certificate in this municipality")
            partition = profiles.Partition(code, part.prefecture_name, part.municipality_name)
            base = await self.repo.latest_crl(conn, kind, code, delta=False) if delta else None
            if delta and base is None:
                delta = False  # a delta needs a base: make the full CRL first
            rows = await self.repo.revoked_in_partition(
                conn, kind, code, not_expired_at=now,
                changed_after=base.this_update if (delta and base is not None) else None)
            entries = []
            for r in rows:
                if r.status == m.GOOD:
                    # A hold released since the base CRL (RFC 5280 §5.3.1 removeFromCRL, delta CRLs only).
                    entries.append(crlmod.Entry(int(r.serial_hex, 16), r.revoked_at, x509.ReasonFlags.remove_from_crl))
                else:
                    entries.append(crlmod.Entry(int(r.serial_hex, 16), r.revoked_at, REASON_BY_CODE.get(r.reason_code)))
            number = await self.repo.next_crl_number(conn)
            validity = self.tuning.delta_crl_interval * 2 if delta else self.tuning.crl_validity
            der = await asyncio.to_thread(
                crlmod.build, ca_cert=auth.cert, key=auth.key, number=number, this_update=now,
                next_update=now + validity, entries=entries,
                scope=profiles.crl_distribution_point(kind, partition),
                base_number=int(base.number) if (delta and base is not None) else None,
                freshest=[x509.UniformResourceIdentifier(self.urls.delta_crl(kind, code))])
            await asyncio.to_thread(self.linter.check_crl, der, authority=False)
            await self.repo.add_crl(conn, ca_kind=kind, partition=code, number=number, delta=delta,
                                    base_number=int(base.number) if (delta and base is not None) else None,
                                    this_update=now, next_update=now + validity, der=der)
            await self.repo.audit(conn, at=now, actor=actor, action="crl.delta.generated" if delta
                                  else "crl.generated", subject_ref=f"{kind}/{code}",
                                  details={"number": number, "entries": len(entries)})
        return der

    async def generate_arl(self, kind: CaKind, *, actor: str = SYSTEM) -> bytes:
        """The authority revocation list: CA certificates of this CA's name that were revoked."""
        auth = self.authority(kind)
        now = self.now()
        async with self.repo.begin() as conn:
            entries = [crlmod.Entry(int(r.serial_hex, 16), r.revoked_at, REASON_BY_CODE.get(r.revocation_reason))
                       for r in await self.repo.all_cas(conn, kind) if r.revoked_at is not None]
            number = await self.repo.next_crl_number(conn)
            scope = profiles.arl_distribution_point(kind)
            der = await asyncio.to_thread(crlmod.build, ca_cert=auth.cert, key=auth.key, number=number,
                                          this_update=now, next_update=now + self.tuning.crl_validity,
                                          entries=entries, scope=scope, authority=True)
            await asyncio.to_thread(self.linter.check_crl, der, authority=True)
            await self.repo.add_crl(conn, ca_kind=kind, partition="arl", number=number, delta=False,
                                    base_number=None, this_update=now, next_update=now + self.tuning.crl_validity,
                                    der=der)
            await self.repo.audit(conn, at=now, actor=actor, action="arl.generated", subject_ref=f"{kind}/arl",
                                  details={"number": number, "entries": len(entries)})
        return der

    async def generate_due_crls(self, *, force: bool = False, kinds: Iterable[CaKind] | None = None,
                                actor: str = SYSTEM) -> int:
        """The schedule: a full CRL per partition (and the ARL) when older than the full interval, else a delta
        when older than the delta interval. `force` regenerates full CRLs now (on demand)."""
        now = self.now()
        made = 0
        for kind in kinds or list(self.authorities):
            async with self.repo.begin() as conn:
                parts = [p.municipality_code for p in await self.repo.partitions(conn, kind)]
                arl = await self.repo.latest_crl(conn, kind, "arl", delta=False)
            if force or arl is None or now - arl.this_update >= self.tuning.full_crl_interval:
                await self.generate_arl(kind, actor=actor)
                made += 1
            for code in parts:
                async with self.repo.begin() as conn:
                    full = await self.repo.latest_crl(conn, kind, code, delta=False)
                    last_delta = await self.repo.latest_crl(conn, kind, code, delta=True)
                if force or full is None or now - full.this_update >= self.tuning.full_crl_interval:
                    await self.generate_crl(kind, code, delta=False, actor=actor)
                    made += 1
                elif (last_delta is None or now - last_delta.this_update >= self.tuning.delta_crl_interval):
                    await self.generate_crl(kind, code, delta=True, actor=actor)
                    made += 1
        return made

    # --- verifiers --------------------------------------------------------------------------------------------
    async def register_verifier(self, *, kind: str, organization: str, filing_ref: str, actor: str
                                ) -> tuple[Verifier, str]:
        """Register a verifier; returns it and its bearer token (shown once, stored only as a hash)."""
        if kind not in m.VERIFIER_KINDS:
            raise InvalidArgument("kind", "must be one of " + ", ".join(m.VERIFIER_KINDS))
        v.validate_text(organization, "organization", max_chars=200, required=True, multiline=False)
        if not filing_ref:
            raise InvalidArgument("filing_ref", "must name the 届出 or 認定 the registration rests on")
        v.validate_text(filing_ref, "filing_ref", max_chars=100, required=True, multiline=False)
        now = self.now()
        vid = "v-" + secrets.token_hex(8)
        token = secrets.token_urlsafe(32)
        async with self.repo.begin() as conn:
            await self.repo.add_verifier(conn, id=vid, kind=kind, organization=organization, filing_ref=filing_ref,
                                         token_hash=token_hash(token), registered_by=actor, registered_at=now,
                                         updated_at=now)
            await self.repo.audit(conn, at=now, actor=actor, action="verifier.registered", subject_ref=vid,
                                  details={"kind": kind, "filing_ref": filing_ref})
        return Verifier(vid, kind, organization, filing_ref, now, None), token

    async def deregister_verifier(self, verifier_id: str, *, actor: str) -> None:
        v.validate_verifier_id(verifier_id)
        now = self.now()
        async with self.repo.begin() as conn:
            if not await self.repo.deregister_verifier(conn, verifier_id, now):
                raise NotFound("verifier_id: no registered verifier with this id")
            await self.repo.audit(conn, at=now, actor=actor, action="verifier.deregistered", subject_ref=verifier_id)

    async def verifier(self, verifier_id: str) -> Verifier | None:
        async with self.repo.begin() as conn:
            r = await self.repo.verifier(conn, verifier_id)
        return _verifier_of(r) if r is not None else None

    async def list_verifiers(self) -> list[Verifier]:
        async with self.repo.begin() as conn:
            return [_verifier_of(r) for r in await self.repo.verifiers(conn)]

    async def verify_audit(self) -> tuple[bool, int, int | None, str | None]:
        async with self.repo.begin() as conn:
            rep = await self.repo.verify_audit(conn)
        return rep.ok, rep.entries, rep.first_bad_seq, rep.problem


def _request_json(req: IssueRequest) -> bytes:
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


def _status_of(row: Row) -> CertificateStatus:
    code = row.reason_code
    held_or_revoked = row.status in (m.HOLD, m.REVOKED)
    return CertificateStatus(
        kind=CaKind(row.ca_kind), serial=int(row.serial_hex, 16), status=row.status,
        revoked_at=row.revoked_at if held_or_revoked else None,
        reason=REASON_BY_CODE.get(code) if held_or_revoked and code is not None else None,
        cause=row.revocation_cause if held_or_revoked else None,
        not_after=row.not_after, cert_der=row.cert_der)


def _verifier_of(row: Row) -> Verifier:
    return Verifier(row.id, row.kind, row.organization, row.filing_ref,
                    row.registered_at, row.deregistered_at)
