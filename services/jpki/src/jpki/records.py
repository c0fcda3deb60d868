"""What the CA store reads and writes: one frozen record per row kind (field names are the column names)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CaRecord:
    kind: str
    generation: int
    serial_hex: str
    cert_der: bytes
    key_label: str
    active: bool
    revoked_at: dt.datetime | None
    revocation_reason: int | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OcspSignerRecord:
    id: int
    ca_kind: str
    cert_der: bytes
    key_label: str
    not_before: dt.datetime
    not_after: dt.datetime


@dataclass(frozen=True, slots=True)
class PartitionRecord:
    ca_kind: str
    municipality_code: str
    prefecture_name: str
    municipality_name: str


@dataclass(frozen=True, slots=True)
class PendingCertificate:
    """What the CA records before it signs (Boulder's issuance cycle)."""

    ca_kind: str
    serial_hex: str
    card_id: str
    holder_ref: bytes
    municipality_code: str
    subject_id: str
    modulus_hash: bytes
    not_before: dt.datetime
    not_after: dt.datetime
    request_sealed: bytes
    tbs_der: bytes
    at: dt.datetime
    idempotency_key: str | None = None
    request_digest: bytes | None = None


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    ca_kind: str
    serial_hex: str
    status: str
    card_id: str
    holder_ref: bytes
    municipality_code: str
    subject_id: str
    modulus_hash: bytes
    not_before: dt.datetime
    not_after: dt.datetime
    request_sealed: bytes
    tbs_der: bytes
    cert_der: bytes | None
    revoked_at: dt.datetime | None
    reason_code: int | None
    revocation_cause: str | None
    hold_released_at: dt.datetime | None
    status_changed_at: dt.datetime
    created_at: dt.datetime
    idempotency_key: str | None = None
    request_digest: bytes | None = None


@dataclass(frozen=True, slots=True)
class CrlEntryRecord:
    """A certificate a CRL lists (or, in a delta, removes: a hold released since the base)."""

    serial_hex: str
    status: str
    revoked_at: dt.datetime | None
    reason_code: int | None
    hold_released_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class OcspResponseRecord:
    """A pre-produced OCSP response as stored (and as the HTTP front loads it)."""

    ca_kind: str
    serial_hex: str
    der: bytes
    good: bool
    revoked_at: dt.datetime | None
    reason_code: int | None
    signer_id: int
    this_update: dt.datetime
    next_update: dt.datetime


@dataclass(frozen=True, slots=True)
class PublishedOcsp:
    ca_kind: str
    serial_hex: str
    der: bytes
    good: bool
    revoked_at: dt.datetime | None
    reason_code: int | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OcspDue:
    """A response to re-sign, with the certificate's current status."""

    ca_kind: str
    serial_hex: str
    status: str
    revoked_at: dt.datetime | None
    reason_code: int | None


@dataclass(frozen=True, slots=True)
class CrlRecord:
    id: int
    ca_kind: str
    partition: str
    number: int
    delta: bool
    base_number: int | None
    this_update: dt.datetime
    next_update: dt.datetime
    der: bytes


@dataclass(frozen=True, slots=True)
class VerifierRecord:
    id: str
    kind: str
    organization: str
    filing_ref: str
    token_hash: bytes
    registered_by: str
    registered_at: dt.datetime
    deregistered_at: dt.datetime | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AuditReport:
    ok: bool
    entries: int
    first_bad_seq: int | None
    problem: str | None
    # The anchored head checked against (mynumber_runtime.anchor), or why there was none.
    anchored_seq: int | None = None
    note: str | None = None
