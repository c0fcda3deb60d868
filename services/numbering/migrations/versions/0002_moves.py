"""Moves between municipalities: a 転出 recorded by the holder, closed by the destination's 転入 or withdrawn.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "numbering"


def upgrade() -> None:
    # A new table only: the code before this revision never reads it, so the migration is safe either side.
    op.create_table(
        "moves",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("resident_code_hash", BYTEA, nullable=False),
        sa.Column("from_municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("to_municipality_code", sa.CHAR(6), nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("moved_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_moves"),
        sa.CheckConstraint("state IN (1, 2, 3)", name="ck_moves_state_known"),
        sa.CheckConstraint("(state = 1) = (closed_at IS NULL)", name="ck_moves_closed_has_time"),
        sa.CheckConstraint("from_municipality_code <> to_municipality_code", name="ck_moves_to_another"),
        schema=S,
    )
    # At most one pending 転出 per person.
    op.create_index("uq_moves_pending_resident_code", "moves", ["resident_code_hash"], unique=True, schema=S,
                    postgresql_where=sa.text("state = 1"))


def downgrade() -> None:
    op.drop_table("moves", schema=S)
