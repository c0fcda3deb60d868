"""The CA's domain values shared by its roles (authority, issuance, revocation, publication, verifiers): causes
and RFC 5280 reasons, the requests and answers of the rules, and the tuning. No proto, no SQL."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from cryptography import x509

from jpki import models as m
from jpki import profiles
from jpki.profiles import CaKind
from jpki.records import CertificateRecord, VerifierRecord

SYSTEM = "service:jpki"


class RevocationCause(enum.StrEnum):
    """Why a certificate is revoked (domain.md §4.4 'Other revocation'), and the RFC 5280 reason each carries."""

    LOSS_OR_COMPROMISE = "loss_or_compromise"  # 紛失・鍵の危殆化
    HOLDER_REQUEST = "holder_request"  # 本人の失効申請
    DEATH = "death"  # 死亡
    RECORD_ERROR = "record_error"  # 記録誤り (ex officio by the CA)
    SUSPENSION = "suspension"  # 一時利用停止: certificateHold, removable
    FACTS_CHANGED = "facts_changed"  # 基本4情報の変更 (署名用 only, automatic)


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


def new_serial() -> int:
    # 63 CSPRNG bits under a fixed top bit: unpredictable (the defence against chosen-prefix collisions), 64 bits
    # long (jpki.lint), at most 9 octets in DER: a client keeping serials in a 64-bit integer reads them. The real
    # J-LIS CA certificates carry small serials (1, 108816929); their end-entity serials are not public.
    return (1 << 63) | secrets.randbits(63)


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
    idempotency_key: str | None = None  # one certificate per key; the same key with another request is refused
    on_hold: bool = False  # issued on certificateHold, released at the card's hand-over


@dataclass(frozen=True)
class Issued:
    kind: CaKind
    serial: int
    cert_der: bytes
    not_before: dt.datetime
    not_after: dt.datetime
    status: str = "good"  # the certificate's state when answered (hold when issued on hold)
    replayed: bool = False  # an earlier issuance under the same idempotency key, answered again


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
class Tuning:
    crl_validity: dt.timedelta = dt.timedelta(days=2)
    ocsp_validity: dt.timedelta = dt.timedelta(days=1)
    ocsp_signer_life: dt.timedelta = dt.timedelta(days=30)
    auth_policy_critical: bool = True
    include_ocsp_url: bool = False
    ca_validity_years: int = 10
    full_crl_interval: dt.timedelta = dt.timedelta(hours=1)
    delta_crl_interval: dt.timedelta = dt.timedelta(minutes=5)


def status_of(row: CertificateRecord, *, with_certificate: bool = True) -> CertificateStatus:
    code = row.reason_code
    held_or_revoked = row.status in (m.HOLD, m.REVOKED)
    return CertificateStatus(
        kind=CaKind(row.ca_kind), serial=int(row.serial_hex, 16), status=row.status,
        revoked_at=row.revoked_at if held_or_revoked else None,
        reason=REASON_BY_CODE.get(code) if held_or_revoked and code is not None else None,
        cause=row.revocation_cause if held_or_revoked else None,
        not_after=row.not_after, cert_der=row.cert_der if with_certificate else None)


def verifier_of(row: VerifierRecord) -> Verifier:
    return Verifier(row.id, row.kind, row.organization, row.filing_ref, row.registered_at, row.deregistered_at)


