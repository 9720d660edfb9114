"""Accounts in the window: sign-in off the GUI thread, a failed sign-in clears the password, the
forced change (first, reset, expired) before anything else, the expiry warning, Caps Lock,
"Đổi mật khẩu" (Ctrl+Shift+M) and Settings → Người dùng."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import update

from app.domain.clock import now_utc
from app.domain.types import Role
from app.services import operators as operator_service
from app.services.common import Actor
from app.services.operators import create_operator, sign_in
from app.storage.db import Database
from app.storage.models import Operator
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME, CASHIER
from tests.ui.conftest import activate, login, press, wait_ops

NEW = "lua-thom-bac-ninh"


def type_password(qtbot: Any, field: Any, text: str) -> None:
    field.setFocus()
    qtbot.keyClicks(field, text)


def submit_sign_in(qtbot: Any, window: Any, username: str, password: str) -> None:
    page = window.login
    page.username.setText(username)
    type_password(qtbot, page.password, password)
    press(page.password, Qt.Key.Key_Return)
    wait_ops(qtbot)


def test_sign_in_runs_off_the_gui_thread_and_a_failure_clears_the_password(
    qtbot: Any, make_window: Any, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = operator_service.sign_in

    def watched(*args: Any, **kw: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kw)

    monkeypatch.setattr(operator_service, "sign_in", watched)
    window = make_window()
    submit_sign_in(qtbot, window, ADMIN_USERNAME, "sai-mat-khau-x")
    page = window.login
    assert page.password.text() == ""
    assert page.error.isVisibleTo(page) and "Sai tên đăng nhập" in page.error.text()
    assert page.password.hasFocus()
    submit_sign_in(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.work, timeout=20_000)
    assert threads and all(name.startswith("quaythu-db") for name in threads)
    assert threading.main_thread().name not in threads


def test_first_sign_in_forces_a_change_before_anything_else(
    qtbot: Any, make_window: Any, db: Database, admin: Actor
) -> None:
    create_operator(
        db,
        username="thungan2",
        full_name="Ngân Hai",
        role=Role.CASHIER,
        password="mat-khau-dau-1",
        by=admin,
    )
    window = make_window()
    submit_sign_in(qtbot, window, "thungan2", "mat-khau-dau-1")
    page = window.login
    assert window.stack.currentWidget() is page and window.state.actor is None
    assert (
        page.change_box.isVisibleTo(page) and "lần đăng nhập đầu tiên" in page.change_reason.text()
    )
    assert page.new_password.hasFocus()
    # mismatch, then a weak one: said plainly, still on the change form
    type_password(qtbot, page.new_password, NEW)
    press(page.new_password, Qt.Key.Key_Return)
    type_password(qtbot, page.new_password2, NEW + "x")
    press(page.new_password2, Qt.Key.Key_Return)
    assert "không giống nhau" in page.error.text()
    page.new_password.clear()
    type_password(qtbot, page.new_password, "1234567890")
    type_password(qtbot, page.new_password2, "1234567890")
    press(page.new_password2, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert "phổ biến" in page.error.text() and window.state.actor is None
    type_password(qtbot, page.new_password, NEW)
    type_password(qtbot, page.new_password2, NEW)
    press(page.new_password2, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.work, timeout=20_000)
    assert window.state.actor.username == "thungan2"
    assert sign_in(db, "thungan2", NEW).change_required is None


def test_expired_password_is_changed_first_and_a_near_one_warns(
    qtbot: Any, make_window: Any, db: Database, admin: Actor
) -> None:
    with db.write() as s:
        s.execute(update(Operator).values(password_changed_at=now_utc() - timedelta(days=170)))
    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    bar = window.work.message_bar
    qtbot.waitUntil(lambda: "hết hạn sau" in bar.label.text())
    window.logout(confirmed=True)
    with db.write() as s:
        s.execute(update(Operator).values(password_changed_at=now_utc() - timedelta(days=200)))
    submit_sign_in(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    page = window.login
    assert page.change_box.isVisibleTo(page) and "quá hạn" in page.change_reason.text()
    type_password(qtbot, page.new_password, NEW)
    type_password(qtbot, page.new_password2, NEW)
    press(page.new_password2, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.work, timeout=20_000)


def test_caps_lock_is_shown_on_password_fields(qtbot: Any, make_window: Any, admin: Actor) -> None:
    window = make_window()
    page = window.login
    page.password.setFocus()
    no = Qt.KeyboardModifier.NoModifier
    QTest.keyClick(page.password, Qt.Key.Key_A, no)  # "a": off
    assert not page.caps_lock.isVisibleTo(page)
    QTest.sendKeyEvent(QTest.KeyAction.Click, page.password, Qt.Key.Key_A, "A", no)
    assert page.caps_lock.isVisibleTo(page) and "Caps Lock" in page.caps_lock.text()
    QTest.sendKeyEvent(
        QTest.KeyAction.Click, page.password, Qt.Key.Key_B, "b", Qt.KeyboardModifier.ShiftModifier
    )
    assert page.caps_lock.isVisibleTo(page)  # Shift + b typed "b": still on
    QTest.sendKeyEvent(QTest.KeyAction.Click, page.password, Qt.Key.Key_C, "c", no)
    assert not page.caps_lock.isVisibleTo(page)


def test_change_password_from_the_window(
    qtbot: Any, make_window: Any, db: Database, admin: Actor
) -> None:
    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    activate(qtbot, window)
    assert window.work.password_action.text().startswith("Đổi mật khẩu")
    QTest.keyClick(
        window,
        Qt.Key.Key_M,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    from ui.qt.change_password import ChangePasswordDialog

    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(ChangePasswordDialog)))
    dialog = next(d for d in window.findChildren(ChangePasswordDialog) if d.isVisible())
    type_password(qtbot, dialog.old_password, "sai-mat-khau-x")
    type_password(qtbot, dialog.new_password, NEW)
    type_password(qtbot, dialog.new_password2, NEW)
    press(dialog.new_password2, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert dialog.isVisible() and "Sai tên đăng nhập" in dialog.error.text()
    assert dialog.old_password.text() == ""
    type_password(qtbot, dialog.old_password, ADMIN_PASSWORD)
    press(dialog.new_password2, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: "Đã đổi mật khẩu" in window.work.message_bar.label.text(), timeout=20_000
    )
    assert not window.findChildren(ChangePasswordDialog) or not dialog.isVisible()
    assert sign_in(db, ADMIN_USERNAME, NEW).actor.username == ADMIN_USERNAME


def test_settings_users_reset_disable_unlock_role(
    qtbot: Any, make_window: Any, db: Database, admin: Actor, cashier: Actor
) -> None:
    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    page = window.work.show_screen("settings")
    wait_ops(qtbot)

    def select(username: str) -> None:
        row = next(i for i, o in enumerate(page.operators) if o.username == username)
        page.users.selectRow(row)

    def status(username: str) -> str:
        row = next(i for i, o in enumerate(page.operators) if o.username == username)
        return str(page.users.item(row, 3).text())

    qtbot.waitUntil(lambda: len(page.operators) == 2)
    # the last admin cannot be disabled
    select(ADMIN_USERNAME)
    page.active_button.click()
    wait_ops(qtbot)
    assert "quản trị viên cuối cùng" in page.user_status.text()
    # reset: the cashier must change at next sign-in
    select(CASHIER.username)
    page.reset_password.setText("mat-khau-tam-7")
    page.reset_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: status(CASHIER.username) == "Phải đổi mật khẩu")
    # lock the cashier out, then unlock
    for _ in range(5):
        with pytest.raises(Exception):  # noqa: B017
            sign_in(db, CASHIER.username, "sai-mat-khau-x")
    page._load_users()
    wait_ops(qtbot)
    assert status(CASHIER.username).startswith("Tạm khóa")
    select(CASHIER.username)
    page.unlock_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: status(CASHIER.username) == "Phải đổi mật khẩu")
    # disable / enable, then role
    select(CASHIER.username)
    assert page.active_button.text() == "Vô hiệu hóa"
    page.active_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: status(CASHIER.username) == "Đã vô hiệu hóa")
    select(CASHIER.username)
    assert page.active_button.text() == "Kích hoạt lại"
    page.active_button.click()
    wait_ops(qtbot)
    select(CASHIER.username)
    page.role_choice.setCurrentIndex(page.role_choice.findData(Role.SUPERVISOR))
    page.role_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(
        lambda: (
            next(o for o in page.operators if o.username == CASHIER.username).role
            is Role.SUPERVISOR
        )
    )


def fill_wizard(wizard: Any) -> None:
    wizard.organisation.setText("Bưu điện tỉnh Thái Nguyên")
    wizard.collection_point.setText("Điểm thu xã Đồng Hỷ")
    wizard.counter_code.setText("TN-DH01")
    wizard.next()
    wizard.admin_username.setText(ADMIN_USERNAME)
    wizard.admin_full_name.setText("Đặng Văn Quản")
    wizard.admin_password.setText(ADMIN_PASSWORD)
    wizard.admin_password2.setText(ADMIN_PASSWORD)
    wizard.next()
    wizard.next()  # the printer: none chosen (asked at each print)
    wizard.next()


def recovery_box(window: Any) -> Any:
    from PySide6.QtWidgets import QMessageBox

    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "recoveryCode"]
    return boxes[0] if boxes and boxes[0].isVisible() else None


def test_wizard_shows_the_recovery_code_once(qtbot: Any, make_window: Any, db_path: Any) -> None:
    window = make_window()
    wizard = window.wizard
    assert not wizard.keyring_file.isVisibleTo(wizard)  # offered only when the keyring fails
    fill_wizard(wizard)
    qtbot.waitUntil(lambda: recovery_box(window) is not None, timeout=20_000)
    code = wizard.recovery_code
    assert code and code in recovery_box(window).text()
    from app.services.operators import recover_admin
    from app.storage.db import open_database

    db = open_database(db_path)
    try:
        recover_admin(db, ADMIN_USERNAME, code, NEW)  # the code shown is the one stored
    finally:
        db.close()


def test_wizard_offers_the_secrets_file_only_when_the_keyring_fails(
    qtbot: Any, make_window: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    from app import secrets

    path = tmp_path / "cfg" / "secrets" / "secrets.json"
    monkeypatch.setenv(secrets.SECRETS_FILE_ENV, str(path))
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        window = make_window()
        wizard = window.wizard
        fill_wizard(wizard)
        wait_ops(qtbot)
        assert wizard.keyring_file.isVisibleTo(wizard) and not path.exists()
        assert "keyring" in wizard.general_error.text()
        wizard.keyring_file.setChecked(True)
        wizard.next()
        qtbot.waitUntil(lambda: recovery_box(window) is not None, timeout=20_000)
        assert path.exists() and "signing-key:" in path.read_text("utf-8")
        recovery_box(window).accept()
        login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
        settings = window.work.show_screen("settings")
        wait_ops(qtbot)
        assert settings.secrets_warning.isVisibleTo(settings)
        assert "secrets.json" in settings.secrets_warning.text()
    finally:
        keyring.set_keyring(previous)


def test_settings_password_policy(qtbot: Any, make_window: Any, db: Database, admin: Actor) -> None:
    from app.services.operators import load_policy

    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    page = window.work.show_screen("settings")
    wait_ops(qtbot)
    spins = page.policy_spins
    assert spins["max_age_days"].value() == 180 and spins["lockout_threshold"].value() == 5
    assert spins["max_age_days"].minimum() == 1 and spins["max_age_days"].maximum() == 180
    spins["max_age_days"].setValue(90)
    spins["lockout_minutes"].setValue(30)
    page.policy_button.click()
    wait_ops(qtbot)
    saved = load_policy(db)
    assert saved.max_age_days == 90 and saved.lockout_minutes == 30
    assert "chính sách" in page.user_status.text()


def test_navigation_bar_whole_for_an_administrator_at_1366_and_1100(
    qtbot: Any, make_window: Any, db: Database, admin: Actor
) -> None:
    """The administrator sees every screen's button: at 1366×768 and at the 1100×680 minimum
    none is cut, and the own-account actions are one menu under the operator's name."""
    from PySide6.QtWidgets import QAbstractButton

    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    activate(qtbot, window)
    work = window.work
    assert work.nav_buttons["settings"].isVisibleTo(window)
    menu = work.operator_button.menu()
    assert [a.text().split("\t")[0] for a in menu.actions()] == ["Đổi mật khẩu", "Đăng xuất"]
    for width, height in ((1366, 768), (1100, 680)):
        window.showNormal()
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width, h=height: (window.width(), window.height()) == (w, h))
        qtbot.wait(20)
        shown = [
            b for b in work.findChildren(QAbstractButton) if b.isVisibleTo(window) and b.text()
        ]
        nav = [b for b in shown if b.parentWidget() is work.nav_buttons["payment"].parentWidget()]
        assert work.operator_button in nav and work.lock_button in nav
        for button in nav:
            right = button.mapTo(window, button.rect().topRight()).x()
            assert right <= window.width(), (width, button.text())
            assert button.width() >= button.sizeHint().width(), (width, button.text())
