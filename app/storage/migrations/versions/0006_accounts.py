"""operator password lifecycle: change owed, failed sign-ins in a row, lockout, history

Revision ID: 0006_accounts
Revises: 0005_ledger_v2
Create Date: 2026-12-01 12:50:00

Four new columns on `operators`; existing accounts keep working (nothing owed, not locked).
If another 0004 lands first, re-point `down_revision` at it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_accounts'
down_revision = '0005_ledger_v2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.String(length=27), nullable=True))
        batch_op.add_column(sa.Column('previous_hashes', sa.Text(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.drop_column('previous_hashes')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('must_change')
