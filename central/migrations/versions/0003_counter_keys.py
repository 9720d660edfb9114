"""counter keys: a moved counter's new key, pending until central's admin approves the move

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A counter restored on a new PC seals with a new key from a sequence number on
(docs/BACKUP.md); central keeps every such key with the number it starts at, the head it
continues from, and the admin's decision.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.String(40), nullable=False),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("continues_from_hash", sa.String(64), nullable=False),
        sa.Column("signing_key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("requested_at", sa.String(27), nullable=False),
        sa.Column("decided_at", sa.String(27), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name="fk_counter_keys_counter_id_counters"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_counter_keys"),
    )
    op.create_index("ix_counter_keys_counter_id", "counter_keys", ["counter_id"])


def downgrade() -> None:
    op.drop_index("ix_counter_keys_counter_id", "counter_keys")
    op.drop_table("counter_keys")
