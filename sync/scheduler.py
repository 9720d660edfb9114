"""The background sync scheduler: a plain thread, no Qt.

* syncs at start, then every `SyncConfig.interval` seconds (default 5 minutes), and at once on
  `sync_now()`; soon after `notify_local_change()` (a payment was recorded) when configured;
* when central cannot be reached it keeps retrying on its own timer: the next full sync is
  backed off (full jitter, capped at the interval, never before Retry-After) and meanwhile a
  cheap health probe runs every `offline_probe_interval` seconds; the first successful probe
  triggers a sync (when connectivity returns, not only when a new payment is taken);
* on 5xx / 429 it waits for the backoff (never less than Retry-After) — no probe shortcut, since
  the server is reachable but asked us to wait;
* on 401 it stops syncing on its own and reports `needs_enrollment` until `sync_now()` (after a
  new enrolment);
* never two syncs at once: one thread here, and the database lease across processes (a
  `quaythu sync` from Task Scheduler/cron). When another process holds the lease, it looks again
  after `busy_retry` seconds;
* at the configured local time (default 07:30) it starts a sync, whose pass reconciles the
  previous day with central when not yet done.

Events reach listeners as plain callbacks (see `sync.events`), on this thread.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import requests

from app.domain.clock import now_utc
from app.services.outbox import backlog
from app.services.reconcile import next_reconcile_time
from app.storage.db import Database
from sync.config import SyncConfig
from sync.connection import client_for_counter
from sync.engine import Syncer, failure_of, read_status
from sync.errors import SyncError
from sync.events import Dispatcher, StatusState, SyncListener, SyncStatus

log = logging.getLogger("quaythu.sync.scheduler")

_NEVER = float("inf")
_MAX_WAIT = 3600.0


class SyncScheduler:
    def __init__(
        self,
        db: Database,
        *,
        config: SyncConfig | None = None,
        purpose: str = "gui",
        session: requests.Session | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.config = config or SyncConfig()
        self._events = Dispatcher()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._rng = rng or random.Random()
        self._syncer = Syncer(
            db,
            config=self.config,
            listener=self._events,
            purpose=purpose,
            session=session,
            stop=self._stop,
            rng=self._rng,
        )
        self._thread: threading.Thread | None = None
        self._requested: str | None = None
        self._next_sync = 0.0  # monotonic
        self._next_probe = _NEVER
        self._failures = 0
        self._online: bool | None = None
        self._state: StatusState | None = None
        self._syncing = False
        self._status = read_status(db)

    # --- public API ----------------------------------------------------------------------------

    def add_listener(self, listener: SyncListener) -> Callable[[], None]:
        """Register a listener; returns a function that unregisters it."""
        return self._events.add(listener)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._next_sync = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="quaythu-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop (a running pass is cancelled between requests) and wait."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def sync_now(self, trigger: str = "manual") -> None:
        """Start a sync as soon as the thread is free (returns at once)."""
        with self._lock:
            self._requested = trigger
        self._wake.set()

    def notify_local_change(self) -> None:
        """A payment or void was recorded: refresh the counts; sync soon if configured."""
        pending, rejected = backlog(self.db)
        self._events.pending_changed(pending, rejected)
        self._publish(pending=pending, rejected=rejected)
        soon = self.config.sync_after_change
        if soon is not None and self._online and self._state != "needs_enrollment":
            with self._lock:
                self._next_sync = min(self._next_sync, time.monotonic() + soon)
            self._wake.set()

    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    # --- the thread ----------------------------------------------------------------------------

    def _publish(self, **changes: object) -> None:
        with self._lock:
            new = replace(self._status, **changes)  # type: ignore[arg-type]
            changed = new != self._status
            self._status = new
        if changed:
            self._events.status_changed(new)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # never let the thread die
                log.exception("sync scheduler tick failed")
                self._stop.wait(5.0)

    def _tick(self) -> None:
        with self._lock:
            trigger, self._requested = self._requested, None
        now = time.monotonic()
        if trigger is not None or now >= self._next_sync:
            self._pass(trigger or "timer")
            return
        if now >= self._next_probe:
            if self._probe():
                with self._lock:
                    self._next_sync = min(self._next_sync, time.monotonic())
                self._next_probe = _NEVER
            else:
                self._next_probe = time.monotonic() + self.config.offline_probe_interval
            return
        until_reconcile = _NEVER
        if self.config.reconcile_at is not None:
            wall = datetime.now(UTC)
            until_reconcile = (
                next_reconcile_time(wall, at=self.config.reconcile_at) - wall
            ).total_seconds()
        wait = min(self._next_sync, self._next_probe) - now
        if until_reconcile != _NEVER and until_reconcile <= wait:
            # wake a moment after the reconciliation time and sync: the pass reconciles
            wait = max(0.0, until_reconcile) + 1.0
            if self._wake.wait(wait):
                self._wake.clear()
                return
            self.sync_now("reconcile")
            return
        # A bounded wait even when nothing is scheduled (Event.wait rejects infinity).
        if self._wake.wait(min(max(0.0, wait), _MAX_WAIT)):
            self._wake.clear()

    def _probe(self) -> bool:
        try:
            client = client_for_counter(self.db, config=self.config, session=self._syncer.session)
            client.health(timeout=self.config.probe_timeout)
        except SyncError:
            return False
        self._publish(online=True)
        return True

    def _pass(self, trigger: str) -> None:
        self._publish(state="syncing")
        self._syncing = True
        cfg = self.config
        try:
            self._syncer.run(trigger)
        except Exception as exc:
            failure = failure_of(exc)
            self._failures += 1
            delay = cfg.retry.delay(self._failures, failure.retry_after, self._rng)
            delay = min(delay, cfg.interval)
            if failure.retry_after:
                delay = max(delay, failure.retry_after)  # never earlier than Retry-After
            next_sync = time.monotonic() + delay  # Retry-After counts from the answer
            online: bool | None = self._online
            self._next_probe = _NEVER
            if failure.kind == "offline":
                online = False
                self._next_probe = time.monotonic() + cfg.offline_probe_interval
            elif failure.kind == "server_error":
                online = True
            elif failure.kind == "needs_enrollment":
                next_sync = _NEVER  # until sync_now() after a new enrolment
            elif failure.kind == "not_enrolled":
                next_sync = time.monotonic() + cfg.interval
            elif failure.kind == "busy":
                self._failures = 0
                next_sync = time.monotonic() + cfg.busy_retry
            with self._lock:
                self._next_sync = next_sync
                self._online = online
            state = self._state_of(failure.kind)
            self._state = state
            base = read_status(self.db, online=online)
            self._publish(
                state=state if failure.kind != "busy" else base.state,
                online=online,
                pending=base.pending,
                rejected=base.rejected,
                last_error=base.last_error if failure.kind != "busy" else self._status.last_error,
                last_attempt=base.last_attempt,
                last_success=base.last_success,
                next_attempt=_wall(next_sync),
            )
        else:
            self._failures = 0
            with self._lock:
                self._next_sync = time.monotonic() + cfg.interval
                self._online = True
            self._next_probe = _NEVER
            self._state = "idle"
            base = read_status(self.db, online=True)
            self._publish(
                state="idle",
                online=True,
                pending=base.pending,
                rejected=base.rejected,
                last_error=None,
                last_attempt=base.last_attempt,
                last_success=base.last_success,
                next_attempt=_wall(self._next_sync),
            )
        finally:
            self._syncing = False

    @staticmethod
    def _state_of(kind: str) -> StatusState:
        states: dict[str, StatusState] = {
            "offline": "offline",
            "server_error": "server_error",
            "needs_enrollment": "needs_enrollment",
            "not_enrolled": "not_enrolled",
            "busy": "idle",
            "cancelled": "idle",
        }
        return states.get(kind, "error")


def _wall(monotonic_at: float) -> datetime | None:
    if monotonic_at == _NEVER:
        return None
    return now_utc() + timedelta(seconds=max(0.0, monotonic_at - time.monotonic()))
