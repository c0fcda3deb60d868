"""certificates: the caller's idempotency key (one certificate per key) and the keyed digest of its request

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns and a unique constraint that NULLs do not collide in: safe before and after the code that
    # writes them (earlier certificates have no key).
    op.add_column('certificates', sa.Column('idempotency_key', sa.Text(), nullable=True), schema='jpki')
    op.add_column('certificates', sa.Column('request_digest', postgresql.BYTEA(), nullable=True), schema='jpki')
    op.create_check_constraint(op.f('ck_certificates_key_has_digest'), 'certificates',
                               '(idempotency_key IS NULL) = (request_digest IS NULL)', schema='jpki')
    op.create_unique_constraint(op.f('uq_certificates_idempotency_key'), 'certificates', ['idempotency_key'],
                                schema='jpki')


def downgrade() -> None:
    op.drop_constraint(op.f('uq_certificates_idempotency_key'), 'certificates', schema='jpki', type_='unique')
    op.drop_constraint(op.f('ck_certificates_key_has_digest'), 'certificates', schema='jpki', type_='check')
    op.drop_column('certificates', 'request_digest', schema='jpki')
    op.drop_column('certificates', 'idempotency_key', schema='jpki')
