"""Receipts on screen and on paper: preview (QPdfView), print (QPrinter), save as PDF.

The receipt PDF comes from `printing.receipt.render_receipt` (ReportLab), rendered on the I/O
pool. Printing rasterises each PDF page with QPdfDocument.render and paints it on the printer —
also on the I/O pool (Qt allows QPainter on a QPrinter outside the GUI thread), so a slow or
stuck printer never freezes the window. Only choosing a printer (QPrintDialog) happens on the
GUI thread.

A failed print never touches the payment: it is recorded before any of this runs, and the
receipt can be printed again from today's payments (a counted copy, BẢN SAO).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QKeySequence, QPageLayout, QPageSize, QPainter, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserFacingError
from ui.qt.operations import documents, payments
from ui.qt.ops import IoOp
from ui.qt.widgets import fkey_text, hint

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from app.domain.documents import ReceiptData
    from ui.qt.state import AppState

NO_PRINTER_TEXT = (
    "Chưa in: quầy chưa chọn máy in biên lai. Bấm «Chọn máy in và in» (Ctrl+P) để in biên "
    "lai này; quản trị viên chọn máy in cố định trong Cài đặt (F8) để lần sau in ngay."
)
MAX_RASTER_DPI = 300  # thermal printers are 203 dpi; office printers gain nothing above this
POINTS_PER_MM = 72 / 25.4


# --- work done on the I/O pool (no widgets) ---------------------------------------------------


def render_receipt_pdf(data: ReceiptData, receipt_format: str) -> bytes:
    from printing.receipt import ReceiptLayout, render_receipt

    return render_receipt(data, ReceiptLayout(receipt_format))


def _load_pdf(pdf: bytes) -> Any:
    from PySide6.QtPdf import QPdfDocument

    document = QPdfDocument()
    buffer = QBuffer()
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
        raise UserFacingError(
            "Không đọc được tệp biên lai để in.", message_en="receipt PDF could not be loaded"
        )
    return document, buffer


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Print every page of `pdf` on `printer`; returns the number of pages printed.

    The printer's page is set to the PDF's own page size with no margins (an 80 mm roll, A5),
    then each page is rendered at up to 300 dpi and scaled onto it.
    """
    document, _buffer = _load_pdf(pdf)
    first = document.pagePointSize(0)
    page_mm = QSizeF(first.width() / POINTS_PER_MM, first.height() / POINTS_PER_MM)
    printer.setFullPage(True)
    printer.setPageLayout(
        QPageLayout(
            QPageSize(page_mm, QPageSize.Unit.Millimeter, "Biên lai"),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
    )
    painter = QPainter()
    if not painter.begin(printer):
        raise UserFacingError(
            "Không gửi được biên lai tới máy in (máy in tắt, hết giấy hoặc chưa cài đặt). "
            "Khoản thu ĐÃ được ghi; in lại biên lai ở màn hình Giao dịch hôm nay (F10).",
            message_en="could not start printing",
        )
    try:
        dpi = min(printer.resolution(), MAX_RASTER_DPI)
        for index in range(document.pageCount()):
            if index and not printer.newPage():
                raise UserFacingError(
                    "Máy in dừng giữa chừng. Khoản thu ĐÃ được ghi; hãy in lại biên lai.",
                    message_en="printer refused a new page",
                )
            size = document.pagePointSize(index)
            target = QRectF(painter.viewport())
            scale = min(target.width() / size.width(), target.height() / size.height())
            width, height = size.width() * scale, size.height() * scale
            pixels = QSize(round(size.width() / 72 * dpi), round(size.height() / 72 * dpi))
            _draw_in_bands(painter, document, index, pixels, QRectF(0, 0, width, height))
    finally:
        painter.end()
    return int(document.pageCount())


def print_test_page(printer: QPrinter, receipt_format: str) -> str:
    """A short test page on `printer` (I/O pool): proves the printer and the paper size before
    the first payment. Returns the printer's name."""
    from PySide6.QtGui import QFont

    width_mm = 80.0 if receipt_format == "roll_80mm" else 148.0
    height_mm = 60.0 if receipt_format == "roll_80mm" else 210.0
    printer.setFullPage(True)
    printer.setPageLayout(
        QPageLayout(
            QPageSize(QSizeF(width_mm, height_mm), QPageSize.Unit.Millimeter, "Trang in thử"),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
    )
    painter = QPainter()
    if not painter.begin(printer):
        raise UserFacingError(
            "Không gửi được trang in thử tới máy in (máy in tắt, hết giấy hoặc chưa cài đặt).",
            message_en="could not start the test page",
        )
    try:
        area = QRectF(painter.viewport()).adjusted(20, 20, -20, -20)
        painter.setFont(QFont("DejaVu Sans", 10))
        painter.drawText(
            area,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            | int(Qt.TextFlag.TextWordWrap),
            "QuầyThu — TRANG IN THỬ\n"
            f"Máy in: {printer.printerName() or 'tệp PDF'}\n"
            f"Khổ: {'giấy cuộn 80 mm' if receipt_format == 'roll_80mm' else 'A5'}\n"
            "Nếu đọc rõ các dòng này, biên lai sẽ in được.",
        )
    finally:
        painter.end()
    return printer.printerName()


BAND_PX = 160  # rows rasterised per PDFium call while printing


def _draw_in_bands(
    painter: QPainter, document: Any, index: int, pixels: QSize, target: QRectF
) -> None:
    """Rasterise a page in horizontal bands, each its own short PDFium call.

    PDFium is not thread-safe, so Qt serialises every render behind one lock; one whole page
    at 300 dpi holds it for ~100 ms, and the receipt preview on the GUI thread waits for it.
    Bands keep each hold short, so the window keeps painting while the receipt prints."""
    from PySide6.QtCore import QRect
    from PySide6.QtPdf import QPdfDocumentRenderOptions

    scale_y = target.height() / pixels.height()
    top = 0
    while top < pixels.height():
        rows = min(BAND_PX, pixels.height() - top)
        options = QPdfDocumentRenderOptions()
        options.setScaledSize(pixels)
        options.setScaledClipRect(QRect(0, top, pixels.width(), rows))
        band = document.render(index, QSize(pixels.width(), rows), options)
        painter.drawImage(
            QRectF(target.x(), target.y() + top * scale_y, target.width(), rows * scale_y), band
        )
        top += rows


def write_file(path: Path, data: bytes) -> Path:
    """Write atomically enough for a counter: temp file in the same folder, then replace."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserFacingError(
            f"Không ghi được tệp {path}: {exc.strerror or exc}.",
            message_en=f"cannot write {path}: {exc}",
        ) from exc
    return path


# --- the preview widget ----------------------------------------------------------------------


class ReceiptPreview(QWidget):
    """Shows a receipt PDF, fitted to the width, scrollable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtPdf import QPdfDocument
        from PySide6.QtPdfWidgets import QPdfView

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.document = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.view)
        self._buffer: QBuffer | None = None
        self.pdf: bytes | None = None

    def set_pdf(self, pdf: bytes) -> None:
        self.document.close()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(pdf))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(buffer)
        if self._buffer is not None:
            self._buffer.deleteLater()
        self._buffer = buffer
        self.pdf = pdf

    def clear(self) -> None:
        self.document.close()
        self.pdf = None


