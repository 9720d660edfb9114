"""The happy path and the per-item rules, against the real reference server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.errors import PermissionDenied
from app.secrets import get_secret
from app.services.outbox import pending_count, rejected_items, requeue_rejected
from app.services.payments import void_payment
from app.storage.models import AuditEvent, OutboxItem
from central import auth
from sync.connection import token_name
from sync.engine import Syncer, read_status
from sync.enroll import enroll_counter
from sync.errors import AuthError
from sync.events import BatchProgress, SyncListener, SyncReport
from tests.sync.conftest import (
    FAST,
    Counter,
    assert_consistent,
    central_record_ids,
    enrollment_code,
)


class Recorder(SyncListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def sync_started(self, trigger: str) -> None:
        self.events.append(("started", trigger))

    def batch_done(self, progress: BatchProgress) -> None:
        self.events.append(("batch", progress))

    def sync_finished(self, report: SyncReport) -> None:
        self.events.append(("finished", report))

    def pending_changed(self, pending: int, rejected: int) -> None:
        self.events.append(("pending", (pending, rejected)))


def test_uploads_everything_in_batches_oldest_first(counter: Counter) -> None:
    counter.pay(7)
    void_payment(
        counter.db, receipt_number=2, reason="Thu nhầm số tháng", supervisor=counter.supervisor
    )
    assert pending_count(counter.db) == 8
    rec = Recorder()
    report = Syncer(counter.db, config=FAST, listener=rec).run("test")
    assert (report.accepted, report.duplicate, report.rejected, report.pending) == (8, 0, 0, 0)
    assert report.batches == 3  # 3 + 3 + 2
    assert next(e[0] for e in rec.events) == "started"
    assert [e[0] for e in rec.events][-1] == "finished"
    batches = [e[1] for e in rec.events if e[0] == "batch"]
    assert [b.pending for b in batches] == [5, 2, 0]  # type: ignore[attr-defined]
    assert_consistent(counter)
    held = central_record_ids(counter)
    assert len(held) == 9  # and the shift's opening, synced at set-up
    assert not counter.flags()
    # a second pass sends nothing
    again = Syncer(counter.db, config=FAST).run("test")
    assert (again.batches, again.accepted) == (0, 0)


def test_marks_synced_only_items_with_their_own_result(counter: Counter) -> None:
    counter.pay(2)
    Syncer(counter.db, config=FAST).run("test")
    with counter.db.read() as s:
        items = s.scalars(select(OutboxItem)).all()
        assert all(i.state == "synced" and i.synced_at and i.attempts == 1 for i in items)
    assert not rejected_items(counter.db)


def test_enrolment_is_audited_and_the_token_kept_out_of_the_database(
    counter: Counter, db_path: object
) -> None:
    with counter.db.read() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "sync.enroll")) is not None
    token = get_secret(token_name(counter.counter_id))
    assert token and token.encode() not in Path(str(db_path)).read_bytes()


def test_401_asks_for_reenrolment(counter: Counter) -> None:
    counter.pay(1)
    auth.revoke_token(counter.central.store, counter.central_counter_id())
    with pytest.raises(AuthError):
        Syncer(counter.db, config=FAST).run("test")
    status = read_status(counter.db)
    assert status.state == "needs_enrollment" and status.pending == 1
    assert status.last_error and "đăng ký lại" in status.last_error
    assert counter.states() == {"pending": 1}
    enroll_counter(
        counter.db,
        counter.central.url,
        enrollment_code(counter.central.store, counter.db),
        config=FAST,
    )
    assert read_status(counter.db).state == "idle"
    Syncer(counter.db, config=FAST).run("test")
    assert_consistent(counter)


def test_supervisor_can_requeue_a_parked_item(counter: Counter) -> None:
    counter.pay(2)
    with counter.db.write() as s:  # parked by an earlier refusal
        s.execute(
            update(OutboxItem)
            .where(OutboxItem.ledger_seq == 2)  # receipt 1 (record 1 opened the shift)
            .values(state="rejected", last_error="[invalid] thử")
        )
    Syncer(counter.db, config=FAST).run("test")
    [parked] = rejected_items(counter.db)
    assert parked.receipt_number == 1 and parked.last_error == "[invalid] thử"
    with pytest.raises(PermissionDenied):
        requeue_rejected(counter.db, parked.record_id, by=counter.cashier)
    requeue_rejected(counter.db, parked.record_id, by=counter.supervisor)
    Syncer(counter.db, config=FAST).run("test")
    assert not rejected_items(counter.db)
    assert_consistent(counter)
