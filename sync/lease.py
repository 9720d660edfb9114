"""The sync lease: at most one sync at a time per counter database, across processes.

Why a lease row and not a lock file: the window and a `quaythu sync` run by Task Scheduler or
cron both already open the same SQLite file, whose write lock (`BEGIN IMMEDIATE`) makes
take-or-refuse atomic on every platform, with no file-locking differences between Windows and
Linux and nothing left behind in another folder.

Rules (row `sync_lease`, name "sync"):

* taking it is one write transaction: free, expired, or held by a process of this host that is
  no longer running (a sync killed mid-way must not block the next one for a whole TTL) → take
  it; otherwise refuse with `LeaseBusy`;
* the holder renews `expires_at` after every batch and during long waits; a renewal that finds
  someone else's name means the lease was lost (we stalled past the TTL) and the sync stops;
* release deletes the row if it is still ours.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.domain.clock import LOCAL_TZ, now_utc
from app.storage.db import Database
from app.storage.models import SyncLease
from sync.errors import LeaseBusy

LEASE_NAME = "sync"
DEFAULT_TTL = 120.0


@dataclass(frozen=True)
class LeaseView:
    holder: str
    host: str
    pid: int
    purpose: str
    acquired_at: datetime
    expires_at: datetime


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (errs on 'alive' when unsure)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return bool(code.value == 259)  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SyncLeaseHolder:
    """One would-be holder (a scheduler, a CLI run). Not thread-safe: one sync thread uses it."""

    def __init__(self, db: Database, *, purpose: str = "sync", ttl: float = DEFAULT_TTL) -> None:
        self.db = db
        self.purpose = purpose
        self.ttl = ttl
        self.holder = f"{purpose}-{uuid.uuid4().hex[:12]}"
        self.host = socket.gethostname()[:200]
        self.pid = os.getpid()
        self._renewed = 0.0  # time.monotonic() of the last acquire/renew

    def _expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.ttl)

    def acquire(self) -> None:
        """Take the lease or raise LeaseBusy naming who holds it."""
        with self.db.write() as session:
            now = now_utc()
            row = session.get(SyncLease, LEASE_NAME)
            if row is not None and row.holder != self.holder:
                stale = row.expires_at <= now or (
                    row.host == self.host and row.pid != self.pid and not pid_alive(row.pid)
                )
                if not stale:
                    until = row.expires_at.astimezone(LOCAL_TZ).strftime("%H:%M:%S")
                    raise LeaseBusy(
                        f"Đang có một phiên đồng bộ khác ({row.purpose}, tiến trình {row.pid} "
                        f"trên {row.host}); phiên này không chạy song song. Giữ chỗ đến {until}.",
                        message_en=f"sync lease held by {row.holder} (pid {row.pid})",
                    )
                session.delete(row)
                session.flush()
                row = None
            if row is None:
                session.add(
                    SyncLease(
                        name=LEASE_NAME,
                        holder=self.holder,
                        host=self.host,
                        pid=self.pid,
                        purpose=self.purpose,
                        acquired_at=now,
                        expires_at=self._expiry(now),
                    )
                )
            else:
                row.expires_at = self._expiry(now)
        self._renewed = time.monotonic()

    def renew_if_due(self) -> None:
        """Renew once a quarter of the TTL has passed (a renewal is a durable write)."""
        if time.monotonic() - self._renewed >= self.ttl / 4:
            self.renew()

    def renew(self) -> None:
        """Push the expiry out; raise LeaseBusy if the lease is no longer ours."""
        with self.db.write() as session:
            row = session.get(SyncLease, LEASE_NAME)
            if row is None or row.holder != self.holder:
                raise LeaseBusy(
                    "Phiên đồng bộ đã mất quyền giữ chỗ (chạy quá lâu); dừng để phiên khác chạy.",
                    message_en="sync lease lost",
                )
            row.expires_at = self._expiry(now_utc())
        self._renewed = time.monotonic()

    def release(self) -> None:
        with self.db.write() as session:
            session.execute(
                delete(SyncLease).where(
                    SyncLease.name == LEASE_NAME, SyncLease.holder == self.holder
                )
            )


def current_lease(db: Database) -> LeaseView | None:
    with db.read() as session:
        row = session.scalar(select(SyncLease).where(SyncLease.name == LEASE_NAME))
        if row is None or row.expires_at <= now_utc():
            return None
        return LeaseView(
            row.holder, row.host, row.pid, row.purpose, row.acquired_at, row.expires_at
        )
