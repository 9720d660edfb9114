"""security: enrolment codes bound to one counter, sealed keys, 64-bit numbers, instance id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

* `enrollment_codes` names the counter a code is for (organisation, collection point, counter
  code); codes issued before are bound to nothing and so are useless — issue new ones;
* `counters.signing_key` holds the sealed key (longer than the plain base64);
* sequence numbers, receipt numbers, amounts and flag ranges are 64-bit on PostgreSQL (SQLite's
  INTEGER already is);
* `central_meta` with this installation's random instance id (its fingerprint is shown to
  enrolling counters).
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WIDE = [
    ("counters", "head_seq", False),
    ("records", "seq", False),
    ("records", "receipt_number", True),
    ("records", "amount", True),
    ("flags", "seq", True),
    ("flags", "seq_to", True),
]


def upgrade() -> None:
    meta = op.create_table(
        "central_meta",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_central_meta"),
    )
    op.bulk_insert(meta, [{"name": "instance_id", "value": secrets.token_hex(16)}])
    with op.batch_alter_table("enrollment_codes") as batch:
        for name, length in (
            ("organisation", 200),
            ("collection_point", 200),
            ("counter_code", 20),
        ):
            batch.add_column(sa.Column(name, sa.String(length), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite: column types are affinities; INTEGER is 64-bit, TEXT unbounded
    op.alter_column("counters", "signing_key", type_=sa.Text(), existing_nullable=False)
    for table, column, nullable in _WIDE:
        op.alter_column(
            table,
            column,
            type_=sa.BigInteger(),
            existing_type=sa.Integer(),
            existing_nullable=nullable,
        )


def downgrade() -> None:
    with op.batch_alter_table("enrollment_codes") as batch:
        for name in ("organisation", "collection_point", "counter_code"):
            batch.drop_column(name)
    op.drop_table("central_meta")
