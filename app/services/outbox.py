"""The counter's side of sync bookkeeping: the outbox, sync state values, central registration.

The sync client (`sync/`) drives these; the window reads them. Guarantees:

* an outbox item is marked `synced` only by `mark_results`, from central's own verdict on that
  item (accepted or duplicate), in a write transaction of its own that never spans network I/O;
  `rejected` items are parked with central's reason and never block the rest;
* the ledger tables are never touched here (the database refuses it anyway); only `outbox`,
  `sync_state`, `participants.ma_so_bhxh` (first-time participants only) and the counter's
  central registration change;
* nothing secret is stored: the API token lives in the keyring (`app.secrets`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.canonical import CanonicalValue
from app.domain.clock import now_utc
from app.domain.codes import format_code
from app.domain.ledger import PaymentBody
from app.domain.types import Role
from app.errors import NotFoundError
from app.services.common import Actor, audit, load_actor, require_counter
from app.services.payments import payment_body, void_body
from app.storage.db import Database
from app.storage.models import (
    LedgerEntry,
    OutboxItem,
    Participant,
    Payment,
    SyncState,
    Void,
)

OutboxState = Literal["pending", "synced", "rejected"]

# sync_state keys
LAST_SUCCESS = "last_success"
LAST_ATTEMPT = "last_attempt"
LAST_ERROR = "last_error"
NEEDS_ENROLLMENT = "needs_enrollment"
PARTICIPANT_CURSOR = "participants.cursor"
RATES_SINCE = "rates.since"


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    rejected: int
    synced: int


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox item with enough of its record to show a supervisor."""

    ledger_seq: int
    record_id: str
    kind: str
    state: str
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    synced_at: datetime | None
    last_error: str | None
    receipt_number: int | None
    amount: int | None
    payer_name: str | None
    confirmation_code: str | None  # grouped for reading


@dataclass(frozen=True)
class PendingRecord:
    """One pending ledger record as it is sent: canonical body, seq, kind, code and link."""

    outbox_id: int
    seq: int
    kind: Literal["payment", "void"]
    body: dict[str, CanonicalValue]
    code: str
    prev_hash: str
    hash: str

    @property
    def record_id(self) -> str:
        return str(self.body["id"])


@dataclass(frozen=True)
class ItemVerdict:
    """Central's result for one record, as the client understood it."""

    record_id: str
    seq: int
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None


@dataclass(frozen=True)
class MarkOutcome:
    synced: int
    rejected: int
    unanswered: int  # items central gave no usable result for: they stay pending


@dataclass(frozen=True)
class AssignedCode:
    participant_id: str
    ma_so_bhxh: str


@dataclass(frozen=True)
class AppliedCodes:
    applied: int
    skipped: tuple[str, ...]  # Vietnamese reasons, one per change not applied


# --- counts and lists --------------------------------------------------------------------------


def outbox_counts(db: Database) -> OutboxCounts:
    with db.read() as session:
        counts = {
            r[0]: r[1]
            for r in session.execute(
                select(OutboxItem.state, func.count()).group_by(OutboxItem.state)
            )
        }
    return OutboxCounts(
        counts.get("pending", 0), counts.get("rejected", 0), counts.get("synced", 0)
    )


def backlog(db: Database) -> tuple[int, int]:
    """(pending, rejected) — cheap: only the rows not yet synced are counted (state index)."""
    with db.read() as session:
        counts = {
            r[0]: r[1]
            for r in session.execute(
                select(OutboxItem.state, func.count())
                .where(OutboxItem.state.in_(("pending", "rejected")))
                .group_by(OutboxItem.state)
            )
        }
    return counts.get("pending", 0), counts.get("rejected", 0)


def pending_count(db: Database) -> int:
    """Ledger records still waiting to reach central (what the status bar shows)."""
    return backlog(db)[0]


def rejected_items(db: Database) -> list[OutboxEntry]:
    """Items central refused, parked for a supervisor, oldest first."""
    return list_outbox(db, state="rejected")


def list_outbox(
    db: Database, *, state: OutboxState | None = None, limit: int = 500
) -> list[OutboxEntry]:
    with db.read() as session:
        q = select(OutboxItem).order_by(OutboxItem.ledger_seq).limit(limit)
        if state is not None:
            q = q.where(OutboxItem.state == state)
        items = session.scalars(q).all()
        seqs = [i.ledger_seq for i in items]
        payments = {
            p.ledger_seq: p
            for p in session.scalars(select(Payment).where(Payment.ledger_seq.in_(seqs)))
        }
        voids = {
            v.ledger_seq: v for v in session.scalars(select(Void).where(Void.ledger_seq.in_(seqs)))
        }
        targets = {
            p.id: p
            for p in session.scalars(
                select(Payment).where(Payment.id.in_([v.payment_id for v in voids.values()]))
            )
        }
        out: list[OutboxEntry] = []
        for i in items:
            p = payments.get(i.ledger_seq)
            v = voids.get(i.ledger_seq)
            if v is not None:
                p = targets.get(v.payment_id)
            out.append(
                OutboxEntry(
                    ledger_seq=i.ledger_seq,
                    record_id=i.record_id,
                    kind=i.kind,
                    state=i.state,
                    attempts=i.attempts,
                    created_at=i.created_at,
                    last_attempt_at=i.last_attempt_at,
                    synced_at=i.synced_at,
                    last_error=i.last_error,
                    receipt_number=p.receipt_number if p else None,
                    amount=p.amount if p else None,
                    payer_name=p.payer_name if p else None,
                    confirmation_code=format_code(p.confirmation_code) if p else None,
                )
            )
        return out


