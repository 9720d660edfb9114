"""notify: the payer notification outbox (SMS / email about a payment or its void)

Revision ID: 0004_notify
Revises: 0003_households
Create Date: 2026-12-01 12:00:00

One new table, nothing else touched. No secondary index on purpose: the id encodes the payment's
ledger_seq and the message slot (see the model's docstring), so record_payment writes one page.
UTCDateTime is rendered as sa.String(length=27) (its
storage type).
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_notify'
down_revision = '0003_households'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=5), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('client_message_id', sa.String(length=40), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('attempt_day', sa.Date(), nullable=True),
    sa.Column('day_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.String(length=27), nullable=True),
    sa.Column('created_at', sa.String(length=27), nullable=False),
    sa.Column('last_attempt_at', sa.String(length=27), nullable=True),
    sa.Column('sent_at', sa.String(length=27), nullable=True),
    sa.Column('provider_message_id', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('resends', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_notifications_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )


def downgrade() -> None:
    op.drop_table('notifications')
