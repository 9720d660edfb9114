"""Entry point of the desktop window: `run(db_path)` is what `quaythu` with no arguments calls.

Start-up stays lean on purpose (see bench/bench_startup.py): only Qt and the login screen are
imported before the window shows; SQLAlchemy, migrations, argon2, PDF and printing code load
on the worker threads or when a screen is first opened, and `sync` (with `requests`) on the
I/O pool after the first login.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from ui.qt.main_window import MainWindow
from ui.qt.ops import IoOp

GIL_SWITCH_SECONDS = 0.001


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with our style, logging and exception hook (reuses an existing one)."""
    from ui.logs import setup_logging
    from ui.qt.errors import install_excepthook
    from ui.qt.style import apply_style

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("QuayThu")
    app.setApplicationDisplayName("QuầyThu")
    app.setOrganizationName("QuayThu")
    install_excepthook()
    apply_style(app)
    # The GUI thread waits for the GIL whenever it runs Python while a worker runs Python (a
    # receipt being rendered, a payment written): by default up to 5 ms per wait, several per
    # frame. 1 ms keeps the window's stalls short (bench/bench_gui_counter.py) at a negligible
    # cost to the workers.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    # Opening the log file is file work, so it goes to the I/O pool like any other; it also
    # keeps logging.handlers (socket, pickle… ~10 ms) off the window's start-up path. Until it
    # is done, warnings go to stderr (Python's last-resort handler).
    IoOp(None, setup_logging).run()
    return app


def start(db_path: Path | None) -> MainWindow:
    """Build and show the main window; the database opens in the background."""
    window = MainWindow(db_path)
    window.showMaximized()
    window.start()
    return window


def _quit_on_ctrl_c(window: MainWindow) -> None:
    """Ctrl+C in the terminal closes the window the normal way (the same clean shutdown as the
    close button). Python runs signal handlers only between bytecodes, and Qt's event loop is C++:
    a short timer lets the interpreter in a few times a second."""
    import signal

    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer(window)
    tick.timeout.connect(lambda: None)
    tick.start(200)


def run(db_path: Path | None) -> int:
    """Run the counter window until it is closed; returns the process exit code."""
    from ui.qt import ops

    app = make_application()
    window = start(db_path)
    _quit_on_ctrl_c(window)
    try:
        code = app.exec()
    finally:
        # The scheduler was asked to stop when the window closed; give it a bounded moment
        # to finish its current request before the database closes under it.
        window.sync.shutdown()
        window.sync.wait_stopped()
        window.stop_notify(timeout=5.0)
        ops.shutdown(wait=True)
        if window.state.db_ready:
            window.state.db.close()
    return int(code)
