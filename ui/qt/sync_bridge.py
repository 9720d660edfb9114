"""The Qt side of background sync: owns the `SyncScheduler` and turns its callbacks into signals.

Electrum's pattern: the scheduler calls its listeners on the sync thread; the listener here only
stores what happened (latest status, pending/rejected counts, log lines) under a lock and sets a
flag. A timer on the GUI thread (every `COALESCE_MS` while a scheduler runs) finds the flag and
delivers everything that arrived meanwhile as ONE `status_changed` and ONE `log_added` — a sync
of 10,000 payments in 50 batches costs the GUI thread a handful of refreshes, not hundreds of
queued events.

Why a flag and a timer rather than a queued signal from the sync thread: the sync thread never
calls into Qt at all. Emitting to a QObject from another thread races with the GUI thread
destroying it (closing the window) and takes Qt's locks on a thread that holds the GIL; a plain
lock and a flag cannot deadlock with either. The price is a timer tick every `COALESCE_MS`
while enrolled, which does nothing when the flag is down.

Guarantees:
- no widget is touched, and no Qt call made, off the GUI thread; signals are emitted on the GUI
  thread only;
- the GUI thread imports only `sync.events` (plain values and the listener base; no
  SQLAlchemy, no `requests` — the engine and scheduler with `requests` are ≈0.3 s), never reads
  the database and never waits for the network: the scheduler is built and started on the I/O
  pool after login,
  `notify_local_change` runs on the database thread (after the op that recorded the payment —
  the queue is FIFO), `sync_now` only sets an event;
- `shutdown()` returns at once: a helper thread asks the scheduler to stop (a running pass is
  cancelled between requests) and joins it for at most `STOP_TIMEOUT` seconds; the
  composition root waits for that helper, bounded, before closing the database.

The main window builds the bridge at the first login; it takes the window's state as a
`BridgeHost` (what it reads of it), so this module does not import `ui.qt.state`. Before the
scheduler starts, the objects the program has loaded by then are
frozen out of the garbage collector (`freeze_long_lived_objects`): full collections set off by
the sync's allocations would otherwise stall the GUI thread for up to ~0.1 s.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.clock import format_local
from sync.events import BatchProgress, SyncFailure, SyncListener, SyncReport, SyncStatus
from ui.qt.ops import DbOp, IoOp

if TYPE_CHECKING:
    from app.services.counter import CounterView
    from app.storage.db import Database
    from sync.config import SyncConfig
    from sync.scheduler import SyncScheduler

log = logging.getLogger("quaythu.ui.sync")

COALESCE_MS = 250
STOP_TIMEOUT = 5.0
HISTORY = 500

TRIGGERS = {
    "timer": "định kỳ",
    "manual": "theo yêu cầu",
    "reconcile": "đối chiếu buổi sáng",
    "start": "khi mở chương trình",
}


@dataclass(frozen=True)
class SyncLogEntry:
    """One line of the sync log: when (aware UTC), a tone for its colour, Vietnamese text."""

    at: datetime
    tone: str  # "info" | "ok" | "warn" | "error"
    text: str

    @property
    def local_time(self) -> str:
        return format_local(self.at, "%H:%M:%S")


# --- texts (built on the sync thread, so the GUI thread only shows them) ------------------------


def _n(value: int) -> str:
    from app.domain.money import format_number

    return format_number(value)


def started_text(trigger: str) -> str:
    return f"Bắt đầu đồng bộ ({TRIGGERS.get(trigger, trigger)})."


def batch_text(p: BatchProgress) -> str:
    text = (
        f"Lô {p.batch}: gửi {_n(p.sent)} — trung tâm nhận {_n(p.accepted)}, "
        f"đã có {_n(p.duplicate)}, từ chối {_n(p.rejected)}"
    )
    if p.unanswered:
        text += f", chưa có kết quả {_n(p.unanswered)}"
    return f"{text}; còn chờ gửi {_n(p.pending)}."


def failure_text(f: SyncFailure) -> str:
    if f.kind == "cancelled":
        return "Đồng bộ đã dừng (chương trình đang đóng)."
    if f.kind == "busy":
        return f"Chưa đồng bộ lúc này: {f.message}"
    return f"Đồng bộ không thành công: {f.message}"


def finished_text(r: SyncReport) -> str:
    parts = [
        f"Đồng bộ xong ({TRIGGERS.get(r.trigger, r.trigger)}): trung tâm nhận {_n(r.accepted)}, "
        f"đã có {_n(r.duplicate)}, từ chối {_n(r.rejected)}; còn chờ gửi {_n(r.pending)}"
    ]
    if r.rejected_total:
        parts.append(f"{_n(r.rejected_total)} bản ghi bị từ chối chờ giám sát xem")
    if r.rates_installed:
        parts.append("đã cài bảng mức đóng " + ", ".join(r.rates_installed))
    if r.codes_assigned:
        parts.append(f"nhận {_n(r.codes_assigned)} mã số BHXH mới")
    if r.reconciled_day is not None:
        verdict = "khớp" if r.reconciliation_ok else "CÓ CHÊNH LỆCH — xem mục Đối chiếu"
        parts.append(f"đối chiếu ngày {r.reconciled_day:%d/%m/%Y}: {verdict}")
    return "; ".join(parts) + "."


# --- garbage collection --------------------------------------------------------------------------

_frozen = False


def freeze_long_lived_objects() -> None:
    """Once per process, when the program is fully loaded: move every object that exists now
    (modules, classes, the ORM's mappings — ≈125,000 objects) into the permanent generation.

    A sync allocates many short-lived objects, which soon triggers a full (generation 2)
    collection; that walks every tracked object while holding the GIL, on whichever thread set
    it off, so the GUI thread stalled with it: 40–110 ms per collection in
    bench/bench_gui_sync.py. After the freeze a full collection walks only what was created
    since (a few milliseconds). Frozen objects are still freed by reference counting; only
    cycles among them would stay — they are the program's own long-lived structures.
    """
    global _frozen
    if not _frozen:
        import gc

        _frozen = True
        gc.freeze()


# --- the listener (sync thread) ------------------------------------------------------------------


class BridgeListener(SyncListener):
    """Runs on the sync thread: formats, stores, pokes `bridge`. Never touches a widget."""

    def __init__(self, bridge: SyncBridge) -> None:
        self.bridge = bridge

    def sync_started(self, trigger: str) -> None:
        self.bridge.post(log=("info", started_text(trigger)))

    def batch_done(self, progress: BatchProgress) -> None:
        tone = "warn" if progress.rejected else "info"
        self.bridge.post(log=(tone, batch_text(progress)))

    def sync_failed(self, failure: SyncFailure) -> None:
        tone = "info" if failure.kind in ("cancelled", "busy") else "error"
        self.bridge.post(log=(tone, failure_text(failure)))

    def sync_finished(self, report: SyncReport) -> None:
        tone = "warn" if report.rejected or report.reconciliation_ok is False else "ok"
        self.bridge.post(log=(tone, finished_text(report)))
        for warning in report.warnings:
            self.bridge.post(log=("warn", warning))

    def pending_changed(self, pending: int, rejected: int) -> None:
        self.bridge.post(backlog=(pending, rejected))

    def status_changed(self, status: SyncStatus) -> None:
        self.bridge.post(status=status)


class BridgeHost(Protocol):
    """What the bridge needs from the window's state (`ui.qt.state.AppState` has it)."""

    sync_config: SyncConfig | None
    counter: CounterView | None

    @property
    def db(self) -> Database: ...

    @property
    def db_ready(self) -> bool: ...


# --- the bridge (GUI thread) ---------------------------------------------------------------------


class SyncBridge(QObject):
    """One per window. Signals (GUI thread, coalesced): `status_changed(SyncStatus)`,
    `log_added(tuple[SyncLogEntry, ...])`; `enrolment_changed(bool)` when it is learnt."""

    status_changed = Signal(object)
    log_added = Signal(object)
    enrolment_changed = Signal(bool)

    def __init__(self, state: BridgeHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.scheduler: SyncScheduler | None = None
        self.enrolled: bool | None = None  # None: not known yet (before the first login)
        self.status: SyncStatus | None = None  # last delivered to the GUI thread
        self.history: deque[SyncLogEntry] = deque(maxlen=HISTORY)
        self.deliveries = 0  # coalesced refreshes delivered (the tests and the bench read it)
        self._lock = threading.Lock()
        self._latest: SyncStatus | None = None  # newest known on any thread (under _lock)
        self._status_dirty = False
        self._incoming: list[SyncLogEntry] = []
        self._dirty = False  # something arrived since the last delivery (under _lock)
        self._starting = False
        self._closed = False
        self._remove_listener: Callable[[], None] | None = None
        self._stopper: threading.Thread | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._flush)

    # --- any thread ----------------------------------------------------------------------------

    def post(
        self,
        *,
        status: SyncStatus | None = None,
        backlog: tuple[int, int] | None = None,
        log: tuple[str, str] | None = None,
    ) -> None:
        """Record what happened; the GUI hears about it at the next coalesced refresh. Any
        thread; no Qt call."""
        with self._lock:
            if status is not None:
                self._latest = status
                self._status_dirty = True
            if backlog is not None and self._latest is not None:
                pending, rejected = backlog
                self._latest = replace(self._latest, pending=pending, rejected=rejected)
                self._status_dirty = True
            if log is not None:
                self._incoming.append(SyncLogEntry(datetime.now(UTC), log[0], log[1]))
            self._dirty = True

    # --- GUI thread: coalescing ----------------------------------------------------------------

    def start_delivery(self) -> None:
        """Look for news every `COALESCE_MS` (while a scheduler runs; tests call it)."""
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            status = self._latest if self._status_dirty else None
            entries = tuple(self._incoming)
            self._incoming.clear()
            self._status_dirty = False
            self._dirty = False
        self.deliveries += 1
        if entries:
            self.history.extend(entries)
            self.log_added.emit(entries)
        if status is not None:
            self.status = status
            self.status_changed.emit(status)

    def flush_now(self) -> None:
        """Deliver what is waiting now, without waiting for the timer."""
        self._flush()

    # --- GUI thread: life cycle ----------------------------------------------------------------

    def config(self) -> SyncConfig:
        configured = self.state.sync_config
        if configured is not None:
            return configured
        from sync.config import SyncConfig

        return SyncConfig()

    @property
    def running(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        """After login: learn whether the counter is enrolled; if so build, hook up and start
        the scheduler — all on the I/O pool (keyring, database, `sync` imports)."""
        if self._closed or self._starting or self.scheduler is not None:
            return
        if not self.state.db_ready:
            return
        self._starting = True
        db = self.state.db
        config = self.config()

        def prepare() -> tuple[Any, Any]:
            from sync.engine import read_status

            status = read_status(db)
            if status.state == "not_enrolled":
                freeze_long_lived_objects()
                return status, None
            from sync.scheduler import SyncScheduler

            scheduler = SyncScheduler(db, config=config)
            remove = scheduler.add_listener(BridgeListener(self))
            freeze_long_lived_objects()
            scheduler.start()
            return status, (scheduler, remove)

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.post(log=("error", f"Không khởi động được đồng bộ: {message_for(exc)}"))
            self.flush_now()

        def done() -> None:
            self._starting = False

        IoOp(None, prepare).success(self._prepared).failure(failed).finally_(done).run()

    def _prepared(self, result: tuple[Any, Any]) -> None:
        status, made = result
        if made is not None:
            scheduler, remove = made
            if self._closed:  # the window closed meanwhile: stop it again, off this thread
                remove()
                self._stop_in_background(scheduler)
                return
            self.scheduler, self._remove_listener = scheduler, remove
            self.start_delivery()
        if self._closed:
            return  # the window is closing (it may be gone already): nothing to show
        with self._lock:
            # The scheduler may already have published a newer status: keep that one. An
            # older "not enrolled" (an earlier login, before enrolling) gives way.
            if self._latest is None or self._latest.state == "not_enrolled":
                self._latest = status
                self._status_dirty = self._dirty = True
        self.enrolled = made is not None
        self.enrolment_changed.emit(self.enrolled)
        self.flush_now()

    def sync_now(self) -> bool:
        """Ask for a sync at once (returns at once). False when the counter is not enrolled."""
        if self.scheduler is None:
            return False
        self.scheduler.sync_now("manual")
        return True

    def local_change(self) -> None:
        """A payment or void was recorded: recount on the database thread (after that op)."""
        scheduler = self.scheduler
        if scheduler is not None and not self._closed:
            DbOp(None, scheduler.notify_local_change).failure(lambda _exc: None).run()

    def enrolled_now(self) -> None:
        """The counter has just (re-)enrolled: start syncing, or clear "needs enrolment"."""
        if self.scheduler is not None:
            self.scheduler.sync_now("manual")
        else:
            self.start()

    def may_have_unsynced(self) -> bool:
        """Whether closing/logging out should count the pending payments first."""
        if self._closed or not self.state.db_ready:
            return False
        if self.enrolled is not None:
            return self.enrolled
        counter = self.state.counter
        return bool(counter is not None and counter.central_url)

    def shutdown(self) -> None:
        """Stop syncing (window closing). Returns at once; see `wait_stopped`."""
        if self._closed:
            return
        self._closed = True
        from ui.qt.ops import _is_alive

        if _is_alive(self._timer):  # the window may already be deleted (tests, quit)
            self._timer.stop()
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            self._stop_in_background(scheduler)

    def _stop_in_background(self, scheduler: SyncScheduler) -> None:
        def stop() -> None:
            try:
                scheduler.stop(timeout=STOP_TIMEOUT)
            except Exception:
                log.exception("stopping the sync scheduler failed")

        self._stopper = threading.Thread(target=stop, name="quaythu-sync-stop", daemon=True)
        self._stopper.start()

    def wait_stopped(self, timeout: float = STOP_TIMEOUT + 1.0) -> bool:
        """After the event loop (or in tests): wait, bounded, for the scheduler to stop."""
        stopper = self._stopper
        if stopper is None:
            return True
        stopper.join(timeout)
        return not stopper.is_alive()
