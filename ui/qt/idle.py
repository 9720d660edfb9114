"""Locks the window after a stretch of no keyboard or mouse input.

An event filter on the program's windows (`QWindow`: the main window and each dialog, as
they take the focus) restarts a single-shot timer on every user input event; when the timer
fires, `idle` is emitted and the window locks. The interval comes from the counter's settings
(default 10 minutes) and can be changed at run time.

Not an application-wide filter: that one runs Python for every event of every object (each
widget's paint, layout, timer…), and each of those calls waits for the GIL while a worker
thread runs Python (rendering a receipt, a sync) — enough to stall the window for tens of
milliseconds at a time (bench/bench_gui_counter.py). A window sees the input first, and little
else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

if TYPE_CHECKING:
    from PySide6.QtGui import QWindow

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.InputMethod,
    }
)


class IdleLock(QObject):
    idle = Signal()

    def __init__(self, parent: QObject | None = None, minutes: int = 10) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self.set_minutes(minutes)
        self._installed = False

    def set_minutes(self, minutes: int) -> None:
        self.set_interval_ms(minutes * 60_000)

    def set_interval_ms(self, ms: int) -> None:
        self._timer.setInterval(ms)
        if self._timer.isActive():
            self._timer.start()

    def interval_ms(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        from PySide6.QtGui import QGuiApplication  # not at import: off the start-up path

        app = QGuiApplication.instance()
        if not self._installed and isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self.watch)
            for window in app.topLevelWindows():
                self.watch(window)
            self._installed = True
        self._timer.start()

    def watch(self, window: QWindow | None) -> None:
        """Input to `window` counts as activity (installing twice is harmless: Qt keeps one)."""
        if window is not None:
            window.installEventFilter(self)

    def stop(self) -> None:
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self._timer.isActive():
            self._timer.start()
        return False
