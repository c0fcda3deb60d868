"""A superseded card handed back at the counter (chart ① 通知カードを再送するとともにその者から入手の上返還を促す).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "notice"


def upgrade() -> None:
    # Safe before the new code runs: one nullable column.
    op.add_column("mailing_items", sa.Column("handed_back_at", sa.DateTime(timezone=True)), schema=S)


def downgrade() -> None:
    op.drop_column("mailing_items", "handed_back_at", schema=S)
