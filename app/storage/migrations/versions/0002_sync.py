"""sync: sync state, sync lease, reconciliation runs and issues

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:06:13.024152

Generated with alembic autogenerate against app/storage/models.py, then trimmed: the FTS5
shadow tables autogenerate wants to drop are created by 0001 on purpose, and UTCDateTime is
rendered as sa.String(length=27) (its storage type).
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reconciliation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('run_at', sa.String(length=27), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('tolerance_seconds', sa.Integer(), nullable=False),
    sa.Column('local_count', sa.Integer(), nullable=False),
    sa.Column('local_total', sa.Integer(), nullable=False),
    sa.Column('central_count', sa.Integer(), nullable=False),
    sa.Column('central_total', sa.Integer(), nullable=False),
    sa.Column('issue_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs'))
    )
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_runs_business_date'), ['business_date'], unique=False)

    op.create_table('sync_lease',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('acquired_at', sa.String(length=27), nullable=False),
    sa.Column('expires_at', sa.String(length=27), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sync_lease'))
    )
    op.create_table('sync_state',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.String(length=27), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sync_state'))
    )
    op.create_table('reconciliation_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('confirmation_code', sa.String(length=12), nullable=False),
    sa.Column('receipt_number', sa.Integer(), nullable=True),
    sa.Column('local_amount', sa.Integer(), nullable=True),
    sa.Column('central_amount', sa.Integer(), nullable=True),
    sa.Column('local_paid_at', sa.String(length=27), nullable=True),
    sa.Column('central_paid_at', sa.String(length=27), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'], name=op.f('fk_reconciliation_issues_run_id_reconciliation_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_issues'))
    )
    with op.batch_alter_table('reconciliation_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_issues_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reconciliation_issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_issues_run_id'))

    op.drop_table('reconciliation_issues')
    op.drop_table('sync_state')
    op.drop_table('sync_lease')
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_runs_business_date'))

    op.drop_table('reconciliation_runs')