# --- orchestration (GUI thread) --------------------------------------------------------------


class ReceiptActions:
    """Fetch → render → preview → print / save for one receipt, reporting to callbacks.

    `status(text, ok)` receives progress and failure text for the screen to show; errors never
    raise out of here.
    """

    def __init__(
        self,
        owner: QWidget,
        state: AppState,
        preview: ReceiptPreview,
        status: Callable[[str, bool], None],
    ) -> None:
        self.owner = owner
        self.state = state
        self.preview = preview
        self.status = status
        self.data: ReceiptData | None = None
        self.printing = False
        self.printed = 0  # successful prints of what is previewed
        self.original_failed = False  # the printer refused the original: retry re-issues it

    def load(
        self,
        receipt_number: int,
        *,
        reprint_number: int = 0,
        then_print: bool = False,
        ask_if_unset: bool = False,
        card: tuple[date, date] | None = None,
    ) -> None:
        """`card`: the BHYT card's validity, known from the payment just recorded."""
        state = self.state
        receipt_format = state.settings.receipt_format.value

        def rendered(result: tuple[ReceiptData, bytes]) -> None:
            self.data, pdf = result
            self.printed = 0
            self.preview.set_pdf(pdf)
            if then_print:
                self.print(ask_if_unset=ask_if_unset)
            else:
                self.status("Biên lai sẵn sàng.", True)

        def render(data: ReceiptData) -> None:
            if card is not None:
                data = replace(data, card_from=card[0], card_to=card[1])
            IoOp(self.owner, lambda: (data, render_receipt_pdf(data, receipt_format))).success(
                rendered
            ).failure(self._failed("Không tạo được biên lai")).run()

        self.status("Đang tạo biên lai…", True)
        documents.receipt(self.owner, state, receipt_number, reprint_number=reprint_number).success(
            render
        ).failure(self._failed("Không đọc được khoản thu")).run()

    def _failed(self, what: str) -> Callable[[BaseException], None]:
        def show(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.printing = False
            self.status(f"{what}: {message_for(exc)}", False)

        return show

    def print(self, *, ask_if_unset: bool = True) -> None:
        """Print the previewed receipt on the configured printer (or ask which one).

        The configured printer is looked up and set up (QPrinterInfo, the print system) on the
        I/O pool with the printing itself: only asking for a printer (QPrintDialog), when none
        is configured, happens on the GUI thread."""
        pdf = self.preview.pdf
        if pdf is None or self.printing:
            return
        if self.original_failed and self.data is not None:  # retried as the original, audited
            self.original_failed = False
            self.load(self.data.number, then_print=True, ask_if_unset=ask_if_unset)
            return
        make, owner = self.state.printer_for_receipt, self.owner
        self._send(pdf, lambda: make(owner), ask_if_unset=ask_if_unset)

    def _send(
        self, pdf: bytes, printer: Callable[[], QPrinter | None], *, ask_if_unset: bool
    ) -> None:
        """Set up `printer()` and print on it, on the I/O pool; with no printer, say so or ask."""
        self.printing = True
        self.status("Đang in biên lai…", True)

        def send() -> int | None:
            chosen = printer()
            return None if chosen is None else print_pdf(pdf, chosen)

        def sent(pages: int | None) -> None:
            self.printing = False
            if pages is None:
                self._no_printer(pdf, ask_if_unset)
                return
            self.printed += 1
            self.status(f"Đã gửi biên lai tới máy in ({pages} trang).", True)

        data, state = self.data, self.state

        def print_failed(exc: BaseException) -> None:
            self._failed("Không in được biên lai")(exc)
            if data is not None and not data.reprint_number:  # the original did not print
                self.original_failed = True
                documents.print_failed(self.owner, state, data.number, str(exc)).run()

        IoOp(self.owner, send).success(sent).failure(print_failed).run()

    def _no_printer(self, pdf: bytes, ask_if_unset: bool) -> None:
        """No printer configured (or it is gone): say so, or ask with Qt's print dialog."""
        if not ask_if_unset:
            self.status(NO_PRINTER_TEXT, False)
            return
        chosen = self._ask_printer()
        if chosen is None:
            self.status("Chưa in biên lai (đã hủy chọn máy in).", False)
            return
        self._send(pdf, lambda: chosen, ask_if_unset=False)

    def reprint(self, receipt_number: int, *, then_print: bool = True) -> None:
        """A counted copy: record the reprint, then render "BẢN SAO" n and print it."""

        def counted(number: int) -> None:
            self.load(
                receipt_number, reprint_number=number, then_print=then_print, ask_if_unset=True
            )

        self.status("Đang ghi nhận bản sao…", True)
        payments.reprint(self.owner, self.state, receipt_number).success(counted).failure(
            self._failed("Không in lại được")
        ).run()

    def _ask_printer(self) -> QPrinter | None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self.owner)
        dialog.setWindowTitle("In biên lai")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return printer

    def suggested_name(self) -> str:
        if self.data is None:
            return "bien-lai.pdf"
        copy = f"-ban-sao-{self.data.reprint_number}" if self.data.reprint_number else ""
        return f"bien-lai-{self.data.series}-{self.data.number:07d}{copy}.pdf"

    def save(self) -> None:
        pdf = self.preview.pdf
        if pdf is None:
            return
        path = self.state.ask_save_path(
            self.owner, "Lưu biên lai thành tệp PDF", self.suggested_name(), "Tệp PDF (*.pdf)"
        )
        if path is None:
            return
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        IoOp(self.owner, lambda: write_file(path, pdf)).success(
            lambda p: self.status(f"Đã lưu biên lai: {p}", True)
        ).failure(self._failed("Không lưu được biên lai")).run()


