"""What the sync tells the outside world: plain callbacks and frozen values, no Qt.

A front end subclasses `SyncListener`, overrides the methods it cares about and registers it with
`SyncScheduler.add_listener` (or hands it to a `Syncer`). Every method is called on the sync
thread: a GUI must re-emit them as signals (ui/qt does) and never touch a widget here. A listener
that raises is logged and ignored; it cannot stop a sync.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from app.domain.clock import LOCAL_TZ

log = logging.getLogger("quaythu.sync.events")

FailureKind = Literal[
    "offline", "server_error", "needs_enrollment", "not_enrolled", "busy", "cancelled", "error"
]
StatusState = Literal[
    "not_enrolled", "idle", "syncing", "offline", "server_error", "needs_enrollment", "error"
]


@dataclass(frozen=True)
class BatchProgress:
    batch: int  # 1, 2, … within this sync
    sent: int
    accepted: int
    duplicate: int
    rejected: int
    unanswered: int
    pending: int  # still waiting after this batch


@dataclass(frozen=True)
class SyncReport:
    trigger: str
    started_at: datetime
    finished_at: datetime
    batches: int
    accepted: int
    duplicate: int
    rejected: int
    pending: int  # left pending at the end (0 when all went through)
    rejected_total: int  # parked items waiting for a supervisor
    rates_installed: tuple[str, ...]
    codes_assigned: int
    reconciled_day: date | None
    reconciliation_ok: bool | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class SyncFailure:
    kind: FailureKind
    message: str  # Vietnamese, safe to show
    retry_after: float | None = None


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows."""

    state: StatusState
    online: bool | None  # None: not known yet
    pending: int
    rejected: int
    last_success: datetime | None
    last_attempt: datetime | None
    last_error: str | None
    next_attempt: datetime | None = None

    @property
    def message(self) -> str:
        when = (
            self.last_success.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")
            if self.last_success
            else "chưa lần nào"
        )
        parked = f"; {self.rejected} bản ghi bị từ chối cần giám sát xem" if self.rejected else ""
        text = {
            "not_enrolled": "Chưa đăng ký với trung tâm",
            "idle": "Đã kết nối trung tâm",
            "syncing": "Đang đồng bộ…",
            "offline": "Mất kết nối trung tâm",
            "server_error": "Máy chủ trung tâm đang lỗi hoặc quá tải",
            "needs_enrollment": "Cần đăng ký lại quầy với trung tâm",
            "error": "Đồng bộ gặp lỗi",
        }[self.state]
        return f"{text} — chờ gửi {self.pending}{parked}; đồng bộ thành công lần cuối: {when}"


class SyncListener:
    """Override what you need; the defaults do nothing."""

    def sync_started(self, trigger: str) -> None:
        pass

    def batch_done(self, progress: BatchProgress) -> None:
        pass

    def sync_failed(self, failure: SyncFailure) -> None:
        pass

    def sync_finished(self, report: SyncReport) -> None:
        pass

    def pending_changed(self, pending: int, rejected: int) -> None:
        pass

    def status_changed(self, status: SyncStatus) -> None:
        pass


class Dispatcher(SyncListener):
    """Fans every event out to the registered listeners, shielding the sync from their errors."""

    def __init__(self) -> None:
        self._listeners: list[SyncListener] = []
        self._lock = threading.Lock()

    def add(self, listener: SyncListener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _each(self, call: Callable[[SyncListener], None]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                call(listener)
            except Exception:
                log.exception("sync listener %r failed", listener)

    def sync_started(self, trigger: str) -> None:
        self._each(lambda x: x.sync_started(trigger))

    def batch_done(self, progress: BatchProgress) -> None:
        self._each(lambda x: x.batch_done(progress))

    def sync_failed(self, failure: SyncFailure) -> None:
        self._each(lambda x: x.sync_failed(failure))

    def sync_finished(self, report: SyncReport) -> None:
        self._each(lambda x: x.sync_finished(report))

    def pending_changed(self, pending: int, rejected: int) -> None:
        self._each(lambda x: x.pending_changed(pending, rejected))

    def status_changed(self, status: SyncStatus) -> None:
        self._each(lambda x: x.status_changed(status))
