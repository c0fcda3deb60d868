"""The number registry, code changes, outbox, processed events, data keys, access log, region counters.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA, JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "numbering"


def upgrade() -> None:
    op.create_table(
        "numbers",
        sa.Column("number_hash", BYTEA, nullable=False),
        sa.Column("resident_code_hash", BYTEA, nullable=False),
        sa.Column("sealed", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("region", sa.SmallInteger, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("retired_reason", sa.SmallInteger),
        sa.Column("previous_hash", BYTEA),
        sa.PrimaryKeyConstraint("number_hash", name="pk_numbers"),
        sa.CheckConstraint("status IN (1, 2)", name="ck_numbers_status_known"),
        sa.CheckConstraint("region BETWEEN 0 AND 9", name="ck_numbers_region_digit"),
        sa.CheckConstraint("(status = 2) = (retired_at IS NOT NULL)", name="ck_numbers_retired_has_time"),
        schema=S,
    )
    op.create_index("uq_numbers_active_resident_code", "numbers", ["resident_code_hash"], unique=True, schema=S,
                    postgresql_where=sa.text("status = 1"))
    op.create_table(
        "resident_code_changes",
        sa.Column("old_code_hash", BYTEA, nullable=False),
        sa.Column("new_code_hash", BYTEA, nullable=False),
        sa.Column("number_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("old_code_hash", name="pk_resident_code_changes"),
        sa.ForeignKeyConstraint(["number_hash"], [f"{S}.numbers.number_hash"],
                                name="fk_resident_code_changes_number_hash_numbers"),
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
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.SmallInteger, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("key_id", name="pk_data_keys"),
        sa.CheckConstraint("key_id BETWEEN 1 AND 255", name="ck_data_keys_key_id_range"),
        schema=S,
    )
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
    for region in range(1, 10):
        op.execute(f"CREATE SEQUENCE {S}.change_counter_{region} MINVALUE 0 MAXVALUE 9999999999 START 0 NO CYCLE")
    # The registry is append-mostly; an append-only access log must not be rewritten by the application role.
    op.execute(f"CREATE RULE access_log_no_update AS ON UPDATE TO {S}.access_log DO INSTEAD NOTHING")
    op.execute(f"CREATE RULE access_log_no_delete AS ON DELETE TO {S}.access_log DO INSTEAD NOTHING")


def downgrade() -> None:
    for region in range(1, 10):
        op.execute(f"DROP SEQUENCE {S}.change_counter_{region}")
    for table in ("access_log", "data_keys", "processed_events", "outbox", "resident_code_changes", "numbers"):
        op.drop_table(table, schema=S)
