"""Fixtures for driving the real window on a temporary database (Vorta style).

Ops run on their real worker threads; tests wait for them with `wait_ops` (every op started has
been delivered) or `qtbot.waitUntil` on what the screen shows. Printing goes to PDF files
(`printed` lists them) and save dialogs are replaced by a temp path (`saved_paths`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from tests.support.counters import CASHIER, SUPERVISOR
from tests.support.qt import type_text as type_text  # the window tests import it from here

CASHIER_PASSWORD = CASHIER.password
SUPERVISOR_PASSWORD = SUPERVISOR.password
OPS_TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True)
def _log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log"
    monkeypatch.setenv("QUAYTHU_LOG_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def styled_app(qapp: QApplication) -> QApplication:
    from ui.qt.style import apply_style

    apply_style(qapp)
    return qapp


def wait_ops(qtbot: Any, timeout: int = OPS_TIMEOUT_MS) -> None:
    """Wait until every started op has delivered its result on the GUI thread."""
    from ui.qt import ops

    qtbot.waitUntil(lambda: ops.pending_count() == 0, timeout=timeout)


def press(widget: QWidget, key: Qt.Key) -> None:
    QTest.keyClick(widget, key)


def activate(qtbot: Any, widget: QWidget) -> None:
    """Make `widget`'s window the active one, as a window manager would when it opens or
    when a dialog closes (the offscreen platform has none); shortcuts need it."""
    window = widget.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


@pytest.fixture
def printed(tmp_path: Path) -> list[Path]:
    return []


@pytest.fixture
def saved_paths(tmp_path: Path) -> list[Path]:
    return []


@pytest.fixture
def make_window(
    qtbot: Any,
    styled_app: QApplication,
    db_path: Path,
    tmp_path: Path,
    printed: list[Path],
    saved_paths: list[Path],
) -> Iterator[Callable[..., Any]]:
    """Start the real main window on `db_path`; printing and save dialogs go to tmp files."""
    from PySide6.QtPrintSupport import QPrinter

    from ui.qt.app import start

    windows: list[Any] = []

    def pdf_printer(_parent: QWidget) -> QPrinter:
        path = tmp_path / f"printed-{len(printed) + 1}.pdf"
        printed.append(path)
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(path))
        return printer

    def ask_save_path(_parent: QWidget, _title: str, suggested: str, _filter: str) -> Path:
        path = tmp_path / "exports" / suggested
        path.parent.mkdir(exist_ok=True)
        saved_paths.append(path)
        return path

    def make(*, wait_db: bool = True) -> Any:
        window = start(db_path)
        qtbot.addWidget(window)
        window.state.printer_for_receipt = pdf_printer
        window.state.ask_save_path = ask_save_path
        windows.append(window)
        if wait_db:
            qtbot.waitUntil(lambda: window.state.db_ready and window._ready_sent, timeout=15_000)
            wait_ops(qtbot)
        return window

    yield make
    wait_ops(qtbot)
    for window in windows:
        window.sync.shutdown()  # a running sync scheduler must stop before its database closes
        assert window.sync.wait_stopped(15), "the sync scheduler did not stop"
        window.stop_notify(timeout=15)  # so does the payer-notice sender
        if window.state.db_ready:
            window.state.db.close()


def login(qtbot: Any, window: Any, username: str, password: str) -> None:
    page = window.login
    assert window.stack.currentWidget() is page
    if not page.username.isReadOnly():
        page.username.setText(username)
    qtbot.keyClicks(page.password, password)
    press(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.work is not None and window.stack.currentWidget() is window.work)
    wait_ops(qtbot)


@pytest.fixture(autouse=True)
def _no_stray_ops(qtbot: Any) -> Iterator[None]:
    yield
    wait_ops(qtbot)


os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