def requeue_rejected(db: Database, record_id: str, *, by: Actor) -> None:
    """A supervisor sends a parked item again (after central fixed its side); audited."""
    by.require(Role.SUPERVISOR, Role.ADMIN, action="gửi lại bản ghi bị từ chối")
    with db.write() as session:
        load_actor(session, by)
        item = session.scalar(select(OutboxItem).where(OutboxItem.record_id == record_id))
        if item is None or item.state != "rejected":
            raise NotFoundError(
                "Không có bản ghi bị từ chối với mã này.", message_en="no such rejected item"
            )
        previous = item.last_error
        item.state = "pending"
        audit(session, "sync.requeue", actor=by, subject=record_id, previous_error=previous)


# --- building batches and recording verdicts ---------------------------------------------------


@dataclass(frozen=True)
class PendingBatch:
    records: tuple[PendingRecord, ...]
    orphans: tuple[int, ...]  # outbox ids whose record content is missing here: park them


_PAYMENT_BODY_COLUMNS = (
    *(Payment.__table__.c[f.name] for f in fields(PaymentBody)),
    Payment.__table__.c.ledger_seq,
)


def pending_batch(db: Database, limit: int, *, after_seq: int = 0) -> PendingBatch:
    """The oldest `limit` pending records after `after_seq`, by ledger sequence, rebuilt from
    the stored columns (`payment_body`/`void_body`), exactly as they were sealed."""
    with db.read() as session:
        rows = session.execute(
            select(
                OutboxItem.id,
                OutboxItem.kind,
                LedgerEntry.seq,
                LedgerEntry.code,
                LedgerEntry.prev_hash,
                LedgerEntry.hash,
            )
            .join(LedgerEntry, LedgerEntry.seq == OutboxItem.ledger_seq)
            .where(OutboxItem.state == "pending", OutboxItem.ledger_seq > after_seq)
            .order_by(OutboxItem.ledger_seq)
            .limit(limit)
        ).all()
        seqs = [r.seq for r in rows]
        # Plain rows, not ORM objects: this is the hot path of a large upload.
        payments = {
            row.ledger_seq: cast(Mapping[str, Any], row._mapping)
            for row in session.execute(
                select(*_PAYMENT_BODY_COLUMNS).where(Payment.ledger_seq.in_(seqs))
            )
        }
        void_seqs = [r.seq for r in rows if r.kind == "void"]
        voids = {
            v.ledger_seq: v
            for v in session.scalars(select(Void).where(Void.ledger_seq.in_(void_seqs)))
        }
        targets = {
            p.id: p
            for p in session.scalars(
                select(Payment).where(Payment.id.in_([v.payment_id for v in voids.values()]))
            )
        }
        records: list[PendingRecord] = []
        orphans: list[int] = []
        for r in rows:
            body: dict[str, CanonicalValue] | None = None
            kind: Literal["payment", "void"] = "payment"
            if r.kind == "payment" and r.seq in payments:
                body = payment_body(payments[r.seq]).canonical()
            elif r.kind == "void" and r.seq in voids:
                kind = "void"
                v = voids[r.seq]
                target = targets.get(v.payment_id)
                if target is not None:
                    body = void_body(v, target).canonical()
            if body is None:
                orphans.append(r.id)
                continue
            records.append(PendingRecord(r.id, r.seq, kind, body, r.code, r.prev_hash, r.hash))
        return PendingBatch(tuple(records), tuple(orphans))


def park_orphans(db: Database, outbox_ids: Sequence[int]) -> None:
    """Park items whose record content is missing locally (`verify` reports why), so the queue
    never stalls on them."""
    with db.write() as session:
        for item in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(outbox_ids))):
            if item.state != "pending":
                continue
            item.state = "rejected"
            item.last_error = (
                "tại quầy: bản ghi mất nội dung, không gửi được (chạy kiểm tra sổ thu)"
            )
            audit(session, "sync.unsendable", actor=None, subject=item.record_id)


