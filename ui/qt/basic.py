"""The few widget helpers the login screen needs, kept free of the `Qt` namespace.

Touching `PySide6.QtCore.Qt` for the first time costs ~20 ms (PySide builds every enum of the
namespace at once), so the start-up path — main window, login — avoids it; the working screens
use `ui.qt.widgets`, which re-exports these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QWidget

if TYPE_CHECKING:
    from PySide6.QtGui import QResizeEvent


def fkey_text(label: str, key: str) -> str:
    """Button text with its key shown: "Thu tiền  [F9]"."""
    return f"{label}  [{key}]"


def page_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("pageTitle")
    return label


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def card() -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    return frame


class ElidedLabel(QLabel):
    """One line that gives way first: it shrinks to any width and elides its text ("…")
    instead of pushing its neighbours out of the status bar. The full text is the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        if not self._full:
            super().setText("")
            return
        from PySide6.QtCore import Qt  # not on the start-up path: only once there is text

        margins = self.contentsMargins()
        room = max(0, self.width() - margins.left() - margins.right() - 2)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        if shown != self.text():
            super().setText(shown)
