"""Tables of the `jpki` schema (SQLAlchemy Core; only repository.py builds queries).

Personal data: the 4 basic facts reach this service only inside an issuance request; the request is kept
sealed (AES-256-GCM, envelope keys) as the record of what the CA planned to sign, and the certificate itself
(DER) is kept because a CA must be able to reproduce what it issued. The holder is found by a keyed hash of
the 住民票コード, never by the code.
"""

from __future__ import annotations

import sqlalchemy as sa
from mynumber_runtime.audit import audit_table
from mynumber_runtime.consumer import processed_events_table
from mynumber_runtime.db import make_metadata
from mynumber_runtime.keystore import data_keys_table
from mynumber_runtime.outbox import outbox_table
from sqlalchemy.dialects.postgresql import BYTEA

from jpki.states import CertificateState, check_constraint

SCHEMA = "jpki"
metadata = make_metadata(SCHEMA)

# Certificate states and their moves: jpki.states (one transition table; the CHECK below is generated from it).
PENDING, GOOD, HOLD, REVOKED, FAILED = (s.value for s in CertificateState)

cas = sa.Table(
    "cas",
    metadata,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("serial_hex", sa.Text, nullable=False),
    sa.Column("cert_der", BYTEA, nullable=False),
    # The HSM object label of the CA key; the key itself never leaves the HSM.
    sa.Column("key_label", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("revocation_reason", sa.SmallInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('sign', 'auth')", name="kind_known"),
)

ocsp_signers = sa.Table(
    "ocsp_signers",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("ca_kind", sa.Text, nullable=False),
    sa.Column("cert_der", BYTEA, nullable=False),
    sa.Column("key_label", sa.Text, nullable=False),
    sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
    sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
)

partitions = sa.Table(
    "partitions",
    metadata,
    sa.Column("ca_kind", sa.Text, primary_key=True),
    sa.Column("municipality_code", sa.CHAR(6), primary_key=True),
    sa.Column("prefecture_name", sa.Text, nullable=False),
    sa.Column("municipality_name", sa.Text, nullable=False),
)

certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("ca_kind", sa.Text, primary_key=True),
    sa.Column("serial_hex", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("card_id", sa.Text, nullable=False),
    # Keyed hash of the holder's 住民票コード: finds the signing certificate to revoke when a fact changes.
    sa.Column("holder_ref", BYTEA, nullable=False),
    sa.Column("municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("subject_id", sa.Text, nullable=False),
    # SHA-256 of the card key's modulus: a key is certified once (repeated moduli mean a broken generator).
    sa.Column("modulus_hash", BYTEA, nullable=False),
    sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
    sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
    sa.Column("request_sealed", BYTEA, nullable=False),
    # The linting certificate (same TBS, throwaway signature): what the CA planned to sign.
    sa.Column("tbs_der", BYTEA, nullable=False),
    sa.Column("cert_der", BYTEA),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("reason_code", sa.SmallInteger),  # RFC 5280 CRLReason
    sa.Column("revocation_cause", sa.Text),  # our domain cause (loss, death, facts_changed, ...)
    sa.Column("hold_released_at", sa.DateTime(timezone=True)),
    sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # The caller's idempotency key (migration 0002): one certificate per key, whoever retries. With it, the
    # SHA-256 of the request as recorded, so that the same key with another request is refused, not replayed.
    sa.Column("idempotency_key", sa.Text),
    sa.Column("request_digest", BYTEA),
    sa.CheckConstraint(check_constraint(), name="status_known"),
    sa.CheckConstraint("(idempotency_key IS NULL) = (request_digest IS NULL)", name="key_has_digest"),
    sa.UniqueConstraint("idempotency_key", name="uq_certificates_idempotency_key"),
    sa.CheckConstraint("(status IN ('good', 'hold', 'revoked')) = (cert_der IS NOT NULL)", name="signed_has_der"),
    sa.CheckConstraint("status NOT IN ('hold', 'revoked') OR revoked_at IS NOT NULL", name="revoked_has_time"),
    sa.UniqueConstraint("modulus_hash", name="uq_certificates_modulus_hash"),
    sa.Index("ix_certificates_partition", "ca_kind", "municipality_code", "status"),
    sa.Index("ix_certificates_holder_ref", "holder_ref"),
    sa.Index("ix_certificates_card_id", "card_id"),
)

ocsp_responses = sa.Table(
    "ocsp_responses",
    metadata,
    sa.Column("ca_kind", sa.Text, primary_key=True),
    sa.Column("serial_hex", sa.Text, primary_key=True),
    sa.Column("der", BYTEA, nullable=False),
    sa.Column("good", sa.Boolean, nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("reason_code", sa.SmallInteger),
    sa.Column("signer_id", sa.BigInteger, nullable=False),
    sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_ocsp_responses_updated_at", "updated_at"),
    sa.Index("ix_ocsp_responses_next_update", "next_update"),
)

crls = sa.Table(
    "crls",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("ca_kind", sa.Text, nullable=False),
    # A municipality code, or "arl" for the authority revocation list.
    sa.Column("partition", sa.Text, nullable=False),
    sa.Column("number", sa.BigInteger, nullable=False),
    sa.Column("delta", sa.Boolean, nullable=False),
    sa.Column("base_number", sa.BigInteger),
    sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
    sa.Column("der", BYTEA, nullable=False),
    sa.UniqueConstraint("ca_kind", "number", name="uq_crls_ca_kind_number"),
    sa.Index("ix_crls_latest", "ca_kind", "partition", "delta", "number"),
)

crl_number_seq = sa.Sequence("crl_number_seq", metadata=metadata, schema=SCHEMA)

# 署名検証者 (公的個人認証法 17条1項), 利用者証明検証者 (36条1項), platform operators, the platform's own services.
VERIFIER_KINDS = ("signature_verifier", "user_verifier", "platform_operator", "platform_service")
verifiers = sa.Table(
    "verifiers",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("organization", sa.Text, nullable=False),
    # The filing (届出) or certification (主務大臣認定) reference the registration rests on.
    sa.Column("filing_ref", sa.Text, nullable=False),
    # SHA-256 of the HTTP bearer token; the token itself is shown once at registration and never stored.
    sa.Column("token_hash", BYTEA, nullable=False),
    sa.Column("registered_by", sa.Text, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deregistered_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('signature_verifier', 'user_verifier', 'platform_operator', 'platform_service')",
                       name="kind_known"),
    sa.UniqueConstraint("token_hash", name="uq_verifiers_token_hash"),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
data_keys = data_keys_table(metadata)
audit_log = audit_table(metadata, "audit_log")
