"""Driving Qt widgets as a person would, for the window tests and the screenshot script."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget


def type_text(widget: QWidget, text: str) -> None:
    """Type any text, Vietnamese included, one key event per character.

    `qtbot.keyClicks` aborts Qt on non-ASCII characters; a Key_unknown event carrying the
    character as its text is what an input method delivers.
    """
    widget.setFocus()
    for ch in text:
        QTest.sendKeyEvent(
            QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, ch, Qt.KeyboardModifier.NoModifier
        )
