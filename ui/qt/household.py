"""The household screen (hộ gia đình BHYT), opened from the payment screen with Ctrl+H for the
selected participant.

* No household yet: create one with the participant as head (the address defaults to theirs).
* The members: who they are, their relation to the head, their member order for a BHYT payment
  made now — worked out from the household and the fiscal year, never typed (docs/RULES.md R5)
  — and who holds a BHYT card until when.
* Add a member, or move one here from another household, by mã số BHXH / CCCD.
* Several members paid in one cash transaction: tick the members, choose each one's months; the
  quotes (each with its order) and one total appear; type the cash tendered; F9 asks to confirm
  (the total and the change said once more), F9 or Enter again records one receipt per member
  in one transaction, and the change is shown once for the group; any change to the choice
  drops the confirmation. Each receipt can then be viewed and printed.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import amount_in_words, format_vnd, parse_vnd
from app.errors import ValidationError
from ui.qt.operations import households
from ui.qt.widgets import fkey_text, hint, page_title

if TYPE_CHECKING:
    from app.services.household_payment import HouseholdPaymentRequest, HouseholdPaymentView
    from app.services.households import MemberOrder, MemberView
    from app.services.participants import ParticipantView
    from app.services.payments import PaymentView
    from ui.qt.operations.households import HouseholdState
    from ui.qt.state import AppState

HOUSEHOLD_KEY = "Ctrl+H"
QUOTE_DELAY_MS = 150
MONTHS = (3, 6, 12)
# members table columns
COL_PAY, COL_NAME, COL_ID, COL_RELATION, COL_ORDER, COL_CARD, COL_MONTHS = range(7)


def order_text(order: MemberOrder | None) -> str:
    """The member order as the table shows it before anyone is ticked (R5): a member who paid
    this fiscal year keeps theirs; the others would take the next one, or later ones when paid
    together with other members who have not paid yet."""
    if order is None:
        return "—"
    if order.fixed:
        return f"{order.order} (đã đóng trong năm)"
    return f"{order.order} nếu đóng riêng"


def card_text(m: MemberView, on: date) -> str:
    if m.card_end is None:
        return "chưa có thẻ"
    if m.holds_card(on):
        return f"có thẻ đến {m.card_end:%d/%m/%Y}"
    if m.card_from is not None and m.card_from > on and m.card_end >= on:
        return f"thẻ từ {m.card_from:%d/%m/%Y} đến {m.card_end:%d/%m/%Y}"
    return f"thẻ hết hạn {m.card_end:%d/%m/%Y}"


class HouseholdDialog(QDialog):
    def __init__(self, state: AppState, participant: ParticipantView, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self.participant = participant
        self.info: HouseholdState | None = None
        self.quotes: tuple[PaymentView, ...] = ()
        self.group_result: HouseholdPaymentView | None = None
        self.busy = False
        self.confirming = False  # F9 once: the confirmation is asked; F9 / Enter again records
        self.request_id = str(uuid.uuid4())  # one per group payment; a retry reuses it
        self._quote_seq = 0
        self._quoted_seq = -1
        self.setWindowTitle(f"Hộ gia đình — {participant.full_name}")
        self.setModal(True)
        self.resize(1100, 720)
        layout = QVBoxLayout(self)
        self.title = page_title(f"Hộ gia đình của {participant.full_name}")
        layout.addWidget(self.title)
        self.summary = QLabel("Đang tải…")
        self.summary.setObjectName("householdSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addLayout(self._build_create())
        layout.addWidget(self._build_members(), 3)
        layout.addLayout(self._build_add())
        layout.addWidget(self._build_payment(), 3)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addWidget(
            hint(
                "Thứ tự thành viên tính theo hộ và năm tài chính (người đóng đầu tiên trong năm là "
                "thứ 1: 100%; thứ 2, 3, 4: 70%, 60%, 50%; từ thứ 5: 40%) — không nhập tay."
            ),
            1,
        )
        self.close_button = QPushButton(fkey_text("Đóng", "Esc"))
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self._quote_timer = QTimer(self)
        self._quote_timer.setSingleShot(True)
        self._quote_timer.setInterval(QUOTE_DELAY_MS)
        self._quote_timer.timeout.connect(self.refresh_quotes)
        QShortcut(QKeySequence("F9"), self, self.take_payment)

    # --- layout ---------------------------------------------------------------------------

    def _build_create(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.address = QLineEdit(self.participant.address)
        self.address.setObjectName("householdAddress")
        self.address.setPlaceholderText("địa chỉ của hộ (mặc định: địa chỉ chủ hộ)")
        self.create_button = QPushButton(f"Lập hộ gia đình (chủ hộ: {self.participant.full_name})")
        self.create_button.setObjectName("createHousehold")
        self.create_button.setAutoDefault(False)
        self.create_button.clicked.connect(self.create_household)
        self.address_caption = QLabel("Địa chỉ hộ:")
        row.addWidget(self.address_caption)
        row.addWidget(self.address, 1)
        row.addWidget(self.create_button)
        self._create_widgets = (self.address_caption, self.address, self.create_button)
        return row

    def _build_members(self) -> QWidget:
        self.members = QTableWidget(0, 7)
        self.members.setObjectName("members")
        self.members.setHorizontalHeaderLabels(
            [
                "Thu",
                "Họ tên",
                "Mã số BHXH / CCCD",
                "Quan hệ",
                "Thành viên thứ",
                "Thẻ BHYT",
                "Số tháng",
            ]
        )
        self.members.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.members.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.members.verticalHeader().hide()
        header = self.members.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        self.members.itemChanged.connect(self._member_ticked)
        return self.members

    def _build_add(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Thêm / chuyển vào hộ — mã số BHXH hoặc CCCD:"))
        self.member_ref = QLineEdit()
        self.member_ref.setObjectName("memberRef")
        self.member_ref.setPlaceholderText("người đã đăng ký")
        row.addWidget(self.member_ref, 1)
        row.addWidget(QLabel("Quan hệ với chủ hộ:"))
        self.relation = QLineEdit()
        self.relation.setObjectName("relation")
        self.relation.setPlaceholderText("Vợ, Chồng, Con, …")
        row.addWidget(self.relation)
        self.add_button = QPushButton("Thêm vào hộ")
        self.add_button.setObjectName("addMember")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_member)
        self.member_ref.returnPressed.connect(self.relation.setFocus)
        self.relation.returnPressed.connect(self.add_member)
        row.addWidget(self.add_button)
        self._add_widgets = (self.member_ref, self.relation, self.add_button)
        return row

    def _build_payment(self) -> QWidget:
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(
            QLabel(
                "Thu BHYT cho các thành viên đã chọn (một lần đưa tiền, mỗi người một biên lai):"
            )
        )
        self.quote_table = QTableWidget(0, 5)
        self.quote_table.setObjectName("quotes")
        self.quote_table.setHorizontalHeaderLabels(
            ["Thành viên thứ", "Họ tên", "Kỳ đóng", "Thẻ BHYT có giá trị", "Số tiền"]
        )
        self.quote_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.quote_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.quote_table.verticalHeader().hide()
        header = self.quote_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.quote_table.itemActivated.connect(lambda _i: self.open_receipt())
        col.addWidget(self.quote_table, 1)
        col.addLayout(self._build_pay_row())
        self.words = hint("")
        col.addWidget(self.words)
        self.notes = hint("")
        self.notes.setObjectName("groupNotes")
        self.notes.hide()
        col.addWidget(self.notes)
        return box

    def _build_pay_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.total = QLabel("Tổng cộng: —")
        self.total.setObjectName("groupTotal")
        self.total.setStyleSheet("font-size: 15pt; font-weight: bold;")
        row.addWidget(self.total)
        row.addStretch(1)
        row.addWidget(QLabel("Tiền khách đưa:"))
        self.tendered = QLineEdit()
        self.tendered.setObjectName("groupTendered")
        self.tendered.setPlaceholderText("không bắt buộc")
        self.tendered.setMinimumWidth(150)
        self.tendered.textEdited.connect(self._show_change)
        self.tendered.returnPressed.connect(self.take_payment)
        row.addWidget(self.tendered)
        self.change = QLabel()
        self.change.setObjectName("groupChange")
        self.change.setStyleSheet("font-size: 15pt; font-weight: bold;")
        row.addWidget(self.change)
        self.pay_button = QPushButton(fkey_text("Thu tiền", "F9"))
        self.pay_button.setObjectName("primary")
        self.pay_button.setAutoDefault(False)
        self.pay_button.setEnabled(False)
        self.pay_button.clicked.connect(self.take_payment)
        row.addWidget(self.pay_button)
        self.receipt_button = QPushButton("Xem / in biên lai đã chọn")
        self.receipt_button.setObjectName("openReceipt")
        self.receipt_button.setAutoDefault(False)
        self.receipt_button.hide()
        self.receipt_button.clicked.connect(self.open_receipt)
        row.addWidget(self.receipt_button)
        return row

    # --- loading --------------------------------------------------------------------------

    def load(self) -> None:
        households.load(self, self.state, self.participant.id).success(self.show_state).run()

    def show_state(self, info: HouseholdState) -> None:
        from app.domain.clock import today

        self.info = info
        h = info.household
        for w in self._create_widgets:
            w.setVisible(h is None)
        for w in self._add_widgets:
            w.setEnabled(h is not None)
        self.members.blockSignals(True)
        self.members.setRowCount(0)
        if h is None:
            self.summary.setText(
                f"{self.participant.full_name} chưa thuộc hộ gia đình nào. Lập hộ mới với người "
                "này là chủ hộ, rồi thêm các thành viên."
            )
            self.members.blockSignals(False)
            self.create_button.setFocus()
            self._form_changed()
            return
        day = today()
        holders = sum(1 for m in h.members if m.holds_card(day))
        self.summary.setText(
            f"Địa chỉ: {h.address or '—'} · {len(h.members)} thành viên, {holders} người đang có "
            f"thẻ BHYT (ngày {day:%d/%m/%Y})."
        )
        self.members.setRowCount(len(h.members))
        for row, m in enumerate(h.members):
            tick = QTableWidgetItem()
            tick.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            tick.setCheckState(Qt.CheckState.Unchecked)
            tick.setData(Qt.ItemDataRole.UserRole, m.participant_id)
            self.members.setItem(row, COL_PAY, tick)
            order = info.orders.get(m.participant_id)
            cells = {
                COL_NAME: m.full_name,
                COL_ID: m.ma_so_bhxh or "chưa có mã số",
                COL_RELATION: "Chủ hộ" if m.is_head else (m.relation or "—"),
                COL_ORDER: order_text(order),
                COL_CARD: card_text(m, day),
            }
            for col, value in cells.items():
                self.members.setItem(row, col, QTableWidgetItem(value))
            months = QComboBox()
            for n in MONTHS:
                months.addItem(f"{n} tháng", n)
            months.setCurrentIndex(len(MONTHS) - 1)
            months.currentIndexChanged.connect(self._form_changed)
            self.members.setCellWidget(row, COL_MONTHS, months)
        self.members.blockSignals(False)
        self._form_changed()

    # --- household changes ----------------------------------------------------------------

    def create_household(self) -> None:
        if self.busy:
            return
        self._say(None)
        self.busy = True
        households.create(self, self.state, self.participant.id, self.address.text()).success(
            self._changed
        ).failure(self._failed).run()

    def add_member(self) -> None:
        if self.busy or self.info is None or self.info.household is None:
            return
        self._say(None)
        self.busy = True

        def added(result: tuple[HouseholdState, ParticipantView, bool]) -> None:
            info, who, moved = result
            self._changed(info)
            self.member_ref.clear()
            self.relation.clear()
            self.summary.setText(
                self.summary.text()
                + (
                    f" Đã chuyển {who.full_name} từ hộ khác sang hộ này."
                    if moved
                    else f" Đã thêm {who.full_name}."
                )
            )

        households.add(
            self,
            self.state,
            self.info.household.id,
            self.member_ref.text(),
            self.relation.text(),
            self.participant.id,
        ).success(added).failure(self._failed).run()

    def _changed(self, info: HouseholdState) -> None:
        self.busy = False
        self.show_state(info)

    def _failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self.busy = False
        self._say(message_for(exc))

    def _say(self, text: str | None, kind: str = "fieldError") -> None:
        if text is None:
            self.error.hide()
            return
        if self.error.objectName() != kind:
            self.error.setObjectName(kind)
            self.error.style().unpolish(self.error)
            self.error.style().polish(self.error)
        self.error.setText(text)
        self.error.show()

    # --- paying several members at once ---------------------------------------------------

    def ticked(self) -> list[tuple[str, int]]:
        """(participant id, months) of the ticked members, in the table's order."""
        out = []
        for row in range(self.members.rowCount()):
            tick = self.members.item(row, COL_PAY)
            if tick is None or tick.checkState() != Qt.CheckState.Checked:
                continue
            months = self.members.cellWidget(row, COL_MONTHS)
            assert isinstance(months, QComboBox)
            out.append((str(tick.data(Qt.ItemDataRole.UserRole)), int(months.currentData())))
        return out

    def tick(self, participant_id: str, on: bool = True, months: int | None = None) -> None:
        for row in range(self.members.rowCount()):
            tick = self.members.item(row, COL_PAY)
            if tick is not None and tick.data(Qt.ItemDataRole.UserRole) == participant_id:
                if months is not None:
                    combo = self.members.cellWidget(row, COL_MONTHS)
                    assert isinstance(combo, QComboBox)
                    combo.setCurrentIndex(combo.findData(months))
                tick.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _show_group_orders(self, quotes: tuple[PaymentView, ...]) -> None:
        """The order column says, for each ticked member, the order this payment gives them
        (paid together, the unpaid members take the next orders in the table's order); the
        others keep what they would be paid on their own."""
        by_member = {q.participant_id: q.member_order for q in quotes}
        orders = self.info.orders if self.info is not None else {}
        self.members.blockSignals(True)
        for row in range(self.members.rowCount()):
            tick = self.members.item(row, COL_PAY)
            cell = self.members.item(row, COL_ORDER)
            if tick is None or cell is None:
                continue
            pid = str(tick.data(Qt.ItemDataRole.UserRole))
            now = by_member.get(pid)
            cell.setText(
                f"{now} (lần đóng này)" if now is not None else order_text(orders.get(pid))
            )
        self.members.blockSignals(False)

    def _member_ticked(self, item: QTableWidgetItem) -> None:
        if item.column() == COL_PAY:
            self._form_changed()

    def _form_changed(self, *_args: Any) -> None:
        if self.group_result is not None:
            return  # the group is recorded: the screen shows its receipts until closed
        self._unconfirm()
        self._quote_seq += 1
        self.pay_button.setEnabled(False)
        self._quote_timer.start()

    def build_request(self) -> HouseholdPaymentRequest:
        from app.services.household_payment import HouseholdPaymentRequest, MemberItem

        items = tuple(
            MemberItem(pid, months, expected_amount=self._expected(pid))
            for pid, months in self.ticked()
        )
        total = sum(q.amount for q in self.quotes) if self.quotes else None
        return HouseholdPaymentRequest(
            self.request_id, items, tendered=self.tendered_amount(), expected_total=total
        )

    def _expected(self, participant_id: str) -> int | None:
        return next((q.amount for q in self.quotes if q.participant_id == participant_id), None)

    def refresh_quotes(self) -> None:
        self._quote_timer.stop()
        from app.services.household_payment import HouseholdPaymentRequest, MemberItem

        chosen = self.ticked()
        seq = self._quote_seq
        if not chosen:
            self._show_quotes(seq, ())
            return
        req = HouseholdPaymentRequest(
            "preview", tuple(MemberItem(pid, months) for pid, months in chosen)
        )

        def failed(exc: BaseException) -> None:
            if seq == self._quote_seq:
                self._show_quotes(seq, ())
                self._failed(exc)

        households.preview_group(self, self.state, req).success(
            lambda quotes: self._show_quotes(
                seq, tuple(q.view for q in quotes), tuple(q.notes for q in quotes)
            )
        ).failure(failed).run()

    def quotes_are_current(self) -> bool:
        return self._quoted_seq == self._quote_seq

    def _show_quotes(
        self,
        seq: int,
        quotes: tuple[PaymentView, ...],
        notes: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        if seq != self._quote_seq:
            return
        # Which rule the quote used (order, card start, a rate change inside the period: R5, R6),
        # said once per member; the order and card lines are in the table already.
        said = [
            f"{q.payer_name}: {n}"
            for q, member_notes in zip(quotes, notes, strict=False)
            for n in member_notes
            if not n.startswith(("Thứ tự thành viên", "Thẻ BHYT có giá trị"))
        ]
        self.notes.setText("\n".join(said))
        self.notes.setVisible(bool(said))
        self._quoted_seq = seq
        self._say(None)
        self.quotes = quotes
        self._show_group_orders(quotes)
        self._fill_quote_table(quotes, receipts=False)
        total = sum(q.amount for q in quotes)
        self.total.setText(f"Tổng cộng: {format_vnd(total)}" if quotes else "Tổng cộng: —")
        self.words.setText(amount_in_words(total) if quotes else "")
        self.pay_button.setEnabled(bool(quotes))
        self._show_change()

    def _fill_quote_table(self, rows: tuple[PaymentView, ...], *, receipts: bool) -> None:
        self.quote_table.setRowCount(len(rows))
        for row, q in enumerate(rows):
            card = (
                f"{q.card_from:%d/%m/%Y} – {q.card_to:%d/%m/%Y}"
                if q.card_from and q.card_to
                else "—"
            )
            first = (
                f"{q.member_order} · BL {q.receipt_number:07d} · {q.confirmation_code}"
                if receipts
                else str(q.member_order)
            )
            cells = (
                first,
                q.payer_name,
                f"{q.months} tháng: {q.period_from:%m/%Y} – {q.period_to:%m/%Y}",
                card,
                format_vnd(q.amount),
            )
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, q.receipt_number if receipts else None)
                self.quote_table.setItem(row, col, item)

    def tendered_amount(self) -> int | None:
        text = self.tendered.text().strip()
        if not text:
            return None
        return parse_vnd(text, "tendered", "Tiền khách đưa")

    def _unconfirm(self) -> None:
        if self.confirming:
            self.confirming = False
            self.pay_button.setText(fkey_text("Thu tiền", "F9"))
            self._say(None)

    def _show_change(self, *_args: Any) -> None:
        if self.group_result is not None:
            return
        self._unconfirm()
        total = sum(q.amount for q in self.quotes)
        try:
            tendered = self.tendered_amount()
        except ValidationError as exc:
            self.change.setText(exc.rule)
            return
        if tendered is None or not self.quotes:
            self.change.clear()
        elif tendered >= total:
            self.change.setText(f"Trả lại: {format_vnd(tendered - total)}")
        else:
            self.change.setText(f"còn thiếu {format_vnd(total - tendered)}")

    def take_payment(self) -> None:
        if self.busy or self.group_result is not None:
            return
        if not self.quotes or not self.quotes_are_current():
            self._say("Chọn thành viên và chờ số tiền hiện ra trước khi thu.")
            return
        try:
            req = self.build_request()
        except ValidationError as exc:
            self._say(exc.message)
            self.tendered.setFocus()
            return
        total = sum(q.amount for q in self.quotes)
        if req.tendered is not None and req.tendered < total:
            self._say(f"Tiền khách đưa ít hơn tổng số phải thu ({format_vnd(total)}).")
            self.tendered.setFocus()
            return
        if not self.confirming:
            self.confirming = True
            change = (
                f", khách đưa {format_vnd(req.tendered)}, trả lại "
                f"{format_vnd(req.tendered - total)}"
                if req.tendered is not None
                else ""
            )
            self.pay_button.setText(fkey_text("Xác nhận thu", "F9"))
            self._say(
                f"Xác nhận: thu {format_vnd(total)} cho {len(self.quotes)} người{change}. "
                "Nhấn F9 hoặc Enter lần nữa để ghi; sửa bất kỳ ô nào để chọn lại.",
                "hint",
            )
            self.tendered.setFocus()
            return
        self.confirming = False
        self.busy = True
        self.pay_button.setEnabled(False)
        self._say(None)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.pay_button.setEnabled(True)
            self._failed(exc)

        households.record_group(self, self.state, req).success(self._recorded).failure(failed).run()

    def _recorded(self, view: HouseholdPaymentView) -> None:
        self.busy = False
        self.group_result = view
        self._fill_quote_table(view.payments, receipts=True)
        self.total.setText(f"Đã thu: {format_vnd(view.total)} — {len(view.payments)} biên lai")
        if view.change_due is not None:
            self.change.setText(f"Trả lại khách: {format_vnd(view.change_due)}")
        self.tendered.setReadOnly(True)
        self.pay_button.hide()
        self.load()  # the members' orders and cards after this payment
        self.receipt_button.show()
        self.quote_table.setFocus()
        self.quote_table.selectRow(0)
        codes = ", ".join(p.confirmation_code for p in view.payments)
        self.words.setText(f"Mã xác nhận: {codes}. Chọn một dòng và Enter để xem, in biên lai.")

    def open_receipt(self) -> Any:
        """The selected member's receipt in a receipt window (print, save)."""
        if self.group_result is None:
            return None
        row = max(self.quote_table.currentRow(), 0)
        payment = self.group_result.payments[row]
        from ui.qt.receipt_view import ReceiptDialog

        dialog = ReceiptDialog(
            self.state, f"Biên lai số {payment.receipt_number:07d} — {payment.payer_name}", self
        )
        dialog.open()
        card = (
            (payment.card_from, payment.card_to)
            if payment.card_from is not None and payment.card_to is not None
            else None
        )
        dialog.receipt.load(payment.receipt_number, card=card)
        return dialog
