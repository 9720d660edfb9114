""" "Đổi mật khẩu" for the signed-in operator (Ctrl+Shift+M): a dialog built on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from ui.qt.login import MISMATCH, CapsLockHint, password_field, rule
from ui.qt.operations import operators
from ui.qt.widgets import FormDialog, hint

if TYPE_CHECKING:
    from app.services.operators import SignIn
    from ui.qt.state import AppState


class ChangePasswordDialog(FormDialog):
    """ "Đổi mật khẩu" for the signed-in operator: the current password, then the new one twice."""

    changed = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__("Đổi mật khẩu", "Đổi mật khẩu", parent)
        self.setObjectName("changePasswordDialog")
        self.state = state
        actor = state.require_actor()
        self.username = actor.username
        self.body.addWidget(hint(f"Tài khoản {actor.full_name} ({actor.username}). {rule()}."))
        self.old_password = password_field("old_password")
        self.new_password = password_field("new_password")
        self.new_password2 = password_field("new_password2")
        self.form.addRow("Mật khẩu hiện tại:", self.old_password)
        self.form.addRow("Mật khẩu mới:", self.new_password)
        self.form.addRow("Nhập lại mật khẩu mới:", self.new_password2)
        self.caps_lock = CapsLockHint()
        for field in (self.old_password, self.new_password, self.new_password2):
            self.caps_lock.watch(field)
        self.body.addWidget(self.caps_lock)
        self.old_password.returnPressed.connect(self.new_password.setFocus)
        self.new_password.returnPressed.connect(self.new_password2.setFocus)
        self.new_password2.returnPressed.connect(self.submit)
        self.finish_layout()
        self.old_password.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        old, new = self.old_password.text(), self.new_password.text()
        if not old:
            self.show_message("Hãy nhập mật khẩu hiện tại.")
            self.old_password.setFocus()
            return
        if new != self.new_password2.text():
            self.show_message(MISMATCH)
            self.new_password2.clear()
            self.new_password2.setFocus()
            return
        self.set_busy(True, "Đang đổi…")
        operators.change_own_password(self, self.state, self.username, old, new).success(
            self._done
        ).failure(self._failed).run()

    def _done(self, _signed: SignIn) -> None:
        self.set_busy(False)
        self.changed.emit()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        from app.errors import ValidationError
        from ui.qt.errors import message_for

        self.set_busy(False)
        self.show_message(message_for(exc))
        if isinstance(exc, ValidationError):
            self.new_password.clear()
            self.new_password2.clear()
            self.new_password.setFocus()
        else:
            self.old_password.clear()
            self.old_password.setFocus()
