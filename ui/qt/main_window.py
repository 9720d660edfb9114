"""The counter's main window: start-up, setup wizard, login/lock, and the working screens.

Start-up order (kept cheap so the window appears fast): the window is shown with the login
screen at once when the database file exists (the setup wizard otherwise), and the database is
opened and migrated on the database thread meanwhile. A login typed before it is open simply
queues behind the opening op. Screens other than login are built on first use, so their imports
(SQLAlchemy-backed services, PDF, printing) stay off the start-up path.

Keyboard: F5 new payment, F10 today's payments, F7 Mẫu 01-XN, F6 sync, F8 settings, F12 sync
now, F4 open/close the shift and F11 cash drop (docs/SHIFTS.md, `ui/qt/shift.py`), Ctrl+L
lock, Ctrl+Shift+Q sign out, Ctrl+Shift+P reprint the last receipt (BẢN SAO).
Each screen adds its own keys (F2 search, F9 take payment, Esc cancel…) and shows them on
buttons.

Sync: the window owns a `SyncBridge` (ui/qt/sync_bridge.py). After the first login it starts the
scheduler when the counter is enrolled; the status bar's `SyncIndicator` shows what the bridge
delivers. Logging out or closing the window while payments still wait to reach central asks
first ("Còn N khoản thu chưa gửi…"): the count is read on the database thread, after any
payment still being written, and the question is a non-blocking dialog. Locking (Ctrl+L, idle)
is not the end of a shift — the session continues — so it does not ask; an operator who signs
in on the lock screen takes over a session whose sync carries on regardless.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.qt.basic import ElidedLabel, fkey_text, hint, page_title
from ui.qt.idle import IdleLock
from ui.qt.login import CHANGE_PASSWORD_KEY, LoginPage
from ui.qt.operations import counter as counter_ops
from ui.qt.operations import sync as sync_ops
from ui.qt.ops import IoOp
from ui.qt.state import AppState
from ui.qt.sync_indicator import SYNC_NOW_KEY, SyncIndicator

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QShortcut

    from app.services.common import Actor
    from app.services.rates import RateNotice
    from sync.notify_worker import NotifyWorker
    from ui.qt.changes import OpChanges
    from ui.qt.sync_bridge import SyncBridge

APP_TITLE = "QuầyThu"
LOGOUT_KEY = "Ctrl+Shift+Q"
REPRINT_LAST_KEY = "Ctrl+Shift+P"
DEFAULT_IDLE_LOCK_MINUTES = 10  # = app.services.settings.DEFAULTS (a test keeps them equal)

PREPARE_STEP_MS = 15  # between the steps of `MainWindow.prepare_screens`
BACKGROUND_DELAY_MS = 250  # after a sign-in, before its background work starts
PREPARED_MODULES = (
    "ui.qt.widgets",
    "ui.qt.operations.participants",
    "ui.qt.operations.payments",
    "ui.qt.operations.documents",
    "ui.qt.operations.backup",
    "ui.qt.receipt_view",
    "ui.qt.payment",
    "ui.qt.confirm",
    "ui.qt.sync_bridge",
)
"""The window's own modules the working screens and the first payment import, in the GUI
thread (PySide builds enum types on first use, and that must not race another thread)."""

# (key, caption, shortcut) of the working screens, in the navigation bar's order.
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("payment", "Thu tiền", "F5"),
    ("today", "Giao dịch hôm nay", "F10"),
    ("xn01", "Mẫu 01-XN", "F7"),
    ("sync", "Đồng bộ", "F6"),
    ("settings", "Cài đặt", "F8"),
)


class StartPage(QWidget):
    """Shown when the database cannot be opened (built only then)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        from PySide6.QtCore import Qt

        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.title = page_title("QuầyThu")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        self.text = hint("Đang mở cơ sở dữ liệu…")
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.text)
        self.quit_button = QPushButton("Thoát")
        self.quit_button.hide()
        self.quit_button.clicked.connect(QApplication.quit)
        layout.addWidget(self.quit_button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)

    def show_failure(self, text: str) -> None:
        self.title.setText("Không mở được cơ sở dữ liệu")
        self.text.setText(text)
        self.text.setObjectName("fieldError")
        self.text.style().unpolish(self.text)
        self.text.style().polish(self.text)
        self.quit_button.show()
        self.quit_button.setFocus()


