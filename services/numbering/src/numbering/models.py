"""Tables of the numbering schema. Core tables (not ORM entities): the bulk path writes them with COPY.

Personal data is never stored in clear: a person's 個人番号 and 住民票コード are sealed together
(AES-256-GCM, envelope keys) and found through keyed hashes.
"""

from __future__ import annotations

import sqlalchemy as sa
from mynumber_runtime.audit import audit_table
from mynumber_runtime.consumer import processed_events_table
from mynumber_runtime.db import make_metadata
from mynumber_runtime.keystore import data_keys_table
from mynumber_runtime.outbox import outbox_table
from sqlalchemy.dialects.postgresql import BYTEA

from numbering.records import ACTIVE, MOVE_PENDING

SCHEMA = "numbering"
metadata = make_metadata(SCHEMA)

# Every number ever issued (番号法 第8条2項一: a new number differs from all others, former numbers included).
numbers = sa.Table(
    "numbers",
    metadata,
    # Keyed hash of the 12-digit number: the registry's unique guard.
    sa.Column("number_hash", BYTEA, primary_key=True),
    # Keyed hash of the holder's 住民票コード (current one while active; the one at retirement after).
    sa.Column("resident_code_hash", BYTEA, nullable=False),
    # Sealed number (12) + 住民票コード (11).
    sa.Column("sealed", BYTEA, nullable=False),
    sa.Column("municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),
    # 0: first number from the 住民票コード; 1-9: the region that issued a changed number.
    sa.Column("region", sa.SmallInteger, nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired_at", sa.DateTime(timezone=True)),
    sa.Column("retired_reason", sa.SmallInteger),
    # The number this one replaced (a change after a leak); the history is this chain.
    sa.Column("previous_hash", BYTEA),
    sa.CheckConstraint("status IN (1, 2)", name="status_known"),
    sa.CheckConstraint("region BETWEEN 0 AND 9", name="region_digit"),
    sa.CheckConstraint("(status = 2) = (retired_at IS NOT NULL)", name="retired_has_time"),
)
# One active number per person.
sa.Index("uq_numbers_active_resident_code", numbers.c.resident_code_hash, unique=True,
         postgresql_where=numbers.c.status == ACTIVE)

# 住民票コード that were replaced: never valid again for numbering.
resident_code_changes = sa.Table(
    "resident_code_changes",
    metadata,
    sa.Column("old_code_hash", BYTEA, primary_key=True),
    sa.Column("new_code_hash", BYTEA, nullable=False),
    sa.Column("number_hash", BYTEA, sa.ForeignKey("numbers.number_hash"), nullable=False),
    sa.Column("municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# Moves between municipalities (住民基本台帳法 第22条/第24条): a 転出 recorded by the holding municipality names the
# destination; the destination's 転入 makes it the holder (numbers.municipality_code), or the former withdraws it.
moves = sa.Table(
    "moves",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    # The person by their 住民票コード's keyed hash: a change of number during the move keeps it (a change of
    # 住民票コード is refused while a 転出 is pending).
    sa.Column("resident_code_hash", BYTEA, nullable=False),
    sa.Column("from_municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("to_municipality_code", sa.CHAR(6), nullable=False),
    sa.Column("state", sa.SmallInteger, nullable=False),
    sa.Column("moved_out_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("state IN (1, 2, 3)", name="state_known"),
    sa.CheckConstraint("(state = 1) = (closed_at IS NULL)", name="closed_has_time"),
    sa.CheckConstraint("from_municipality_code <> to_municipality_code", name="to_another"),
)
sa.Index("uq_moves_pending_resident_code", moves.c.resident_code_hash, unique=True,
         postgresql_where=moves.c.state == MOVE_PENDING)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
data_keys = data_keys_table(metadata)
access_log = audit_table(metadata, "access_log")

# Per-region counters of changed numbers (10 digits each): FF1(r || counter).
CHANGE_COUNTER_MAX = 9_999_999_999


def change_counter(region: int) -> str:
    return f"{SCHEMA}.change_counter_{region}"
