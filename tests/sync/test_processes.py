"""Across processes: `quaythu sync` killed with SIGKILL mid-sync and restarted; the lease keeps
two syncs (two processes) from running at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.clock import now_utc
from app.services.registration import record_enrollment
from app.storage.models import SyncLease
from sync.engine import Syncer
from sync.errors import LeaseBusy
from sync.events import SyncFailure, SyncListener
from sync.lease import LEASE_NAME, SyncLeaseHolder, current_lease
from tests.sync.conftest import FAST, Counter, Shell, assert_consistent, central_payments, wait_for
from tests.sync.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@pytest.fixture
def proxy(counter: Counter) -> Iterator[FaultProxy]:
    with FaultProxy(counter.central.port, max_lifetime=120) as p:
        record_enrollment(
            counter.db, central_url=p.url, central_counter_id=counter.central_counter_id()
        )
        yield p


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)  # reap it: a zombie still looks alive to the lease's pid check


def test_killed_between_batches_then_restarted(
    counter: Counter, proxy: FaultProxy, shell: Shell
) -> None:
    counter.pay(6)
    proxy.inject(*[Fault.slow(0.4)] * 6)
    proc = shell.start("sync", "--batch-size", "1")
    try:
        wait_for(lambda: counter.states().get("synced", 0) >= 2, timeout=30)
    finally:
        kill(proc)
    assert proc.returncode == -signal.SIGKILL
    assert counter.states().get("pending", 0) > 0
    assert_consistent(counter, complete=False)
    assert current_lease(counter.db) is not None  # left behind by the dead process
    proxy.clear()
    done = shell.run("sync")
    assert done.returncode == 0, done.stderr
    assert_consistent(counter)


def test_killed_after_central_committed_before_marking(
    counter: Counter, proxy: FaultProxy, shell: Shell
) -> None:
    counter.pay(3)
    proxy.inject(Fault.slow(15))  # central stores the batch; the answer is held back
    proc = shell.start("sync")
    try:
        wait_for(lambda: len(central_payments(counter)) == 3, timeout=30)
    finally:
        kill(proc)
    assert counter.states() == {"pending": 3}  # the client never saw the verdicts
    assert_consistent(counter, complete=False)
    proxy.clear()
    done = shell.run("sync", "--json")
    assert done.returncode == 0, done.stderr
    assert '"duplicate": 3' in done.stdout
    assert_consistent(counter)


def test_two_processes_never_sync_at_once(
    counter: Counter, proxy: FaultProxy, shell: Shell
) -> None:
    counter.pay(4)
    # 4 × 1 s of uploads: the first process holds the lease well past the second's start-up
    # (the counter's feeds are already pulled at set-up, so nothing else keeps it busy)
    proxy.inject(*[Fault.slow(1.0)] * 4)
    first = shell.start("sync", "--batch-size", "1")
    try:
        wait_for(lambda: current_lease(counter.db) is not None, timeout=30)
        second = shell.run("sync")
        assert second.returncode == 3
        assert "Đang có một phiên đồng bộ khác" in second.stderr
        assert first.wait(60) == 0, first.stderr.read() if first.stderr else ""
    finally:
        if first.poll() is None:
            kill(first)
    assert len(proxy.requests_to("/v1/records")) == 4  # only the first process uploaded
    assert current_lease(counter.db) is None  # released at the end
    assert_consistent(counter)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _plant_lease(counter: Counter, *, pid: int, host: str, expires_in: float) -> None:
    now = now_utc()
    with counter.db.write() as s:
        s.add(
            SyncLease(
                name=LEASE_NAME,
                holder="someone-else",
                host=host,
                pid=pid,
                purpose="cli",
                acquired_at=now,
                expires_at=now + timedelta(seconds=expires_in),
            )
        )


def test_live_holder_blocks_and_is_reported(counter: Counter) -> None:
    counter.pay(1)
    _plant_lease(counter, pid=os.getppid(), host=socket.gethostname(), expires_in=3600)

    class Seen(SyncListener):
        def __init__(self) -> None:
            self.failures: list[SyncFailure] = []

        def sync_failed(self, failure: SyncFailure) -> None:
            self.failures.append(failure)

    seen = Seen()
    with pytest.raises(LeaseBusy):
        Syncer(counter.db, config=FAST, listener=seen).run("test")
    assert [f.kind for f in seen.failures] == ["busy"]
    assert counter.states() == {"pending": 1}


@pytest.mark.parametrize("how", ["dead-holder-same-host", "expired"])
def test_stale_lease_is_taken_over(counter: Counter, how: str) -> None:
    counter.pay(1)
    if how == "dead-holder-same-host":
        _plant_lease(counter, pid=_dead_pid(), host=socket.gethostname(), expires_in=3600)
    else:
        _plant_lease(counter, pid=os.getppid(), host="another-machine", expires_in=-1)
    Syncer(counter.db, config=FAST).run("test")
    assert_consistent(counter)
    with counter.db.read() as s:
        assert s.scalar(select(SyncLease)) is None


def test_lease_renewal_notices_a_lost_lease(counter: Counter) -> None:
    holder = SyncLeaseHolder(counter.db, purpose="test", ttl=30)
    holder.acquire()
    with counter.db.write() as s:
        s.get(SyncLease, LEASE_NAME).holder = "thief"  # type: ignore[union-attr]
    with pytest.raises(LeaseBusy):
        holder.renew()
