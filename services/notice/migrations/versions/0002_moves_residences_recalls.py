"""Moves (転出 destination), one 居所 per resident and registering municipality, envelope recalls.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "notice"


def upgrade() -> None:
    # Safe before the new code runs: only nullable columns, a wider key and a default.
    op.add_column("residents", sa.Column("moving_to", sa.CHAR(6)), schema=S)
    op.drop_constraint("pk_residences", "residences", type_="primary", schema=S)
    op.create_primary_key("pk_residences", "residences", ["resident_hash", "municipality_code"], schema=S)
    op.add_column("mailings", sa.Column("recall_requested_at", sa.DateTime(timezone=True)), schema=S)
    op.add_column("mailings", sa.Column("recalled_from", sa.Text), schema=S)
    op.add_column("mailings", sa.Column("recall_batch_id", sa.Text), schema=S)
    op.create_index("ix_mailings_recall_pending", "mailings", ["mailing_id"], schema=S,
                    postgresql_where=sa.text("status = 'recalled' AND recall_batch_id IS NULL"))
    op.add_column("batches", sa.Column("recalls", sa.Integer, nullable=False, server_default="0"), schema=S)


def downgrade() -> None:
    op.drop_column("batches", "recalls", schema=S)
    op.drop_index("ix_mailings_recall_pending", "mailings", schema=S)
    for c in ("recall_batch_id", "recalled_from", "recall_requested_at"):
        op.drop_column("mailings", c, schema=S)
    op.drop_constraint("pk_residences", "residences", type_="primary", schema=S)
    op.create_primary_key("pk_residences", "residences", ["resident_hash"], schema=S)
    op.drop_column("residents", "moving_to", schema=S)
