"""Residents, households, 居所, envelopes and their items, endorsements, batches, outbox, processed events, keys.

Revision ID: 0001
Revises:
"""

# Plain Alembic operations, frozen once written: a revision never imports the live models (or the runtime's table
# builders), so that a later change to them cannot change what this revision did. Constraint names are spelt out
# as the schema's naming convention (mynumber_runtime.db.NAMING_CONVENTION) made them; a check constraint's name
# goes through op.f(), else Alembic applies the convention to it a second time (ck_<table>_ck_<table>_...).

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "notice"


def upgrade() -> None:
    op.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {S}"))
    op.create_table(
        "residents",
        sa.Column("resident_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("household_id", sa.Text),
        # JSON {resident_code, name, birth_date, sex}: from the mailing list.
        sa.Column("sealed_facts", BYTEA),
        # The 12-digit 個人番号: from number.assigned.
        sa.Column("sealed_number", BYTEA),
        sa.Column("number_assigned_at", sa.DateTime(timezone=True)),
        sa.Column("card_status", sa.Text, nullable=False, server_default="none"),
        sa.Column("current_mailing_id", sa.Text),
        sa.Column("pending_action", sa.Text),
        sa.Column("sealed_pending_address", BYTEA),
        sa.PrimaryKeyConstraint("resident_hash", name="pk_residents"),
        schema=S,
    )
    op.create_index("ix_residents_unmailed", "residents", ["municipality_code"], schema=S,
                    postgresql_where=sa.text("card_status = 'none'"))
    op.create_table(
        "households",
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("household_id", sa.Text, nullable=False),
        sa.Column("sealed_address", BYTEA, nullable=False),
        sa.PrimaryKeyConstraint("municipality_code", "household_id", name="pk_households"),
        schema=S,
    )
    op.create_table(
        "residences",
        sa.Column("resident_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sealed_address", BYTEA, nullable=False),
        sa.Column("documents", ARRAY(sa.Text), nullable=False),
        sa.Column("hold_at_office", sa.Boolean, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resident_hash", name="pk_residences"),
        sa.CheckConstraint("kind IN ('evacuee', 'dv_victim')", name=op.f("ck_residences_kind_known")),
        sa.CheckConstraint("NOT hold_at_office OR kind = 'dv_victim'", name=op.f("ck_residences_hold_only_dv")),
        schema=S,
    )
    op.create_table(
        "mailings",
        sa.Column("mailing_id", sa.Text, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("household_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("sealed_destination", BYTEA, nullable=False),
        sa.Column("return_reason", sa.Text),
        sa.Column("returned_at", sa.DateTime(timezone=True)),
        sa.Column("hold_until", sa.DateTime(timezone=True)),
        sa.Column("batch_id", sa.Text),
        sa.Column("fee_yen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mailing_id", name="pk_mailings"),
        sa.CheckConstraint("return_reason IS NULL OR return_reason IN ('あて所なし', '受取拒否', '保管期間経過')",
                           name=op.f("ck_mailings_return_reason_known")),
        schema=S,
    )
    op.create_index("ix_mailings_prepared", "mailings", ["mailing_id"], schema=S,
                    postgresql_where=sa.text("status = 'prepared'"))
    op.create_index("ix_mailings_municipality", "mailings", ["municipality_code"], schema=S)
    op.create_table(
        "mailing_items",
        sa.Column("mailing_id", sa.Text, nullable=False),
        sa.Column("resident_hash", BYTEA, nullable=False),
        sa.Column("seq", sa.SmallInteger, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("application_id", sa.CHAR(23)),
        sa.Column("sealed_card", BYTEA, nullable=False),
        sa.PrimaryKeyConstraint("mailing_id", "resident_hash", name="pk_mailing_items"),
        sa.ForeignKeyConstraint(["mailing_id"], [f"{S}.mailings.mailing_id"],
                                name="fk_mailing_items_mailing_id_mailings"),
        schema=S,
    )
    op.create_index("ix_mailing_items_resident", "mailing_items", ["resident_hash"], schema=S)
    op.create_index("ix_mailing_items_application_id", "mailing_items", ["application_id"], schema=S)
    op.create_table(
        "endorsements",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("resident_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("sealed_address", BYTEA, nullable=False),
        sa.Column("endorsed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_endorsements"),
        schema=S,
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelopes", sa.Integer, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_batches"),
        schema=S,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        schema=S,
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], schema=S,
                    postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
        schema=S,
    )
    # key_id is a single-column integer key, so it gets a SERIAL default as in the other services' data_keys (the
    # application always gives the id; the sequence is unused but is part of the schema as it stands).
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.SmallInteger, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("key_id", name="pk_data_keys"),
        sa.CheckConstraint("key_id BETWEEN 1 AND 255", name=op.f("ck_data_keys_key_id_range")),
        schema=S,
    )
    # Who read or changed whose data (マイナポータル access records), hash-chained.
    op.create_table(
        "access_log",
        sa.Column("seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("subject_ref", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_access_log"),
        schema=S,
    )
    op.create_index("ix_access_log_subject_ref", "access_log", ["subject_ref"], schema=S)


def downgrade() -> None:
    # Table by table, not DROP SCHEMA: the schema also holds Alembic's version table, which must outlive this step.
    for table in ("access_log", "data_keys", "processed_events", "outbox", "batches", "endorsements",
                  "mailing_items", "mailings", "residences", "households", "residents"):
        op.drop_table(table, schema=S)