class NavBar(QFrame):
    """The navigation bar. Each button shows its key ("Thu tiền  [F5]"); when the window is too
    narrow for all of them (the 1100 px minimum with an administrator's screens), the keys move
    to the tooltips so that every caption stays whole."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("navBar")
        self.keyed: list[tuple[QPushButton, str, str]] = []  # (button, caption, key)

    def add_keyed(self, caption: str, key: str) -> QPushButton:
        button = QPushButton(fkey_text(caption, key))
        button.setToolTip(key)
        self.keyed.append((button, caption, key))
        return button

    def fit(self) -> None:
        for button, caption, key in self.keyed:
            button.setText(fkey_text(caption, key))
        layout = self.layout()
        if layout is not None and layout.sizeHint().width() > self.width():
            for button, caption, _key in self.keyed:
                button.setText(caption)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit()


class WorkArea(QWidget):
    """Navigation bar, message bar and the working screens (built on first use)."""

    def __init__(self, window: MainWindow) -> None:
        from PySide6.QtCore import Qt

        from ui.qt.widgets import MessageBar

        super().__init__(window)
        self.window_ = window
        self.state = window.state
        self.pages: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        nav = NavBar()
        self.nav = nav
        nav_row = QHBoxLayout(nav)
        nav_row.setContentsMargins(8, 4, 8, 4)
        self.nav_group = QButtonGroup(self)
        self.nav_group.setExclusive(True)
        self.nav_buttons: dict[str, QPushButton] = {}
        for key, caption, shortcut in SCREENS:
            button = nav.add_keyed(caption, shortcut)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setObjectName(f"nav_{key}")
            button.clicked.connect(lambda _=False, k=key: self.show_screen(k))
            self.nav_group.addButton(button)
            self.nav_buttons[key] = button
            nav_row.addWidget(button)
        nav_row.addStretch(1)
        # The signed-in operator's own actions sit in one menu under their name, so the bar fits
        # at 1366 px with every screen an administrator sees (the keys work without the menu).
        self.operator_button = QToolButton()
        self.operator_button.setObjectName("operatorMenu")
        self.operator_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.operator_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.operator_button)
        self.password_action = menu.addAction(f"Đổi mật khẩu\t{CHANGE_PASSWORD_KEY}")
        self.password_action.triggered.connect(window.change_password)
        self.logout_action = menu.addAction(f"Đăng xuất\t{LOGOUT_KEY}")
        self.logout_action.triggered.connect(window.logout)
        self.operator_button.setMenu(menu)
        nav_row.addWidget(self.operator_button)
        self.lock_button = nav.add_keyed("Khóa", "Ctrl+L")
        self.lock_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.lock_button.clicked.connect(window.lock)
        nav_row.addWidget(self.lock_button)
        layout.addWidget(nav)

        self.message_bar = MessageBar()
        bar_row = QHBoxLayout()
        bar_row.setContentsMargins(8, 6, 8, 0)
        bar_row.addWidget(self.message_bar)
        layout.addLayout(bar_row)

        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)

    def show_message(self, text: str, kind: str = "info") -> None:
        self.message_bar.show_message(text, kind)

    def page(self, key: str) -> Any:
        page = self.pages.get(key)
        if page is None:
            page = self._build(key)
            self.pages[key] = page
            self.stack.addWidget(page)
        return page

    def _build(self, key: str) -> QWidget:
        if key == "payment":
            from ui.qt.payment import PaymentPage

            return PaymentPage(self.state, self)
        if key == "today":
            from ui.qt.today import TodayPage

            return TodayPage(self.state, self)
        if key == "xn01":
            from ui.qt.xn01 import Xn01Page

            return Xn01Page(self.state, self)
        if key == "settings":
            from ui.qt.settings import SettingsPage

            return SettingsPage(self.state, self)
        if key == "sync":
            from ui.qt.sync_view import SyncPage

            return SyncPage(self.state, self)
        raise KeyError(key)

    def current_key(self) -> str | None:
        current = self.stack.currentWidget()
        for key, page in self.pages.items():
            if page is current:
                return key
        return None

    def show_screen(self, key: str) -> Any:
        if key == "settings" and not self._is_admin():
            self.show_message("Chỉ tài khoản quản trị được mở Cài đặt.", "error")
            current = self.current_key()
            if current:
                self.nav_buttons[current].setChecked(True)
            return None
        page = self.page(key)
        self.stack.setCurrentWidget(page)
        self.nav_buttons[key].setChecked(True)
        activate = getattr(page, "activate", None)
        if callable(activate):
            activate()
        return page

    def _is_admin(self) -> bool:
        from app.domain.types import Role

        actor = self.state.actor
        return actor is not None and actor.role is Role.ADMIN

    def set_actor(self, actor: Actor) -> None:
        # The cashier is named by full name everywhere (receipt, 01-XN, today's payments).
        self.operator_button.setText(f"{actor.role.label}: {actor.full_name}")
        self.operator_button.setToolTip(
            f"Tên đăng nhập: {actor.username} — đổi mật khẩu, đăng xuất ({LOGOUT_KEY})"
        )
        self.nav_buttons["settings"].setVisible(self._is_admin())
        self.nav.fit()

    def reset_pages(self) -> None:
        for page in self.pages.values():
            reset = getattr(page, "reset", None)
            if callable(reset):
                reset()


class MainWindow(QMainWindow):
    ready = Signal()  # the first usable screen (login or wizard) is shown
    db_opened = Signal()  # the database is open and migrated
    notify_reported = Signal(object)  # a DeliveryReport, emitted on the notice sender's thread

    def __init__(self, db_path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = AppState(db_path, self)
        self.setWindowTitle(APP_TITLE)
        self.resize(1366, 740)
        self.setMinimumSize(1100, 680)
        self._locked = False
        self._confirm_cancelled_by_lock = False
        self._ready_sent = False
        self._close_confirmed = False
        self._counting_unsynced = False
        self.unsynced_dialog: QMessageBox | None = None
        self._build_pages()
        self.rate_version: str | None = None
        self._backup_started = False
        self._notify: NotifyWorker | None = None  # payer SMS/email, started after sign-in
        self._notify_reporting = False
        self.notify_reported.connect(self._notify_reported)  # queued onto the GUI thread
        self._sync: SyncBridge | None = None  # made at the first login (see `sync`)
        self._build_status_bar()
        self.state.changed.connect(self._changed)
        self._build_idle_lock()
        self.state.counter_changed.connect(self._counter_changed)

        # Window keys are made with the working screens (after login): they mean nothing before,
        # and QtGui's Python module stays off the start-up path.
        self._shortcuts: list[QShortcut] = []

    def _build_pages(self) -> None:
        """The page stack with the login page; the wizard, start page and working screens are
        added when first needed."""
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self._start_page: StartPage | None = None
        self.login = LoginPage(self.state)
        self.login.logged_in.connect(self._logged_in)
        self.login.password_warning.connect(lambda text: self.show_message(text, "info"))
        self.login.ledger_warning.connect(lambda text: self.show_message(text, "error"))
        self.login.typing_started.connect(self.prepare_screens)
        self._preparing = False
        self.stack.addWidget(self.login)
        self.wizard: Any = None
        self.work: WorkArea | None = None

    def _build_status_bar(self) -> None:
        """Status bar, left to right: the organisation (elided first when room is short), the
        counter, the rate notice (when a newer table should exist), and the sync indicator,
        which is always whole."""
        status = self.statusBar()
        self.counter_status = ElidedLabel()
        self.counter_status.setObjectName("organisation")
        status.addWidget(self.counter_status, 1)
        self.counter_code = QLabel()
        self.counter_code.setObjectName("counterCode")
        status.addWidget(self.counter_code)
        self.rate_status = ElidedLabel()
        self.rate_status.setObjectName("rateNotice")
        self.rate_status.hide()
        status.addWidget(self.rate_status, 2)
        self.rate_ack = QPushButton("Đã biết")
        self.rate_ack.setObjectName("rateAck")
        self.rate_ack.setToolTip("Giám sát viên xác nhận đã biết; thông báo ẩn với bảng này.")
        self.rate_ack.clicked.connect(self.acknowledge_rates)
        self.rate_ack.hide()
        status.addWidget(self.rate_ack)
        # The day's backup: gives way (elided) before the sync state and its button do.
        self.backup_status = ElidedLabel()
        self.backup_status.setObjectName("backupStatus")
        self.backup_status.hide()
        status.addWidget(self.backup_status, 1)
        self.sync_indicator = SyncIndicator()
        self.sync_indicator.setMinimumWidth(self.sync_indicator.sizeHint().width())
        status.addPermanentWidget(self.sync_indicator)
        self.sync_indicator.sync_requested.connect(self.sync_now)
        self.sync_indicator.details_requested.connect(lambda: self._shortcut_screen("sync"))

    def _build_idle_lock(self) -> None:
        # Not state.settings: that imports the SQLAlchemy-backed settings service at start-up.
        self.idle_lock = IdleLock(self, DEFAULT_IDLE_LOCK_MINUTES)
        self.idle_lock.idle.connect(self._idle)
        self.state.settings_changed.connect(
            lambda s: self.idle_lock.set_minutes(s.idle_lock_minutes)
        )

    # --- start-up -------------------------------------------------------------------------

    @property
    def sync(self) -> SyncBridge:
        """The sync bridge, made on first use (the first login): its module and the QObject
        with its signals cost a few milliseconds the start-up path does without."""
        if self._sync is None:
            from ui.qt.sync_bridge import SyncBridge

            self._sync = SyncBridge(self.state, self)
            self.state.sync = self._sync
            self._sync.status_changed.connect(self.sync_indicator.show_status)
        return self._sync

    @property
    def start_page(self) -> StartPage:
        if self._start_page is None:
            self._start_page = StartPage()
            self.stack.addWidget(self._start_page)
        return self._start_page

    def _add_shortcut(self, keys: str, slot: Any) -> None:
        from PySide6.QtGui import QKeySequence, QShortcut

        shortcut = QShortcut(QKeySequence(keys), self)  # default context: this window
        shortcut.activated.connect(slot)
        self._shortcuts.append(shortcut)

    def start(self) -> None:
        """Show the first screen and open the database in the background."""
        path = self.state.db_path
        if path is None:
            from app.storage.db import default_db_path

            path = default_db_path()
            self.state.db_path = path
        if path.exists():
            self.stack.setCurrentWidget(self.login)
            self.login.show_sign_in()
            self._announce_ready()
        else:
            self.stack.setCurrentWidget(self.start_page)  # "opening…" until the wizard
        counter_ops.open_database(self, self.state, path).success(self._opened).failure(
            self._open_failed
        ).run()
        from ui.qt import ops

        ops.prestart()

    def _announce_ready(self) -> None:
        if not self._ready_sent:
            self._ready_sent = True
            QTimer.singleShot(0, self.ready.emit)

    def _opened(self, opened: counter_ops.Opened) -> None:
        self.state.set_settings(opened.settings)
        if opened.counter is not None:
            self.state.set_counter(opened.counter)
            if self.stack.currentWidget() is not self.login:
                self.stack.setCurrentWidget(self.login)
                self.login.show_sign_in()
            self.prepare_screens()
        else:
            self._show_wizard()
        self._announce_ready()
        self.db_opened.emit()

    def _open_failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self.start_page.show_failure(message_for(exc))
        self.stack.setCurrentWidget(self.start_page)
        self._announce_ready()

    def _show_wizard(self) -> None:
        import logging

        from ui.qt.wizard import SetupWizard

        self.wizard = SetupWizard(self.state)
        self.wizard.initialised.connect(self._initialised)
        self.stack.addWidget(self.wizard)
        self.stack.setCurrentWidget(self.wizard)
        self.wizard._go(0)
        # A line the built program's smoke test waits for (tests/bundle/).
        logging.getLogger("quaythu.ui").info("setup wizard shown for %s", self.state.db_path)

    def _initialised(self, admin: Actor) -> None:
        self.stack.setCurrentWidget(self.login)
        self.login.show_sign_in(admin.username)
        done = self.wizard.done_message() if self.wizard is not None else "Đã khởi tạo quầy."
        self.login.show_message(done, "info")
        self.prepare_screens()
        if self.wizard is not None:
            self.stack.removeWidget(self.wizard)
            self.wizard.deleteLater()
            self.wizard = None

    def _changed(self, changes: OpChanges) -> None:
        """Ops that queue records for central make the pending count move (recounted on the
        database thread, after the op); others — a reprint — leave it alone."""
        if changes.payments and self.work is not None:
            self.shifts.refresh()  # the drawer's expected cash moved
        if changes.sync and self._sync is not None:
            self._sync.local_change()
        if (changes.sync or changes.notify) and self._notify is not None:
            if not self._notify_reporting:
                self._notify.wake()  # notices were queued (a payment, a void, a resend)

    def _notify_reported(self, report: Any) -> None:
        """A pass of the notice sender handled messages: the screens that show their states
        (Giao dịch hôm nay) refresh. Its own report does not wake it again."""
        if not (report.claimed or report.recovered):
            return
        from ui.qt.changes import OpChanges

        self._notify_reporting = True
        try:
            self.state.notify(OpChanges(notify=True))
        finally:
            self._notify_reporting = False

    def _counter_changed(self, counter: Any) -> None:
        self.setWindowTitle(
            f"{APP_TITLE} — {counter.collection_point} — Quầy {counter.counter_code}"
        )
        self.counter_status.set_full_text(counter.organisation)
        self.counter_code.setText(f"Quầy {counter.counter_code}")
        if self._sync is None or self._sync.status is None:
            self.sync_indicator.show_configured(counter.central_url)

    # --- signing in, locking --------------------------------------------------------------

    def _ensure_work(self) -> WorkArea:
        if self.work is None:
            self.work = WorkArea(self)
            self.stack.addWidget(self.work)
            for key, _caption, shortcut in SCREENS:
                self._add_shortcut(shortcut, lambda k=key: self._shortcut_screen(k))
            self._add_shortcut("Ctrl+L", self.lock)
            self._add_shortcut(CHANGE_PASSWORD_KEY, self.change_password)
            self._add_shortcut(LOGOUT_KEY, self._shortcut_logout)
            self._add_shortcut(REPRINT_LAST_KEY, self._shortcut_reprint_last)
            self._add_shortcut(SYNC_NOW_KEY, self._shortcut_sync_now)
            self._add_shifts()
        return self.work

    def prepare_screens(self) -> None:
        """While the sign-in screen waits (from the moment the database is open, or the first
        key typed), build the working area and the payment screen a step at a time (each step
        a few milliseconds of the GUI thread, with the event loop running in between), so that
        the sign-in only shows them; then load on the I/O pool the modules without Qt that the
        sign-in and the first payment need (after the steps: two threads running Python at
        once each run at half speed, and an import of a C extension holds the GIL throughout),
        and move the loaded program out of the garbage collector's reach. When the sign-in
        comes first, `_logged_in` builds what is still missing."""
        if self._preparing or self.work is not None:
            return
        self._preparing = True
        import importlib

        from ui.qt import ops

        steps: list[Any] = [
            lambda name=name: importlib.import_module(name) for name in PREPARED_MODULES
        ]
        steps += [
            self._ensure_work,
            lambda: self._ensure_work().page("payment"),
            lambda: self._ensure_work().page("payment").ensure_done(),
        ]

        def step() -> None:
            if self.state.actor is not None:
                steps.clear()  # signed in already: what is missing is built by the sign-in
            if not steps:
                from ui.qt.login import warm_imports
                from ui.qt.sync_bridge import freeze_long_lived_objects

                ops.IoOp(self, warm_imports).success(
                    lambda _none: freeze_long_lived_objects()
                ).failure(lambda _exc: None).run()
                return
            steps.pop(0)()
            ops.defer(self, PREPARE_STEP_MS, step)

        ops.defer(self, PREPARE_STEP_MS, step)

    def _add_shifts(self) -> None:
        from ui.qt.shift import CASH_MOVE_KEY, SHIFT_KEY, ShiftController

        self.shifts = ShiftController(self)
        self._add_shortcut(SHIFT_KEY, lambda: self._work_key(self.shifts.shift_key))
        self._add_shortcut(CASH_MOVE_KEY, lambda: self._work_key(self.shifts.cash_move_dialog))
        self.work.page("payment").before_payment = self.shifts.gate  # type: ignore[union-attr]

    def _work_key(self, slot: Any) -> None:
        if self.work is not None and self.stack.currentWidget() is self.work:
            if not self._dialog_open():
                slot()

    def _logged_in(self, actor: Actor) -> None:
        previous = self.state.actor
        switched = previous is not None and previous.id != actor.id
        resumed = self._locked and not switched
        self._locked = False
        bridge = self.sync  # before the screens: they find it in state.sync
        work = self._ensure_work()
        if switched:
            work.reset_pages()
        self.state.set_actor(actor)
        work.set_actor(actor)
        self.shifts.refresh()
        self.stack.setCurrentWidget(work)
        if resumed and work.current_key():
            page = work.pages[work.current_key() or "payment"]
            focus = getattr(page, "restore_focus", None)
            if callable(focus):
                focus()
        else:
            work.show_screen("payment")
            if switched:
                work.show_message(
                    f"Đã đổi người thu: {previous.full_name} → {actor.full_name}.",  # type: ignore[union-attr]
                    "info",
                )
        if self._confirm_cancelled_by_lock:
            self._confirm_cancelled_by_lock = False
            work.show_message(
                "Màn hình đã tự khóa khi đang xác nhận thu tiền: khoản thu đó CHƯA được ghi. "
                "Nếu đã nhận tiền, hãy thu lại (F9) cho người nộp.",
                "error",
            )
        self.idle_lock.set_minutes(self.state.settings.idle_lock_minutes)
        self.idle_lock.start()
        from ui.qt import ops

        # The background work starts once the screen has been shown: its threads' Python would
        # otherwise compete for the GIL with the GUI thread's first paint of the screen.
        ops.defer(self, BACKGROUND_DELAY_MS, lambda: self._start_background(bridge))

    def _start_background(self, bridge: SyncBridge) -> None:
        if self.state.actor is None:
            return  # signed out meanwhile: the next sign-in starts it
        self._check_rates()
        self._daily_backup()
        self._start_notify()
        bridge.start()  # once: later logins find it running (or know it is standalone)

    def _start_notify(self) -> None:
        """Payer notices (docs/NOTIFY.md) go out from their own thread, never the GUI's or the
        database worker's: queued with the payment, sent when the gateway answers. Built on the
        I/O pool (it reads the keyring for the gateway's secret); once per window."""
        if self._notify is not None:
            return
        db = self.state.db

        def make() -> NotifyWorker:
            from sync.notify_worker import NotifyWorker

            worker = NotifyWorker(db, on_report=self.notify_reported.emit)
            worker.start()
            return worker

        def started(worker: NotifyWorker) -> None:
            self._notify = worker

        IoOp(self, make).success(started).run()

    def stop_notify(self, timeout: float = 0.0) -> None:
        """Ask the notice sender to stop (the window's close: at once; `ui.qt.app.run`: bounded
        wait, before the database closes). A message in flight is recovered on the next start."""
        if self._notify is not None:
            self._notify.stop(timeout)

    def _check_rates(self) -> None:
        def show(result: RateNotice) -> None:
            self.rate_version = result.version
            visible = result.text is not None
            self.rate_status.setVisible(visible)
            self.rate_status.set_full_text(result.text or "")
            if result.detail:
                self.rate_status.setToolTip(result.detail)
            self._show_rate_ack()

        counter_ops.rate_notice(self, self.state).success(show).failure(lambda _exc: None).run()

    def _show_rate_ack(self) -> None:
        from app.domain.types import Role

        actor = self.state.actor
        can = actor is not None and actor.role in (Role.SUPERVISOR, Role.ADMIN)
        self.rate_ack.setVisible(can and self.rate_status.isVisibleTo(self))

    def acknowledge_rates(self) -> None:
        """A supervisor has seen the notice: hide it for this table (until a newer one)."""
        if self.rate_version is None or not self.rate_ack.isVisible():
            return
        counter_ops.acknowledge_rates(self, self.state, self.rate_version).success(
            lambda _none: self._check_rates()
        ).run()

    def change_password(self) -> None:
        """ "Đổi mật khẩu" for the signed-in operator (the old password is asked for)."""
        if self.work is None or self.stack.currentWidget() is not self.work:
            return
        if self._dialog_open() or self.state.actor is None:
            return
        from ui.qt.change_password import ChangePasswordDialog

        dialog = ChangePasswordDialog(self.state, self)
        dialog.changed.connect(lambda: self.show_message("Đã đổi mật khẩu.", "info"))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _daily_backup(self) -> None:
        """The end-of-day backup, once per start: the first sign-in on a new business day makes
        it (docs/BACKUP.md); the result stays in the status bar."""
        if self._backup_started:
            return
        self._backup_started = True
        from ui.qt.operations import backup as backup_ops

        def show(result: object) -> None:
            ok = bool(getattr(result, "ok", False))
            self.backup_status.set_full_text(str(getattr(result, "status_text", "")))
            self.backup_status.setToolTip(str(getattr(result, "message", "")))
            self.backup_status.setObjectName("backupStatus" if ok else "fieldError")
            self.backup_status.show()

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.backup_status.set_full_text("Sao lưu: LỖI")
            self.backup_status.setToolTip(message_for(exc))
            self.backup_status.setObjectName("fieldError")
            self.backup_status.show()

        backup_ops.daily(self, self.state).success(show).failure(failed).run()

    def is_locked(self) -> bool:
        return self._locked

    def _idle(self) -> None:
        self.lock()

    def _close_dialogs(self) -> None:
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible() and not getattr(dialog, "busy", False):
                dialog.reject()

    def lock(self) -> None:
        actor = self.state.actor
        if actor is None or self._locked:
            return
        busy = [
            d for d in self.findChildren(QDialog) if d.isVisible() and getattr(d, "busy", False)
        ]
        if busy:
            # A payment is being written: lock right after it, never in the middle.
            QTimer.singleShot(1000, self.lock)
            return
        from ui.qt.confirm import ConfirmDialog

        if any(d.isVisible() for d in self.findChildren(ConfirmDialog)):
            self._confirm_cancelled_by_lock = True
        self._close_dialogs()
        self._locked = True
        self.idle_lock.stop()
        self.stack.setCurrentWidget(self.login)
        self.login.show_locked(actor)

    def logout(self, *, confirmed: bool = False) -> None:
        """End the shift; asks first when payments still wait to reach central."""
        if not confirmed:
            self._confirm_unsynced("logout", lambda: self.logout(confirmed=True))
            return
        self._close_dialogs()
        self._locked = False
        self.idle_lock.stop()
        if self.work is not None:
            self.work.reset_pages()
        self.state.set_actor(None)
        self.stack.setCurrentWidget(self.login)
        self.login.show_sign_in()

    def _dialog_open(self) -> bool:
        return any(d.isVisible() for d in self.findChildren(QDialog))

    def _shortcut_screen(self, key: str) -> None:
        if self.work is None or self.stack.currentWidget() is not self.work:
            return
        if self._dialog_open():
            return
        page = self.work.show_screen(key)
        if key == "payment" and page is not None:
            page.new_payment()

    def _shortcut_logout(self) -> None:
        if self.work is not None and self.stack.currentWidget() is self.work:
            if not self._dialog_open():
                self.logout()

    def _shortcut_reprint_last(self) -> None:
        """Ctrl+Shift+P: the last receipt of this session again, as a counted copy (BẢN SAO)."""
        if self.work is None or self.stack.currentWidget() is not self.work:
            return
        if self._dialog_open():
            return
        page = self.work.page("payment")
        page.reprint_last()

    def _shortcut_sync_now(self) -> None:
        if self.work is not None and self.stack.currentWidget() is self.work:
            self.sync_now()

    def sync_now(self) -> None:
        """ "Đồng bộ ngay": asks the scheduler and returns at once; the indicator follows."""
        if self.sync.sync_now():
            return
        if self.sync.enrolled is False:
            self.show_message(
                "Quầy đang làm việc độc lập (chưa đăng ký với hệ thống trung tâm). Quản trị viên "
                "đăng ký trong màn hình Đồng bộ (F6).",
                "info",
            )

    # --- unsynced payments at the end of a shift ------------------------------------------

    def _confirm_unsynced(self, action: str, proceed: Any) -> None:
        """Run `proceed` now, or after the cashier confirms that N payments are still waiting.

        The count comes from the database thread (queued after any payment being recorded), so
        the GUI thread never waits on the database; the question is a non-blocking dialog.
        """
        if self.unsynced_dialog is not None or self._counting_unsynced:
            return  # already asking
        if not self.sync.may_have_unsynced():
            proceed()
            return
        self._counting_unsynced = True

        def counted(pending: int) -> None:
            self._counting_unsynced = False
            if pending:
                self._ask_unsynced(pending, action, proceed)
            else:
                proceed()

        def failed(_exc: BaseException) -> None:
            self._counting_unsynced = False
            proceed()  # a broken database must not keep the window from closing

        sync_ops.pending(self, self.state).success(counted).failure(failed).run()

    def _ask_unsynced(self, pending: int, action: str, proceed: Any) -> None:
        from app.domain.money import format_number

        closing = action == "close"
        box = QMessageBox(self)
        box.setObjectName("unsyncedDialog")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Còn khoản thu chưa gửi")
        box.setText(f"Còn {format_number(pending)} khoản thu chưa gửi lên hệ thống trung tâm.")
        box.setInformativeText(
            "Các khoản này đã được lưu an toàn tại quầy. "
            + (
                "Nếu đóng chương trình bây giờ, chúng sẽ được gửi khi chương trình mở lại và có "
                "kết nối; đến lúc đó trung tâm chưa thấy chúng."
                if closing
                else "Sau khi đăng xuất, chương trình vẫn tiếp tục gửi khi có kết nối."
            )
        )
        leave = box.addButton(
            "Vẫn đóng chương trình" if closing else "Vẫn đăng xuất",
            QMessageBox.ButtonRole.DestructiveRole,
        )
        sync = (
            box.addButton("Đồng bộ ngay", QMessageBox.ButtonRole.ActionRole)
            if self.sync.running
            else None
        )
        stay = box.addButton("Ở lại", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        self.unsynced_dialog = box

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            self.unsynced_dialog = None
            box.deleteLater()
            if clicked is leave:
                proceed()
            elif sync is not None and clicked is sync:
                self.sync_now()

        box.finished.connect(answered)
        box.open()

    def _close_anyway(self) -> None:
        self._close_confirmed = True
        self.close()

    def show_message(self, text: str, kind: str = "info") -> None:
        if self.work is not None and self.stack.currentWidget() is self.work:
            self.work.show_message(text, kind)
        else:
            self.login.show_message(text, kind)

    def closeEvent(self, event: QCloseEvent) -> None:
        busy = [
            d for d in self.findChildren(QDialog) if d.isVisible() and getattr(d, "busy", False)
        ]
        if busy:
            event.ignore()
            self.show_message("Đang ghi khoản thu; đợi xong rồi hãy đóng cửa sổ.", "error")
            return
        if not self._close_confirmed and self.sync.may_have_unsynced():
            event.ignore()
            self._confirm_unsynced("close", self._close_anyway)
            return
        self.idle_lock.stop()
        self.sync.shutdown()  # returns at once; ui.qt.app.run waits for it, bounded
        self.stop_notify()
        super().closeEvent(event)
