"""Forms learnt from notice, people, applications (photos, history), cards, outbox, processed events, data keys,
access log. The state lists are issuance.states' as they stood when this was written: frozen (a later enum change
adds its own migration that drops and re-creates the constraint).

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

S = "issuance"
WHEN = sa.DateTime(timezone=True)
APPLICATION_STATES = ("state IN ('accepted', 'ordered', 'personalised', 'handed_over', 'withdrawn', 'superseded', "
                      "'refused')")
LIVE_STATES = "state IN ('accepted', 'ordered', 'personalised')"
CARD_STATES = ("state IN ('ordered', 'personalised', 'at_office', 'handed_over', 'suspended', 'lost', 'returned', "
               "'expired', 'voided')")


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("form_hash", BYTEA, nullable=False),
        sa.Column("person_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("facts_digest", BYTEA, nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("superseded_at", WHEN),
        sa.PrimaryKeyConstraint("form_hash", name="pk_forms"),
        schema=S,
    )
    op.create_index("ix_forms_person_hash", "forms", ["person_hash"], schema=S)
    op.create_table(
        "people",
        sa.Column("person_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("current_form_hash", BYTEA, nullable=False),
        sa.Column("current_issued_at", WHEN, nullable=False),
        sa.Column("sealed_number", BYTEA, nullable=False),
        sa.PrimaryKeyConstraint("person_hash", name="pk_people"),
        schema=S,
    )
    op.create_table(
        "applications",
        sa.Column("ref", sa.CHAR(32), nullable=False),
        sa.Column("person_hash", BYTEA, nullable=False),
        sa.Column("form_hash", BYTEA, nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("handover_method", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("sealed_applicant", BYTEA, nullable=False),
        sa.Column("photo_width", sa.Integer, nullable=False),
        sa.Column("photo_height", sa.Integer, nullable=False),
        sa.Column("submitted_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("ref", name="pk_applications"),
        sa.ForeignKeyConstraint(["form_hash"], [f"{S}.forms.form_hash"], name="fk_applications_form_hash_forms"),
        sa.CheckConstraint(APPLICATION_STATES, name="state_known"),
        sa.CheckConstraint("channel IN ('mail', 'online', 'counter', 'employer_bulk', 'employer_visit')",
                           name="channel_known"),
        sa.CheckConstraint("handover_method IN (1, 2, 3, 4, 5)", name="handover_method_known"),
        schema=S,
    )
    op.create_index("uq_applications_live_person", "applications", ["person_hash"], unique=True, schema=S,
                    postgresql_where=sa.text(LIVE_STATES))
    op.create_index("ix_applications_municipality_submitted", "applications", ["municipality_code", "submitted_at"],
                    schema=S)
    op.create_table(
        "application_photos",
        sa.Column("ref", sa.CHAR(32), nullable=False),
        sa.Column("sealed_photo", BYTEA, nullable=False),
        sa.PrimaryKeyConstraint("ref", name="pk_application_photos"),
        sa.ForeignKeyConstraint(["ref"], [f"{S}.applications.ref"], name="fk_application_photos_ref_applications"),
        schema=S,
    )
    op.create_table(
        "application_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("ref", sa.CHAR(32), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_application_history"),
        sa.ForeignKeyConstraint(["ref"], [f"{S}.applications.ref"], name="fk_application_history_ref_applications"),
        sa.CheckConstraint(APPLICATION_STATES, name="state_known"),
        schema=S,
    )
    op.create_index("ix_application_history_ref", "application_history", ["ref"], schema=S)
    op.create_table(
        "cards",
        sa.Column("card_id", sa.CHAR(32), nullable=False),
        sa.Column("ref", sa.CHAR(32), nullable=False),
        sa.Column("municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("handover_method", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("expires_on", sa.Date),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("card_id", name="pk_cards"),
        sa.ForeignKeyConstraint(["ref"], [f"{S}.applications.ref"], name="fk_cards_ref_applications"),
        sa.CheckConstraint(CARD_STATES, name="state_known"),
        schema=S,
    )
    op.create_index("ix_cards_ref", "cards", ["ref"], schema=S)
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", WHEN, nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", WHEN),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        schema=S,
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], schema=S,
                    postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("handled_at", WHEN, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
        schema=S,
    )
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.SmallInteger, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", WHEN, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("key_id", name="pk_data_keys"),
        sa.CheckConstraint("key_id BETWEEN 1 AND 255", name="key_id_range"),
        schema=S,
    )
    op.create_table(
        "access_log",
        sa.Column("seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("at", WHEN, nullable=False),
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
    # The access log is append-only for the application role.
    op.execute(f"CREATE RULE access_log_no_update AS ON UPDATE TO {S}.access_log DO INSTEAD NOTHING")
    op.execute(f"CREATE RULE access_log_no_delete AS ON DELETE TO {S}.access_log DO INSTEAD NOTHING")


def downgrade() -> None:
    for table in ("access_log", "data_keys", "processed_events", "outbox", "cards", "application_history",
                  "application_photos", "applications", "people", "forms"):
        op.drop_table(table, schema=S)
