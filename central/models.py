"""Tables of the reference central collection system.

`records` is the auditor's copy of every counter's ledger: rows are inserted once, keyed by the
record id, and never updated (a different submission under a stored id is refused and kept as a
flag's evidence instead). `flags` is the auditor's view: gaps, tampering, conflicts, forks.
Instants are canonical UTC text, dates ISO text, so SQLite and PostgreSQL store the same thing.

The schema is managed by Alembic (`central/migrations/`, run at start-up by `central.schema`);
a change here needs a new revision there (a test compares the two on SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class CentralBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CentralMeta(CentralBase):
    """Facts about this central installation (its instance id, shown to enrolling counters)."""

    __tablename__ = "central_meta"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class EnrollmentCode(CentralBase):
    """A one-time enrolment code, issued for exactly one counter: organisation, collection
    point and counter code must match the enrolling counter's."""

    __tablename__ = "enrollment_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    collection_point: Mapped[str] = mapped_column(String(200), default="")
    counter_code: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[str] = mapped_column(String(27))
    expires_at: Mapped[str] = mapped_column(String(27))
    used_at: Mapped[str | None] = mapped_column(String(27))
    used_by: Mapped[str | None] = mapped_column(String(40))


class CentralCounter(CentralBase):
    __tablename__ = "counters"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ledger_counter_id: Mapped[str] = mapped_column(String(36), unique=True)
    counter_code: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(String(200))
    collection_point: Mapped[str] = mapped_column(String(200))
    receipt_series: Mapped[str] = mapped_column(String(20))
    # Central is the other holder of the counter's code-signing key by design: whoever holds it
    # can verify a Mã xác nhận. Stored sealed under the master key (central.masterkey), never
    # in plain text; a production system may keep the master key in an HSM or a KMS.
    signing_key: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[str] = mapped_column(String(27))
    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    last_upload_at: Mapped[str | None] = mapped_column(String(27))


class CounterKey(CentralBase):
    """A key a counter seals with from `from_seq` on, after moving to a new PC
    (docs/BACKUP.md): the new key continues the chain from the restored head
    (`from_seq - 1`, `continues_from_hash`). Records below `from_seq` stay verified with the
    key before. `status`: `pending` until central's admin approves the move (records sealed with
    it are refused meanwhile), then `approved`; or `refused`, or `superseded` by a later request.
    Sealed under the master key like `counters.signing_key`, with `<counter id>@<from_seq>` as
    associated data."""

    __tablename__ = "counter_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter_id: Mapped[str] = mapped_column(ForeignKey("counters.id"), index=True)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    continues_from_hash: Mapped[str] = mapped_column(String(64))
    signing_key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    requested_at: Mapped[str] = mapped_column(String(27))
    decided_at: Mapped[str | None] = mapped_column(String(27))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class LedgerRecord(CentralBase):
    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("counter_id", "seq"),
        Index("ix_records_counter_day", "counter_id", "kind", "business_date"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    counter_id: Mapped[str] = mapped_column(ForeignKey("counters.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)  # canonical JSON text, exactly as sealed
    code: Mapped[str] = mapped_column(String(12), index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[str] = mapped_column(String(27))
    business_date: Mapped[str] = mapped_column(String(10))
    # denormalised from the body for queries
    receipt_number: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[str] = mapped_column(String(27))  # paid_at or voided_at
    participant_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payment_id: Mapped[str | None] = mapped_column(String(36), index=True)  # voids


class Flag(CentralBase):
    """Something an auditor must look at. Evidence keeps refused submissions: nothing is lost."""

    __tablename__ = "flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter_id: Mapped[str] = mapped_column(ForeignKey("counters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    seq_to: Mapped[int | None] = mapped_column(BigInteger)
    record_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(27))
    resolved_at: Mapped[str | None] = mapped_column(String(27))


class CentralParticipant(CentralBase):
    __tablename__ = "participants"
    participant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    counter_id: Mapped[str] = mapped_column(ForeignKey("counters.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    ma_so_bhxh: Mapped[str | None] = mapped_column(String(10), index=True)
    assigned_here: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[str] = mapped_column(String(27))


class ParticipantChangeRow(CentralBase):
    __tablename__ = "participant_changes"
    cursor: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    counter_id: Mapped[str] = mapped_column(ForeignKey("counters.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(36))
    change: Mapped[str] = mapped_column(String(20))
    ma_so_bhxh: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[str] = mapped_column(String(27))


class PublishedRateTable(CentralBase):
    __tablename__ = "rate_tables"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str] = mapped_column(String(27))