def mark_results(
    db: Database, sent: Sequence[PendingRecord], verdicts: Iterable[ItemVerdict]
) -> MarkOutcome:
    """Record central's verdicts for a sent batch, each item by its own result, in one write."""
    by_id = {v.record_id: v for v in verdicts}
    now = now_utc()
    synced: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    unanswered: list[dict[str, object]] = []
    reasons: list[tuple[str, str]] = []
    for rec in sent:
        verdict = by_id.get(rec.record_id)
        if verdict is None or verdict.seq != rec.seq:
            unanswered.append({"id": rec.outbox_id})
        elif verdict.status in ("accepted", "duplicate"):
            synced.append({"id": rec.outbox_id})
        else:
            reason = verdict.reason or "trung tâm từ chối, không nêu lý do"
            rejected.append({"id": rec.outbox_id, "last_error": reason})
            reasons.append((rec.record_id, reason))
    with db.write() as session:
        # Only items still pending change: a verdict never un-syncs or un-parks an item.
        pending = OutboxItem.state == "pending"
        bump = {"attempts": OutboxItem.attempts + 1, "last_attempt_at": now}
        if synced:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_([r["id"] for r in synced]), pending)
                .values(state="synced", synced_at=now, last_error=None, **bump)
            )
        for r in rejected:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == r["id"], pending)
                .values(state="rejected", last_error=r["last_error"], **bump)
            )
        if unanswered:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_([r["id"] for r in unanswered]), pending)
                .values(**bump)
            )
        for record_id, reason in reasons:
            audit(session, "sync.rejected", actor=None, subject=record_id, reason=reason)
    return MarkOutcome(len(synced), len(rejected), len(unanswered))


def note_attempt_failed(db: Database, sent: Sequence[PendingRecord], error: str) -> None:
    """Count a failed attempt on the items of a batch that got no answer (network, 5xx)."""
    with db.write() as session:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_([r.outbox_id for r in sent]), OutboxItem.state == "pending")
            .values(
                attempts=OutboxItem.attempts + 1, last_attempt_at=now_utc(), last_error=error[:500]
            )
        )


# --- sync state --------------------------------------------------------------------------------


def sync_values(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {r[0]: r[1] for r in session.execute(select(SyncState.key, SyncState.value))}


def get_sync_value(db: Database, key: str) -> str | None:
    with db.read() as session:
        row = session.get(SyncState, key)
        return None if row is None else row.value


def put_sync_value(session: Session, key: str, value: str | None) -> None:
    row = session.get(SyncState, key)
    if value is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(SyncState(key=key, value=value, updated_at=now_utc()))
    else:
        row.value = value
        row.updated_at = now_utc()


def set_sync_values(db: Database, values: Mapping[str, str | None]) -> None:
    with db.write() as session:
        for key, value in values.items():
            put_sync_value(session, key, value)


# --- feeds from central ------------------------------------------------------------------------


def apply_assigned_codes(
    db: Database, changes: Sequence[AssignedCode], next_cursor: int
) -> AppliedCodes:
    """Fill in mã số BHXH for first-time participants and advance the cursor, atomically.

    Only a participant without a code gets one; a participant who already has a different code,
    or a code already held by someone else here, is left alone and reported (and audited).
    """
    applied = 0
    skipped: list[str] = []
    with db.write() as session:
        for change in changes:
            person = session.scalar(
                select(Participant).where(Participant.id == change.participant_id)
            )
            if person is None:
                skipped.append(f"không có người tham gia {change.participant_id} tại quầy")
                continue
            if person.ma_so_bhxh == change.ma_so_bhxh:
                continue
            holder = session.scalar(
                select(Participant).where(Participant.ma_so_bhxh == change.ma_so_bhxh)
            )
            if person.ma_so_bhxh is not None or holder is not None:
                why = (
                    f"{person.full_name} đã có mã số BHXH {person.ma_so_bhxh}"
                    if person.ma_so_bhxh is not None
                    else f"mã số {change.ma_so_bhxh} đã thuộc về người khác tại quầy"
                )
                skipped.append(why)
                audit(
                    session,
                    "participant.ma_so_conflict",
                    actor=None,
                    subject=person.id,
                    offered=change.ma_so_bhxh,
                    reason=why,
                )
                continue
            person.ma_so_bhxh = change.ma_so_bhxh
            person.updated_at = now_utc()
            applied += 1
            audit(
                session,
                "participant.ma_so_assigned",
                actor=None,
                subject=person.id,
                ma_so_bhxh=change.ma_so_bhxh,
                source="central",
            )
        put_sync_value(session, PARTICIPANT_CURSOR, str(next_cursor))
    return AppliedCodes(applied, tuple(skipped))


def record_enrollment(db: Database, *, central_url: str, central_counter_id: str) -> None:
    """Remember where and as whom this counter is enrolled (the token goes to the keyring)."""
    with db.write() as session:
        counter = require_counter(session)
        counter.central_url = central_url
        counter.central_counter_id = central_counter_id
        put_sync_value(session, NEEDS_ENROLLMENT, None)
        put_sync_value(session, LAST_ERROR, None)
        audit(
            session,
            "sync.enroll",
            actor=None,
            subject=central_counter_id,
            central_url=central_url,
        )


@dataclass(frozen=True)
class CentralRegistration:
    counter_id: str  # the counter's own id (keyring names use it)
    central_url: str | None
    central_counter_id: str | None


def central_registration(db: Database) -> CentralRegistration:
    with db.read() as session:
        counter = require_counter(session)
        return CentralRegistration(
            counter.counter_id, counter.central_url, counter.central_counter_id
        )


def note_sync_audit(db: Database, action: str, subject: str, details: Mapping[str, Any]) -> None:
    with db.write() as session:
        audit(session, action, actor=None, subject=subject, **dict(details))
