"""The ops helpers, error reporting, start-up leanness and the Qt boundary."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from app.errors import UserFacingError
from tests.ui.conftest import wait_ops
from ui.qt import ops
from ui.qt.changes import OpChanges
from ui.qt.errors import message_for, setup_logging
from ui.qt.widgets import MessageBar

ROOT = Path(__file__).resolve().parents[2]


class Host(QWidget):
    """A widget with a message area, like the main window's."""

    def __init__(self) -> None:
        super().__init__()
        self.bar = MessageBar(self)
        self.messages: list[tuple[str, str]] = []

    def show_message(self, text: str, kind: str = "info") -> None:
        self.messages.append((text, kind))
        self.bar.show_message(text, kind)


def test_db_op_runs_on_the_db_thread_and_answers_on_the_gui_thread(qtbot: Any) -> None:
    host = Host()
    qtbot.addWidget(host)
    seen: dict[str, Any] = {}

    def work() -> int:
        seen["worker"] = threading.current_thread().name
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["callback"] = threading.current_thread() is threading.main_thread()

    ops.DbOp(host, work).success(done).finally_(lambda: seen.setdefault("finally", True)).run()
    assert "value" not in seen  # never delivered inside run()
    wait_ops(qtbot)
    assert seen["worker"].startswith("quaythu-db")
    assert seen == seen | {"value": 42, "callback": True, "finally": True}

    ops.IoOp(host, lambda: threading.current_thread().name).success(
        lambda name: seen.__setitem__("io", name)
    ).run()
    wait_ops(qtbot)
    assert seen["io"].startswith("quaythu-io")


def test_db_ops_run_in_submission_order(qtbot: Any) -> None:
    host = Host()
    qtbot.addWidget(host)
    order: list[int] = []
    for i in range(20):
        ops.DbOp(host, lambda i=i: i).success(order.append).run()
    wait_ops(qtbot)
    assert order == list(range(20))


def test_user_facing_failure_is_shown_as_is(qtbot: Any) -> None:
    host = Host()
    qtbot.addWidget(host)

    def fail() -> None:
        raise UserFacingError("Không có biên lai số 12 tại quầy này.")

    ops.DbOp(host, fail).run()
    wait_ops(qtbot)
    assert host.messages == [("Không có biên lai số 12 tại quầy này.", "error")]


def test_unexpected_failure_is_logged_with_traceback_and_names_the_log(
    qtbot: Any, tmp_path: Path, _log_dir: Path
) -> None:
    log = setup_logging()
    assert log.parent == _log_dir
    host = Host()
    qtbot.addWidget(host)

    def broken() -> None:
        raise ZeroDivisionError("boom in the worker")

    ops.DbOp(host, broken).run()
    wait_ops(qtbot)
    ((text, kind),) = host.messages
    assert kind == "bug"
    assert "lỗi không mong muốn" in text and str(log) in text
    assert host.bar.label.text() == text
    content = log.read_text(encoding="utf-8")
    assert "Traceback" in content and "boom in the worker" in content


def test_no_callback_after_the_parent_is_gone(qtbot: Any) -> None:
    host = Host()
    called: list[int] = []
    gate = threading.Event()
    ops.DbOp(host, lambda: gate.wait(5) and 1).success(called.append).run()
    host.deleteLater()
    qtbot.waitUntil(lambda: not _alive(host))
    gate.set()
    wait_ops(qtbot)
    assert called == []


class Sink:
    """Collects what finished ops announce (the window's `AppState` in production)."""

    def __init__(self) -> None:
        self.changes: list[OpChanges] = []
        self.order: list[str] = []

    def notify(self, changes: OpChanges) -> None:
        self.changes.append(changes)
        self.order.append("notified")


def test_an_op_announces_its_changes_after_success_only(qtbot: Any) -> None:
    host = Host()
    qtbot.addWidget(host)
    sink = Sink()
    paid = OpChanges(payments=True, sync=True)
    ops.DbOp(host, lambda: 1).changes(sink, paid).success(lambda _v: sink.order.append("ok")).run()
    ops.DbOp(host, lambda: 1 / 0).changes(sink, OpChanges(operators=True)).failure(
        lambda _e: sink.order.append("failed")
    ).run()
    ops.DbOp(host, lambda: 2).success(lambda _v: sink.order.append("plain")).run()
    wait_ops(qtbot)
    assert sink.changes == [paid]  # not the failed op's; nothing from an op that declares none
    assert sink.order == ["ok", "notified", "failed", "plain"]  # after its success callback


