"""Login and lock screen, the forced password change, and "Đổi mật khẩu".

Three modes on one page:
- sign in: user name + password;
- locked: the signed-in operator's name is shown and their password resumes the session; any
  other operator may sign in instead, which switches the operator (the window decides what that
  resets);
- change: a sign-in that owes a new password (first sign-in, reset by an admin, expired) shows
  the new-password fields before anything else; `logged_in` is emitted only once it is changed.

Authentication and changes run on the database thread (argon2 takes a noticeable moment on
purpose); the GUI thread never waits for them. A failed sign-in clears the password. Password
fields show when Caps Lock seems to be on (`CapsLockHint`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.qt.basic import card, fkey_text, hint, page_title
from ui.qt.operations import operators
from ui.qt.state import AppState

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent

    from app.services.common import Actor
    from app.services.operators import SignIn

CHANGE_PASSWORD_KEY = "Ctrl+Shift+M"
CAPS_LOCK_TEXT = "⇪ Caps Lock đang bật"
MISMATCH = "Hai lần nhập mật khẩu mới không giống nhau."


class CapsLockHint(QLabel):
    """A warning shown while Caps Lock seems on in the watched password fields.

    Qt has no portable way to ask for the Caps Lock state, so it is read from what is typed: a
    capital letter without Shift (or a small one with Shift) means Caps Lock is on; a letter the
    other way round means it is off. Caps Lock itself toggles the hint.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(CAPS_LOCK_TEXT, parent)
        self.setObjectName("fieldError")
        self.hide()
        self._watched: list[QLineEdit] = []

    def watch(self, field: QLineEdit) -> None:
        field.installEventFilter(self)
        self._watched.append(field)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            self._seen(event)  # type: ignore[arg-type]
        elif event.type() == QEvent.Type.FocusOut and not any(f.hasFocus() for f in self._watched):
            self.hide()
        return False

    def _seen(self, event: QKeyEvent) -> None:
        from PySide6.QtCore import Qt  # not at import: the enum namespace is slow to build

        if event.key() == Qt.Key.Key_CapsLock:
            self.setVisible(not self.isVisible())
            return
        text = event.text()
        if len(text) != 1 or not text.isalpha() or text.lower() == text.upper():
            return
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.setVisible(text.isupper() != shift)


