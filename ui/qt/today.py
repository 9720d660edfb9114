"""Today's payments at this counter: find, reprint (BẢN SAO), void with a supervisor's signature.

Totals count only payments that are not voided; "Tiền mặt phải có trong két" is the sum of the
day's non-voided amounts taken at this counter — what the cash drawer should hold.

A void is signed on the spot: a supervisor types their own user name and password in the void
dialog; they are authenticated and the void recorded in one database op, with the current
cashier as the one who asked for it. A cashier's credentials are refused by the service.

Payer notices (docs/NOTIFY.md): the "Tin báo" column shows each payment's SMS and email state
(Chờ gửi, Đã gửi, Đang thử lại, Không gửi được…), the line under the table the selected
payment's messages with the reason of a failure, and "Gửi lại tin báo" (Ctrl+G) queues one again
— optionally to a corrected address — through the audited resend service. The states refresh
when the window's notice sender reports (`OpChanges.notify`), without reloading the payments.
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
from ui.qt.operations import notify as notify_ops
from ui.qt.operations import payments
from ui.qt.widgets import FormDialog, card, enum_data, fkey_text, hint, page_title

if TYPE_CHECKING:
    from app.notify.outbox import NotificationView
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
    "Tin báo",
)
AMOUNT_COLUMN = 7
NOTICE_COLUMN = 10
_ATTENTION = ("failed", "unknown")


def notice_text(messages: list[NotificationView]) -> str:
    """ "SMS: Đã gửi · Email: Đang thử lại" (a void's notices as "SMS báo hủy: …")."""
    from app.notify.outbox import CHANNEL_LABELS, VOID

    parts = []
    for m in messages:
        kind = " báo hủy" if m.kind == VOID else ""
        parts.append(f"{CHANNEL_LABELS.get(m.channel, m.channel)}{kind}: {m.state_label}")
    return " · ".join(parts)


def notice_detail(m: NotificationView) -> str:
    """One message for the detail line and the tooltip: address, state, attempts, reason."""
    from app.notify.outbox import CHANNEL_LABELS, RETRYING, SENT, VOID

    what = CHANNEL_LABELS.get(m.channel, m.channel) + (" báo hủy" if m.kind == VOID else "")
    text = f"{what} tới {m.address}: {m.state_label}"
    if m.state == SENT and m.sent_at is not None:
        text += f" lúc {format_local(m.sent_at, '%H:%M')}"
    if m.state == RETRYING and m.next_attempt_at is not None:
        text += f", thử lại lúc {format_local(m.next_attempt_at, '%H:%M')}"
    if m.attempts > 1:
        text += f" (đã thử {m.attempts} lần)"
    if m.last_error and m.state != SENT:
        text += f" — {m.last_error}"
    return text


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
        self.notices: dict[str, list[NotificationView]] = {}

    def set_rows(self, rows: list[PaymentView]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def set_notices(self, notices: dict[str, list[NotificationView]]) -> None:
        """The payer notices of the rows (by payment id); only their column changes."""
        self.notices = notices
        if self.rows:
            self.dataChanged.emit(
                self.index(0, NOTICE_COLUMN), self.index(len(self.rows) - 1, NOTICE_COLUMN)
            )

    def notices_of(self, payment_id: str) -> list[NotificationView]:
        return self.notices.get(payment_id, [])

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
        if column == NOTICE_COLUMN:
            return self._notice_data(p, role)
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

    def _notice_data(self, p: PaymentView, role: int) -> Any:
        messages = self.notices_of(p.id)
        if role == Qt.ItemDataRole.DisplayRole:
            return notice_text(messages) or "—"
        if role == Qt.ItemDataRole.ToolTipRole and messages:
            return "\n".join(notice_detail(m) for m in messages)
        if role == Qt.ItemDataRole.ForegroundRole:
            if any(m.state in _ATTENTION for m in messages):
                return QColor("#9a2a22")
            if any(m.state == "retrying" for m in messages):
                return QColor("#8a5a00")
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


class ResendDialog(FormDialog):
    """Queue one payer notice again (audited), optionally to a corrected address."""

    def __init__(
        self,
        state: AppState,
        payment: PaymentView,
        messages: list[NotificationView],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Gửi lại tin báo",
            "Gửi lại",
            parent,
            heading=f"Gửi lại tin báo của biên lai số {payment.receipt_number:07d}",
        )
        self.state = state
        self.payment = payment
        self.messages = messages
        self.result_view: NotificationView | None = None
        self.setMinimumWidth(640)
        self.body.addWidget(
            hint(
                "Tin được xếp vào hàng đợi và gửi ngay khi cổng SMS/máy chủ thư trả lời. Việc gửi "
                "lại được ghi vào nhật ký. Sửa địa chỉ nếu số/email cũ sai (không đổi hồ sơ)."
            )
        )
        self.message_choice = QComboBox()
        self.message_choice.setObjectName("resend_message")
        for m in messages:
            self.message_choice.addItem(notice_detail(m), m.id)
        self.address = QLineEdit()
        self.address.setObjectName("resend_address")
        self.form.addRow("Tin:", self.message_choice)
        self.form.addRow("Gửi tới:", self.address)
        self.finish_layout()
        self.message_choice.currentIndexChanged.connect(self._chosen)
        self.address.returnPressed.connect(self.submit)
        self._chosen()
        self.message_choice.setFocus()

    def chosen(self) -> NotificationView | None:
        index = self.message_choice.currentIndex()
        return self.messages[index] if 0 <= index < len(self.messages) else None

    def _chosen(self, *_args: Any) -> None:
        m = self.chosen()
        self.address.setText(m.address if m is not None else "")

    def submit(self) -> None:
        m = self.chosen()
        if self.busy or m is None:
            return
        typed = self.address.text().strip()
        address = typed if typed and typed != m.address else None

        def done(view: NotificationView) -> None:
            self.set_busy(False)
            self.result_view = view
            self.accept()

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.set_busy(False)
            self.show_message(message_for(exc))
            self.address.setFocus()

        self.set_busy(True, "Đang xếp tin vào hàng đợi…")
        notify_ops.resend(self, self.state, m.id, address).success(done).failure(failed).run()


class TodayPage(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.day: date | None = None
        self.void_dialog: VoidDialog | None = None
        self.resend_dialog: ResendDialog | None = None
        self._notice_seq = 0
        self.receipt_dialog: ReceiptDialog | None = None
        self._seq = 0
        self._dirty = True

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(self._build_top())
        layout.addLayout(self._build_filters())
        layout.addWidget(self._build_table(), 1)
        self.notice_line = QLabel()
        self.notice_line.setObjectName("noticeLine")
        self.notice_line.setWordWrap(True)
        self.notice_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.notice_line)
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
        self.resend_button = QPushButton(fkey_text("Gửi lại tin báo…", "Ctrl+G"))
        self.resend_button.setObjectName("resendNotice")
        self.resend_button.clicked.connect(self.resend_selected)
        actions.addWidget(self.resend_button)
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
        key("Ctrl+G", self.resend_selected)
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
        if changes.payments:
            self._dirty = True
            if self.isVisible():
                self.refresh()
        elif changes.notify:
            # Only the notice states moved: reload them alone when shown, else on next visit.
            if not self.isVisible():
                self._dirty = True
            elif not self._dirty and self.model.rows:
                self.load_notices()

    def load_notices(self) -> None:
        self._notice_seq += 1
        seq = self._notice_seq
        ids = [p.id for p in self.model.rows]
        notify_ops.for_payments(self, self.state, ids).success(
            lambda n: self._notices_loaded(seq, n)
        ).failure(lambda _exc: None).run()

    def _notices_loaded(self, seq: int, notices: dict[str, list[NotificationView]]) -> None:
        if seq != self._notice_seq:
            return
        self.model.set_notices(notices)
        self._update_buttons()

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
        self.load_notices()
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
        self.resend_button.setEnabled(bool(self._resendable(p)))
        messages = self.model.notices_of(p.id) if p is not None else []
        if p is None:
            self.notice_line.setText("")
        elif not messages:
            self.notice_line.setText(
                f"Biên lai {p.receipt_number:07d}: không có tin báo SMS/email "
                "(người nộp không có số di động/email, hoặc chưa bật gửi trong Cài đặt)."
            )
        else:
            self.notice_line.setText(
                f"Tin báo biên lai {p.receipt_number:07d}: "
                + "; ".join(notice_detail(m) for m in messages)
            )

    def _resendable(self, p: PaymentView | None) -> list[NotificationView]:
        from app.notify.outbox import RESENDABLE

        if p is None:
            return []
        return [m for m in self.model.notices_of(p.id) if m.state in RESENDABLE]

    def resend_selected(self) -> ResendDialog | None:
        p = self.selected()
        messages = self._resendable(p)
        if p is None or not messages:
            return None
        dialog = ResendDialog(self.state, p, messages, self)
        dialog.accepted.connect(lambda: self._resent(dialog))
        dialog.finished.connect(lambda _r: setattr(self, "resend_dialog", None))
        self.resend_dialog = dialog
        dialog.open()
        return dialog

    def _resent(self, dialog: ResendDialog) -> None:
        view = dialog.result_view
        if view is not None:
            from ui.qt.errors import notify

            notify(
                self.parent(),
                f"Sẽ gửi lại tin báo biên lai {view.receipt_number:07d} tới {view.address}.",
                "info",
            )

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
