"""Login and lock screen.

Two modes on one page:
- sign in: user name + password;
- locked: the signed-in operator's name is shown and their password resumes the session; any
  other operator may sign in instead, which switches the operator (the window decides what that
  resets).

Authentication runs on the database thread (argon2 takes a noticeable moment on purpose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
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
    from app.services.common import Actor


class LoginPage(QWidget):
    logged_in = Signal(object)  # Actor

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.locked_actor: Actor | None = None
        self._busy = False

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
        self._build_buttons(layout)
        self.username.returnPressed.connect(self._username_done)
        self.password.returnPressed.connect(self.attempt)
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

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setPlaceholderText("ví dụ: thungan1")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        user_caption = QLabel("&Tên đăng nhập:")
        user_caption.setBuddy(self.username)
        pass_caption = QLabel("&Mật khẩu:")
        pass_caption.setBuddy(self.password)
        form.addRow(user_caption, self.username)
        form.addRow(pass_caption, self.password)
        layout.addLayout(form)

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
        buttons.addStretch(1)
        self.submit = QPushButton(fkey_text("Đăng nhập", "Enter"))
        self.submit.setObjectName("primary")
        self.submit.clicked.connect(self.attempt)
        buttons.addWidget(self.submit)
        layout.addLayout(buttons)

    # --- modes ----------------------------------------------------------------------------

    def _show_counter(self, counter: object) -> None:
        self.counter_label.setText(
            f"{counter.organisation} — {counter.collection_point} · Quầy {counter.counter_code}"  # type: ignore[attr-defined]
        )

    def show_sign_in(self, username: str = "") -> None:
        self.locked_actor = None
        self.title.setText("Đăng nhập")
        self.lock_label.hide()
        self.switch_button.hide()
        self.username.setReadOnly(False)
        self.username.setText(username)
        self._reset()
        (self.password if username else self.username).setFocus()

    def show_locked(self, actor: Actor) -> None:
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
        self.submit.setText("Đang kiểm tra…" if busy else fkey_text("Đăng nhập", "Enter"))

    def show_message(self, text: str, kind: str = "error") -> None:
        self.error.setText(text)
        self.error.show()

    # --- signing in -----------------------------------------------------------------------

    def attempt(self) -> None:
        if self._busy:
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
        operators.sign_in(self, self.state, username, password).success(self._done).failure(
            self._failed
        ).run()

    def _done(self, actor: Actor) -> None:
        self._set_busy(False)
        self.password.clear()
        self.logged_in.emit(actor)

    def _failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self._set_busy(False)
        self.show_message(message_for(exc))
        self.password.selectAll()
        self.password.setFocus()
