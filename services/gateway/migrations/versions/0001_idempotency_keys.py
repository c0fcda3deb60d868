"""The first result of every idempotent write, per client and Idempotency-Key.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "gateway"


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("client", sa.String(160), nullable=False),
        sa.Column("key_hash", BYTEA, nullable=False),
        sa.Column("fingerprint", BYTEA, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.SmallInteger),
        sa.Column("sealed_response", BYTEA),
        sa.PrimaryKeyConstraint("client", "key_hash", name="pk_idempotency_keys"),
        schema=S,
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys", schema=S)
    op.drop_table("idempotency_keys", schema=S)
