"""SQLAlchemy 2 typed models of the counter's local database.

The ledger tables (`ledger`, `payments`, `voids`) are append-only: services insert rows and
never update or delete them; corrections are new void records. Mutable bookkeeping (the sync
outbox, participants, settings) lives in other tables. The schema is created and changed only by
the Alembic migrations in `app/storage/migrations`; a test checks they agree with these models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.domain.canonical import parse_utc_iso, utc_iso

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant stored as canonical UTC ISO text (sorts and compares as text)."""

    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else utc_iso(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        return None if value is None else parse_utc_iso(str(value))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Counter(Base):
    """This counter's identity: exactly one row (id = 1) once initialised."""

    __tablename__ = "counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter_id: Mapped[str] = mapped_column(String(36), unique=True)
    counter_code: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(String(200))
    collection_point: Mapped[str] = mapped_column(String(200))
    receipt_series: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    central_url: Mapped[str | None] = mapped_column(String(300))
    central_counter_id: Mapped[str | None] = mapped_column(String(64))


class Operator(Base):
    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # migration 0006_accounts: the password lifecycle (docs/ACCOUNTS.md)
    must_change: Mapped[str | None] = mapped_column(String(10))  # ChangeReason owed, if any
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # in a row
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_hashes: Mapped[str] = mapped_column(Text, default="[]")  # JSON, newest first


class Participant(Base):
    __tablename__ = "participants"
    # An explicit INTEGER PRIMARY KEY (a rowid alias) because the FTS5 index refers to rows by
    # rowid, and VACUUM may renumber implicit rowids.
    num: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    ma_so_bhxh: Mapped[str | None] = mapped_column(String(10), unique=True)
    cccd: Mapped[str | None] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # folded, lower-case
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(3))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    support_category: Mapped[str | None] = mapped_column(String(20))
    prior_support_months: Mapped[int] = mapped_column(Integer, default=0)
    bhyt_card_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerEntry(Base):
    """The chain: one row per ledger record, `seq` 1, 2, 3 … with no gap."""

    __tablename__ = "ledger"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[str] = mapped_column(String(36), unique=True)
    code: Mapped[str] = mapped_column(String(12))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Format 2 (migration 0005_ledger_v2): the canonical body exactly as sealed, and the full
    # keyed MAC. The `payments`/`voids` rows are views of it that `verify` recomputes. Null for
    # format-1 records, whose body is rebuilt from the columns it signs.
    body: Mapped[str | None] = mapped_column(Text)
    mac: Mapped[str | None] = mapped_column(String(64))


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ledger_seq: Mapped[int] = mapped_column(ForeignKey("ledger.seq"), unique=True)
    receipt_number: Mapped[int] = mapped_column(Integer, unique=True)
    series: Mapped[str] = mapped_column(String(20))
    client_request_id: Mapped[str] = mapped_column(String(64), unique=True)
    counter_id: Mapped[str] = mapped_column(String(36))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    payer_name: Mapped[str] = mapped_column(String(200))
    ma_so_bhxh: Mapped[str | None] = mapped_column(String(10))
    cccd: Mapped[str | None] = mapped_column(String(12))
    scheme: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(10))
    months: Mapped[int] = mapped_column(Integer)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    income: Mapped[int | None] = mapped_column(Integer)
    support_category: Mapped[str | None] = mapped_column(String(20))
    member_order: Mapped[int | None] = mapped_column(Integer)
    gross_per_month: Mapped[int] = mapped_column(Integer)
    support_per_month: Mapped[int] = mapped_column(Integer)
    total_gross: Mapped[int] = mapped_column(Integer)
    total_support: Mapped[int] = mapped_column(Integer)
    support_months: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    tendered: Mapped[int | None] = mapped_column(Integer)
    rate_version: Mapped[str] = mapped_column(String(40))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    business_date: Mapped[date] = mapped_column(Date, index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    cashier: Mapped[str] = mapped_column(String(64))  # username, as in the signed body
    confirmation_code: Mapped[str] = mapped_column(String(12), index=True)


class Void(Base):
    __tablename__ = "voids"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ledger_seq: Mapped[int] = mapped_column(ForeignKey("ledger.seq"), unique=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), unique=True)
    counter_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(500))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    supervisor: Mapped[str] = mapped_column(String(64))  # username, as in the signed body
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    business_date: Mapped[date] = mapped_column(Date, index=True)
    signature: Mapped[str] = mapped_column(String(12))


