"""The confirm step: amount in figures and words, cash tendered, change due — then record.

Guarantees:
- One `client_request_id` is made when the dialog opens and used for every attempt from it, so
  a double Enter, a double click or a retry after an error can never record two payments (the
  service returns the first one for a repeated id).
- `expected_amount` is the total shown here; if rates changed since the quote, the service
  refuses and the message says so — nothing is recorded.
- While the payment is being written the dialog cannot be cancelled or closed (`busy`).
- Cash: the tendered field groups digits as typed ("4.000.000"; "4,000,000" is read the same);
  below the total it says "còn thiếu …" in red and the confirm key stays disabled. Quick-cash
  keys: F5 exact amount, F6 next 50.000, F7 next 100.000, F8 next 500.000.
- The period rules' notes and the BHYT card's validity are shown before the cashier confirms.
- Payer notices (docs/NOTIFY.md): the phone and email fields are filled from the participant's
  record; left as they are (or emptied) the notices go to the record's addresses. Another
  address typed there is checked and normalised as the outbox does (0xxxxxxxxx; the error names
  the field) before anything is written, and kept on the participant only when "Lưu vào hồ sơ"
  is ticked (the payer agrees). Alt+N / Alt+E / Alt+L reach them; Tab goes tendered → phone →
  email → tick box.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import amount_in_words, format_number, format_vnd, parse_vnd
from app.errors import ValidationError
from ui.qt.operations import payments
from ui.qt.widgets import fkey_text, hint

SEPARATORS = ".,  \u202f"
QUICK_CASH: tuple[tuple[str, str, int], ...] = (
    ("F5", "Vừa đủ", 0),
    ("F6", "Tròn 50.000", 50_000),
    ("F7", "Tròn 100.000", 100_000),
    ("F8", "Tròn 500.000", 500_000),
)


def round_up(total: int, note: int) -> int:
    """The smallest multiple of `note` that covers `total` (`note` 0: the total itself)."""
    if note <= 0:
        return total
    return -(-total // note) * note


def comma_grouped_to_dots(text: str) -> str:
    """ "4,000,000" (a keyboard or a spreadsheet's grouping) read as "4.000.000"."""
    stripped = text.strip()
    parts = stripped.split(",")
    if (
        len(parts) > 1
        and 1 <= len(parts[0]) <= 3
        and all(len(part) == 3 for part in parts[1:])
        and all(part.isascii() and part.isdigit() for part in parts)
    ):
        return ".".join(parts)
    return text


if TYPE_CHECKING:
    from app.domain.quote import Quote
    from app.notify.outbox import NotifyContact
    from app.services.participants import ParticipantView
    from app.services.payments import PaymentRequest, PaymentView
    from ui.qt.state import AppState


class ConfirmDialog(QDialog):
    recorded = Signal(object)  # PaymentView

    def __init__(
        self,
        state: AppState,
        participant: ParticipantView,
        request: PaymentRequest,
        quote: Quote,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.participant = participant
        self.request = request
        self.quote = quote
        self.request_id = uuid.uuid4().hex  # once per dialog: the idempotency key
        self.busy = False
        self.attempts = 0
        self.payment: PaymentView | None = None
        self.setWindowTitle("Xác nhận thu tiền")
        self.setModal(True)
        self.setMinimumWidth(720)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        self._build_summary(layout)
        self._build_cash(layout)
        self._build_contact(layout)
        self._build_buttons(layout)
        self.tendered.textChanged.connect(self._update_change)
        self.tendered.setFocus()

    def _build_summary(self, layout: QVBoxLayout) -> None:
        participant, quote = self.participant, self.quote
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        who = participant.full_name
        code = (
            f"Mã số BHXH {participant.ma_so_bhxh}"
            if participant.ma_so_bhxh
            else f"chưa có mã số BHXH — CCCD {participant.cccd or ''}"
        )
        form.addRow("Người nộp:", self._value(f"<b>{who}</b> ({code})"))
        form.addRow("Loại hình:", self._value(quote.scheme.label))
        form.addRow(
            "Số tháng:",
            self._value(
                f"{quote.months} tháng ({quote.period_from:%m/%Y} – {quote.period_to:%m/%Y})"
            ),
        )
        if quote.card_from is not None and quote.card_to is not None:
            self.card_label = self._value(
                f"<b>{quote.card_from:%d/%m/%Y} – {quote.card_to:%d/%m/%Y}</b>"
            )
            self.card_label.setObjectName("cardDates")
            form.addRow("Thẻ BHYT có giá trị:", self.card_label)
        layout.addLayout(form)
        self.notes_label = QLabel("<br>".join(f"• {note}" for note in quote.notes))
        self.notes_label.setObjectName("notes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setVisible(bool(quote.notes))
        layout.addWidget(self.notes_label)

        layout.addWidget(QLabel("Số tiền phải thu:"))
        self.amount_label = QLabel(format_vnd(quote.total))
        self.amount_label.setObjectName("bigAmount")
        layout.addWidget(self.amount_label)
        self.words_label = QLabel(f"Bằng chữ: {amount_in_words(quote.total)}")
        self.words_label.setObjectName("words")
        self.words_label.setWordWrap(True)
        layout.addWidget(self.words_label)

    def _build_cash(self, layout: QVBoxLayout) -> None:
        cash = QFormLayout()
        self.tendered = QLineEdit()
        self.tendered.setObjectName("tendered")
        self.tendered.setPlaceholderText("để trống nếu khách đưa vừa đủ")
        self.tendered.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.tendered.setStyleSheet("font-size: 16pt;")
        caption = QLabel("&Tiền khách đưa:")
        caption.setBuddy(self.tendered)
        cash.addRow(caption, self.tendered)
        self.change_label = QLabel("0 đ")
        self.change_label.setObjectName("change")
        cash.addRow("Tiền trả lại:", self.change_label)
        layout.addLayout(cash)
        quick = QHBoxLayout()
        quick.addWidget(QLabel("Khách đưa nhanh:"))
        self.quick_buttons: list[QPushButton] = []
        for key, text, note in QUICK_CASH:
            amount = round_up(self.quote.total, note)
            button = QPushButton(fkey_text(format_number(amount), key))
            button.setToolTip(f"{text}: khách đưa {format_vnd(amount)}")
            button.setObjectName(f"quick{key}")
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, a=amount: self.set_tendered(a))
            QShortcut(QKeySequence(key), self, lambda a=amount: self.set_tendered(a))
            quick.addWidget(button)
            self.quick_buttons.append(button)
        quick.addStretch(1)
        layout.addLayout(quick)

        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        layout.addWidget(hint("Enter: xác nhận đã nhận tiền và ghi khoản thu · Esc: quay lại"))

    def _build_contact(self, layout: QVBoxLayout) -> None:
        """Where the SMS and email with the code go (docs/NOTIFY.md)."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.notify_phone = QLineEdit(self.participant.phone)
        self.notify_phone.setObjectName("notify_phone")
        self.notify_phone.setPlaceholderText("số di động nhận tin nhắn mã xác nhận")
        self.notify_email = QLineEdit(self.participant.email)
        self.notify_email.setObjectName("notify_email")
        self.notify_email.setPlaceholderText("email nhận biên lai (không bắt buộc)")
        # One error line under the tick box, naming the field (a wrapped label inside a form
        # row does not make the dialog taller).
        self.contact_error = QLabel()
        self.contact_error.setObjectName("fieldError")
        self.contact_error.setWordWrap(True)
        self.contact_error.hide()
        self.contact_errors = {
            "notify_phone": self.contact_error,
            "notify_email": self.contact_error,
        }
        for caption, field in (
            ("Số điện thoại &nhận tin:", self.notify_phone),
            ("&Email nhận biên lai:", self.notify_email),
        ):
            label = QLabel(caption)
            label.setBuddy(field)
            form.addRow(label, field)
            field.textEdited.connect(lambda _t: self.contact_error.hide())
        self.keep_contact = QCheckBox("&Lưu vào hồ sơ (người nộp đồng ý)")
        self.keep_contact.setObjectName("keep_contact")
        self.keep_contact.setToolTip(
            "Ghi số điện thoại/email vừa nhập vào hồ sơ người tham gia cho những lần sau."
        )
        form.addRow("", self.keep_contact)
        layout.addLayout(form)
        layout.addWidget(self.contact_error)
        self.setTabOrder(self.tendered, self.notify_phone)
        self.setTabOrder(self.notify_phone, self.notify_email)
        self.setTabOrder(self.notify_email, self.keep_contact)

    def notify_contact(self) -> NotifyContact | None:
        """The addresses for the payer's notices, validated and normalised (ValidationError
        naming `notify_phone` / `notify_email`); None when they are the record's."""
        from app.notify.outbox import NotifyContact, prepare_contact

        def typed(field: QLineEdit, stored: str) -> str | None:
            text = field.text().strip()
            return None if not text or text == stored else text

        phone = typed(self.notify_phone, self.participant.phone)
        email = typed(self.notify_email, self.participant.email)
        if phone is None and email is None:
            return None
        contact = prepare_contact(
            NotifyContact(
                phone=phone, email=email, keep_on_participant=self.keep_contact.isChecked()
            )
        )
        assert contact is not None
        if contact.phone == self.participant.phone:
            contact = replace(contact, phone=None)
        if contact.email == self.participant.email:
            contact = replace(contact, email=None)
        if contact.phone is None and contact.email is None:
            return None
        return contact

    def show_contact_error(self, exc: ValidationError) -> bool:
        error = self.contact_errors.get(exc.field)
        if error is None:
            return False
        error.setText(exc.message)
        error.show()
        field = self.notify_phone if exc.field == "notify_phone" else self.notify_email
        field.setFocus()
        field.selectAll()
        return True

    def _build_buttons(self, layout: QVBoxLayout) -> None:
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(fkey_text("Quay lại", "Esc"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        self.confirm_button = QPushButton(fkey_text("Xác nhận thu tiền", "Enter"))
        self.confirm_button.setObjectName("primary")
        self.confirm_button.setAutoDefault(False)
        self.confirm_button.clicked.connect(self.confirm)
        buttons.addWidget(self.confirm_button)
        layout.addLayout(buttons)

    @staticmethod
    def _value(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        return label

    # --- cash -----------------------------------------------------------------------------

    def set_tendered(self, amount: int) -> None:
        if self.busy:
            return
        self.tendered.setText(format_number(amount))
        self.tendered.setFocus()

    def _tendered_amount(self) -> int | None:
        text = self.tendered.text().strip()
        if not text:
            return None
        return parse_vnd(comma_grouped_to_dots(text), "tendered", "Tiền khách đưa")

    def _regroup(self) -> None:
        """Group the digits as they are typed ("4000000" → "4.000.000"), cursor kept in place.

        Dots, commas and spaces typed between digits are read as grouping; anything else is
        left as typed (confirming then says what is wrong)."""
        text = self.tendered.text()
        if not text or any(not (ch.isdigit() or ch in SEPARATORS) for ch in text):
            return
        digits = "".join(ch for ch in text if ch.isdigit())
        if not digits.isascii() or not digits:
            return
        grouped = format_number(int(digits))
        if grouped == text:
            return
        digits_before = sum(1 for ch in text[: self.tendered.cursorPosition()] if ch.isdigit())
        position, seen = 0, 0
        for index, ch in enumerate(grouped):
            if seen == digits_before:
                break
            seen += ch.isdigit()
            position = index + 1
        self.tendered.blockSignals(True)
        self.tendered.setText(grouped)
        self.tendered.blockSignals(False)
        self.tendered.setCursorPosition(position)

    def _set_change(self, text: str, short: bool) -> None:
        self.change_label.setText(text)
        self.change_label.setObjectName("shortfall" if short else "change")
        self.change_label.style().unpolish(self.change_label)
        self.change_label.style().polish(self.change_label)
        if not self.busy:
            self.confirm_button.setEnabled(not short)

    def _update_change(self) -> None:
        self.error.hide()
        self._regroup()
        try:
            tendered = self._tendered_amount()
        except ValidationError:
            self._set_change("—", short=False)
            return
        if tendered is None:
            self._set_change("0 đ", short=False)
        elif tendered < self.quote.total:
            self._set_change(f"còn thiếu {format_vnd(self.quote.total - tendered)}", short=True)
        else:
            self._set_change(format_vnd(tendered - self.quote.total), short=False)

    # --- recording ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The notes wrap to more lines at the dialog's width than their size hint counts: fit
        # the height to the laid-out width, or the rows below are squeezed into each other.
        need = self.layout().totalHeightForWidth(self.width())  # type: ignore[union-attr]
        if need > self.height():
            self.resize(self.width(), need)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
            return
        super().keyPressEvent(event)

    def confirm(self) -> None:
        if self.busy or self.payment is not None:
            return
        try:
            tendered = self._tendered_amount()
        except ValidationError as exc:
            self.show_message(exc.message)
            self.tendered.setFocus()
            self.tendered.selectAll()
            return
        if tendered is not None and tendered < self.quote.total:
            self.show_message(
                f"Tiền khách đưa ({format_vnd(tendered)}) ít hơn số phải thu "
                f"({format_vnd(self.quote.total)})."
            )
            self.tendered.setFocus()
            self.tendered.selectAll()
            return
        try:
            contact = self.notify_contact()
        except ValidationError as exc:
            self.show_contact_error(exc)
            return
        request = replace(
            self.request,
            client_request_id=self.request_id,
            expected_amount=self.quote.total,
            tendered=tendered,
            notify=contact,
        )
        self.attempts += 1
        self._set_busy(True)
        payments.record(self, self.state, request).success(self._recorded).failure(
            self._failed
        ).run()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.cancel_button.setEnabled(not busy)
        self.tendered.setReadOnly(busy)
        self.notify_phone.setReadOnly(busy)
        self.notify_email.setReadOnly(busy)
        self.keep_contact.setEnabled(not busy)
        for button in self.quick_buttons:
            button.setEnabled(not busy)
        self.confirm_button.setText(
            "Đang ghi khoản thu…" if busy else fkey_text("Xác nhận thu tiền", "Enter")
        )
        if busy:
            self.confirm_button.setEnabled(False)
        else:
            self._update_change()

    def _recorded(self, payment: PaymentView) -> None:
        self._set_busy(False)
        self.payment = payment
        self.recorded.emit(payment)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self._set_busy(False)
        if isinstance(exc, ValidationError) and self.show_contact_error(exc):
            return
        self.show_message(message_for(exc))

    def show_message(self, text: str, kind: str = "error") -> None:
        self.error.setText(text)
        self.error.show()

    def reject(self) -> None:
        if not self.busy:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            event.ignore()
            return
        super().closeEvent(event)

    def summary(self) -> dict[str, Any]:
        return {
            "amount": self.amount_label.text(),
            "words": self.words_label.text(),
            "change": self.change_label.text(),
        }