class ReceiptDialog(QDialog):
    """A receipt (usually a counted copy) with Print and Save buttons; used for reprints."""

    def __init__(self, state: AppState, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 700)
        layout = QVBoxLayout(self)
        self.preview = ReceiptPreview(self)
        layout.addWidget(self.preview, 1)
        self.status_label = hint("")
        layout.addWidget(self.status_label)
        row = QHBoxLayout()
        self.save_button = QPushButton(fkey_text("Lưu PDF", "Ctrl+S"))
        row.addWidget(self.save_button)
        row.addStretch(1)
        self.print_button = QPushButton(fkey_text("In biên lai", "Ctrl+P"))
        self.print_button.setObjectName("primary")
        self.print_button.setDefault(True)
        row.addWidget(self.print_button)
        close = QPushButton(fkey_text("Đóng", "Esc"))
        close.clicked.connect(self.reject)
        row.addWidget(close)
        layout.addLayout(row)
        self.receipt = ReceiptActions(self, state, self.preview, self._status)
        self.print_button.clicked.connect(lambda: self.receipt.print())
        self.save_button.clicked.connect(self.receipt.save)
        QShortcut(QKeySequence("Ctrl+P"), self, lambda: self.receipt.print())
        QShortcut(QKeySequence("Ctrl+S"), self, self.receipt.save)

    def _status(self, text: str, ok: bool) -> None:
        self.status_label.setText(text)
        self.status_label.setObjectName("hint" if ok else "fieldError")
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)

    def status_text(self) -> str:
        return self.status_label.text()


def section_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold;")
    return label
