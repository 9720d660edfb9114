"""The few widget helpers the login screen needs, kept free of the `Qt` namespace.

Touching `PySide6.QtCore.Qt` for the first time costs ~20 ms (PySide builds every enum of the
namespace at once), so the start-up path — main window, login — avoids it; the working screens
use `ui.qt.widgets`, which re-exports these.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel


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
