"""Shift screens (docs/SHIFTS.md): open a shift with its float, drop cash to the safe (or pick it
up), close with a count by denomination and a live difference, and the Z report.

Keys (window-wide, see `ui/qt/main_window.py`): F4 opens a shift when none is open, else the
close dialog; F11 the cash drop/pick-up dialog. Starting a payment (F9) without an open shift
of one's own offers the open dialog. The status bar's `ShiftStatus` shows whose shift is open
and the cash the drawer should hold.

Supervisors sign in the dialog itself (their own user name and password, checked with argon2 on
the database thread in the same op, like a void).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.cash import DENOMINATIONS, MAX_PIECES, SMALL
from app.domain.clock import format_local
from app.domain.money import format_number, format_vnd
from app.errors import ValidationError
from ui.qt.basic import ElidedLabel, fkey_text, hint
from ui.qt.operations import shifts as shift_ops
from ui.qt.widgets import FormDialog, MoneySpinBox

if TYPE_CHECKING:
    from app.domain.shifts import ZReportData
    from app.services.shifts import ShiftSummary
    from ui.qt.state import AppState

SHIFT_KEY = "F4"
CASH_MOVE_KEY = "F11"


def _error_text(exc: BaseException) -> str:
    from ui.qt.errors import message_for

    return message_for(exc)


class DenominationGrid(QWidget):
    """Pieces per Vietnamese denomination, each row's subtotal and the total, live."""

    changed = Signal(int)  # the total, đồng

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        self.spins: dict[int, QSpinBox] = {}
        self.subtotals: dict[int, QLabel] = {}
        half = (len(DENOMINATIONS) + 1) // 2
        for i, d in enumerate(DENOMINATIONS):
            row, col = i % half, (i // half) * 3
            label = QLabel(f"{format_number(d)} đ" + (" (tùy chọn)" if d in SMALL else ""))
            spin = QSpinBox()
            spin.setObjectName(f"count_{d}")
            spin.setRange(0, MAX_PIECES)
            spin.setSuffix(" tờ")
            spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            spin.valueChanged.connect(self._update)
            label.setBuddy(spin)
            subtotal = QLabel("0 đ")
            subtotal.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            subtotal.setMinimumWidth(110)
            grid.addWidget(label, row, col)
            grid.addWidget(spin, row, col + 1)
            grid.addWidget(subtotal, row, col + 2)
            self.spins[d] = spin
            self.subtotals[d] = subtotal
        self.total_label = QLabel()
        self.total_label.setObjectName("countTotal")
        grid.addWidget(self.total_label, half, 0, 1, 6)
        self._update()

    def counts(self) -> dict[int, int]:
        return {d: s.value() for d, s in self.spins.items() if s.value()}

    def total(self) -> int:
        return sum(d * n for d, n in self.counts().items())

    def set_counts(self, counts: Mapping[int, int]) -> None:
        for d, spin in self.spins.items():
            spin.setValue(counts.get(d, 0))

    def first(self) -> QSpinBox:
        return self.spins[DENOMINATIONS[0]]

    def _update(self, *_args: Any) -> None:
        for d, spin in self.spins.items():
            self.subtotals[d].setText(format_vnd(d * spin.value()))
        total = self.total()
        self.total_label.setText(f"<b>Tổng đếm: {format_vnd(total)}</b>")
        self.changed.emit(total)


class _EnterSubmits(FormDialog):
    """Enter anywhere in the dialog submits it (the counter is keyboard first)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            focus = self.focusWidget()
            if focus is not None and focus.objectName() == "supervisor":
                self.focusNextChild()  # name typed: on to the password
            else:
                self.submit()
            return
        super().keyPressEvent(event)


class _SupervisorRows:
    """A supervisor's own user name and password, added to a dialog's form."""

    def __init__(self, dialog: FormDialog, caption: str) -> None:
        self.name = QLineEdit()
        self.name.setObjectName("supervisor")
        self.name.setPlaceholderText("tên đăng nhập của giám sát viên")
        self.password = QLineEdit()
        self.password.setObjectName("supervisor_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        dialog.form.addRow(caption, self.name)
        dialog.form.addRow("Mật khẩu giám sát:", self.password)


class OpenShiftDialog(_EnterSubmits):
    """Open the signed-in cashier's shift: the float by denomination, or as a total."""

    opened = Signal(object)  # ShiftSummary

    def __init__(
        self,
        state: AppState,
        parent: QWidget | None = None,
        *,
        suggested: Mapping[int, int] | None = None,
        reason: str = "",
    ) -> None:
        super().__init__("Mở ca thu tiền", "Mở ca", parent, heading="Mở ca thu tiền")
        self.state = state
        self.result_view: ShiftSummary | None = None
        self.setMinimumWidth(760)
        actor = state.require_actor()
        if reason:
            self.body.addWidget(hint(reason))
        self.body.addWidget(
            hint(
                f"Thu ngân: <b>{actor.full_name}</b> ({actor.username}). Đếm tiền đầu ca theo "
                "mệnh giá (tiền lẻ để thối), hoặc nhập tổng. Mỗi quầy chỉ một ca mở; chỉ người "
                "mở ca được thu tiền trong ca."
            )
        )
        self.grid = DenominationGrid()
        if suggested:
            self.grid.set_counts(suggested)
            self.body.addWidget(hint("Đã điền theo số tiền đếm khi đóng ca trước (giao ca)."))
        self.body.addWidget(self.grid)
        self.by_total = QCheckBox("Nhập tổng thay vì đếm tờ")
        self.by_total.setObjectName("byTotal")
        self.total = MoneySpinBox()
        self.total.setObjectName("floatTotal")
        self.total.setEnabled(False)
        self.by_total.toggled.connect(self._toggle)
        self.form.addRow(self.by_total)
        self.form.addRow("Tổng tiền đầu ca:", self.total)
        self.finish_layout()
        self.grid.first().setFocus()

    def _toggle(self, on: bool) -> None:
        self.total.setEnabled(on)
        self.grid.setEnabled(not on)
        (self.total if on else self.grid.first()).setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        counts = None if self.by_total.isChecked() else self.grid.counts()
        total = self.total.value() if self.by_total.isChecked() else None
        op = shift_ops.open_(self, self.state, counts, total)

        def done(view: ShiftSummary) -> None:
            self.set_busy(False)
            self.result_view = view
            self.opened.emit(view)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.set_busy(False)
            self.show_message(_error_text(exc))

        self.set_busy(True, "Đang mở ca…")
        op.success(done).failure(failed).run()


class CashMoveDialog(_EnterSubmits):
    """Cash from the drawer to the safe (drop) or back (pick-up): reason and supervisor."""

    def __init__(self, state: AppState, shift: ShiftSummary, parent: QWidget | None = None):
        super().__init__("Nộp / nhận tiền két", "Ký và ghi", parent, heading="Nộp tiền về két")
        self.state = state
        self.result_view: ShiftSummary | None = None
        self.body.addWidget(
            hint(f"Tiền phải có trong ngăn kéo lúc này: <b>{format_vnd(shift.expected)}</b>.")
        )
        self.kind = QComboBox()
        self.kind.setObjectName("event")
        self.kind.addItem("Nộp tiền từ ngăn kéo về két", "drop")
        self.kind.addItem("Nhận tiền từ két vào ngăn kéo", "pickup")
        self.amount = MoneySpinBox()
        self.amount.setObjectName("amount")
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("Ví dụ: Nộp két giữa ca, đổi tiền lẻ")
        self.form.addRow("Loại:", self.kind)
        self.form.addRow("Số tiền:", self.amount)
        self.form.addRow("Lý do:", self.reason)
        self.supervisor = _SupervisorRows(self, "Giám sát viên:")
        self.finish_layout()
        self.amount.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        op = shift_ops.move(
            self,
            self.state,
            str(self.kind.currentData()),
            self.amount.value(),
            self.reason.text(),
            supervisor=self.supervisor.name.text().strip(),
            password=self.supervisor.password.text(),
        )

        def done(view: ShiftSummary) -> None:
            self.set_busy(False)
            self.result_view = view
            self.accept()

        def failed(exc: BaseException) -> None:
            self.set_busy(False)
            self.supervisor.password.clear()
            self.show_message(_error_text(exc))
            (self.reason if isinstance(exc, ValidationError) else self.supervisor.name).setFocus()

        self.set_busy(True, "Đang ghi…")
        op.success(done).failure(failed).run()


class CloseShiftDialog(_EnterSubmits):
    """Close the open shift: count by denomination, see counted against expected and the
    difference live, a reason for any difference, a supervisor when the rules ask for one."""

    closed = Signal(object)  # ShiftSummary

    def __init__(
        self, state: AppState, shift: ShiftSummary, threshold: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            "Đóng ca", "Đóng ca", parent, heading="Đóng ca: đếm tiền", action_style="danger"
        )
        self.state = state
        self.shift = shift
        self.threshold = threshold
        self.result_view: ShiftSummary | None = None
        self.setMinimumWidth(780)
        actor = state.require_actor()
        lines = [
            f"Ca của <b>{shift.cashier_name}</b> ({shift.cashier}), mở lúc "
            f"{format_local(shift.opened_at)}; {shift.payments} khoản thu, "
            f"{format_vnd(shift.payment_total)}.",
            f"Tiền phải có trong ngăn kéo: <b>{format_vnd(shift.expected)}</b> (đầu ca "
            f"{format_vnd(shift.float_amount)}, hủy trả lại {format_vnd(shift.void_total)}, "
            f"nộp két {format_vnd(shift.drops)}, nhận két {format_vnd(shift.pickups)}).",
        ]
        if shift.operator_id != actor.id:
            lines.append("<b>Ca của người khác:</b> cần giám sát viên ký xác nhận để đóng.")
        self.body.addWidget(hint("<br>".join(lines)))
        if shift.unsynced_now:
            unsynced = hint(
                f"Còn {shift.unsynced_now} khoản thu của ca chưa đồng bộ với trung tâm. Vẫn "
                "đóng ca được; số này được ghi vào báo cáo Z."
            )
            unsynced.setObjectName("unsyncedNote")
            self.body.addWidget(unsynced)
        self.grid = DenominationGrid()
        self.body.addWidget(self.grid)
        self.difference = QLabel()
        self.difference.setObjectName("difference")
        self.body.addWidget(self.difference)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("Bắt buộc khi chênh lệch từ 100 đ")
        self.form.addRow("Lý do chênh lệch:", self.reason)
        self.supervisor = _SupervisorRows(
            self, f"Giám sát (chênh lệch trên {format_vnd(threshold)}):"
        )
        self.grid.changed.connect(self._update)
        self.finish_layout()
        self._update(0)
        self.grid.first().setFocus()

    def _update(self, counted: int) -> None:
        diff = counted - self.shift.expected
        sign = "+" if diff > 0 else ""
        word = "khớp" if diff == 0 else ("thừa" if diff > 0 else "thiếu")
        self.difference.setText(
            f"<span style='font-size:13pt'>Đếm: <b>{format_vnd(counted)}</b> · Phải có: "
            f"<b>{format_vnd(self.shift.expected)}</b> · Chênh lệch: <b>{sign}"
            f"{format_vnd(diff)}</b> ({word})</span>"
        )

    def submit(self) -> None:
        if self.busy:
            return
        op = shift_ops.close(
            self,
            self.state,
            self.grid.counts(),
            self.reason.text(),
            supervisor=self.supervisor.name.text().strip(),
            password=self.supervisor.password.text(),
        )

        def done(view: ShiftSummary) -> None:
            self.set_busy(False)
            self.result_view = view
            self.closed.emit(view)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.set_busy(False)
            self.supervisor.password.clear()
            self.show_message(_error_text(exc))
            focus = self.reason if isinstance(exc, ValidationError) else self.supervisor.name
            focus.setFocus()

        self.set_busy(True, "Đang đóng ca…")
        op.success(done).failure(failed).run()


class ZReportDialog(QDialog):
    """The Z report of a closed shift: preview, print (the configured receipt printer, or ask),
    save as PDF; 80 mm or A4. Opening it counts a print: the first is the original, every later
    one is a BẢN SAO."""

    def __init__(self, state: AppState, shift_id: str, parent: QWidget | None = None) -> None:
        from ui.qt.receipt_view import ReceiptPreview

        super().__init__(parent)
        self.state = state
        self.data: ZReportData | None = None
        self.setWindowTitle("Báo cáo chốt ca (Z)")
        self.setMinimumSize(560, 640)
        layout = QVBoxLayout(self)
        self.preview = ReceiptPreview(self)
        layout.addWidget(self.preview, 1)
        self.status = QLabel("Đang tạo báo cáo…")
        self.status.setObjectName("zStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.a4 = QCheckBox("Khổ A4")
        self.a4.setObjectName("zA4")
        self.a4.toggled.connect(self._render)
        row.addWidget(self.a4)
        row.addStretch(1)
        self.save_button = QPushButton(fkey_text("Lưu PDF", "Ctrl+S"))
        self.save_button.clicked.connect(self.save)
        self.print_button = QPushButton(fkey_text("In", "Ctrl+P"))
        self.print_button.setObjectName("primary")
        self.print_button.clicked.connect(self.print_)
        close = QPushButton(fkey_text("Đóng", "Esc"))
        close.clicked.connect(self.reject)
        for b in (self.save_button, self.print_button, close):
            row.addWidget(b)
        layout.addLayout(row)
        shift_ops.zreport(self, state, shift_id).success(self._loaded).failure(
            lambda exc: self.status.setText(_error_text(exc))
        ).run()

    def _loaded(self, data: ZReportData) -> None:
        self.data = data
        self._render()

    def _render(self, *_args: Any) -> None:
        if self.data is None:
            return
        data = self.data
        shift_ops.render(self, data, self.a4.isChecked()).success(self._rendered).failure(
            lambda exc: self.status.setText(_error_text(exc))
        ).run()

    def _rendered(self, pdf: bytes) -> None:
        self.preview.set_pdf(pdf)
        copy = self.data.copy_number if self.data else 0
        self.status.setText(
            f"Báo cáo Z sẵn sàng (BẢN SAO lần {copy})." if copy else "Báo cáo Z sẵn sàng."
        )

    def print_(self) -> None:
        from ui.qt.ops import IoOp
        from ui.qt.receipt_view import print_pdf

        pdf = self.preview.pdf
        if pdf is None:
            return
        printer = self.state.printer_for_receipt(self)
        if printer is None:
            from PySide6.QtPrintSupport import QPrintDialog, QPrinter

            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
                return
        self.status.setText("Đang in báo cáo Z…")
        IoOp(self, lambda: print_pdf(pdf, printer)).success(
            lambda pages: self.status.setText(f"Đã gửi báo cáo Z tới máy in ({pages} trang).")
        ).failure(lambda exc: self.status.setText(_error_text(exc))).run()

    def save(self) -> None:
        from ui.qt.ops import IoOp
        from ui.qt.receipt_view import write_file

        pdf = self.preview.pdf
        if pdf is None or self.data is None:
            return
        name = f"bao-cao-z-{self.data.counter_code}-{self.data.closed_at:%Y%m%d-%H%M}.pdf"
        path = self.state.ask_save_path(self, "Lưu báo cáo Z", name, "PDF (*.pdf)")
        if path is None:
            return
        IoOp(self, lambda: write_file(path, pdf)).success(
            lambda p: self.status.setText(f"Đã lưu: {p}")
        ).failure(lambda exc: self.status.setText(_error_text(exc))).run()


class ShiftStatus(ElidedLabel):
    """The status bar's word on the drawer: whose shift is open and the cash it should hold.
    It gives way (elided, the full text as tooltip) before the sync state does."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("shiftStatus")
        self.shift: ShiftSummary | None = None
        self.show_shift(None)

    def show_shift(self, shift: ShiftSummary | None) -> None:
        self.shift = shift
        if shift is None:
            self.set_full_text(f"Chưa mở ca ({SHIFT_KEY})")
            return
        self.set_full_text(
            f"Ca {shift.cashier} · Tiền trong ngăn kéo: {format_vnd(shift.expected)}"
            + (f" · {shift.unsynced_now} chưa đồng bộ" if shift.unsynced_now else "")
        )


class ShiftController:
    """The window's shift keys and status: owns `ShiftStatus` (added to the status bar) and
    opens the dialogs. `gate()` is what the payment screen asks before F9: True when the
    signed-in operator holds the open shift; otherwise it offers the right dialog."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.state: AppState = window.state
        self.status = ShiftStatus()
        window.statusBar().addWidget(self.status, 1)
        self.dialog: QDialog | None = None

    def refresh(self) -> None:
        if self.state.actor is None:
            return
        shift_ops.current(self.status, self.state).success(self.status.show_shift).failure(
            lambda _exc: None
        ).run()

    def _busy(self) -> bool:
        return self.dialog is not None and self.dialog.isVisible()

    def gate(self) -> bool:
        actor = self.state.actor
        shift = self.status.shift
        if actor is not None and shift is not None and shift.operator_id == actor.id:
            return True
        if shift is None:
            self.open_dialog(reason="Chưa mở ca: mở ca (nhập tiền đầu ca) trước khi thu tiền.")
        else:
            self.window.show_message(
                f"Ca đang mở là của {shift.cashier_name} ({shift.cashier}). Hãy giao ca: đóng "
                f"ca đó ({SHIFT_KEY}), rồi mở ca của mình.",
                "error",
            )
        return False

    def shift_key(self) -> None:
        """F4: open a shift when none is open, else close the open one."""
        if self._busy():
            return
        if self.status.shift is None:
            self.open_dialog()
        else:
            self.close_dialog()

    def open_dialog(self, reason: str = "") -> OpenShiftDialog | None:
        if self._busy():
            return None

        def show(suggested: Mapping[int, int] | None) -> None:
            dialog = OpenShiftDialog(self.state, self.window, suggested=suggested, reason=reason)
            dialog.opened.connect(self.status.show_shift)
            self.dialog = dialog
            dialog.open()

        shift_ops.last_count(self.status, self.state).success(show).run()
        return None

    def cash_move_dialog(self) -> None:
        shift = self.status.shift
        if self._busy():
            return
        if shift is None:
            self.window.show_message(f"Chưa mở ca ({SHIFT_KEY}).", "error")
            return
        dialog = CashMoveDialog(self.state, shift, self.window)
        dialog.accepted.connect(lambda: self.status.show_shift(dialog.result_view))
        self.dialog = dialog
        dialog.open()

    def close_dialog(self) -> None:
        from app.services.shifts import difference_threshold

        def show(pair: tuple[ShiftSummary | None, int]) -> None:
            shift, threshold = pair
            self.status.show_shift(shift)
            if shift is None:
                self.window.show_message("Quầy không có ca nào đang mở.", "info")
                return
            dialog = CloseShiftDialog(self.state, shift, threshold, self.window)
            dialog.closed.connect(self._closed)
            self.dialog = dialog
            dialog.open()

        from app.services.shifts import current_shift
        from ui.qt.ops import DbOp

        state = self.state
        DbOp(
            self.status, lambda: (current_shift(state.db), difference_threshold(state.db))
        ).success(show).run()

    def _closed(self, shift: ShiftSummary) -> None:
        self.status.show_shift(None)
        dialog = ZReportDialog(self.state, shift.id, self.window)
        self.dialog = dialog
        dialog.open()
