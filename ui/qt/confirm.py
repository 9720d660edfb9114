"""The confirm step: amount in figures and words, cash tendered, change due — then record.

Guarantees:
- One `client_request_id` is made when the dialog opens and used for every attempt from it, so
  a double Enter, a double click or a retry after an error can never record two payments (the
  service returns the first one for a repeated id).
- `expected_amount` is the total shown here; if rates changed since the quote, the service
  refuses and the message says so — nothing is recorded.
- While the payment is being written the dialog cannot be cancelled or closed (`busy`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import amount_in_words, format_vnd, parse_vnd
from app.errors import ValidationError
from ui.qt.operations import payments
from ui.qt.widgets import fkey_text, hint

if TYPE_CHECKING:
    from app.domain.quote import Quote
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
        layout.addLayout(form)

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

        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        layout.addWidget(hint("Enter: xác nhận đã nhận tiền và ghi khoản thu · Esc: quay lại"))

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

    def _tendered_amount(self) -> int | None:
        text = self.tendered.text().strip()
        if not text:
            return None
        return parse_vnd(text, "tendered", "Tiền khách đưa")

    def _update_change(self) -> None:
        self.error.hide()
        try:
            tendered = self._tendered_amount()
        except ValidationError:
            self.change_label.setText("—")
            return
        if tendered is None:
            self.change_label.setText("0 đ")
        elif tendered < self.quote.total:
            self.change_label.setText(f"còn thiếu {format_vnd(self.quote.total - tendered)}")
        else:
            self.change_label.setText(format_vnd(tendered - self.quote.total))

    # --- recording ------------------------------------------------------------------------

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
        request = replace(
            self.request,
            client_request_id=self.request_id,
            expected_amount=self.quote.total,
            tendered=tendered,
        )
        self.attempts += 1
        self._set_busy(True)
        payments.record(self, self.state, request).success(self._recorded).failure(
            self._failed
        ).run()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.confirm_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        self.tendered.setReadOnly(busy)
        self.confirm_button.setText(
            "Đang ghi khoản thu…" if busy else fkey_text("Xác nhận thu tiền", "Enter")
        )

    def _recorded(self, payment: PaymentView) -> None:
        self._set_busy(False)
        self.payment = payment
        self.recorded.emit(payment)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self._set_busy(False)
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
