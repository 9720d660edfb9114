"""Today's payments at this counter: find, reprint (BẢN SAO), void with a supervisor's signature.

Totals count only payments that are not voided; "Tiền mặt phải có trong két" is the sum of the
day's non-voided amounts taken at this counter — what the cash drawer should hold.

A void is signed on the spot: a supervisor types their own user name and password in the void
dialog; they are authenticated and the void recorded in one database op, with the current
cashier as the one who asked for it. A cashier's credentials are refused by the service.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import format_local
from app.domain.money import format_vnd
from app.domain.text import fold_key
from app.domain.types import Scheme
from app.errors import ValidationError
from ui.qt.operations import payments
from ui.qt.widgets import FormDialog, card, enum_data, fkey_text, hint, page_title

if TYPE_CHECKING:
    from app.services.payments import PaymentView
    from ui.qt.changes import OpChanges
    from ui.qt.receipt_view import ReceiptDialog
    from ui.qt.state import AppState

COLUMNS = (
    "Số BL",
    "Giờ",
    "Mã xác nhận",
    "Họ và tên",
    "Mã số BHXH",
    "Loại hình",
    "Tháng",
    "Số tiền",
    "Thu ngân",
    "Trạng thái",
)
AMOUNT_COLUMN = 7


def _local_time(p: PaymentView) -> str:
    return format_local(p.paid_at, "%H:%M")


def status_text(p: PaymentView) -> str:
    if p.voided:
        return "ĐÃ HỦY"
    return f"In lại {p.reprints} lần" if p.reprints else "Hợp lệ"


class PaymentsModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[PaymentView] = []

    def set_rows(self, rows: list[PaymentView]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        p = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                f"{p.receipt_number:07d}",
                _local_time(p),
                p.confirmation_code,
                p.payer_name,
                p.ma_so_bhxh or "chưa có",
                p.scheme.label,
                str(p.months),
                format_vnd(p.amount),
                p.cashier,
                status_text(p),
            )[column]
        if role == Qt.ItemDataRole.UserRole:
            return p
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 6, AMOUNT_COLUMN):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and p.voided:
            return QColor("#9a2a22")
        if role == Qt.ItemDataRole.FontRole and column == 2:
            from PySide6.QtGui import QFont

            font = QFont("DejaVu Sans Mono")
            font.setBold(True)
            return font
        return None


class PaymentsFilter(QSortFilterProxyModel):
    """Scheme, status and free text (name without diacritics, code, receipt number, mã số)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scheme: Scheme | None = None
        self.status = "all"  # all | valid | voided
        self.text = ""

    def set_filter(self, scheme: Scheme | None, status: str, text: str) -> None:
        self.beginFilterChange()
        self.scheme, self.status, self.text = scheme, status, fold_key(text)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, PaymentsModel)
        p = model.rows[row]
        if self.scheme is not None and p.scheme is not self.scheme:
            return False
        if self.status == "valid" and p.voided:
            return False
        if self.status == "voided" and not p.voided:
            return False
        if self.text:
            haystack = " ".join(
                (
                    fold_key(p.payer_name),
                    p.confirmation_code.lower(),
                    p.confirmation_code.replace("-", "").lower(),
                    str(p.receipt_number),
                    p.ma_so_bhxh or "",
                    p.cccd or "",
                    fold_key(p.cashier),
                )
            )
            return all(word in haystack for word in self.text.split())
        return True


class VoidDialog(FormDialog):
    """Void one payment: reason + a supervisor's own user name and password, signed on the spot."""

    def __init__(self, state: AppState, payment: PaymentView, parent: QWidget | None = None):
        super().__init__(
            "Hủy khoản thu",
            "Ký và hủy khoản thu",
            parent,
            heading=f"Hủy biên lai số {payment.receipt_number:07d}",
            action_style="danger",
        )
        self.state = state
        self.payment = payment
        self.result_view: PaymentView | None = None
        self.setMinimumWidth(640)
        self.body.addWidget(
            QLabel(
                f"{payment.payer_name} · {payment.scheme.label} · {format_vnd(payment.amount)}"
                f"<br>Mã xác nhận: <b>{payment.confirmation_code}</b>"
            )
        )
        self.body.addWidget(
            hint(
                "Khoản thu không bị xóa: việc hủy là một bản ghi mới có chữ ký của giám sát viên. "
                "Hoàn lại tiền cho người nộp theo quy định của đơn vị."
            )
        )
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("Ví dụ: Thu nhầm loại hình, người nộp yêu cầu hủy")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(70)
        self.supervisor = QLineEdit()
        self.supervisor.setObjectName("supervisor")
        self.supervisor.setPlaceholderText("tên đăng nhập của giám sát viên")
        self.password = QLineEdit()
        self.password.setObjectName("supervisor_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow("Lý do hủy:", self.reason)
        self.form.addRow("Giám sát viên:", self.supervisor)
        self.form.addRow("Mật khẩu giám sát:", self.password)
        self.finish_layout()
        self.void_button = self.ok_button
        self.supervisor.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.submit)
        self.reason.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        reason = " ".join(self.reason.toPlainText().split())
        username = self.supervisor.text().strip()
        password = self.password.text()
        if len(reason) < 5:
            self._error("Lý do hủy: bắt buộc, ghi rõ ít nhất 5 ký tự.", self.reason)
            return
        if not username or not password:
            self._error(
                "Giám sát viên nhập tên đăng nhập và mật khẩu của chính mình để ký hủy.",
                self.supervisor if not username else self.password,
            )
            return
        op = payments.void(
            self,
            self.state,
            self.payment.receipt_number,
            reason,
            supervisor=username,
            password=password,
        )

        def done(view: PaymentView) -> None:
            self.set_busy(False)
            self.result_view = view
            self.accept()

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.set_busy(False)
            self.password.clear()
            focus = self.reason if isinstance(exc, ValidationError) else self.supervisor
            self._error(message_for(exc), focus)

        self.set_busy(True, "Đang ký hủy…")
        op.success(done).failure(failed).run()

    def _error(self, text: str, focus: QWidget) -> None:
        self.show_message(text)
        focus.setFocus()


