"""GUI-thread stalls while the counter window syncs 10,000 payments to central.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python bench/bench_gui_sync.py
    .venv/bin/python bench/bench_gui_sync.py [--payments 10000] [--idle 5]   # offscreen

What it does, in one run:

1. starts `quaythu-central serve` (`python -m central.cli serve`, a separate process, its own
   SQLite file, 127.0.0.1, free port);
2. makes a counter database and records N payments with `record_payment` (setup, timed apart);
3. opens the real window (`ui.qt.app.start`), signs in as the administrator — the counter is not
   enrolled yet, so nothing syncs — and shows the Đồng bộ screen;
4. BASELINE: a 10 ms `QTimer` on the GUI thread records every tick for `--idle` seconds of the
   idle window; the gaps between ticks are what a stall would lengthen;
5. the counter enrols the way the window's enrolment dialog does it (`enroll_counter` as an
   I/O-pool op) — but without the dialog, whose closing repaints the whole window (15–30 ms
   under xvfb, GUI work that is no part of syncing; the dialog itself is exercised by
   tests/ui/test_ui_sync.py) — and the window settles;
6. SYNC: the same timer ticks again from `bridge.enrolled_now()` — what the dialog calls next:
   the bridge builds and starts the real `SyncScheduler` on the I/O pool, which uploads all N
   payments (production `SyncConfig`: batches of 200) while the bridge coalesces its callbacks
   into status-bar, status-card and log refreshes on the visible Đồng bộ screen; measured
   until the indicator shows nothing pending;
7. checks that central holds N records for the counter, prints the longest and the p99 gap
   for both phases, and PASS/FAIL against the target: longest gap while syncing ≤ 50 ms.

BENCH_GAPS=1 also prints when each gap over 25 ms ended and when each log line arrived (this is
how the full garbage collections behind the first 80–110 ms stalls were found; see
`ui.qt.sync_bridge.freeze_long_lived_objects`).

Keyring: in memory (a benchmark must not write to the OS keyring). Argon2 is made cheap (login
cost is not under test). Without a display, QT_QPA_PLATFORM=offscreen is used.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from bench.harness import SyncBench, sync_bench  # noqa: E402
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME  # noqa: E402

if TYPE_CHECKING:
    from ui.qt.main_window import MainWindow
    from ui.qt.sync_bridge import SyncBridge
    from ui.qt.sync_view import SyncPage

TARGET_LONGEST_MS = 50.0
TICK_MS = 10


class TickRecorder:
    """A 10 ms timer on the GUI thread; the gaps between its ticks measure GUI-thread stalls."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[float] = []
        self.busy: list[float] = []  # the GUI thread's own CPU time at each tick
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())
        self.busy.append(time.thread_time())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.busy = [time.thread_time()]
        self.timer.start()

    def busy_in_longest(self) -> float:
        """CPU milliseconds the GUI thread itself spent in the longest gap (after `stop`): near
        the gap, the window's own work; far below it, waiting (other processes, the GIL)."""
        gaps = [b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False)]
        i = max(range(len(gaps)), key=gaps.__getitem__)
        return (self.busy[i + 1] - self.busy[i]) * 1000 if i + 1 < len(self.busy) else 0.0

    def stop(self) -> list[float]:
        self.timer.stop()
        self.ticks.append(time.perf_counter())
        self.busy.append(time.thread_time())
        return [(b - a) * 1000 for a, b in zip(self.ticks, self.ticks[1:], strict=False)]


