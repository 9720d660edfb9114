"""The background scheduler: timer, sync now, offline probing, Retry-After, events, stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.services.outbox import pending_count
from app.services.registration import record_enrollment
from central import auth
from sync.backoff import RetryPolicy
from sync.enroll import enroll_counter
from sync.events import BatchProgress, SyncFailure, SyncListener, SyncReport, SyncStatus
from sync.scheduler import SyncScheduler
from tests.sync.conftest import FAST, Counter, assert_consistent, enrollment_code, wait_for
from tests.sync.faultproxy import Fault, FaultProxy


class Events(SyncListener):
    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def _add(self, name: str, value: object) -> None:
        with self.lock:
            self.log.append((name, value))

    def names(self) -> list[str]:
        with self.lock:
            return [n for n, _ in self.log]

    def of(self, name: str) -> list[object]:
        with self.lock:
            return [v for n, v in self.log if n == name]

    def sync_started(self, trigger: str) -> None:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self._add("sync_started", trigger)

    def batch_done(self, progress: BatchProgress) -> None:
        self._add("batch_done", progress)

    def sync_failed(self, failure: SyncFailure) -> None:
        self.active -= 1
        self._add("sync_failed", failure)

    def sync_finished(self, report: SyncReport) -> None:
        self.active -= 1
        self._add("sync_finished", report)

    def pending_changed(self, pending: int, rejected: int) -> None:
        self._add("pending_changed", (pending, rejected))

    def status_changed(self, status: SyncStatus) -> None:
        self._add("status_changed", status)


@pytest.fixture
def proxy(counter: Counter) -> Iterator[FaultProxy]:
    with FaultProxy(counter.central.port, max_lifetime=90) as p:
        record_enrollment(
            counter.db, central_url=p.url, central_counter_id=counter.central_counter_id()
        )
        yield p


@pytest.fixture
def scheduler_factory(counter: Counter) -> Iterator[object]:
    made: list[SyncScheduler] = []

    def make(**changes: object) -> tuple[SyncScheduler, Events]:
        s = SyncScheduler(counter.db, config=replace(FAST, **changes))  # type: ignore[arg-type]
        events = Events()
        s.add_listener(events)
        made.append(s)
        return s, events

    yield make
    for s in made:
        s.stop()


def test_syncs_at_start_then_on_demand(counter: Counter, scheduler_factory: object) -> None:
    counter.pay(4)
    sched, events = scheduler_factory()  # type: ignore[operator]
    sched.start()
    wait_for(lambda: "sync_finished" in events.names())
    assert pending_count(counter.db) == 0
    status = sched.status()
    assert (status.state, status.online, status.pending) == ("idle", True, 0)
    assert status.last_success is not None and status.next_attempt is not None
    names = events.names()
    assert names[0] == "status_changed" and names[1] == "sync_started"
    assert "batch_done" in names and "pending_changed" in names
    # interval is 5 minutes: only sync_now brings the next pass
    counter.pay(2)
    sched.notify_local_change()
    assert events.of("pending_changed")[-1] == (2, 0)
    sched.sync_now()
    wait_for(lambda: len(events.of("sync_finished")) == 2)
    assert events.of("sync_started")[-1] == "manual"
    assert_consistent(counter)
    assert sched.status().pending == 0


def test_offline_then_connectivity_returns_probe_triggers_sync(
    counter: Counter, proxy: FaultProxy, scheduler_factory: object
) -> None:
    counter.pay(3)
    proxy.refuse()
    # Backoff far away (100 s): only the health probe can bring the sync back quickly.
    slow_backoff = RetryPolicy(base=100.0, cap=100.0, attempts=1)
    sched, events = scheduler_factory(retry=slow_backoff)  # type: ignore[operator]
    sched.start()
    wait_for(lambda: sched.status().state == "offline")
    assert sched.status().online is False and sched.status().pending == 3
    assert [f.kind for f in events.of("sync_failed")] == ["offline"]  # type: ignore[attr-defined]
    proxy.accept()
    wait_for(lambda: sched.status().state == "idle" and sched.status().pending == 0, timeout=10)
    assert sched.status().online is True
    assert any(s.path == "/v1/health" for s in proxy.seen)
    assert_consistent(counter)


def test_server_busy_waits_for_retry_after_not_the_probe(
    counter: Counter, proxy: FaultProxy, scheduler_factory: object
) -> None:
    counter.pay(1)
    proxy.inject(Fault.status(429, retry_after=1))
    sched, events = scheduler_factory(retry=RetryPolicy(base=0.01, cap=0.01, attempts=1))  # type: ignore[operator]
    sched.start()
    wait_for(lambda: len(events.of("sync_finished")) == 1, timeout=10)
    uploads = proxy.requests_to("/v1/records")
    assert [s.fault for s in uploads] == ["status", "pass"]
    assert uploads[1].at - uploads[0].at >= 1.0
    failure = events.of("sync_failed")[0]
    assert failure.kind == "server_error" and failure.retry_after == 1.0  # type: ignore[attr-defined]
    assert_consistent(counter)


def test_never_two_syncs_at_once_in_process(
    counter: Counter, proxy: FaultProxy, scheduler_factory: object
) -> None:
    counter.pay(6)
    proxy.inject(*[Fault.slow(0.15)] * 2)
    sched, events = scheduler_factory()  # type: ignore[operator]
    sched.start()
    for _ in range(20):
        sched.sync_now()
        time.sleep(0.01)
    wait_for(lambda: sched.status().pending == 0 and events.active == 0)
    time.sleep(0.2)
    assert events.max_active == 1
    assert_consistent(counter)


def test_401_stops_and_asks_for_reenrollment(counter: Counter, scheduler_factory: object) -> None:
    counter.pay(1)
    auth.revoke_token(counter.central.store, counter.central_counter_id())
    sched, _events = scheduler_factory()  # type: ignore[operator]
    sched.start()
    wait_for(lambda: sched.status().state == "needs_enrollment")
    status = sched.status()
    assert status.next_attempt is None  # no automatic retries with a dead token
    assert status.last_error and "đăng ký lại" in status.last_error
    assert "Cần đăng ký lại" in status.message
    # re-enrol with a new code, then "sync now"
    code = enrollment_code(counter.central.store, counter.db)
    enroll_counter(counter.db, counter.central.url, code, config=FAST)
    sched.sync_now()
    wait_for(lambda: sched.status().state == "idle" and sched.status().pending == 0)
    assert_consistent(counter)


def test_stop_is_prompt_even_while_backing_off(
    counter: Counter, proxy: FaultProxy, scheduler_factory: object
) -> None:
    counter.pay(1)
    proxy.refuse()
    sched, events = scheduler_factory(retry=RetryPolicy(base=30.0, cap=30.0, attempts=3))  # type: ignore[operator]
    sched.start()
    wait_for(lambda: len(proxy.seen) == 0 and sched.status().state == "syncing", timeout=5)
    time.sleep(0.2)  # now inside a long in-pass backoff
    started = time.monotonic()
    sched.stop(timeout=5)
    assert time.monotonic() - started < 2
    assert not sched.running
    assert events.of("sync_failed")[-1].kind == "cancelled"  # type: ignore[attr-defined]


def test_listener_errors_do_not_break_the_sync(counter: Counter, scheduler_factory: object) -> None:
    class Broken(SyncListener):
        def batch_done(self, progress: BatchProgress) -> None:
            raise RuntimeError("a buggy widget")

    counter.pay(2)
    sched, events = scheduler_factory()  # type: ignore[operator]
    sched.add_listener(Broken())
    sched.start()
    wait_for(lambda: "sync_finished" in events.names())
    assert_consistent(counter)
