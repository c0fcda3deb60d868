"""Check constraints named as the models name them (ck_<table>_<name>, not ck_<table>_ck_<table>_<name>).

Revision ID: 0003
Revises: 0002
"""

# Revisions 0001 and 0002 passed full names ("ck_numbers_status_known") without op.f(), so Alembic applied the
# naming convention to them again. They stay as written (frozen); this revision renames what they made. Safe
# either side of the code: nothing refers to a check constraint by name.

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "numbering"

RENAMES = (
    ("numbers", "status_known"),
    ("numbers", "region_digit"),
    ("numbers", "retired_has_time"),
    ("data_keys", "key_id_range"),
    ("moves", "state_known"),
    ("moves", "closed_has_time"),
    ("moves", "to_another"),
)


def upgrade() -> None:
    for table, name in RENAMES:
        op.execute(f"ALTER TABLE {S}.{table} RENAME CONSTRAINT ck_{table}_ck_{table}_{name} TO ck_{table}_{name}")


def downgrade() -> None:
    for table, name in RENAMES:
        op.execute(f"ALTER TABLE {S}.{table} RENAME CONSTRAINT ck_{table}_{name} TO ck_{table}_ck_{table}_{name}")