def test_changes_are_announced_even_when_the_parent_is_gone(qtbot: Any) -> None:
    host = Host()
    sink = Sink()
    called: list[int] = []
    gate = threading.Event()
    done = OpChanges(participants=True)
    ops.DbOp(host, lambda: gate.wait(5) and 1).changes(sink, done).success(called.append).run()
    host.deleteLater()
    qtbot.waitUntil(lambda: not _alive(host))
    gate.set()
    wait_ops(qtbot)
    assert called == [] and sink.changes == [done]  # the database changed all the same


def test_op_changes_combine() -> None:
    both = OpChanges(payments=True) | OpChanges(sync=True)
    assert both == OpChanges(payments=True, sync=True)
    assert bool(both) and not OpChanges()


def _alive(widget: QWidget) -> bool:
    from shiboken6 import isValid

    return bool(isValid(widget))


def test_synchronous_mode_for_tests(qtbot: Any) -> None:
    host = Host()
    qtbot.addWidget(host)
    got: list[str] = []
    ops.set_synchronous(True)
    try:
        ops.DbOp(host, lambda: threading.current_thread().name).success(got.append).run()
    finally:
        ops.set_synchronous(False)
    assert got == [threading.current_thread().name]
    assert ops.pending_count() == 0


def test_message_for_unexpected_errors_is_vietnamese() -> None:
    assert message_for(UserFacingError("Sai mật khẩu.")) == "Sai mật khẩu."
    assert message_for(KeyError("x")).startswith("Đã xảy ra lỗi không mong muốn (KeyError)")


def test_unreadable_database_is_reported_in_vietnamese(
    qtbot: Any, make_window: Any, db_path: Path
) -> None:
    db_path.write_bytes(b"this is not an SQLite database" * 100)
    window = make_window(wait_db=False)
    qtbot.waitUntil(lambda: window._ready_sent, timeout=15_000)
    wait_ops(qtbot)
    page = window.start_page
    assert window.stack.currentWidget() is page
    assert page.title.text() == "Không mở được cơ sở dữ liệu"
    assert "nhật ký" in page.text.text()


def test_default_idle_minutes_match_the_settings_service() -> None:
    from app.services.settings import DEFAULTS
    from ui.qt.main_window import DEFAULT_IDLE_LOCK_MINUTES

    assert DEFAULTS.idle_lock_minutes == DEFAULT_IDLE_LOCK_MINUTES == 10


def test_start_up_path_stays_lean(tmp_path: Path) -> None:
    """Showing the login screen loads no ORM, migrations, PDF, spreadsheet, sync or HTTP code,
    and does not build the `Qt` enum namespace (see bench/bench_startup.py)."""
    code = """
import sys
from pathlib import Path
from ui.qt.app import make_application, start
from ui.qt.main_window import MainWindow
app = make_application(sys.argv[:1])
window = MainWindow(Path(sys.argv[1]))
window.show()
window.stack.setCurrentWidget(window.login)
app.processEvents()
heavy = sorted(
    name for name in ("sqlalchemy", "alembic", "reportlab", "openpyxl", "printing", "argon2",
                      "PySide6.QtPdf", "PySide6.QtPrintSupport", "app.services.common",
                      "sync", "requests", "urllib3", "ui.qt.sync_view")
    if name in sys.modules
)
import PySide6.QtCore
if "Qt" in PySide6.QtCore.__dict__:  # the ~20 ms enum namespace, built on first use
    heavy.append("PySide6.QtCore.Qt")
print(",".join(heavy))
"""
    db = tmp_path / "x.sqlite3"
    db.write_bytes(b"")
    env = {
        "PATH": "/usr/bin:/bin",
        "QT_QPA_PLATFORM": "offscreen",
        "QUAYTHU_LOG_DIR": str(tmp_path / "log"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code, str(db)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("package", ["app", "printing", "sync", "central"])
def test_qt_is_imported_only_under_ui_qt(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / package).rglob("*.py")
        if "PySide6" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
