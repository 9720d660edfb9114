"""Issue 12 — what a cashier's busy hour showed, one test (or a few) per point."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QWidget,
)


def _blank_texts(dialog: QWidget) -> list[str]:
    """Names of visible labels and buttons whose text is empty (icon-only buttons excepted)."""
    blank = []
    for label in dialog.findChildren(QLabel):
        if label.isVisibleTo(dialog) and label.pixmap().isNull() and not label.text().strip():
            if label.buddy() is not None:
                blank.append(f"label for {label.buddy().objectName()}")
    for button in dialog.findChildren(QAbstractButton):
        if button.isVisibleTo(dialog) and button.icon().isNull() and not button.text().strip():
            blank.append(f"button {button.objectName() or type(button).__name__}")
    return blank


def test_translator_falls_back_to_the_source_never_to_empty(styled_app: QApplication) -> None:
    # A string we do not translate comes back as Qt's source text…
    assert QCoreApplication.translate("QPrintDialog", "Properties") == "Properties"
    assert QCoreApplication.translate("QFileDialog", "Detail View") == "Detail View"
    # …and ours still win.
    assert QCoreApplication.translate("QFileDialog", "&Save") == "&Lưu"


def test_print_and_file_dialogs_have_no_blank_labels(qtbot: Any, styled_app: QApplication) -> None:
    printer = QPrinter()
    print_dialog = QPrintDialog(printer)
    qtbot.addWidget(print_dialog)
    print_dialog.show()
    qtbot.waitExposed(print_dialog)
    assert _blank_texts(print_dialog) == []
    print_dialog.reject()

    file_dialog = QFileDialog(None, "Lưu", "")
    file_dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    file_dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    qtbot.addWidget(file_dialog)
    file_dialog.show()
    qtbot.waitExposed(file_dialog)
    assert _blank_texts(file_dialog) == []
    assert file_dialog.labelText(QFileDialog.DialogLabel.Reject) == "Hủy"
    file_dialog.done(QDialog.DialogCode.Rejected)
