"""Small "ops": the only way the Qt front end reaches the database, printers and files.

Modelled on Anki's CollectionOp/QueryOp: a screen builds an op from a plain function, adds
callbacks and runs it::

    DbOp(self, lambda: record_payment(db, req, by=actor)).changes(state, PAYMENT).success(
        self._recorded
    ).run()

The functions screens build live in per-area modules (`ui/qt/operations/`); this module is the
machinery.

Guarantees:
- Every `DbOp` runs on ONE database worker thread, in submission order (SQLite has a single
  writer anyway, and FIFO order means a login typed while the database is still opening simply
  waits for it). `IoOp` (rendering, printing, writing files) runs on a separate small pool, so a
  slow printer never holds up the database.
- The function never runs on the GUI thread (unless synchronous mode is switched on for tests)
  and must not touch widgets. `success`, `failure` and `finally_` callbacks always run on the GUI
  thread, delivered through a queued Qt signal.
- If the op's parent widget has been deleted by the time the result arrives, no callback runs.
- An op built with `.changes(sink, OpChanges(...))` reports them to `sink.notify` after its
  success callback — also when its parent is gone (the database changed all the same); never
  after a failure. That is how screens learn what changed (`ui/qt/changes.py`).
- A failure without a failure callback is shown with `ui.qt.errors.show_error` next to the
  parent; unexpected exceptions are logged with their traceback either way.
- `pending_count()` tells how many ops have been started but not yet delivered; tests wait for
  it to reach zero (`wait_idle`), or switch to synchronous mode (`set_synchronous(True)`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

from ui.qt.changes import ChangeSink, OpChanges

T = TypeVar("T")

IO_WORKERS = 2
_lock = threading.Lock()
_db_pool: ThreadPoolExecutor | None = None
_io_pool: ThreadPoolExecutor | None = None
_pending = 0
_synchronous = False
_in_flight: set[_Relay] = set()


def _pool(kind: str) -> ThreadPoolExecutor:
    global _db_pool, _io_pool
    with _lock:
        if kind == "db":
            if _db_pool is None:
                _db_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quaythu-db")
            return _db_pool
        if _io_pool is None:
            _io_pool = ThreadPoolExecutor(max_workers=IO_WORKERS, thread_name_prefix="quaythu-io")
        return _io_pool


def set_synchronous(on: bool) -> None:
    """Run ops inline on the calling thread (tests that want no threads at all)."""
    global _synchronous
    _synchronous = on


def prestart() -> None:
    """Start every I/O worker thread now (the window's start) rather than with the ops that
    first need them: starting a thread waits until the new thread has taken the GIL, and
    right after a sign-in, with the other workers busy, that wait fell on the GUI thread."""
    gate = threading.Barrier(IO_WORKERS, timeout=2)

    def arrive() -> None:
        try:
            gate.wait()  # holds each worker until all have started: none is reused early
        except threading.BrokenBarrierError:
            pass

    for _ in range(IO_WORKERS):
        _pool("io").submit(arrive)


def pending_count() -> int:
    return _pending


def defer(owner: QObject, ms: int, fn: Callable[[], None]) -> None:
    """Run `fn` on the GUI thread `ms` milliseconds from now unless `owner` has been deleted
    by then; counted in `pending_count` until then (tests wait for it as for an op)."""
    global _pending
    from PySide6.QtCore import QTimer

    _pending += 1

    def fire() -> None:
        global _pending
        _pending -= 1
        if _is_alive(owner):
            fn()

    QTimer.singleShot(ms, fire)


def shutdown(wait: bool = True) -> None:
    """Stop the worker pools (at exit). New ops after this start fresh pools."""
    global _db_pool, _io_pool
    with _lock:
        pools = [p for p in (_db_pool, _io_pool) if p is not None]
        _db_pool = _io_pool = None
    for pool in pools:
        pool.shutdown(wait=wait, cancel_futures=not wait)


def _is_alive(obj: object) -> bool:
    if not isinstance(obj, QObject):
        return True
    try:
        from shiboken6 import isValid
    except ImportError:  # pragma: no cover - shiboken ships with PySide6
        return True
    return bool(isValid(obj))


class _Relay(QObject):
    """Lives on the GUI thread; a worker emits `finished`, Qt queues the call to `_deliver`.

    The emit always happens on the worker thread (see `_work`), so the automatic connection is
    always a queued one: callbacks never run inside `run()` itself.
    """

    finished = Signal(object)

    def __init__(self, op: Op[Any]) -> None:
        super().__init__()
        self._op = op
        self.finished.connect(self._deliver)

    @Slot(object)
    def _deliver(self, future: Future[Any]) -> None:
        global _pending
        try:
            self._op._deliver(future)
        finally:
            _in_flight.discard(self)
            _pending -= 1


class Op(Generic[T]):
    """One background job with callbacks; build with `DbOp` or `IoOp`, then `.run()`."""

    def __init__(self, parent: QObject | None, fn: Callable[[], T], *, pool: str) -> None:
        self._parent = parent
        self._fn = fn
        self._pool = pool
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._on_finally: Callable[[], None] | None = None
        self._sink: ChangeSink | None = None
        self._changes = OpChanges()

    def success(self, cb: Callable[[T], None]) -> Op[T]:
        self._on_success = cb
        return self

    def failure(self, cb: Callable[[BaseException], None]) -> Op[T]:
        self._on_failure = cb
        return self

    def changes(self, sink: ChangeSink, changes: OpChanges) -> Op[T]:
        """Declare what this op changes; `sink.notify(changes)` runs when it succeeds."""
        self._sink = sink
        self._changes = changes
        return self

    def finally_(self, cb: Callable[[], None]) -> Op[T]:
        """Runs after success or failure (e.g. to re-enable a button)."""
        self._on_finally = cb
        return self

    def run(self) -> None:
        global _pending
        _pending += 1
        if _synchronous:
            future: Future[T] = Future()
            try:
                future.set_result(self._fn())
            except BaseException as exc:  # delivered like a worker's failure
                future.set_exception(exc)
            try:
                self._deliver(future)
            finally:
                _pending -= 1
            return
        relay = _Relay(self)
        _in_flight.add(relay)
        _pool(self._pool).submit(self._work, relay)

    def _work(self, relay: _Relay) -> None:
        """On the worker: run the function, then hand the outcome to the GUI thread."""
        future: Future[T] = Future()
        try:
            future.set_result(self._fn())
        except BaseException as exc:
            future.set_exception(exc)
        relay.finished.emit(future)

    def _deliver(self, future: Future[T]) -> None:
        exc = future.exception()
        try:
            if _is_alive(self._parent):
                self._callbacks(future, exc)
        finally:
            if exc is None and self._changes and self._sink is not None and _is_alive(self._sink):
                self._sink.notify(self._changes)

    def _callbacks(self, future: Future[T], exc: BaseException | None) -> None:
        try:
            if exc is None:
                if self._on_success is not None:
                    self._on_success(future.result())
            else:
                from ui.qt.errors import log_if_unexpected, show_error

                log_if_unexpected(exc)
                if self._on_failure is not None:
                    self._on_failure(exc)
                else:
                    show_error(self._parent, exc)
        finally:
            if self._on_finally is not None and _is_alive(self._parent):
                self._on_finally()


def DbOp(parent: QObject | None, fn: Callable[[], T]) -> Op[T]:
    """A database job: runs on the single database thread, in order."""
    return Op(parent, fn, pool="db")


def IoOp(parent: QObject | None, fn: Callable[[], T]) -> Op[T]:
    """A rendering, printing or file job: runs on the I/O pool."""
    return Op(parent, fn, pool="io")
