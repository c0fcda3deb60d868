"""Why a card the person had was re-issued (省令§11Ⅰ: loss, 追記欄 full, the issuer's fault): the fee and the
subsidy depend on it.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "notice"


def upgrade() -> None:
    # Safe before the new code runs: one nullable column (every earlier envelope: no reason recorded).
    op.add_column("mailings", sa.Column("reissue_reason", sa.Text), schema=S)
    op.create_check_constraint(
        op.f("ck_mailings_reissue_reason_known"), "mailings",
        "reissue_reason IS NULL OR reissue_reason IN ('loss', 'endorsement_space_full', 'issuer_fault')", schema=S)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_mailings_reissue_reason_known"), "mailings", type_="check", schema=S)
    op.drop_column("mailings", "reissue_reason", schema=S)
