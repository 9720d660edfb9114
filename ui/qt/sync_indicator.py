"""The sync indicator in the status bar: connection (coloured dot + word), payments waiting to
be sent, records central refused, the last successful sync, and "Đồng bộ ngay [F12]".

It only shows what the bridge delivers (`show_status(SyncStatus)`); it never reads the database
or the network. Built with the window, so it stays on the start-up path's diet: QtWidgets only,
no `Qt` enum namespace and no `sync`/`app.services` import until the first status arrives
(after login, when both are loaded anyway).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from ui.qt.basic import fkey_text

if TYPE_CHECKING:
    from datetime import datetime

    from sync.events import SyncStatus

SYNC_NOW_KEY = "F12"

# state → (tone, word). Tones are colours in ui/qt/style.py (QLabel#syncDot[tone=…]).
STATES: dict[str, tuple[str, str]] = {
    "idle": ("ok", "Trực tuyến"),
    "syncing": ("busy", "Đang đồng bộ…"),
    "offline": ("bad", "Ngoại tuyến"),
    "server_error": ("warn", "Máy chủ trung tâm lỗi"),
    "needs_enrollment": ("bad", "Cần đăng ký lại"),
    "error": ("warn", "Lỗi đồng bộ"),
    "not_enrolled": ("off", "Làm việc độc lập"),
}


# Central's rejection codes (sync/protocol.py RejectReason), as a cashier reads them.
REJECTION_WORDS: dict[str, str] = {
    "invalid": "bản ghi không hợp lệ",
    "wrong_counter": "bản ghi không thuộc quầy này",
    "conflict": "trùng với một bản ghi khác đã có",
    "tampered": "nội dung không khớp mã xác nhận hoặc chữ ký",
    "fork": "chuỗi bản ghi bị rẽ nhánh",
    "rejected": "trung tâm từ chối",
}


def error_text(text: str | None) -> str:
    """An error as stored by sync ("[tampered] …") with the bracketed code in Vietnamese."""
    if not text:
        return ""
    if text.startswith("[") and "]" in text:
        code, rest = text[1:].split("]", 1)
        word = REJECTION_WORDS.get(code.strip())
        if word is not None:
            rest = rest.strip()
            return f"{word[0].upper()}{word[1:]}" + (f" — {rest}" if rest else "")
    return text


def _local(instant: datetime) -> datetime:
    from app.domain.clock import local_time

    return local_time(instant)


def last_success_text(status: SyncStatus) -> str:
    """ "Lần cuối: 09:41" (local time; the date too when it was not today)."""
    if status.last_success is None:
        return "Chưa gửi lần nào"
    from app.domain.clock import today as business_today

    when = _local(status.last_success)
    today = business_today()
    return f"Lần cuối: {when:%H:%M}" if when.date() == today else f"Lần cuối: {when:%H:%M %d/%m}"


def tone_and_word(status: SyncStatus) -> tuple[str, str]:
    if status.state == "idle" and status.online is None:
        return "off", "Đang kết nối…"
    if status.state == "syncing" and status.online is False:
        # A retry while central is unreachable: still offline until it answers (the word
        # must not flicker to "Đang đồng bộ…" and back at every retry).
        return "bad", "Ngoại tuyến · đang thử lại…"
    return STATES.get(status.state, ("warn", status.state))


def tooltip_text(status: SyncStatus) -> str:
    lines = [status.message]
    if status.last_error and status.state != "idle":
        lines.append(f"Lỗi gần nhất: {error_text(status.last_error)}")
    if status.next_attempt is not None and status.state in ("offline", "server_error", "error"):
        lines.append(f"Thử lại lúc: {_local(status.next_attempt):%H:%M:%S}")
    lines.append("Bấm để xem nhật ký đồng bộ (F6).")
    return "\n".join(lines)


class SyncIndicator(QWidget):
    sync_requested = Signal()  # "Đồng bộ ngay"
    details_requested = Signal()  # the state word was clicked: open the Đồng bộ screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncIndicator")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 4, 0)
        row.setSpacing(2)
        self.dot = QLabel("●")
        self.dot.setObjectName("syncDot")
        self.dot.setProperty("tone", "off")  # set before the first polish: no re-polish needed
        self.state_button = QPushButton()
        self.state_button.setObjectName("syncState")
        self.state_button.setFlat(True)
        self.state_button.clicked.connect(self.details_requested)
        self.pending_label = QLabel()
        self.pending_label.setObjectName("syncPending")
        self.rejected_label = QLabel()
        self.rejected_label.setObjectName("syncRejected")
        self.rejected_label.setProperty("tone", "off")
        self.last_label = QLabel()
        self.last_label.setObjectName("syncLast")
        self.sync_button = QPushButton(fkey_text("Đồng bộ ngay", SYNC_NOW_KEY))
        self.sync_button.setObjectName("syncNow")
        self.sync_button.clicked.connect(self.sync_requested)
        for widget in (
            self.dot,
            self.state_button,
            self.pending_label,
            self.rejected_label,
            self.last_label,
            self.sync_button,
        ):
            row.addWidget(widget)
        self._focus_set = False
        self.status: SyncStatus | None = None
        self.show_configured(None)

    @staticmethod
    def _set_tone(label: QLabel, tone: str) -> None:
        # Re-polishing builds the `Qt` namespace: only when the tone really changes (never on
        # the start-up path, where it stays "off").
        if label.property("tone") != tone:
            label.setProperty("tone", tone)
            label.style().unpolish(label)
            label.style().polish(label)

    def _counts_visible(self, visible: bool) -> None:
        for widget in (self.pending_label, self.rejected_label, self.last_label, self.sync_button):
            widget.setVisible(visible)

    def _no_focus(self) -> None:
        # Status-bar buttons are for the mouse (F12 / F6 are the keys); kept out of the Tab
        # chain. Done on the first real status, so `Qt` stays off the start-up path.
        if not self._focus_set:
            from PySide6.QtCore import Qt

            self._focus_set = True
            for button in (self.state_button, self.sync_button):
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def show_configured(self, central_url: str | None) -> None:
        """Before the first status: what the counter's settings say."""
        self.status = None
        self._set_tone(self.dot, "off")
        if central_url:
            self.state_button.setText("Đồng bộ: chưa kết nối")
            self.state_button.setToolTip(f"Máy chủ trung tâm: {central_url}")
        else:
            self.state_button.setText("Làm việc độc lập")
            self.state_button.setToolTip(
                "Quầy chưa đăng ký với hệ thống trung tâm: các khoản thu chỉ lưu tại quầy."
            )
        self._counts_visible(False)

    def show_status(self, status: SyncStatus) -> None:
        from app.domain.money import format_number

        self._no_focus()
        self.status = status
        tone, word = tone_and_word(status)
        self._set_tone(self.dot, tone)
        self.state_button.setText(word)
        if status.state == "not_enrolled":
            self.state_button.setToolTip(
                "Quầy chưa đăng ký với hệ thống trung tâm: các khoản thu chỉ lưu tại quầy. "
                "Quản trị viên đăng ký trong màn hình Đồng bộ (F6)."
            )
            self._counts_visible(False)
            return
        self._counts_visible(True)
        self.pending_label.setText(f"Chờ gửi: {format_number(status.pending)}")
        self.rejected_label.setText(f"Từ chối: {format_number(status.rejected)}")
        self._set_tone(self.rejected_label, "bad" if status.rejected else "off")
        self.last_label.setText(last_success_text(status))
        tip = tooltip_text(status)
        for widget in (self.dot, self.state_button, self.pending_label, self.last_label):
            widget.setToolTip(tip)
        self.rejected_label.setToolTip(
            "Bản ghi trung tâm từ chối, chờ giám sát viên xem và gửi lại (màn hình Đồng bộ)."
        )
        self.sync_button.setToolTip("Gửi ngay các khoản thu đang chờ lên hệ thống trung tâm.")

    def text(self) -> str:
        """Everything the indicator shows, on one line (tests, screen readers)."""
        parts = [self.state_button.text()]
        parts += [
            w.text()
            for w in (self.pending_label, self.rejected_label, self.last_label)
            if w.isVisibleTo(self)
        ]
        return " · ".join(parts)