def password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class LoginPage(QWidget):
    logged_in = Signal(object)  # Actor
    password_warning = Signal(str)  # after logged_in, when the password expires soon
    ledger_warning = Signal(str)  # after logged_in, when the books differ from their anchor
    typing_started = Signal()  # the first key of a sign-in: the window prepares its screens

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.locked_actor: Actor | None = None
        self._busy = False
        self._pending: tuple[str, str] | None = None  # (user, old password) during a change

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        box = card()
        box.setMinimumWidth(520)
        box.setMaximumWidth(640)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        layout = QVBoxLayout(box)
        self._build_form(layout)
        self._build_change_form(layout)
        self._build_buttons(layout)
        self._warmed = False
        self.username.textEdited.connect(self._warm_up)
        self.password.textEdited.connect(self._warm_up)
        self.username.returnPressed.connect(self._username_done)
        self.password.returnPressed.connect(self.attempt)
        self.new_password.returnPressed.connect(self.new_password2.setFocus)
        self.new_password2.returnPressed.connect(self.attempt)
        state.counter_changed.connect(self._show_counter)

    def _build_form(self, layout: QVBoxLayout) -> None:
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(10)
        self.title = page_title("Đăng nhập")
        layout.addWidget(self.title)
        self.counter_label = hint("Đang mở cơ sở dữ liệu…")
        layout.addWidget(self.counter_label)
        self.lock_label = QLabel()
        self.lock_label.setWordWrap(True)
        self.lock_label.hide()
        layout.addWidget(self.lock_label)

        self.sign_in_box = QWidget()
        form = QFormLayout(self.sign_in_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setPlaceholderText("ví dụ: thungan1")
        self.password = password_field("password")
        user_caption = QLabel("&Tên đăng nhập:")
        user_caption.setBuddy(self.username)
        pass_caption = QLabel("&Mật khẩu:")
        pass_caption.setBuddy(self.password)
        form.addRow(user_caption, self.username)
        form.addRow(pass_caption, self.password)
        layout.addWidget(self.sign_in_box)

    def _build_change_form(self, layout: QVBoxLayout) -> None:
        self.change_box = QWidget()
        self.change_box.hide()
        column = QVBoxLayout(self.change_box)
        column.setContentsMargins(0, 0, 0, 0)
        self.change_reason = QLabel()
        self.change_reason.setWordWrap(True)
        column.addWidget(self.change_reason)
        self.rule_hint = hint("")  # filled when shown: the rule's module loads argon2
        column.addWidget(self.rule_hint)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.new_password = password_field("new_password")
        self.new_password2 = password_field("new_password2")
        new_caption = QLabel("Mật khẩu &mới:")
        new_caption.setBuddy(self.new_password)
        again_caption = QLabel("&Nhập lại:")
        again_caption.setBuddy(self.new_password2)
        form.addRow(new_caption, self.new_password)
        form.addRow(again_caption, self.new_password2)
        column.addLayout(form)
        layout.addWidget(self.change_box)

        self.caps_lock = CapsLockHint()
        for field in (self.password, self.new_password, self.new_password2):
            self.caps_lock.watch(field)
        layout.addWidget(self.caps_lock)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

    def _build_buttons(self, layout: QVBoxLayout) -> None:
        buttons = QHBoxLayout()
        self.switch_button = QPushButton("Đăng nhập tài khoản khác")
        self.switch_button.clicked.connect(self._switch_user)
        self.switch_button.hide()
        buttons.addWidget(self.switch_button)
        self.cancel_change = QPushButton(fkey_text("Hủy", "Esc"))
        self.cancel_change.clicked.connect(self.show_sign_in)
        self.cancel_change.hide()
        buttons.addWidget(self.cancel_change)
        buttons.addStretch(1)
        self.submit = QPushButton(fkey_text("Đăng nhập", "Enter"))
        self.submit.setObjectName("primary")
        self.submit.clicked.connect(self.attempt)
        buttons.addWidget(self.submit)
        layout.addLayout(buttons)

    def _warm_up(self, _text: str = "") -> None:
        """The first key typed: the window prepares its working screens and then loads, on the
        I/O pool, the modules the sign-in and the first payment need (`warm_imports`), so that
        the window does not stall building or importing them right after the sign-in."""
        if self._warmed:
            return
        self._warmed = True
        self.typing_started.emit()

    # --- modes ----------------------------------------------------------------------------

    def _show_counter(self, counter: object) -> None:
        self.counter_label.setText(
            f"{counter.organisation} — {counter.collection_point} · Quầy {counter.counter_code}"  # type: ignore[attr-defined]
        )

    def changing(self) -> bool:
        return self._pending is not None

    def _leave_change(self) -> None:
        self._pending = None
        self.change_box.hide()
        self.cancel_change.hide()
        self.sign_in_box.show()
        self.new_password.clear()
        self.new_password2.clear()

    def show_sign_in(self, username: str = "") -> None:
        self._leave_change()
        self.locked_actor = None
        self.title.setText("Đăng nhập")
        self.lock_label.hide()
        self.switch_button.hide()
        self.username.setReadOnly(False)
        self.username.setText(username)
        self._reset()
        (self.password if username else self.username).setFocus()

    def show_locked(self, actor: Actor) -> None:
        self._leave_change()
        self.locked_actor = actor
        self.title.setText("Màn hình đã khóa")
        self.lock_label.setText(
            f"Đang làm việc: <b>{actor.full_name}</b> ({actor.username}). "
            "Nhập mật khẩu để tiếp tục, hoặc đăng nhập bằng tài khoản khác để đổi người thu."
        )
        self.lock_label.show()
        self.switch_button.show()
        self.username.setText(actor.username)
        self.username.setReadOnly(True)
        self._reset()
        self.password.setFocus()

    def show_change(self, username: str, old_password: str, reason: str) -> None:
        """The new-password form for a sign-in that owes a change; nothing else until done."""
        self._pending = (username, old_password)
        self.title.setText("Đổi mật khẩu")
        self.change_reason.setText(reason)
        self.rule_hint.setText(f"Mật khẩu mới: {rule()}.")
        self.lock_label.hide()
        self.switch_button.hide()
        self.sign_in_box.hide()
        self.change_box.show()
        self.cancel_change.show()
        self.password.clear()
        self._reset()
        self.new_password.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        from PySide6.QtCore import Qt

        if event.key() == Qt.Key.Key_Escape and self.changing() and not self._busy:
            self.show_sign_in(self._pending[0] if self._pending else "")
            return
        super().keyPressEvent(event)

    def _switch_user(self) -> None:
        self.username.setReadOnly(False)
        self.username.clear()
        self.password.clear()
        self.username.setFocus()

    def _reset(self) -> None:
        self.password.clear()
        self.error.hide()
        self._set_busy(False)

    def _username_done(self) -> None:
        if self.username.text().strip():
            self.password.setFocus()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.submit.setEnabled(not busy)
        action = "Đổi mật khẩu" if self.changing() else "Đăng nhập"
        self.submit.setText("Đang kiểm tra…" if busy else fkey_text(action, "Enter"))

    def show_message(self, text: str, kind: str = "error") -> None:
        """A message under the form: red for an error, green for news (the wizard's "done")."""
        name = "fieldError" if kind == "error" else "loginNote"
        if self.error.objectName() != name:
            self.error.setObjectName(name)
            self.error.style().unpolish(self.error)
            self.error.style().polish(self.error)
        self.error.setText(text)
        self.error.show()

    # --- signing in -----------------------------------------------------------------------

    def attempt(self) -> None:
        if self._busy:
            return
        if self.changing():
            self._change()
            return
        username = self.username.text().strip()
        password = self.password.text()
        if not username:
            self.show_message("Hãy nhập tên đăng nhập.")
            self.username.setFocus()
            return
        if not password:
            self.show_message("Hãy nhập mật khẩu.")
            self.password.setFocus()
            return
        self.error.hide()
        self._set_busy(True)
        operators.sign_in(self, self.state, username, password).success(
            lambda signed: self._done(signed, password)
        ).failure(self._failed).run()

    def _done(self, signed: SignIn, password: str) -> None:
        self._set_busy(False)
        self.password.clear()
        reason = signed.change_required
        if reason is not None:
            self.show_change(signed.actor.username, password, reason.message)
            return
        self.logged_in.emit(signed.actor)
        if signed.password.warning:
            self.password_warning.emit(signed.password.warning)
        if signed.ledger_findings:
            self.ledger_warning.emit(
                "SỔ THU CÓ DẤU HIỆU BỊ SỬA: "
                + "; ".join(signed.ledger_findings)
                + ". Báo ngay giám sát viên; chạy kiểm tra sổ (quaythu verify)."
            )

    def _failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self._set_busy(False)
        self.show_message(message_for(exc))
        self.password.clear()  # a wrong password is never left to be re-sent by mistake
        self.password.setFocus()

    def _change(self) -> None:
        assert self._pending is not None
        username, old = self._pending
        new = self.new_password.text()
        if new != self.new_password2.text():
            self.show_message(MISMATCH)
            self.new_password2.clear()
            self.new_password2.setFocus()
            return
        self.error.hide()
        self._set_busy(True)
        operators.change_own_password(self, self.state, username, old, new).success(
            self._changed
        ).failure(self._change_failed).run()

    def _changed(self, signed: SignIn) -> None:
        self._leave_change()
        self._set_busy(False)
        self.logged_in.emit(signed.actor)

    def _change_failed(self, exc: BaseException) -> None:
        from app.errors import ValidationError
        from ui.qt.errors import message_for

        self._set_busy(False)
        self.show_message(message_for(exc))
        if isinstance(exc, ValidationError):
            self.new_password.clear()
            self.new_password2.clear()
            self.new_password.setFocus()
        else:  # the old password no longer works (locked, disabled meanwhile): start again
            user = self._pending[0] if self._pending else ""
            self._leave_change()
            self.sign_in_box.show()
            self.title.setText("Đăng nhập")
            self.username.setText(user)
            self.password.setFocus()
            self._set_busy(False)


WARM_MODULES = (
    "sync.config",
    "app.services.operators",
    # what the sign-in starts in the background and the first payment uses
    "app.services.payments",
    "app.services.documents",
    "app.services.rates",
    "app.services.backup",
    "app.services.outbox",
    "sync.engine",
    "sync.notify_worker",
    "sync.reconciliation",
    "printing.receipt",
)
"""Modules without Qt only: a Qt module's import loads shared libraries with the GIL held,
which would stall typing instead of the sign-in, and PySide builds its enum types on first
use — in one thread, the GUI's (`MainWindow.prepare_screens` imports the window's own)."""


def warm_imports() -> None:
    """The modules above, then the receipt fonts (parsed once per process; the first receipt
    would otherwise wait for them while the done screen is being shown). With a short GIL
    switch interval meanwhile, so that the GUI thread gets in promptly while someone types."""
    import importlib
    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0005))
    try:
        for name in WARM_MODULES:
            importlib.import_module(name)
        from printing.fonts import ensure_fonts

        ensure_fonts()
    finally:
        sys.setswitchinterval(interval)


def rule() -> str:
    from app.domain.passwords import PASSWORD_RULE

    return PASSWORD_RULE
