"""ledger format 2: the sealed body and full MAC on each ledger row; a keyed audit chain

Revision ID: 0005_ledger_v2
Revises: 0004_notify
Create Date: 2026-12-01 12:40:00

Adds `ledger.body` (canonical JSON as sealed) and `ledger.mac`, and `audit_events.seq`,
`prev_hash`, `mac`; records and entries written before stay as they are (null) and verify by
the format-1 rules (docs/LEDGER.md). The audit trail becomes append-only like the ledger.
Self-contained: only columns and triggers of its own.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_ledger_v2'
down_revision = '0004_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN (no table copy): the append-only triggers stay in place.
    op.add_column('ledger', sa.Column('body', sa.Text(), nullable=True))
    op.add_column('ledger', sa.Column('mac', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('mac', sa.String(length=64), nullable=True))
    op.create_index('ix_audit_events_seq', 'audit_events', ['seq'], unique=False)
    op.execute(
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN "
        "SELECT RAISE(ABORT, 'audit_events is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN "
        "SELECT RAISE(ABORT, 'audit_events is append-only'); END"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    op.drop_index('ix_audit_events_seq', table_name='audit_events')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.drop_column('body')
