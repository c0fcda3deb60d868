"""Every state column kept inside its enum (notice.states): CHECK constraints, as the values stood when written.

Frozen: a later enum change adds its own migration (drop and re-create the constraint).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "notice"

MAILING_STATUS = ("'prepared', 'exported', 'printed', 'posted', 'delivered', 'held_at_office', 'returned', "
                  "'recalled', 'resolved', 'disposed'")
CHECKS = (
    ("residents", "ck_residents_card_status_known",
     "card_status IN ('none', 'mailed', 'delivered', 'returned', 'held_at_office', 'handed_over', "
     "'return_registered')"),
    ("residents", "ck_residents_pending_action_known",
     "pending_action IS NULL OR pending_action IN ('endorse', 'new_issue')"),
    ("mailings", "ck_mailings_status_known", f"status IN ({MAILING_STATUS})"),
    ("mailings", "ck_mailings_kind_known",
     "kind IN ('initial', 'resend', 'reissue', 'municipal_resend', 'notification_letter')"),
    ("mailings", "ck_mailings_destination_known",
     "destination IN ('address', 'residence', 'residence_restricted', 'office')"),
    ("mailings", "ck_mailings_recalled_from_known", f"recalled_from IS NULL OR recalled_from IN ({MAILING_STATUS})"),
    ("mailing_items", "ck_mailing_items_document_known", "document IN ('notice_card', 'notification_letter')"),
    ("batches", "ck_batches_status_known", "status IN ('exported', 'printed', 'posted')"),
)


def upgrade() -> None:
    # Safe before the new code runs: the old code writes only these values (a row outside them fails the upgrade,
    # which is the point: it would be a state no rule knows).
    for table, name, condition in CHECKS:
        op.create_check_constraint(op.f(name), table, condition, schema=S)


def downgrade() -> None:
    for table, name, _ in reversed(CHECKS):
        op.drop_constraint(op.f(name), table, type_="check", schema=S)