class Reprint(Base):
    __tablename__ = "reprints"
    __table_args__ = (UniqueConstraint("payment_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxItem(Base):
    """A ledger record waiting to reach the central server.

    state: pending → synced (central said accepted/duplicate) or rejected (parked with the reason
    for a supervisor; never blocks the rest of the queue).
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger_seq: Mapped[int] = mapped_column(ForeignKey("ledger.seq"), unique=True)
    record_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), index=True, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One secondary index only (seq): one entry is written per payment, and the audit trail is
    # read rarely (by id order, which is time order).
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    # The keyed chain (migration 0005_ledger_v2; null on entries written before it):
    # seq 1, 2, 3 …, prev_hash = the previous entry's mac, mac = keyed_link(key, prev_hash, …).
    seq: Mapped[int | None] = mapped_column(Integer, index=True)  # anchor checks look it up
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))


class RateTableVersion(Base):
    """Rate tables as received: shipped default, pushed by central, or entered by an admin."""

    __tablename__ = "rate_tables"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # JSON, as in resources/rates/default.json
    source: Mapped[str] = mapped_column(String(20))
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    installed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))


class Setting(Base):
    """Non-secret settings. Secrets live in the OS keyring, never here."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- sync bookkeeping (migration 0002) -------------------------------------------------------


class SyncState(Base):
    """Small non-secret sync bookkeeping values: feed cursors, last success, enrolment state.

    Mutable on purpose (the ledger tables are not); the API token lives in the keyring only.
    """

    __tablename__ = "sync_state"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncLease(Base):
    """Who may sync right now: one row per lease name, taken under BEGIN IMMEDIATE.

    A holder keeps the lease by renewing `expires_at` during a long sync; anyone may take an
    expired lease, or one whose holder process on this same host is no longer running.
    """

    __tablename__ = "sync_lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(40))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReconciliationRun(Base):
    """One comparison of the local Mẫu 01-XN of a business day with the central system's."""

    __tablename__ = "reconciliation_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(20))  # "scheduled" | "manual"
    tolerance_seconds: Mapped[int] = mapped_column(Integer)
    local_count: Mapped[int] = mapped_column(Integer)
    local_total: Mapped[int] = mapped_column(Integer)
    central_count: Mapped[int] = mapped_column(Integer)
    central_total: Mapped[int] = mapped_column(Integer)
    issue_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # "ok" | "mismatch"


class ReconciliationIssue(Base):
    """One difference found by a reconciliation run, by confirmation code."""

    __tablename__ = "reconciliation_issues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    confirmation_code: Mapped[str] = mapped_column(String(12))
    receipt_number: Mapped[int | None] = mapped_column(Integer)
    local_amount: Mapped[int | None] = mapped_column(Integer)
    central_amount: Mapped[int | None] = mapped_column(Integer)
    local_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    central_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text)


# --- households and paid periods from central (migration 0003) -------------------------------


class Household(Base):
    """A BHYT hộ gia đình: the people who pay the household rate together (docs/RULES.md R5).

    Mutable bookkeeping (members join and move); every change is an audit event. The member
    order a payment uses is worked out from the members and the fiscal year, never typed.
    """

    __tablename__ = "households"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    head_participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HouseholdMember(Base):
    """A participant's household: at most one at a time (moving a member rewrites the row)."""

    __tablename__ = "household_members"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    relation: Mapped[str] = mapped_column(String(40), default="")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CentralPaidPeriod(Base):
    """A period the central system says a participant has paid (at another counter, or before
    this counter existed). With this counter's own non-voided payments it makes the months
    already covered (docs/RULES.md R1)."""

    __tablename__ = "central_paid_periods"
    __table_args__ = (UniqueConstraint("participant_id", "scheme", "period_from", "period_to"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(20))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- payer notifications (migration 0004_notify) --------------------------------------------


class Notification(Base):
    """One message to a payer (SMS or email) about a payment or its void: the notification outbox.

    Queued in the same transaction as the payment (or void); delivered later by
    `app.notify.delivery.deliver_due`. state: queued → sending (claimed) → sent | retrying |
    failed (permanently, `last_error` says why) | unknown (the answer was lost and the gateway has
    no client message id: the cashier decides to resend).

    The id IS the idempotency key: `4 × the payment's ledger_seq + slot`, slot 0 SMS / 1 email
    for the payment, 2 SMS / 3 email for its void. So a second message for the same payment,
    channel and kind cannot exist (primary key), a payment's messages are one short range, and
    record_payment writes no secondary index page: the table has none on purpose (each index is
    one more page per payment — bench/bench_notify.py holds queuing to ≤ 10 %). The delivery loop
    finds waiting messages from a low-water mark (`app.notify.outbox.LOW_WATER_KEY`).
    """

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"))
    kind: Mapped[str] = mapped_column(String(10))  # "payment" | "void"
    channel: Mapped[str] = mapped_column(String(5))  # "sms" | "email"
    address: Mapped[str] = mapped_column(String(200))
    client_message_id: Mapped[str | None] = mapped_column(String(40))  # set at first attempt
    body: Mapped[str | None] = mapped_column(Text)  # SMS text, rendered at the first attempt
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempt_day: Mapped[date | None] = mapped_column(Date)
    day_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    resends: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def idempotency_key(self) -> str:
        return f"{self.payment_id}:{self.channel}:{self.kind}"


class Shift(Base):
    """A cashier's shift: a view of its signed shift records in the ledger (docs/SHIFTS.md).
    `verify` recomputes every column from those records. Open while `close_seq` is null; one
    open shift per counter."""

    __tablename__ = "shifts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the opening record's id
    open_seq: Mapped[int] = mapped_column(ForeignKey("ledger.seq"), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    cashier: Mapped[str] = mapped_column(String(64))  # username, as signed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    float_amount: Mapped[int] = mapped_column(Integer)
    float_counts: Mapped[str] = mapped_column(String(200))
    close_seq: Mapped[int | None] = mapped_column(ForeignKey("ledger.seq"), unique=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    counted: Mapped[int | None] = mapped_column(Integer)
    counted_counts: Mapped[str | None] = mapped_column(String(200))
    expected: Mapped[int | None] = mapped_column(Integer)
    difference: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    supervisor: Mapped[str | None] = mapped_column(String(64))
    payments: Mapped[int | None] = mapped_column(Integer)
    first_receipt: Mapped[int | None] = mapped_column(Integer)
    last_receipt: Mapped[int | None] = mapped_column(Integer)
    unsynced: Mapped[int | None] = mapped_column(Integer)
    records_hash: Mapped[str | None] = mapped_column(String(64))


class ShiftPrint(Base):
    """Each print of a shift's Z report: number 1 is the original, later ones are copies."""

    __tablename__ = "shift_prints"
    __table_args__ = (UniqueConstraint("shift_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[str] = mapped_column(ForeignKey("shifts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
