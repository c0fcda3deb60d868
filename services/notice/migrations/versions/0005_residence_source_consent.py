"""Where a 居所 registration came from (別紙 1 (2) 保有する避難先情報, 別紙 2 (2) 連絡し確認) and the evacuee's
consent to share it (別紙 1 同意欄).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "notice"


def upgrade() -> None:
    # Safe before the new code runs: defaults that describe every row written so far (an application, no consent).
    op.add_column("residences", sa.Column("source", sa.Text, nullable=False, server_default="application"),
                  schema=S)
    op.add_column("residences", sa.Column("sharing_consent", sa.Boolean, nullable=False,
                                          server_default=sa.false()), schema=S)
    op.create_check_constraint(op.f("ck_residences_source_known"), "residences",
                               "source IN ('application', 'municipal_records', 'confirmed_with_person')", schema=S)
    op.create_check_constraint(op.f("ck_residences_sharing_only_evacuee"), "residences",
                               "NOT sharing_consent OR kind = 'evacuee'", schema=S)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_residences_sharing_only_evacuee"), "residences", type_="check", schema=S)
    op.drop_constraint(op.f("ck_residences_source_known"), "residences", type_="check", schema=S)
    op.drop_column("residences", "sharing_consent", schema=S)
    op.drop_column("residences", "source", schema=S)
