"""households, household members, paid periods from central

Revision ID: 0003_households
Revises: 0002
Create Date: 2026-12-01 12:20:00

Three new tables for the period and household rules (docs/RULES.md); nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_households'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('households',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('head_participant_id', sa.String(length=36), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.String(length=27), nullable=False),
    sa.Column('updated_at', sa.String(length=27), nullable=False),
    sa.ForeignKeyConstraint(['head_participant_id'], ['participants.id'], name=op.f('fk_households_head_participant_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households'))
    )
    op.create_table('household_members',
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('relation', sa.String(length=40), nullable=False),
    sa.Column('joined_at', sa.String(length=27), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_members_household_id_households')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_household_members_participant_id_participants')),
    sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_household_members'))
    )
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_members_household_id'), ['household_id'], unique=False)

    op.create_table('central_paid_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.Column('scheme', sa.String(length=20), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.String(length=27), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_central_paid_periods_participant_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_central_paid_periods')),
    sa.UniqueConstraint('participant_id', 'scheme', 'period_from', 'period_to', name=op.f('uq_central_paid_periods_participant_id'))
    )
    with op.batch_alter_table('central_paid_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_central_paid_periods_participant_id'), ['participant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('central_paid_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_central_paid_periods_participant_id'))
    op.drop_table('central_paid_periods')
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_members_household_id'))
    op.drop_table('household_members')
    op.drop_table('households')
