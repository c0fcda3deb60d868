"""Residents, households, 居所, envelopes and their items, endorsements, batches, outbox, processed events, keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from mynumber_runtime.db import make_metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables models.define() gives. Rule for later changes: before define() changes after a
    # release, paste its current body here (freezing 0001) and write revision 0002 with the explicit ALTERs.
    from notice.models import define

    op.execute(sa.text("CREATE SCHEMA IF NOT EXISTS notice"))
    md = make_metadata("notice")
    define(md)
    md.create_all(op.get_bind())


def downgrade() -> None:
    op.execute(sa.text("DROP SCHEMA notice CASCADE"))
