"""The receipt printer, its paper (80 mm roll or A5) and a test page: one form, used by the
set-up wizard (before the first payment) and by Settings.

`PrinterChoice` adds its rows to the caller's form layout, so each screen keeps its own layout
and field errors. The list of printers is Qt's own (the GUI thread's one exception, see
docs/ARCHITECTURE.md "Threads"); the test page prints on the I/O pool. Tests replace the
printer with `state.extra["printer_for_test"]` (a maker taking the form's owner).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from ui.qt.widgets import FieldErrors, enum_data

if TYPE_CHECKING:
    from app.services.settings import CounterSettings, ReceiptFormat
    from ui.qt.state import AppState

ASK_EACH_TIME = "(Hỏi chọn máy in mỗi lần in)"
NO_PRINTER_FOR_TEST = "Chọn một máy in trong danh sách trước khi in thử."


def available_printers() -> list[str]:
    from PySide6.QtPrintSupport import QPrinterInfo

    return list(QPrinterInfo.availablePrinterNames())


class PrinterChoice(QObject):
    """Printer and format combo boxes, a "In trang thử" button and its status line."""

    def __init__(
        self, state: AppState, owner: QWidget, errors: FieldErrors, *, next_step: str
    ) -> None:
        """`next_step`: what to do once the test page reads well ("bấm Lưu cài đặt")."""
        super().__init__(owner)
        self.state = state
        self.next_step = next_step
        self.owner = owner
        self.errors = errors
        self.printer = QComboBox()
        self.printer.setObjectName("printer")
        self.receipt_format = QComboBox()
        self.receipt_format.setObjectName("receipt_format")
        self.test_print_button = QPushButton("In trang thử")
        self.test_print_button.setObjectName("testPrint")
        self.test_print_button.clicked.connect(self.print_test_page)
        self.test_print_status = QLabel()
        self.test_print_status.setObjectName("hint")
        self.test_print_status.setWordWrap(True)

    def add_rows(self, form: QFormLayout, *, mnemonics: bool = False) -> None:
        """The printer, the format and the test-page row, added to `form`."""
        printer, paper = "Máy &in biên lai:", "&Khổ biên lai:"
        if not mnemonics:
            printer, paper = printer.replace("&", ""), paper.replace("&", "")
        self.errors.add_row(form, printer, self.printer, "printer_name")
        self.errors.add_row(form, paper, self.receipt_format, "receipt_format")
        row = QHBoxLayout()
        row.addWidget(self.test_print_button)
        row.addWidget(self.test_print_status, 1)
        form.addRow("", row)

    def load(self, settings: CounterSettings) -> None:
        """Fill the lists (the printers installed on this computer) and show `settings`."""
        from app.services.settings import ReceiptFormat

        self.printer.clear()
        self.printer.addItem(ASK_EACH_TIME, "")
        names = available_printers()
        if settings.printer_name and settings.printer_name not in names:
            names.append(settings.printer_name)
        for name in names:
            self.printer.addItem(name, name)
        self.printer.setCurrentIndex(max(0, self.printer.findData(settings.printer_name)))
        self.receipt_format.clear()
        for fmt in ReceiptFormat:
            self.receipt_format.addItem(fmt.label, fmt)
        self.receipt_format.setCurrentIndex(self.receipt_format.findData(settings.receipt_format))

    def printer_name(self) -> str:
        """The chosen printer's name; "" for "ask each time"."""
        return str(self.printer.currentData() or "")

    def chosen_format(self) -> ReceiptFormat:
        from app.services.settings import ReceiptFormat

        return enum_data(self.receipt_format, ReceiptFormat) or ReceiptFormat.ROLL_80MM

    def chosen_printer(self) -> Any:
        """The QPrinter the form's choice names (None: "ask each time", or it is gone)."""
        from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

        name = self.printer_name()
        if not name:
            return None
        info = QPrinterInfo.printerInfo(name)
        if info.isNull():
            return None
        return QPrinter(info, QPrinter.PrinterMode.HighResolution)

    def print_test_page(self) -> None:
        """Print a test page on the printer chosen in the form (saved or not), in the chosen
        format, off the GUI thread."""
        from ui.qt.ops import IoOp
        from ui.qt.receipt_view import print_test_page

        make = self.state.extra.get("printer_for_test", lambda _owner: self.chosen_printer())
        printer = make(self.owner)
        if printer is None:
            self.test_print_status.setText(NO_PRINTER_FOR_TEST)
            return
        fmt = self.chosen_format().value
        self.test_print_status.setText("Đang in trang thử…")
        self.test_print_button.setEnabled(False)

        def done(name: str) -> None:
            self.test_print_button.setEnabled(True)
            self.test_print_status.setText(
                f"Đã gửi trang in thử tới {name or 'máy in'}. Nếu đọc rõ, {self.next_step}."
            )

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.test_print_button.setEnabled(True)
            self.test_print_status.setText(message_for(exc))

        IoOp(self.owner, lambda: print_test_page(printer, fmt)).success(done).failure(failed).run()
