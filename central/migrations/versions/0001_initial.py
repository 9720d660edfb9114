"""central v0.1 schema (what create_all made before migrations)

Revision ID: 0001
Revises:
Create Date: 2026-12-01

A central database created by v0.1 (tables, no alembic_version) is stamped with this revision
at start-up and upgraded from here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrollment_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("expires_at", sa.String(27), nullable=False),
        sa.Column("used_at", sa.String(27), nullable=True),
        sa.Column("used_by", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_enrollment_codes"),
    )
    op.create_table(
        "counters",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("ledger_counter_id", sa.String(36), nullable=False),
        sa.Column("counter_code", sa.String(20), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("collection_point", sa.String(200), nullable=False),
        sa.Column("receipt_series", sa.String(20), nullable=False),
        sa.Column("signing_key", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("enrolled_at", sa.String(27), nullable=False),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("last_upload_at", sa.String(27), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_counters"),
        sa.UniqueConstraint("ledger_counter_id", name="uq_counters_ledger_counter_id"),
        sa.UniqueConstraint("token_hash", name="uq_counters_token_hash"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("counter_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.String(27), nullable=False),
        sa.Column("business_date", sa.String(10), nullable=False),
        sa.Column("receipt_number", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("at", sa.String(27), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=True),
        sa.Column("payment_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name="fk_records_counter_id_counters"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
        sa.UniqueConstraint("counter_id", "seq", name="uq_records_counter_id"),
    )
    op.create_index("ix_records_counter_day", "records", ["counter_id", "kind", "business_date"])
    op.create_index("ix_records_code", "records", ["code"])
    op.create_index("ix_records_participant_id", "records", ["participant_id"])
    op.create_index("ix_records_payment_id", "records", ["payment_id"])
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("seq_to", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("resolved_at", sa.String(27), nullable=True),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name="fk_flags_counter_id_counters"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_flags"),
    )
    op.create_index("ix_flags_counter_id", "flags", ["counter_id"])
    op.create_index("ix_flags_kind", "flags", ["kind"])
    op.create_table(
        "participants",
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("counter_id", sa.String(40), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("ma_so_bhxh", sa.String(10), nullable=True),
        sa.Column("assigned_here", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", sa.String(27), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name="fk_participants_counter_id_counters"
        ),
        sa.PrimaryKeyConstraint("participant_id", name="pk_participants"),
    )
    op.create_index("ix_participants_counter_id", "participants", ["counter_id"])
    op.create_index("ix_participants_ma_so_bhxh", "participants", ["ma_so_bhxh"])
    op.create_table(
        "participant_changes",
        sa.Column("cursor", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("counter_id", sa.String(40), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("ma_so_bhxh", sa.String(10), nullable=False),
        sa.Column("changed_at", sa.String(27), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name="fk_participant_changes_counter_id_counters"
        ),
        sa.PrimaryKeyConstraint("cursor", name="pk_participant_changes"),
    )
    op.create_index("ix_participant_changes_counter_id", "participant_changes", ["counter_id"])
    op.create_table(
        "rate_tables",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.String(27), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_rate_tables"),
        sa.UniqueConstraint("version", name="uq_rate_tables_version"),
    )


def downgrade() -> None:
    for table in (
        "rate_tables",
        "participant_changes",
        "participants",
        "flags",
        "records",
        "counters",
        "enrollment_codes",
    ):
        op.drop_table(table)
