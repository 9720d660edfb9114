"""The "Đồng bộ" screen (F6): sync state and log, records central refused, reconciliation.

- Status card: what the bridge last delivered (state, pending, last success, last error, the
  server), "Đồng bộ ngay [F12]", and for administrators "Đăng ký với trung tâm…" (enrol with a
  server URL and one-time code; `enroll_counter` runs on the I/O pool).
- Nhật ký: the bridge's log, newest first (started, each batch's accepted/duplicate/rejected,
  failures with their Vietnamese reason, finished).
- Bị từ chối: parked outbox items with central's reason; "Gửi lại…" needs a supervisor's own user
  name and password, signed on the spot like a void (`requeue_rejected`), then syncs at once.
- Đối chiếu: a day (yesterday by default); the stored result of its newest run is shown; "Đối
  chiếu" fetches central's Mẫu 01-XN and compares (`reconcile_with_central`, I/O pool); "Xuất
  CSV" builds the run's CSV on the database thread and writes the file on the I/O pool.

The GUI thread only shows values: lists are read on the database thread, the network and files
are on the I/O pool.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import format_local, today
from app.domain.money import format_vnd
from app.domain.types import Role
from app.errors import ValidationError
from ui.qt.operations import counter as counter_ops
from ui.qt.operations import sync as sync_ops
from ui.qt.ops import IoOp
from ui.qt.style import DANGER, OK_GREEN
from ui.qt.sync_bridge import HISTORY, SyncLogEntry
from ui.qt.sync_indicator import SYNC_NOW_KEY, error_text, last_success_text, tone_and_word
from ui.qt.widgets import FieldErrors, FormDialog, card, fkey_text, hint, page_title

if TYPE_CHECKING:
    from app.services.outbox import OutboxEntry
    from app.services.reconcile import ReconciliationView
    from sync.enroll import EnrollmentResult
    from sync.events import SyncStatus
    from ui.qt.changes import OpChanges
    from ui.qt.state import AppState
    from ui.qt.sync_bridge import SyncBridge

TONE_COLOURS = {"error": DANGER, "warn": "#b46b00", "ok": OK_GREEN}
LOG_HEADERS = ("Giờ", "Sự kiện")
REJECTED_HEADERS = (
    "Số BL",
    "Loại",
    "Người nộp",
    "Số tiền",
    "Mã xác nhận",
    "Lý do trung tâm từ chối",
    "Số lần gửi",
)
ISSUE_HEADERS = (
    "Chênh lệch",
    "Mã xác nhận",
    "Số BL",
    "Số tiền tại quầy",
    "Số tiền trung tâm",
    "Giờ nộp tại quầy",
    "Giờ nộp trung tâm",
    "Chi tiết",
)
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


ENROLL_KEY = "Ctrl+Shift+E"  # open the enrolment form (administrators)


def _table(headers: tuple[str, ...], name: str, stretch: int, *, wrap: bool) -> QTableWidget:
    """Read-only rows; the `stretch` column takes the spare width. With `wrap`, long text
    (reasons, details) wraps and rows keep fitting their contents as the width changes — for
    the short lists only: the log (up to 500 rows) stays one line per event, full text in the
    tooltip."""
    table = QTableWidget(0, len(headers))
    table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(wrap)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    if wrap:
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _local(instant: datetime | None, fmt: str = "%H:%M:%S") -> str:
    return "" if instant is None else format_local(instant, fmt)


def _amount(value: int | None) -> str:
    return "" if value is None else format_vnd(value)


class RequeueDialog(FormDialog):
    """Send a parked record again: a supervisor signs with their own user name and password."""

    def __init__(self, state: AppState, entry: OutboxEntry, parent: QWidget | None = None):
        super().__init__("Gửi lại bản ghi bị từ chối", "Ký và gửi lại", parent)
        self.state = state
        self.entry = entry
        what = "Lệnh hủy biên lai" if entry.kind == "void" else "Biên lai"
        number = f"{entry.receipt_number:07d}" if entry.receipt_number is not None else "?"
        detail = QLabel(
            f"{what} số <b>{number}</b> · {entry.payer_name or ''} · {_amount(entry.amount)}"
            f"<br>Mã xác nhận: <b>{entry.confirmation_code or ''}</b>"
        )
        detail.setWordWrap(True)
        self.body.addWidget(detail)
        reason = QLabel(f"Trung tâm từ chối: {error_text(entry.last_error) or '(không rõ lý do)'}")
        reason.setObjectName("fieldError")
        reason.setWordWrap(True)
        self.body.addWidget(reason)
        self.body.addWidget(
            hint(
                "Chỉ gửi lại khi trung tâm đã xử lý phía họ (ví dụ đã cập nhật khóa ký hoặc bảng "
                "mức đóng). Giám sát viên nhập tên đăng nhập và mật khẩu của chính mình để ký."
            )
        )
        self.supervisor = QLineEdit()
        self.supervisor.setObjectName("requeue_supervisor")
        self.supervisor.setPlaceholderText("tên đăng nhập của giám sát viên")
        self.password = QLineEdit()
        self.password.setObjectName("requeue_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow("Giám sát viên:", self.supervisor)
        self.form.addRow("Mật khẩu giám sát:", self.password)
        self.finish_layout()
        self.supervisor.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.submit)
        self.supervisor.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        username = self.supervisor.text().strip()
        password = self.password.text()
        if not username or not password:
            self.show_message(
                "Giám sát viên nhập tên đăng nhập và mật khẩu của chính mình để ký gửi lại."
            )
            (self.supervisor if not username else self.password).setFocus()
            return

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.set_busy(False)
            self.password.clear()
            self.show_message(message_for(exc))
            self.supervisor.setFocus()

        def done(_none: None) -> None:
            self.set_busy(False)
            self.accept()

        self.set_busy(True, "Đang ký…")
        sync_ops.requeue(
            self, self.state, self.entry.record_id, supervisor=username, password=password
        ).success(done).failure(failed).run()


class EnrollDialog(FormDialog):
    """Enrol the counter with central: server URL + the one-time code from central's admin."""

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Đăng ký quầy với hệ thống trung tâm", "Đăng ký", parent)
        self.state = state
        self.errors = FieldErrors()
        self.result_url: str | None = None
        self.body.addWidget(
            hint(
                "Xin quản trị hệ thống trung tâm một mã đăng ký dùng một lần cho quầy này. Khi "
                "đăng ký, quầy gửi khóa ký mã xác nhận của mình lên trung tâm, vì vậy địa chỉ "
                "phải dùng https://. Mã truy cập nhận về được cất trong kho khóa của hệ điều "
                "hành, không lưu trong cơ sở dữ liệu."
            )
        )
        self.server = QLineEdit()
        self.server.setObjectName("enroll_server")
        self.server.setPlaceholderText("https://trungtam.example.vn")
        counter = state.counter
        if counter is not None and counter.central_url:
            self.server.setText(counter.central_url)
        self.code = QLineEdit()
        self.code.setObjectName("enroll_code")
        self.code.setPlaceholderText("mã đăng ký từ quản trị trung tâm")
        self.errors.add_row(self.form, "Địa chỉ máy chủ trung tâm:", self.server, "server")
        self.errors.add_row(self.form, "Mã đăng ký:", self.code, "code")
        self.finish_layout()
        self.server.returnPressed.connect(self.code.setFocus)
        self.code.returnPressed.connect(self.submit)
        (self.code if self.server.text() else self.server).setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        state = self.state
        bridge = state.sync
        url = self.server.text().strip()
        code = self.code.text().strip()
        self.errors.clear()
        self.error.hide()
        config = bridge.config() if bridge is not None else None

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.set_busy(False)
            if isinstance(exc, ValidationError) and self.errors.show(exc):
                return
            self.show_message(message_for(exc))

        def done(result: EnrollmentResult) -> None:
            self.set_busy(False)
            self.result_url = result.central_url
            self.accept()

        self.set_busy(True, "Đang đăng ký…")
        sync_ops.enrol(self, state, url, code, config=config).success(done).failure(failed).run()