def run_loop(until: Callable[[], bool], timeout: float) -> None:
    """Spin the Qt event loop (as app.exec would) until `until()` or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    check = QTimer()
    check.setInterval(5)

    def poll() -> None:
        if until():
            loop.quit()

    check.timeout.connect(poll)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    check.start()
    deadline.start(int(timeout * 1000))
    loop.exec()
    check.stop()
    deadline.stop()
    if not until():
        raise SystemExit(f"FAIL: condition not reached in {timeout:.0f} s")


def p99(gaps: list[float]) -> float:
    return statistics.quantiles(gaps, n=100, method="inclusive")[98] if len(gaps) > 1 else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle baseline")
    args = parser.parse_args()

    with sync_bench("bench-gui-sync-", payments=args.payments, counter_code="BENCH-GUI") as bench:
        return _run(args, bench)


@dataclass
class SyncRun:
    """The SYNC phase: from `bridge.enrolled_now()` until nothing is pending."""

    seconds: float
    gaps: list[float]
    ticks: list[float]  # when each tick came (perf_counter), for BENCH_GAPS
    started: float  # perf_counter at the start
    started_wall: float  # time.time() at the start (the log's clock)
    deliveries: int  # coalesced GUI refreshes
    log_lines: int


def _run(args: argparse.Namespace, bench: SyncBench) -> int:
    n = args.payments
    print(f"setup: recorded {n:,} payments in {bench.seed_seconds:.1f} s")
    bench.db.close()
    platform, window, page = open_sync_screen(bench.db_path)
    recorder = TickRecorder()
    idle_gaps = measure_idle(recorder, args.idle)
    enrol(window, f"http://127.0.0.1:{bench.central.port}", bench.enrollment_code)
    run = measure_sync(window, page, recorder)
    close_window(window)
    held = central_holds(bench.central.db_path, bench.counter.counter_id)
    if os.environ.get("BENCH_GAPS"):  # BENCH_GAPS=1: when the long gaps happened
        print_gap_times(run, window.sync)
    return report(platform, args.idle, n, held, idle_gaps, run)


def open_sync_screen(db_path: Path) -> tuple[str, MainWindow, SyncPage]:
    """The real window, signed in as the administrator (not enrolled: nothing syncs), on the
    Đồng bộ screen; returns the Qt platform's name, the window and the screen."""
    from ui.qt import ops
    from ui.qt.app import make_application, start

    app = make_application(sys.argv[:1])
    window = start(db_path)
    bridge = window.sync
    run_loop(lambda: window.state.db_ready and window.state.counter is not None, 30)
    window.login.username.setText(ADMIN_USERNAME)
    window.login.password.setText(ADMIN_PASSWORD)
    window.login.attempt()
    run_loop(
        lambda: (
            window.work is not None
            and window.stack.currentWidget() is window.work
            and bridge.enrolled is False
        ),
        30,
    )
    assert window.work is not None
    page = window.work.show_screen("sync")
    run_loop(lambda: ops.pending_count() == 0, 30)
    return app.platformName(), window, page


def measure_idle(recorder: TickRecorder, seconds: float) -> list[float]:
    """BASELINE: the tick gaps of the idle window."""
    recorder.start()
    run_loop(lambda: time.perf_counter() - recorder.ticks[0] >= seconds, 60)
    return recorder.stop()


def enrol(window: MainWindow, url: str, code: str) -> None:
    """Enrol as the enrolment dialog does (an I/O-pool op), without the dialog; then settle."""
    from app.services.counter import get_counter
    from sync.enroll import enroll_counter
    from ui.qt import ops
    from ui.qt.ops import DbOp, IoOp

    state = window.state
    enrolled: list[object] = []
    IoOp(window, lambda: enroll_counter(state.db, url, code)).success(enrolled.append).run()
    run_loop(lambda: bool(enrolled) and ops.pending_count() == 0, 30)
    DbOp(window, lambda: get_counter(state.db)).success(state.set_counter).run()
    run_loop(lambda: ops.pending_count() == 0, 30)
    settle = time.perf_counter()
    run_loop(lambda: time.perf_counter() - settle > 0.5, 5)


