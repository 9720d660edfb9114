"""A participant's history — "am I paid up?" — opened from the payment screen with Ctrl+I.

Shows, per scheme, the months paid (this counter's payments not voided, and what central
reported from other counters), the next unpaid month and the gaps up to now; the state-support
months used of the lifetime cap (120); the BHYT card and until when; and the last receipts with
their Mã xác nhận. Read on the database thread (`participant_history`); Esc closes.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import format_local
from app.domain.money import format_vnd
from app.domain.periods import month_index, month_text
from ui.qt.operations import households
from ui.qt.widgets import fkey_text, hint, page_title

if TYPE_CHECKING:
    from app.services.history import ParticipantHistory, SchemeHistory
    from app.services.participants import ParticipantView
    from ui.qt.state import AppState

HISTORY_KEY = "Ctrl+I"


def scheme_answer(s: SchemeHistory, today: date) -> str:
    """One line answering "am I paid up?" for one scheme, as of `today`."""
    label = s.scheme.label
    if not s.paid:
        return f"{label}: chưa đóng kỳ nào."
    last = s.paid[-1].last
    now = today.replace(day=1)
    gap = f" Gián đoạn: {', '.join(g.text for g in s.gaps)}." if s.gaps else ""
    if month_index(last) >= month_index(now):
        return f"{label}: ĐÃ ĐÓNG đến hết tháng {month_text(last)}.{gap}"
    return (
        f"{label}: CHƯA ĐÓNG tháng {month_text(now)} — đã đóng đến tháng {month_text(last)}, "
        f"chưa đóng từ {month_text(s.next_unpaid or now)}.{gap}"
    )


class HistoryDialog(QDialog):
    """The history of one participant; `loaded` once the database answered."""

    def __init__(self, state: AppState, participant: ParticipantView, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self.participant = participant
        self.history: ParticipantHistory | None = None
        self.setWindowTitle(f"Lịch sử đóng — {participant.full_name}")
        self.setModal(True)
        self.resize(980, 600)
        layout = QVBoxLayout(self)
        layout.addWidget(page_title(f"Lịch sử đóng: {participant.full_name}"))
        ident = participant.ma_so_bhxh or (f"CCCD {participant.cccd}" if participant.cccd else "")
        layout.addWidget(hint(f"Mã số BHXH: {ident}" if participant.ma_so_bhxh else ident))
        self.answer = QLabel("Đang tải…")
        self.answer.setObjectName("paidUp")
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.PlainText)
        self.answer.setStyleSheet("font-size: 13pt; font-weight: bold; color: #1f3b57;")
        layout.addWidget(self.answer)

        self.periods = self._table(["Loại hình", "Các tháng đã đóng", "Tháng chưa đóng tiếp theo"])
        self.periods.setObjectName("periods")
        layout.addWidget(self.periods, 2)
        self.facts = QLabel()
        self.facts.setObjectName("facts")
        self.facts.setWordWrap(True)
        layout.addWidget(self.facts)
        layout.addWidget(QLabel("Biên lai gần nhất:"))
        self.receipts = self._table(
            ["Biên lai", "Mã xác nhận", "Loại hình", "Kỳ đóng", "Số tiền", "Ngày thu", "Trạng thái"]
        )
        self.receipts.setObjectName("receipts")
        layout.addWidget(self.receipts, 3)
        layout.addWidget(
            hint(
                "Tháng đã đóng gồm các khoản thu tại quầy này (trừ khoản đã hủy) và các kỳ hệ "
                "thống trung tâm báo đã đóng ở nơi khác (cập nhật khi đồng bộ)."
            )
        )
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton(fkey_text("Đóng", "Esc"))
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def load(self) -> None:
        households.history(self, self.state, self.participant.id).success(self.show_history).run()

    def show_history(self, h: ParticipantHistory) -> None:
        from app.domain.clock import today

        self.history = h
        day = today()
        self.answer.setText("\n".join(scheme_answer(s, day) for s in h.schemes))
        self.periods.setRowCount(len(h.schemes))
        for row, s in enumerate(h.schemes):
            paid = ", ".join(span.text for span in s.paid) or "—"
            cells = (s.scheme.label, paid, month_text(s.next_unpaid) if s.next_unpaid else "—")
            for col, value in enumerate(cells):
                self.periods.setItem(row, col, QTableWidgetItem(value))
        card = "Chưa có thẻ BHYT nào được biết"
        if h.bhyt_card_end is not None:
            valid = "còn hạn" if h.bhyt_card_end >= day else "đã hết hạn"
            card = f"Thẻ BHYT có giá trị đến {h.bhyt_card_end:%d/%m/%Y} ({valid})"
            latest = h.bhyt_card
            if latest is not None and latest.start > day and h.bhyt_card_end == latest.end:
                first = latest.start
                card = (
                    f"Thẻ BHYT có giá trị từ {first:%d/%m/%Y} đến {h.bhyt_card_end:%d/%m/%Y} "
                    "(chưa đến ngày có giá trị)"
                )
        left = max(h.support_months_cap - h.support_months_used, 0)
        self.facts.setText(
            f"Tháng được Nhà nước hỗ trợ đã dùng: {h.support_months_used}/"
            f"{h.support_months_cap} (còn {left}) · {card}"
        )
        self.receipts.setRowCount(len(h.last_receipts))
        for row, r in enumerate(h.last_receipts):
            row_cells = (
                f"{r.receipt_number:07d}",
                r.confirmation_code,
                r.scheme.label,
                f"{r.period_from:%m/%Y} – {r.period_to:%m/%Y}",
                format_vnd(r.amount),
                format_local(r.paid_at, "%d/%m/%Y %H:%M"),
                "ĐÃ HỦY" if r.voided else "hợp lệ",
            )
            for col, value in enumerate(row_cells):
                self.receipts.setItem(row, col, QTableWidgetItem(value))
        self.close_button.setFocus()
