"""Locks the window after a stretch of no keyboard or mouse input.

An application-wide event filter restarts a single-shot timer on every user input event; when
the timer fires, `idle` is emitted and the window locks. The interval comes from the counter's
settings (default 10 minutes) and can be changed at run time.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

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
        app = QApplication.instance()
        if not self._installed and app is not None:
            app.installEventFilter(self)
            self._installed = True
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self._timer.isActive():
            self._timer.start()
        return False
