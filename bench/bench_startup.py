"""Start-up time of the counter window against a bare PySide6 window, measured in the same run.

    .venv/bin/python bench/bench_startup.py [--runs 5]
    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python bench/bench_startup.py

Each sample is a fresh subprocess, timed by this process from spawn to the child's "READY" line:

- baseline: import PySide6, QApplication, a QMainWindow with a label, shown; READY once the event
  loop has run (a 0 ms timer fired after show);
- app: `ui.qt.app.make_application` + `start(db_path)` on an initialised temporary database;
  READY when the login screen is shown and the event loop is idle (the window's `ready` signal,
  then a 0 ms timer). The child also reports when the database has been opened and migrated in
  the background ("DB"), printed as a second, informational figure.

Runs alternate baseline/app after one unmeasured warm-up of each (so both see a warm OS file
cache). Prints both medians and the ratio app/baseline; the target is ≤ 1.5×. Without a
display, children use QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5

BASELINE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("QuầyThu"))
window.resize(1366, 740)
window.show()
QTimer.singleShot(0, lambda: (print("READY", flush=True), app.quit()))
app.exec()
"""

APP = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from ui.qt.app import make_application, start
app = make_application(sys.argv[:1])
window = start(Path(sys.argv[1]))
state = {"ready": False, "db": False}

def finish():
    if state["ready"] and state["db"]:
        app.quit()

def ready():
    def idle():
        print("READY", flush=True)
        state["ready"] = True
        finish()
    QTimer.singleShot(0, idle)

def opened():
    print("DB", flush=True)
    state["db"] = True
    finish()

window.ready.connect(ready)
window.db_opened.connect(opened)
app.exec()
from ui.qt import ops
ops.shutdown()
"""


def make_database(folder: Path) -> Path:
    """An initialised counter database (signing key kept in a throw-away in-memory keyring)."""
    import keyring

    sys.path.insert(0, str(ROOT))
    from tests.support.keyrings import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    from app.storage.db import open_database
    from tests.support.counters import init_test_counter

    path = folder / "bench.sqlite3"
    db = open_database(path)
    init_test_counter(db)
    db.close()
    return path


def sample(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds from spawn to READY (and to DB, if the child reports it)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None
    ready: float | None = None
    db: float | None = None
    for line in proc.stdout:
        now = time.perf_counter() - start
        word = line.strip()
        if word == "READY" and ready is None:
            ready = now
        elif word == "DB" and db is None:
            db = now
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 0 or ready is None:
        raise RuntimeError(f"child failed ({proc.returncode}): {err.strip()[-2000:]}")
    return ready, db


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="quaythu-bench-") as tmp:
        folder = Path(tmp)
        env["QUAYTHU_LOG_DIR"] = str(folder / "log")
        db_path = make_database(folder)
        sample(BASELINE, [], env)  # warm-up, not counted
        sample(APP, [str(db_path)], env)
        baseline: list[float] = []
        app: list[float] = []
        db_ready: list[float] = []
        for _ in range(options.runs):
            baseline.append(sample(BASELINE, [], env)[0])
            shown, opened = sample(APP, [str(db_path)], env)
            app.append(shown)
            if opened is not None:
                db_ready.append(opened)

    platform = env.get("QT_QPA_PLATFORM") or "default (display)"
    base_median = statistics.median(baseline)
    app_median = statistics.median(app)
    ratio = app_median / base_median
    print(f"platform: {platform}; runs: {options.runs} each, interleaved, after a warm-up")
    print(f"bare PySide6 QMainWindow shown:        median {base_median * 1000:7.1f} ms")
    print(f"QuầyThu login screen shown, idle:      median {app_median * 1000:7.1f} ms")
    print(f"ratio app / bare:                      {ratio:7.2f}×  (target ≤ {TARGET_RATIO}×)")
    if db_ready:
        db_median = statistics.median(db_ready)
        print(
            f"(info) database opened and migrated:   median {db_median * 1000:7.1f} ms "
            f"({db_median / base_median:.2f}× bare) — in the background, login usable before"
        )
    print("samples ms — bare:", " ".join(f"{x * 1000:.0f}" for x in baseline))
    print("samples ms — app: ", " ".join(f"{x * 1000:.0f}" for x in app))
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
