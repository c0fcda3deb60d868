"""Bulk assignment jobs: progress while they run, the sealed result file when done.

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

S = "gateway"


def upgrade() -> None:
    op.create_table(
        "bulk_jobs",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("client", sa.String(160), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("received", sa.Integer, nullable=False),
        sa.Column("assigned", sa.Integer, nullable=False),
        sa.Column("already_assigned", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("failure_reason", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_results", BYTEA),
        sa.PrimaryKeyConstraint("job_id", name="pk_bulk_jobs"),
        schema=S,
    )
    op.create_index("ix_bulk_jobs_client", "bulk_jobs", ["client"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_bulk_jobs_client", table_name="bulk_jobs", schema=S)
    op.drop_table("bulk_jobs", schema=S)
