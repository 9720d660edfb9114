"""shifts and the cash drawer: the `shifts` view of the signed shift records, Z report prints

Revision ID: 0007_shifts
Revises: 0006_accounts
Create Date: 2026-12-01 15:00:00

Shift events are ledger records (kind "shift", docs/SHIFTS.md); `shifts` is a view of them that
`verify` recomputes, and `shift_prints` counts Z report prints (copies are marked BẢN SAO).
Self-contained: only tables of its own.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_shifts'
down_revision = '0006_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'shifts',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('open_seq', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('cashier', sa.String(length=64), nullable=False),
        sa.Column('opened_at', sa.String(length=27), nullable=False),
        sa.Column('float_amount', sa.Integer(), nullable=False),
        sa.Column('float_counts', sa.String(length=200), nullable=False),
        sa.Column('close_seq', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.String(length=27), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_by', sa.String(length=64), nullable=True),
        sa.Column('counted', sa.Integer(), nullable=True),
        sa.Column('counted_counts', sa.String(length=200), nullable=True),
        sa.Column('expected', sa.Integer(), nullable=True),
        sa.Column('difference', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('supervisor_id', sa.Integer(), nullable=True),
        sa.Column('supervisor', sa.String(length=64), nullable=True),
        sa.Column('payments', sa.Integer(), nullable=True),
        sa.Column('first_receipt', sa.Integer(), nullable=True),
        sa.Column('last_receipt', sa.Integer(), nullable=True),
        sa.Column('unsynced', sa.Integer(), nullable=True),
        sa.Column('records_hash', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['open_seq'], ['ledger.seq'], name=op.f('fk_shifts_open_seq_ledger')),
        sa.ForeignKeyConstraint(['close_seq'], ['ledger.seq'], name=op.f('fk_shifts_close_seq_ledger')),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_shifts_operator_id_operators')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['operators.id'], name=op.f('fk_shifts_closed_by_id_operators')),
        sa.ForeignKeyConstraint(['supervisor_id'], ['operators.id'], name=op.f('fk_shifts_supervisor_id_operators')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts')),
        sa.UniqueConstraint('open_seq', name=op.f('uq_shifts_open_seq')),
        sa.UniqueConstraint('close_seq', name=op.f('uq_shifts_close_seq')),
    )
    op.create_table(
        'shift_prints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shift_id', sa.String(length=36), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.String(length=27), nullable=False),
        sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_shift_prints_shift_id_shifts')),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_shift_prints_operator_id_operators')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_prints')),
        sa.UniqueConstraint('shift_id', 'number', name=op.f('uq_shift_prints_shift_id')),
    )
    op.create_index(op.f('ix_shift_prints_shift_id'), 'shift_prints', ['shift_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_shift_prints_shift_id'), table_name='shift_prints')
    op.drop_table('shift_prints')
    op.drop_table('shifts')
