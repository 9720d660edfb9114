"""The outbox: the queue of ledger records still to reach central, and central's verdicts on them.

An item is (outbox id, sealed record): the record is rebuilt from the stored columns exactly as
it was sealed. Sync state values live in `app.services.sync_state`, the central registration in
`app.services.registration`, the participant codes central assigns in
`app.services.assigned_codes`. The sync client (`sync/`) drives these; the window reads them.
Guarantees:

* an outbox item is marked `synced` only by `mark_results`, from central's own verdict on that
  item (accepted or duplicate), in a write transaction of its own that never spans network I/O;
  `rejected` items are parked with central's reason and never block the rest;
* the ledger tables are never touched here (the database refuses it anyway); only `outbox`
  changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import func, select, update

from app.domain.clock import now_utc
from app.domain.codes import format_code
from app.domain.ledger import PaymentBody, SealedRecord
from app.domain.types import Role
from app.errors import NotFoundError
from app.services.common import Actor
from app.services.ledger_records import StoredContent
from app.services.queries import audit, load_actor
from app.storage.db import Database
from app.storage.models import LedgerEntry, OutboxItem, Payment, Void

OutboxState = Literal["pending", "synced", "rejected"]


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
class OutboxRecord:
    """One pending outbox item: its id in the queue and the sealed record it carries."""

    outbox_id: int
    record: SealedRecord

    @property
    def record_id(self) -> str:
        return str(self.record.body["id"])

    @property
    def seq(self) -> int:
        return self.record.seq


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
    records: tuple[OutboxRecord, ...]
    orphans: tuple[int, ...]  # outbox ids whose record content is missing here: park them


_PAYMENT_BODY_COLUMNS = (
    *(Payment.__table__.c[f.name] for f in fields(PaymentBody)),
    Payment.__table__.c.ledger_seq,
)


def pending_batch(db: Database, limit: int, *, after_seq: int = 0) -> PendingBatch:
    """The oldest `limit` pending records after `after_seq`, by ledger sequence, rebuilt from
    the stored columns (`StoredContent`, shared with `verify`), exactly as they were sealed."""
    with db.read() as session:
        rows = session.execute(
            select(
                OutboxItem.id,
                OutboxItem.kind,
                LedgerEntry.seq,
                LedgerEntry.code,
                LedgerEntry.prev_hash,
                LedgerEntry.hash,
                LedgerEntry.body,
                LedgerEntry.mac,
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
        cancelled = {
            p.id: p
            for p in session.scalars(
                select(Payment).where(Payment.id.in_([v.payment_id for v in voids.values()]))
            )
        }
        content = StoredContent(payments, voids, cancelled)
        records: list[OutboxRecord] = []
        orphans: list[int] = []
        for r in rows:
            sealed = content.record(r)
            if sealed is None:
                orphans.append(r.id)
            else:
                records.append(OutboxRecord(r.id, sealed))
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
    db: Database, sent: Sequence[OutboxRecord], verdicts: Iterable[ItemVerdict]
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


def note_attempt_failed(db: Database, sent: Sequence[OutboxRecord], error: str) -> None:
    """Count a failed attempt on the items of a batch that got no answer (network, 5xx)."""
    with db.write() as session:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_([r.outbox_id for r in sent]), OutboxItem.state == "pending")
            .values(
                attempts=OutboxItem.attempts + 1, last_attempt_at=now_utc(), last_error=error[:500]
            )
        )