def measure_sync(window: MainWindow, page: SyncPage, recorder: TickRecorder) -> SyncRun:
    """SYNC: the tick gaps from `bridge.enrolled_now()` until the indicator shows nothing
    pending."""
    bridge = window.sync
    deliveries = bridge.deliveries
    recorder.start()
    t0 = time.perf_counter()
    wall0 = time.time()
    bridge.enrolled_now()  # as the enrolment dialog does once it has enrolled

    def done() -> bool:
        s = bridge.status
        return (
            s is not None
            and s.state == "idle"
            and s.pending == 0
            and s.last_success is not None
            and s.online is True
        )

    run_loop(done, 600)
    sync_s = time.perf_counter() - t0
    sync_gaps = recorder.stop()
    return SyncRun(
        seconds=sync_s,
        gaps=sync_gaps,
        ticks=recorder.ticks,
        started=t0,
        started_wall=wall0,
        deliveries=bridge.deliveries - deliveries,
        log_lines=page.log_table.rowCount(),
    )


def close_window(window: MainWindow) -> None:
    """Close the window, wait for its sync thread and the I/O pool, close the database."""
    from ui.qt import ops

    window.close()
    run_loop(lambda: not window.isVisible(), 30)
    window.sync.wait_stopped()
    ops.shutdown(wait=True)
    window.state.db.close()


def central_holds(central_db: Path, ledger_counter_id: str) -> int:
    """How many payment records central holds for the counter."""
    con = sqlite3.connect(central_db)
    try:
        (held,) = con.execute(
            "SELECT count(*) FROM records r JOIN counters c ON c.id = r.counter_id "
            "WHERE c.ledger_counter_id = ? AND r.kind = 'payment'",
            (ledger_counter_id,),
        ).fetchone()
    finally:
        con.close()
    return int(held)


def print_gap_times(run: SyncRun, bridge: SyncBridge) -> None:
    """When each gap over 25 ms ended and when each log line arrived, relative to the start."""
    for tick, gap in zip(run.ticks[1:], run.gaps, strict=True):
        if gap > 25:
            print(f"  gap {gap:5.1f} ms ending at +{(tick - run.started) * 1000:7.1f} ms")
    for entry in bridge.history:
        at_ms = (entry.at.timestamp() - run.started_wall) * 1000
        print(f"  log +{at_ms:7.1f} ms {entry.text[:60]}")


def report(
    platform: str, idle_s: float, n: int, held: int, idle_gaps: list[float], run: SyncRun
) -> int:
    """The table of both phases, the sync's throughput, PASS/FAIL; the exit code."""
    longest = max(run.gaps)
    ok_stall = longest <= TARGET_LONGEST_MS
    ok_data = held == n
    print(f"Qt platform: {platform}; timer every {TICK_MS} ms on the GUI thread")
    print()
    print(f"{'':34}{'ticks':>8}{'longest gap':>14}{'p99 gap':>10}{'median':>9}")
    for label, gaps in (
        (f"idle window ({idle_s:.0f} s, baseline)", idle_gaps),
        (f"syncing {n:,} payments ({run.seconds:.1f} s)", run.gaps),
    ):
        print(
            f"{label:34}{len(gaps):>8}{max(gaps):>11.1f} ms{p99(gaps):>7.1f} ms"
            f"{statistics.median(gaps):>6.1f} ms"
        )
    print()
    print(
        f"sync through the window: {run.seconds:.2f} s ({n / run.seconds:,.0f} payments/s); "
        f"central holds {held:,} of {n:,}; {run.deliveries} coalesced GUI refreshes; "
        f"{run.log_lines} log lines"
    )
    print(
        f"longest GUI-thread gap while syncing ≤ {TARGET_LONGEST_MS:.0f} ms   "
        f"{'PASS' if ok_stall else 'FAIL'}   ({longest:.1f} ms; idle {max(idle_gaps):.1f} ms)"
    )
    print(f"all payments at central                  {'PASS' if ok_data else 'FAIL'}")
    return 0 if ok_stall and ok_data else 1


if __name__ == "__main__":
    sys.exit(main())
