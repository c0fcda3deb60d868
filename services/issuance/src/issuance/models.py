"""Tables of the issuance schema (Core tables; all SQL is in repository.py). Every state column's CHECK and the
one-live-application index are generated from the enums in states.py and channels.py; the migrations froze the
same lists as they stood.

Personal data is never stored in clear: the 個人番号 (people), the applicant's 4 facts and the photo are sealed
(AES-256-GCM, envelope keys); the 申請書ID and the number are found through keyed hashes."""

from __future__ import annotations

import sqlalchemy as sa
from mynumber_runtime.audit import audit_table
from mynumber_runtime.consumer import processed_events_table
from mynumber_runtime.db import make_metadata
from mynumber_runtime.keystore import data_keys_table
from mynumber_runtime.outbox import outbox_table
from sqlalchemy.dialects.postgresql import BYTEA

from issuance.channels import Channel, HandoverMethod
from issuance.states import LIVE, STORED_APPLICATION_STATES, STORED_CARD_STATES, sql_in

SCHEMA = "issuance"
metadata = make_metadata(SCHEMA)
_when = sa.DateTime(timezone=True)

# Every 交付申請書 notice made (from its form.issued events).
forms = sa.Table(
    "forms",
    metadata,
    sa.Column("form_hash", BYTEA, primary_key=True),  # keyed hash of the 申請書ID
    sa.Column("person_hash", BYTEA, nullable=False),  # keyed hash of the 個人番号
    sa.Column("municipality_code", sa.CHAR(6), nullable=False),
    # Keyed digest of the 4 facts printed on the form (validation.facts_digest).
    sa.Column("facts_digest", BYTEA, nullable=False),
    sa.Column("issued_at", _when, nullable=False),
    # Set when a newer form for the person arrived: the form is stale from then on.
    sa.Column("superseded_at", _when),
)
sa.Index("ix_forms_person_hash", forms.c.person_hash)

# One row per person a form was made for: the newest form decides which municipality holds them here.
people = sa.Table(
    "people",
    metadata,
    sa.Column("person_hash", BYTEA, primary_key=True),
    sa.Column("municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("current_form_hash", BYTEA, nullable=False),
    sa.Column("current_issued_at", _when, nullable=False),
    sa.Column("sealed_number", BYTEA, nullable=False),  # the 個人番号, for the card's personalisation
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("ref", sa.CHAR(32), primary_key=True),
    sa.Column("person_hash", BYTEA, nullable=False),
    sa.Column("form_hash", BYTEA, sa.ForeignKey("forms.form_hash"), nullable=False),
    sa.Column("municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("handover_method", sa.SmallInteger, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("sealed_applicant", BYTEA, nullable=False),
    sa.Column("photo_width", sa.Integer, nullable=False),
    sa.Column("photo_height", sa.Integer, nullable=False),
    sa.Column("submitted_at", _when, nullable=False),
    sa.Column("updated_at", _when, nullable=False),
    sa.CheckConstraint(sql_in("state", STORED_APPLICATION_STATES), name="state_known"),
    sa.CheckConstraint(sql_in("channel", Channel), name="channel_known"),
    sa.CheckConstraint(f"handover_method IN ({', '.join(str(int(m)) for m in HandoverMethod)})",
                       name="handover_method_known"),
)
# One live application per person: the index decides under concurrent submissions.
sa.Index("uq_applications_live_person", applications.c.person_hash, unique=True,
         postgresql_where=sa.text(sql_in("state", LIVE)))
sa.Index("ix_applications_municipality_submitted", applications.c.municipality_code, applications.c.submitted_at)

# The photo apart from the row (megabytes that lists never read).
application_photos = sa.Table(
    "application_photos",
    metadata,
    sa.Column("ref", sa.CHAR(32), sa.ForeignKey("applications.ref"), primary_key=True),
    sa.Column("sealed_photo", BYTEA, nullable=False),
)

# Every state an application entered, in order: what the municipality sees of its trace.
application_history = sa.Table(
    "application_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("ref", sa.CHAR(32), sa.ForeignKey("applications.ref"), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("at", _when, nullable=False),
    sa.CheckConstraint(sql_in("state", STORED_APPLICATION_STATES), name="state_known"),
)
sa.Index("ix_application_history_ref", application_history.c.ref)

# Cards (the personalisation slice fills it): one per ordered application, its state by states.CARD.
cards = sa.Table(
    "cards",
    metadata,
    sa.Column("card_id", sa.CHAR(32), primary_key=True),
    sa.Column("ref", sa.CHAR(32), sa.ForeignKey("applications.ref"), nullable=False),
    sa.Column("municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("handover_method", sa.SmallInteger, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("expires_on", sa.Date),
    sa.Column("created_at", _when, nullable=False),
    sa.Column("updated_at", _when, nullable=False),
    sa.CheckConstraint(sql_in("state", STORED_CARD_STATES), name="state_known"),
)
sa.Index("ix_cards_ref", cards.c.ref)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
data_keys = data_keys_table(metadata)
access_log = audit_table(metadata, "access_log")
