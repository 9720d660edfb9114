"""Sync: records central refused (and the supervisor's requeue), enrolment, reconciliation.

Enrolment and an on-demand reconciliation run on the I/O pool, not the database thread: each
waits on central over the network (seconds when it is slow or away) and the payments queued
behind it on the database thread must not. Their own short transactions serialise with the
database thread's through SQLite's write lock (`BEGIN IMMEDIATE`, busy timeout).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, IoOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.services.outbox import OutboxEntry
    from app.services.reconcile import ReconciliationView
    from sync.config import SyncConfig
    from sync.enroll import EnrollmentResult
    from ui.qt.state import AppState

REQUEUED = OpChanges(sync=True)
ENROLLED = OpChanges(sync=True, settings=True)


def pending(parent: QObject, state: AppState) -> Op[int]:
    """Payments and voids not yet accepted by central."""

    def count() -> int:
        from app.services.outbox import pending_count

        return pending_count(state.db)

    return DbOp(parent, count)


def rejected(parent: QObject, state: AppState) -> Op[list[OutboxEntry]]:
    def load() -> list[OutboxEntry]:
        from app.services.outbox import rejected_items

        return rejected_items(state.db)

    return DbOp(parent, load)


def requeue(
    parent: QObject, state: AppState, record_id: str, *, supervisor: str, password: str
) -> Op[None]:
    """A supervisor signs (own user name and password) to send a parked record again."""

    def sign_and_requeue() -> None:
        from app.services.operators import authenticate
        from app.services.outbox import requeue_rejected

        signer = authenticate(state.db, supervisor, password)
        requeue_rejected(state.db, record_id, by=signer)

    return DbOp(parent, sign_and_requeue).changes(state, REQUEUED)


def enrol(
    parent: QObject, state: AppState, url: str, code: str, *, config: SyncConfig | None
) -> Op[EnrollmentResult]:
    """Enrol with central (I/O pool: it waits on the network; see the module docs)."""
    db = state.db

    def enroll() -> EnrollmentResult:
        from sync.enroll import enroll_counter

        return enroll_counter(db, url, code, config=config)

    return IoOp(parent, enroll).changes(state, ENROLLED)


def latest_reconciliation(
    parent: QObject, state: AppState, day: date
) -> Op[ReconciliationView | None]:
    def load() -> ReconciliationView | None:
        from app.services.reconcile import list_reconciliations

        runs = list_reconciliations(state.db, day=day, limit=1)
        return runs[0] if runs else None

    return DbOp(parent, load)


def reconcile(
    parent: QObject, state: AppState, day: date, *, config: SyncConfig
) -> Op[ReconciliationView]:
    """Fetch central's Mẫu 01-XN of `day`, compare, store the run (I/O pool: network)."""

    def run() -> ReconciliationView:
        from sync.reconciliation import reconcile_with_central

        return reconcile_with_central(state.db, day, config=config, trigger="manual")

    return IoOp(parent, run)


def reconciliation_csv(parent: QObject, state: AppState, run_id: int) -> Op[bytes]:
    """A stored run as CSV bytes, built on the database thread; the screen writes the file on
    the I/O pool."""

    def build() -> bytes:
        from app.services.reconcile import reconciliation_csv as csv_bytes

        return csv_bytes(state.db, run_id)

    return DbOp(parent, build)