class SyncPage(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        bridge = state.sync
        assert bridge is not None, "the main window makes the sync bridge"
        self.bridge: SyncBridge = bridge
        self.rejected: list[OutboxEntry] = []
        self.run: ReconciliationView | None = None
        self.last_export: Path | None = None
        self.requeue_dialog: RequeueDialog | None = None
        self.enroll_dialog: EnrollDialog | None = None
        self._rejected_count: int | None = None
        self._seq = 0
        self._day_set = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(page_title("Đồng bộ với hệ thống trung tâm"))
        layout.addWidget(self._build_status_card())
        self.tabs = QTabWidget()
        self.tabs.setObjectName("sync_tabs")
        layout.addWidget(self.tabs, 1)
        self._build_log_tab()
        self._build_rejected_tab()
        self._build_reconcile_tab()
        self._add_keys()

        state.changed.connect(self._changed)
        bridge.status_changed.connect(self._show_status)
        bridge.log_added.connect(self._add_log)
        bridge.enrolment_changed.connect(lambda _e: self._show_status(self.bridge.status))
        self._add_log(tuple(bridge.history))
        self._show_status(bridge.status)

    # --- building -------------------------------------------------------------------------

    def _build_status_card(self) -> QWidget:
        status_card = card()
        status_row = QHBoxLayout(status_card)
        status_col = QVBoxLayout()
        self.status_label = QLabel()
        self.status_label.setObjectName("sync_status")
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setWordWrap(True)
        status_col.addWidget(self.status_label)
        self.detail_label = hint("")
        self.detail_label.setObjectName("sync_detail")
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status_col.addWidget(self.detail_label)
        status_row.addLayout(status_col, 1)
        buttons = QVBoxLayout()
        self.sync_button = QPushButton(fkey_text("Đồng bộ ngay", SYNC_NOW_KEY))
        self.sync_button.setObjectName("primary")
        self.sync_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.sync_button.clicked.connect(self.sync_now)
        buttons.addWidget(self.sync_button)
        self.enroll_button = QPushButton(fkey_text("Đăng ký với trung tâm…", ENROLL_KEY))
        self.enroll_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.enroll_button.clicked.connect(self.open_enroll)
        buttons.addWidget(self.enroll_button)
        buttons.addStretch(1)
        status_row.addLayout(buttons)
        return status_card

    def _add_keys(self) -> None:
        def key(keys: str, slot: Any) -> None:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        key("Ctrl+1", lambda: self.tabs.setCurrentIndex(0))
        key("Ctrl+2", lambda: self.tabs.setCurrentIndex(1))
        key("Ctrl+3", lambda: self.tabs.setCurrentIndex(2))
        key("Ctrl+G", self.requeue_selected)
        key("Ctrl+R", self.refresh_rejected)
        key("Ctrl+D", self.reconcile)
        key("Ctrl+E", self.export_csv)
        key(ENROLL_KEY, self.open_enroll)

    def _build_log_tab(self) -> None:
        tab = QWidget()
        col = QVBoxLayout(tab)
        self.log_table = _table(LOG_HEADERS, "sync_log", 1, wrap=False)
        col.addWidget(self.log_table)
        self.tabs.addTab(tab, "Nhật ký đồng bộ  [Ctrl+1]")

    def _build_rejected_tab(self) -> None:
        tab = QWidget()
        col = QVBoxLayout(tab)
        col.addWidget(
            hint(
                "Trung tâm đã từ chối các bản ghi dưới đây (các khoản thu khác vẫn được gửi bình "
                "thường). Bản ghi vẫn nằm nguyên tại quầy. Liên hệ trung tâm về lý do; khi họ đã "
                "xử lý, giám sát viên ký để gửi lại."
            )
        )
        self.rejected_table = _table(REJECTED_HEADERS, "rejected_table", 5, wrap=True)
        self.rejected_table.itemSelectionChanged.connect(self._update_buttons)
        self.rejected_table.doubleClicked.connect(lambda _i: self.requeue_selected())
        col.addWidget(self.rejected_table, 1)
        row = QHBoxLayout()
        self.rejected_status = hint("")
        row.addWidget(self.rejected_status, 1)
        self.refresh_button = QPushButton(fkey_text("Làm mới", "Ctrl+R"))
        self.refresh_button.clicked.connect(self.refresh_rejected)
        row.addWidget(self.refresh_button)
        self.requeue_button = QPushButton(fkey_text("Gửi lại…", "Ctrl+G"))
        self.requeue_button.setObjectName("requeue")
        self.requeue_button.clicked.connect(self.requeue_selected)
        row.addWidget(self.requeue_button)
        col.addLayout(row)
        self.tabs.addTab(tab, "Bị từ chối  [Ctrl+2]")

    def _build_reconcile_tab(self) -> None:
        tab = QWidget()
        col = QVBoxLayout(tab)
        controls = QHBoxLayout()
        caption = QLabel("&Ngày:")
        self.day = QDateEdit()
        self.day.setObjectName("reconcile_day")
        self.day.setDisplayFormat("dd/MM/yyyy")
        self.day.setCalendarPopup(True)
        caption.setBuddy(self.day)
        controls.addWidget(caption)
        controls.addWidget(self.day)
        yesterday = QPushButton("Hôm qua")
        yesterday.clicked.connect(lambda: self.set_day(today() - timedelta(1)))
        controls.addWidget(yesterday)
        controls.addStretch(1)
        self.reconcile_button = QPushButton(fkey_text("Đối chiếu", "Ctrl+D"))
        self.reconcile_button.setObjectName("primary")
        self.reconcile_button.clicked.connect(self.reconcile)
        controls.addWidget(self.reconcile_button)
        self.export_button = QPushButton(fkey_text("Xuất CSV", "Ctrl+E"))
        self.export_button.clicked.connect(self.export_csv)
        controls.addWidget(self.export_button)
        col.addLayout(controls)
        self.run_label = QLabel()
        self.run_label.setObjectName("reconcile_summary")
        self.run_label.setTextFormat(Qt.TextFormat.RichText)
        self.run_label.setWordWrap(True)
        col.addWidget(self.run_label)
        self.issues_table = _table(ISSUE_HEADERS, "issues_table", 7, wrap=True)
        col.addWidget(self.issues_table, 1)
        self.reconcile_status = hint("")
        col.addWidget(self.reconcile_status)
        self.tabs.addTab(tab, "Đối chiếu với trung tâm  [Ctrl+3]")
        self.day.dateChanged.connect(lambda _d: self.load_run())

    # --- activation -----------------------------------------------------------------------

    def activate(self) -> None:
        actor = self.state.actor
        self.enroll_button.setVisible(actor is not None and actor.role is Role.ADMIN)
        self._show_status(self.bridge.status)
        self.refresh_rejected()
        if not self._day_set:
            self._day_set = True
            self.set_day(today() - timedelta(1))
        else:
            self.load_run()
        self.tabs.setFocus()

    def restore_focus(self) -> None:
        self.tabs.setFocus()

    def reset(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.rejected_table.clearSelection()

    def _changed(self, changes: OpChanges) -> None:
        if changes.sync and self.isVisible():
            self.refresh_rejected()

    # --- status and log -------------------------------------------------------------------

    def _show_status(self, status: SyncStatus | None) -> None:
        counter = self.state.counter
        server = counter.central_url if counter is not None else None
        if status is None:
            self.status_label.setText("<b>Đang kiểm tra trạng thái đồng bộ…</b>")
            self.detail_label.setText(f"Máy chủ trung tâm: {server or '—'}")
            self.sync_button.setEnabled(False)
            return
        if status.state == "not_enrolled":
            self.status_label.setText(
                "<b>Làm việc độc lập</b> — quầy chưa đăng ký với hệ thống trung tâm; các khoản "
                "thu chỉ được lưu tại quầy."
            )
            self.detail_label.setText(
                "Quản trị viên bấm «Đăng ký với trung tâm…» và nhập mã đăng ký do quản trị "
                "trung tâm cấp."
            )
            self.sync_button.setEnabled(False)
            self.enroll_button.setText(fkey_text("Đăng ký với trung tâm…", ENROLL_KEY))
            return
        from app.domain.money import format_number

        tone, word = tone_and_word(status)
        colour = {"ok": OK_GREEN, "bad": DANGER, "warn": "#b46b00"}.get(tone, "#1f2a36")
        self.status_label.setText(
            f"<span style='font-size:14pt; color:{colour}'><b>● {word}</b></span> &nbsp; "
            f"Chờ gửi: <b>{format_number(status.pending)}</b> · Bị từ chối: "
            f"<b>{format_number(status.rejected)}</b> · {last_success_text(status)}"
        )
        lines = [f"Máy chủ trung tâm: {server or '—'}"]
        if status.last_error and status.state != "idle":
            lines.append(f"Lỗi gần nhất: {error_text(status.last_error)}")
        if status.next_attempt is not None and status.state != "syncing":
            lines.append(f"Lần đồng bộ tiếp theo: {_local(status.next_attempt)}")
        self.detail_label.setText("\n".join(lines))
        self.sync_button.setEnabled(True)
        self.enroll_button.setText(
            fkey_text(
                "Đăng ký lại…" if status.state == "needs_enrollment" else "Đăng ký với trung tâm…",
                ENROLL_KEY,
            )
        )
        if status.rejected != self._rejected_count:
            self._rejected_count = status.rejected
            self.tabs.setTabText(1, f"Bị từ chối ({status.rejected})  [Ctrl+2]")
            if self.isVisible():
                self.refresh_rejected()

    def _add_log(self, entries: tuple[SyncLogEntry, ...]) -> None:
        table = self.log_table
        for entry in entries:
            table.insertRow(0)
            when = QTableWidgetItem(entry.local_time)
            text = QTableWidgetItem(entry.text)
            text.setToolTip(entry.text)
            colour = TONE_COLOURS.get(entry.tone)
            if colour:
                for item in (when, text):
                    item.setForeground(QColor(colour))
            table.setItem(0, 0, when)
            table.setItem(0, 1, text)
        while table.rowCount() > HISTORY:
            table.removeRow(table.rowCount() - 1)

    def log_texts(self) -> list[str]:
        """The log as shown, newest first (tests)."""
        items = (self.log_table.item(r, 1) for r in range(self.log_table.rowCount()))
        return [item.text() for item in items if item is not None]

    def sync_now(self) -> None:
        window = self.window()
        if hasattr(window, "sync_now"):
            window.sync_now()
        else:
            self.bridge.sync_now()

    # --- enrolment ------------------------------------------------------------------------

    def open_enroll(self) -> EnrollDialog | None:
        actor = self.state.actor
        if actor is None or actor.role is not Role.ADMIN:
            return None
        dialog = EnrollDialog(self.state, self)
        dialog.accepted.connect(lambda: self._enrolled(dialog))
        dialog.finished.connect(lambda _r: setattr(self, "enroll_dialog", None))
        self.enroll_dialog = dialog
        dialog.open()
        return dialog

    def _enrolled(self, dialog: EnrollDialog) -> None:
        from ui.qt.errors import notify

        state = self.state
        counter_ops.reload_counter(self, state).success(state.set_counter).run()
        self.bridge.enrolled_now()
        notify(
            self.parent(),
            f"Đã đăng ký quầy với hệ thống trung tâm {dialog.result_url}; bắt đầu đồng bộ.",
            "info",
        )

    # --- rejected items -------------------------------------------------------------------

    def refresh_rejected(self) -> None:
        sync_ops.rejected(self, self.state).success(self._show_rejected).failure(
            lambda _e: None
        ).run()

    def _show_rejected(self, entries: list[OutboxEntry]) -> None:
        selected = self.selected_rejected()
        self.rejected = entries
        table = self.rejected_table
        table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            values = (
                f"{e.receipt_number:07d}" if e.receipt_number is not None else "",
                "Lệnh hủy" if e.kind == "void" else "Khoản thu",
                e.payer_name or "",
                _amount(e.amount),
                e.confirmation_code or "",
                error_text(e.last_error),
                str(e.attempts),
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c in (0, 3, 6):
                    item.setTextAlignment(RIGHT)
                if c == 5:
                    item.setToolTip(value)
                    item.setForeground(QColor(DANGER))
                table.setItem(r, c, item)
        self.tabs.setTabText(1, f"Bị từ chối ({len(entries)})  [Ctrl+2]")
        self._rejected_count = len(entries)
        self.rejected_status.setText(
            "Không có bản ghi nào bị từ chối."
            if not entries
            else f"{len(entries)} bản ghi chờ giám sát viên xem."
        )
        if selected is not None:
            for r, e in enumerate(entries):
                if e.record_id == selected.record_id:
                    table.selectRow(r)
        self._update_buttons()

    def selected_rejected(self) -> OutboxEntry | None:
        rows = self.rejected_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.rejected):
            return None
        return self.rejected[rows[0].row()]

    def _update_buttons(self) -> None:
        self.requeue_button.setEnabled(self.selected_rejected() is not None)

    def requeue_selected(self) -> RequeueDialog | None:
        entry = self.selected_rejected()
        if entry is None:
            if self.rejected:
                self.rejected_table.selectRow(0)
                self.rejected_table.setFocus()
            return None
        dialog = RequeueDialog(self.state, entry, self)
        dialog.accepted.connect(lambda: self._requeued(entry))
        dialog.finished.connect(lambda _r: setattr(self, "requeue_dialog", None))
        self.requeue_dialog = dialog
        dialog.open()
        return dialog

    def _requeued(self, entry: OutboxEntry) -> None:
        number = f"{entry.receipt_number:07d}" if entry.receipt_number is not None else ""
        self.rejected_status.setText(f"Đã đưa bản ghi {number} trở lại hàng chờ gửi.")
        self.bridge.sync_now()  # the list and the count follow from the op's changes

    # --- reconciliation -------------------------------------------------------------------

    def selected_day(self) -> date:
        qd = self.day.date()
        return date(qd.year(), qd.month(), qd.day())

    def set_day(self, day: date) -> None:
        target = QDate(day.year, day.month, day.day)
        if self.day.date() == target:
            self.load_run()
        else:
            self.day.setDate(target)  # dateChanged → load_run

    def load_run(self) -> None:
        """Show the newest stored run of the chosen day (none yet: say so)."""
        self._seq += 1
        seq = self._seq
        day = self.selected_day()
        sync_ops.latest_reconciliation(self, self.state, day).success(
            lambda run: self._show_run(seq, day, run)
        ).run()

    def reconcile(self) -> None:
        if not self.reconcile_button.isEnabled():
            return
        self.tabs.setCurrentIndex(2)
        self._seq += 1
        seq = self._seq
        day = self.selected_day()
        config = self.bridge.config()

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.reconcile_status.setText(f"Chưa đối chiếu được: {message_for(exc)}")
            self.reconcile_status.setObjectName("fieldError")
            self._repolish(self.reconcile_status)

        def done() -> None:
            self.reconcile_button.setEnabled(True)
            self.reconcile_button.setText(fkey_text("Đối chiếu", "Ctrl+D"))

        self.reconcile_button.setEnabled(False)
        self.reconcile_button.setText("Đang đối chiếu…")
        self.reconcile_status.setText(f"Đang lấy Mẫu 01-XN ngày {day:%d/%m/%Y} từ trung tâm…")
        self.reconcile_status.setObjectName("hint")
        self._repolish(self.reconcile_status)
        sync_ops.reconcile(self, self.state, day, config=config).success(
            lambda r: self._show_run(seq, day, r, fresh=True)
        ).failure(failed).finally_(done).run()

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def _show_run(
        self, seq: int, day: date, run: ReconciliationView | None, *, fresh: bool = False
    ) -> None:
        if seq != self._seq:
            return
        self.run = run
        self.export_button.setEnabled(run is not None)
        table = self.issues_table
        if run is None:
            self.run_label.setText(
                f"Ngày {day:%d/%m/%Y}: chưa đối chiếu. Bấm «Đối chiếu» để so Mẫu 01-XN của quầy "
                "với của trung tâm."
            )
            table.setRowCount(0)
            if not fresh:
                self.reconcile_status.setText("")
            return
        verdict = (
            f"<b style='color:{OK_GREEN}'>Khớp</b>"
            if run.ok
            else f"<b style='color:{DANGER}'>Có {len(run.issues)} chênh lệch</b>"
        )
        self.run_label.setText(
            f"Ngày {run.business_date:%d/%m/%Y}: {verdict} &nbsp;·&nbsp; Quầy "
            f"<b>{run.local_count}</b> khoản ({format_vnd(run.local_total)}) &nbsp;·&nbsp; "
            f"Trung tâm <b>{run.central_count}</b> khoản ({format_vnd(run.central_total)})"
            f"<br><span style='color:#5a6570'>Đối chiếu lúc "
            f"{_local(run.run_at, '%H:%M %d/%m/%Y')} "
            f"({'theo lịch' if run.trigger == 'scheduled' else 'theo yêu cầu'}); cho phép lệch "
            f"giờ {int(run.tolerance.total_seconds() // 60)} phút</span>"
        )
        table.setRowCount(len(run.issues))
        for r, issue in enumerate(run.issues):
            values = (
                issue.label,
                issue.confirmation_code,
                "" if issue.receipt_number is None else f"{issue.receipt_number:07d}",
                _amount(issue.local_amount),
                _amount(issue.central_amount),
                _local(issue.local_paid_at, "%H:%M:%S %d/%m"),
                _local(issue.central_paid_at, "%H:%M:%S %d/%m"),
                issue.detail,
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c in (2, 3, 4):
                    item.setTextAlignment(RIGHT)
                if c == 0:
                    item.setForeground(QColor(DANGER))
                if c == 7:
                    item.setToolTip(value)
                table.setItem(r, c, item)
        if fresh:
            self.reconcile_status.setText(
                "Đã đối chiếu và lưu kết quả."
                if run.ok
                else "Đã đối chiếu và lưu kết quả; xem các chênh lệch trong bảng, xuất CSV để "
                "gửi trung tâm."
            )

    def export_csv(self) -> None:
        run = self.run
        if run is None:
            return
        counter = self.state.counter
        code = counter.counter_code if counter is not None else "quay"
        suggested = f"doi-chieu_{code}_{run.business_date:%Y-%m-%d}.csv"
        path = self.state.ask_save_path(
            self, "Xuất kết quả đối chiếu", suggested, "Tệp CSV (*.csv)"
        )
        if path is None:
            return
        if path.suffix.lower() != ".csv":
            path = path.with_name(f"{path.name}.csv")

        def write(data: bytes) -> None:
            from ui.qt.receipt_view import write_file

            IoOp(self, lambda: write_file(path, data)).success(written).failure(failed).finally_(
                enable
            ).run()

        def written(p: Path) -> None:
            self.last_export = p
            self.reconcile_status.setText(f"Đã lưu: {p}")

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.reconcile_status.setText(f"Không xuất được: {message_for(exc)}")

        def enable() -> None:
            self.export_button.setEnabled(self.run is not None)

        self.export_button.setEnabled(False)
        self.reconcile_status.setText(f"Đang xuất {path.name}…")

        # The bytes are built on the database thread, the file written on the I/O pool.
        def not_built(exc: BaseException) -> None:
            failed(exc)
            enable()

        sync_ops.reconciliation_csv(self, self.state, run.id).success(write).failure(
            not_built
        ).run()