class TodayPage(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.day: date | None = None
        self.void_dialog: VoidDialog | None = None
        self.receipt_dialog: ReceiptDialog | None = None
        self._seq = 0
        self._dirty = True

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(self._build_top())
        layout.addLayout(self._build_filters())
        layout.addWidget(self._build_table(), 1)
        layout.addLayout(self._build_bottom())
        self._wire()
        self._update_buttons()

    def _build_top(self) -> QHBoxLayout:
        top = QHBoxLayout()
        self.title = page_title("Giao dịch hôm nay")
        top.addWidget(self.title)
        top.addStretch(1)
        self.refresh_button = QPushButton(fkey_text("Làm mới", "Ctrl+R"))
        self.refresh_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        return top

    def _build_filters(self) -> QHBoxLayout:
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("today_search")
        self.search.setPlaceholderText(
            "Tìm: họ tên (không dấu), mã xác nhận, số biên lai, mã số BHXH"
        )
        self.search.setClearButtonEnabled(True)
        filters.addWidget(self.search, 3)
        self.scheme_filter = QComboBox()
        self.scheme_filter.addItem("Mọi loại hình", None)
        for scheme in Scheme:
            self.scheme_filter.addItem(scheme.label, scheme)
        filters.addWidget(self.scheme_filter, 1)
        self.status_filter = QComboBox()
        self.status_filter.addItem("Mọi trạng thái", "all")
        self.status_filter.addItem("Hợp lệ", "valid")
        self.status_filter.addItem("Đã hủy", "voided")
        filters.addWidget(self.status_filter, 1)
        return filters

    def _build_table(self) -> QTableView:
        self.model = PaymentsModel(self)
        self.proxy = PaymentsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside
        self.table.setObjectName("payments_table")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        return self.table

    def _build_bottom(self) -> QHBoxLayout:
        bottom = QHBoxLayout()
        totals_card = card()
        totals_col = QVBoxLayout(totals_card)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("totals")
        self.totals_label.setTextFormat(Qt.TextFormat.RichText)
        totals_col.addWidget(self.totals_label)
        bottom.addWidget(totals_card, 1)
        actions = QVBoxLayout()
        self.reprint_button = QPushButton(fkey_text("In lại biên lai (bản sao)", "Ctrl+P"))
        self.reprint_button.clicked.connect(self.reprint_selected)
        actions.addWidget(self.reprint_button)
        self.void_button = QPushButton(fkey_text("Hủy khoản thu…", "Delete"))
        self.void_button.setObjectName("danger")
        self.void_button.clicked.connect(self.void_selected)
        actions.addWidget(self.void_button)
        actions.addStretch(1)
        bottom.addLayout(actions)
        return bottom

    def _wire(self) -> None:
        self.search.textChanged.connect(self._filter)
        self.scheme_filter.currentIndexChanged.connect(self._filter)
        self.status_filter.currentIndexChanged.connect(self._filter)
        self.search.returnPressed.connect(self._focus_table)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _i: self.reprint_selected())
        self.state.changed.connect(self._changed)

        def key(keys: str, slot: Any) -> None:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        key("Ctrl+R", self.refresh)
        key("Ctrl+P", self.reprint_selected)
        key("Delete", self.void_selected)
        key("Ctrl+F", self._focus_search)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # --- loading --------------------------------------------------------------------------

    def activate(self) -> None:
        if self._dirty:
            self.refresh()
        self.search.setFocus()

    def restore_focus(self) -> None:
        self.search.setFocus()

    def reset(self) -> None:
        self.search.clear()
        self.scheme_filter.setCurrentIndex(0)
        self.status_filter.setCurrentIndex(0)
        self._dirty = True

    def _changed(self, changes: OpChanges) -> None:
        if not changes.payments:
            return
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        self._seq += 1
        seq = self._seq
        payments.todays(self, self.state).success(lambda r: self._loaded(seq, *r)).run()

    def _loaded(self, seq: int, day: date, rows: list[PaymentView]) -> None:
        if seq != self._seq:
            return
        self._dirty = False
        selected = self.selected()
        self.day = day
        self.title.setText(f"Giao dịch hôm nay — {day:%d/%m/%Y}")
        self.model.set_rows(rows)
        self._show_totals()
        if selected is not None:
            self.select_receipt(selected.receipt_number)
        self._update_buttons()

    def visible_rows(self) -> list[PaymentView]:
        return [
            self.proxy.index(row, 0).data(Qt.ItemDataRole.UserRole)
            for row in range(self.proxy.rowCount())
        ]

    def _show_totals(self) -> None:
        """Totals of the rows the filter shows; the drawer line is always the whole day."""
        everything = self.model.rows
        rows = self.visible_rows()
        filtered = len(rows) != len(everything)
        drawer = sum(p.amount for p in everything if not p.voided)
        parts = []
        for scheme in Scheme:
            valid = [p for p in rows if p.scheme is scheme and not p.voided]
            amount = sum(p.amount for p in valid)
            parts.append(
                f"<td style='padding-right:28px'>{scheme.label}: <b>{len(valid)}</b> khoản · "
                f"<b>{format_vnd(amount)}</b></td>"
            )
        voided = [p for p in rows if p.voided]
        parts.append(
            f"<td style='padding-right:28px'>Đã hủy: {len(voided)} khoản "
            f"({format_vnd(sum(p.amount for p in voided))}, không tính)</td>"
        )
        self.drawer_total = drawer
        self.filtered_total = sum(p.amount for p in rows if not p.voided)
        heading = (
            f"<div>Theo bộ lọc: <b>{len(rows)}</b> / {len(everything)} khoản hiện ra · "
            f"<b>{format_vnd(self.filtered_total)}</b></div>"
            if filtered
            else ""
        )
        self.totals_label.setText(
            f"{heading}<table><tr>{''.join(parts)}</tr></table>"
            f"<div style='font-size:15pt; margin-top:6px'>Tiền mặt phải có trong két: "
            f"<b style='color:#0b5cad'>{format_vnd(drawer)}</b></div>"
        )

    def _filter(self) -> None:
        self.proxy.set_filter(
            enum_data(self.scheme_filter, Scheme),
            self.status_filter.currentData(),
            self.search.text(),
        )
        self._show_totals()
        self._update_buttons()

    def _focus_table(self) -> None:
        if self.proxy.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)

    # --- selection and actions ------------------------------------------------------------

    def selected(self) -> PaymentView | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        view: PaymentView = rows[0].data(Qt.ItemDataRole.UserRole)
        return view

    def select_receipt(self, receipt_number: int) -> bool:
        for row in range(self.proxy.rowCount()):
            p = self.proxy.index(row, 0).data(Qt.ItemDataRole.UserRole)
            if p.receipt_number == receipt_number:
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self, *_args: Any) -> None:
        p = self.selected()
        self.reprint_button.setEnabled(p is not None)
        self.void_button.setEnabled(p is not None and not p.voided)

    def reprint_selected(self) -> ReceiptDialog | None:
        p = self.selected()
        if p is None:
            return None
        from ui.qt.receipt_view import ReceiptDialog

        dialog = ReceiptDialog(
            self.state, f"In lại biên lai số {p.receipt_number:07d} (bản sao)", self
        )
        dialog.finished.connect(lambda _r: setattr(self, "receipt_dialog", None))
        self.receipt_dialog = dialog
        dialog.open()
        dialog.receipt.reprint(p.receipt_number)
        return dialog

    def void_selected(self) -> VoidDialog | None:
        p = self.selected()
        if p is None or p.voided:
            return None
        dialog = VoidDialog(self.state, p, self)
        dialog.accepted.connect(lambda: self._voided(dialog))
        dialog.finished.connect(lambda _r: setattr(self, "void_dialog", None))
        self.void_dialog = dialog
        dialog.open()
        return dialog

    def _voided(self, dialog: VoidDialog) -> None:
        view = dialog.result_view
        if view is not None:
            from ui.qt.errors import notify

            notify(
                self.parent(),
                f"Đã hủy biên lai số {view.receipt_number:07d} ({format_vnd(view.amount)}).",
                "info",
            )
