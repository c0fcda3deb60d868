"""Residents, households, 居所, envelopes and their items, endorsements, batches, outbox, processed events, keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from mynumber_runtime.audit import audit_table
from mynumber_runtime.consumer import processed_events_table
from mynumber_runtime.db import make_metadata
from mynumber_runtime.keystore import data_keys_table
from mynumber_runtime.outbox import outbox_table
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# Frozen when revision 0002 changed models.define(): later changes go in later revisions, never here.
def define(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The tables as revision 0001 created them (a frozen copy of models.define() at that revision)."""
    residents = sa.Table(
        "residents", metadata,
        sa.Column("resident_hash", BYTEA, primary_key=True),
        # From the mailing list or the number.assigned event, whichever came first.
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
        # The home municipality that registered it: the only one that may read a DV victim's 居所.
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sealed_address", BYTEA, nullable=False),
        sa.Column("documents", ARRAY(sa.Text), nullable=False),
        sa.Column("hold_at_office", sa.Boolean, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('evacuee', 'dv_victim')", name="kind_known"),
        sa.CheckConstraint("NOT hold_at_office OR kind = 'dv_victim'", name="hold_only_dv"),
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
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("return_reason IS NULL OR return_reason IN ('あて所なし', '受取拒否', '保管期間経過')",
                           name="return_reason_known"),
    )
    sa.Index("ix_mailings_prepared", mailings.c.mailing_id, postgresql_where=mailings.c.status == "prepared")
    sa.Index("ix_mailings_municipality", mailings.c.municipality_code)
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
    )
    return {
        "residents": residents, "households": households, "residences": residences, "mailings": mailings,
        "mailing_items": mailing_items, "endorsements": endorsements, "batches": batches,
        "outbox": outbox_table(metadata), "processed_events": processed_events_table(metadata),
        "data_keys": data_keys_table(metadata),
        # Who read or changed whose data (マイナポータル access records), hash-chained.
        "access_log": audit_table(metadata, "access_log"),
    }


def upgrade() -> None:
    op.execute(sa.text("CREATE SCHEMA IF NOT EXISTS notice"))
    md = make_metadata("notice")
    define(md)
    md.create_all(op.get_bind())


def downgrade() -> None:
    op.execute(sa.text("DROP SCHEMA notice CASCADE"))
