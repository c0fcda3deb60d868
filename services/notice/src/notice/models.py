"""Tables of the notice schema (Core tables: the bulk paths write many rows at once).

Personal data is sealed (AES-256-GCM, envelope keys): the 4 basic facts, addresses, the number, every 居所.
Residents are found through a keyed hash of the 住民票コード, never by the plain code.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from mynumber_runtime.audit import audit_table
from mynumber_runtime.consumer import processed_events_table
from mynumber_runtime.db import make_metadata
from mynumber_runtime.keystore import data_keys_table
from mynumber_runtime.outbox import outbox_table
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA

from notice.states import (
    BatchStatus,
    CardStatus,
    Destination,
    Document,
    MailingKind,
    MailingStatus,
    PendingAction,
    ReissueReason,
    ResidenceKind,
    ResidenceSource,
    ReturnReason,
)

SCHEMA = "notice"


def one_of(column: str, states: type[enum.StrEnum], *, nullable: bool = False) -> str:
    """The CHECK text that keeps a column inside its enum (notice.states): generated, so the two never drift."""
    listed = ", ".join(f"'{s.value}'" for s in states)
    return f"{column} IS NULL OR {column} IN ({listed})" if nullable else f"{column} IN ({listed})"


def define(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The tables as the migrations leave them (0002 adds the moves, the per-municipality 居所 and the recall
    columns); tests/integration/test_migrations.py checks that they agree."""
    residents = sa.Table(
        "residents", metadata,
        sa.Column("resident_hash", BYTEA, primary_key=True),
        # The municipality whose register holds the resident (tenancy.Holding): number.assigned decides it (the
        # numbering service checks the register); a mailing list only creates a resident nobody holds yet, and
        # moves change it only through 転出 then 転入 (RecordMove).
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("household_id", sa.Text),
        # JSON {resident_code, name, birth_date, sex}: from the mailing list.
        sa.Column("sealed_facts", BYTEA),
        # The 12-digit 個人番号: from number.assigned.
        sa.Column("sealed_number", BYTEA),
        sa.Column("number_assigned_at", sa.DateTime(timezone=True)),
        # none, mailed, delivered, returned, held_at_office, handed_over, return_registered
        sa.Column("card_status", sa.Text, nullable=False, server_default="none"),
        sa.Column("current_mailing_id", sa.Text),
        # A move decided while the card was still on its way (chart ①-3): what to do when it comes back
        # ("new_issue" or "endorse"), and the new address (JSON {address, postal_code}).
        sa.Column("pending_action", sa.Text),
        sa.Column("sealed_pending_address", BYTEA),
        # A 転出 recorded by the former municipality: the 転入先, the only one that may record the 転入 (chart ①).
        sa.Column("moving_to", sa.CHAR(6)),
        sa.CheckConstraint(one_of("card_status", CardStatus), name="card_status_known"),
        sa.CheckConstraint(one_of("pending_action", PendingAction, nullable=True), name="pending_action_known"),
    )
    sa.Index("ix_residents_unmailed", residents.c.municipality_code,
             postgresql_where=residents.c.card_status == "none")
    households = sa.Table(
        "households", metadata,
        sa.Column("municipality_code", sa.CHAR(6), primary_key=True),
        sa.Column("household_id", sa.Text, primary_key=True),
        # JSON {address, postal_code}
        sa.Column("sealed_address", BYTEA, nullable=False),
    )
    residences = sa.Table(
        "residences", metadata,
        sa.Column("resident_hash", BYTEA, primary_key=True),
        # The home municipality that registered it: the only one that may read a DV victim's 居所, and part of
        # the key, so that no other municipality's registration (even after a 転入) ever overwrites it.
        sa.Column("municipality_code", sa.CHAR(6), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sealed_address", BYTEA, nullable=False),
        sa.Column("documents", ARRAY(sa.Text), nullable=False),
        sa.Column("hold_at_office", sa.Boolean, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        # 別紙 1/2: the person's application, the municipality's own 避難先情報, or confirmed with a DV victim.
        sa.Column("source", sa.Text, nullable=False, server_default="application"),
        # 別紙 1 同意欄: evacuees only; a DV victim's 居所 is never shared.
        sa.Column("sharing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint(one_of("kind", ResidenceKind), name="kind_known"),
        sa.CheckConstraint("NOT hold_at_office OR kind = 'dv_victim'", name="hold_only_dv"),
        sa.CheckConstraint(one_of("source", ResidenceSource), name="source_known"),
        sa.CheckConstraint("NOT sharing_consent OR kind = 'evacuee'", name="sharing_only_evacuee"),
    )
    mailings = sa.Table(
        "mailings", metadata,
        sa.Column("mailing_id", sa.Text, primary_key=True),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("household_id", sa.Text, nullable=False),
        # initial, resend, reissue, municipal_resend, notification_letter
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        # address, residence, residence_restricted (DV), office
        sa.Column("destination", sa.Text, nullable=False),
        # JSON {address, postal_code, addressee}
        sa.Column("sealed_destination", BYTEA, nullable=False),
        sa.Column("return_reason", sa.Text),
        sa.Column("returned_at", sa.DateTime(timezone=True)),
        sa.Column("hold_until", sa.DateTime(timezone=True)),
        sa.Column("batch_id", sa.Text),
        sa.Column("fee_yen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reissue_reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        # A recall (a 居所 registered after the envelope left for the vendor): when it was asked, the state it was
        # recalled from (exported, printed, posted), and the batch whose RCL record carried it to the vendor.
        sa.Column("recall_requested_at", sa.DateTime(timezone=True)),
        sa.Column("recalled_from", sa.Text),
        sa.Column("recall_batch_id", sa.Text),
        sa.CheckConstraint(one_of("return_reason", ReturnReason, nullable=True), name="return_reason_known"),
        sa.CheckConstraint(one_of("status", MailingStatus), name="status_known"),
        sa.CheckConstraint(one_of("kind", MailingKind), name="kind_known"),
        sa.CheckConstraint(one_of("reissue_reason", ReissueReason, nullable=True), name="reissue_reason_known"),
        sa.CheckConstraint(one_of("destination", Destination), name="destination_known"),
        sa.CheckConstraint(one_of("recalled_from", MailingStatus, nullable=True), name="recalled_from_known"),
    )
    sa.Index("ix_mailings_prepared", mailings.c.mailing_id, postgresql_where=mailings.c.status == "prepared")
    sa.Index("ix_mailings_municipality", mailings.c.municipality_code)
    sa.Index("ix_mailings_recall_pending", mailings.c.mailing_id,
             postgresql_where=sa.and_(mailings.c.status == "recalled", mailings.c.recall_batch_id.is_(None)))
    mailing_items = sa.Table(
        "mailing_items", metadata,
        sa.Column("mailing_id", sa.Text, sa.ForeignKey("mailings.mailing_id"), primary_key=True),
        sa.Column("resident_hash", BYTEA, primary_key=True),
        sa.Column("seq", sa.SmallInteger, nullable=False),
        # notice_card / notification_letter
        sa.Column("document", sa.Text, nullable=False),
        # NULL: a card without the application form (seed: 申請書のない通知カードのみ).
        # A municipal resend of the same physical card repeats it.
        sa.Column("application_id", sa.CHAR(23)),
        # JSON snapshot of what is printed: number, name, address, birth_date, sex.
        sa.Column("sealed_card", BYTEA, nullable=False),
        # Set when this card, superseded by a resend, was handed back at the counter (chart ① 返還を促す).
        sa.Column("handed_back_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(one_of("document", Document), name="document_known"),
    )
    sa.Index("ix_mailing_items_resident", mailing_items.c.resident_hash)
    sa.Index("ix_mailing_items_application_id", mailing_items.c.application_id)
    endorsements = sa.Table(
        "endorsements", metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("resident_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("sealed_address", BYTEA, nullable=False),
        sa.Column("endorsed_at", sa.DateTime(timezone=True), nullable=False),
    )
    batches = sa.Table(
        "batches", metadata,
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelopes", sa.Integer, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        # RCL records in the batch.
        sa.Column("recalls", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint(one_of("status", BatchStatus), name="status_known"),
    )
    return {
        "residents": residents, "households": households, "residences": residences, "mailings": mailings,
        "mailing_items": mailing_items, "endorsements": endorsements, "batches": batches,
        "outbox": outbox_table(metadata), "processed_events": processed_events_table(metadata),
        "data_keys": data_keys_table(metadata),
        # Who read or changed whose data (マイナポータル access records), hash-chained.
        "access_log": audit_table(metadata, "access_log"),
    }


metadata = make_metadata(SCHEMA)
_t = define(metadata)
residents = _t["residents"]
households = _t["households"]
residences = _t["residences"]
mailings = _t["mailings"]
mailing_items = _t["mailing_items"]
endorsements = _t["endorsements"]
batches = _t["batches"]
outbox = _t["outbox"]
processed_events = _t["processed_events"]
data_keys = _t["data_keys"]
access_log = _t["access_log"]
