"""Start-up, first-run wizard, login, idle lock, settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from app.services.common import Actor
from app.services.counter import get_counter, is_initialised
from app.services.settings import load_settings
from app.storage.db import Database, open_database
from tests.conftest import ADMIN_PASSWORD
from tests.ui.conftest import CASHIER_PASSWORD, login, press, type_text, wait_ops


def test_wizard_initialises_counter_then_admin_logs_in(
    qtbot: Any, make_window: Any, db_path: Path
) -> None:
    assert not db_path.exists()
    window = make_window()
    wizard = window.wizard
    assert wizard is not None and window.stack.currentWidget() is wizard

    # Step 1: Vietnamese typed per character; Enter moves field to field, then to step 2.
    type_text(wizard.organisation, "Bưu điện tỉnh Thái Nguyên")
    press(wizard.organisation, Qt.Key.Key_Return)
    assert wizard.collection_point.hasFocus()
    type_text(wizard.collection_point, "Điểm thu Bưu điện xã Đồng Hỷ")
    press(wizard.collection_point, Qt.Key.Key_Return)
    qtbot.keyClicks(wizard.counter_code, "tn-dh01")
    assert wizard.counter_code.text() == "TN-DH01"
    press(wizard.counter_code, Qt.Key.Key_Return)
    press(wizard.receipt_series, Qt.Key.Key_Return)
    assert wizard.step == 1

    # Step 2: the password confirmation is checked before moving on.
    qtbot.keyClicks(wizard.admin_username, "quantri")
    type_text(wizard.admin_full_name, "Đặng Văn Quản")
    qtbot.keyClicks(wizard.admin_password, "songcau-tn-2026")
    qtbot.keyClicks(wizard.admin_password2, "quantri-2027")
    press(wizard.admin_password2, Qt.Key.Key_Return)
    assert wizard.step == 1
    error = wizard.errors.error_label("password2")
    assert error.isVisibleTo(wizard) and "không khớp" in error.text()
    assert wizard.admin_password2.hasFocus()
    wizard.admin_password2.clear()
    qtbot.keyClicks(wizard.admin_password2, "songcau-tn-2026")
    press(wizard.admin_password2, Qt.Key.Key_Return)
    assert wizard.step == 2

    # Step 3: the receipt printer (none here: asked at each print); Enter moves on.
    assert wizard.printer.hasFocus()
    press(wizard.printer, Qt.Key.Key_Return)
    press(wizard.receipt_format, Qt.Key.Key_Return)
    assert wizard.step == 3

    # Step 4: no central server — standalone.
    press(wizard.central_url, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.login, timeout=15_000)
    assert window.login.username.text() == "quantri"
    note = window.login.error  # the wizard's "done" is news, not an error: not red
    assert note.isVisibleTo(window.login) and note.objectName() == "loginNote"

    with opened(db_path) as db:
        assert is_initialised(db)
        counter = get_counter(db)
        assert counter.organisation == "Bưu điện tỉnh Thái Nguyên"
        assert counter.counter_code == "TN-DH01"
        assert counter.central_url is None

    login(qtbot, window, "quantri", "songcau-tn-2026")
    assert window.work.current_key() == "payment"
    assert window.work.nav_buttons["settings"].isVisibleTo(window)


@contextmanager
def opened(path: Path) -> Iterator[Database]:
    db = open_database(path)
    try:
        yield db
    finally:
        db.close()


def test_wizard_shows_service_validation_on_its_step(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    wizard = window.wizard
    wizard.organisation.setText("Bưu điện A")
    wizard.collection_point.setText("Điểm thu B")
    wizard.counter_code.setText("X")  # too short: only the service knows the rule
    wizard.next()
    wizard.admin_username.setText("quantri")
    wizard.admin_full_name.setText("Quản Trị")
    wizard.admin_password.setText("songcau-tn-2026")
    wizard.admin_password2.setText("songcau-tn-2026")
    wizard.next()
    wizard.next()
    wizard.next()
    wait_ops(qtbot)
    assert wizard.step == 0
    error = wizard.errors.error_label("counter_code")
    assert error.isVisibleTo(wizard) and "Mã quầy" in error.text()
    assert wizard.counter_code.hasFocus()


def test_login_wrong_password_then_right(qtbot: Any, make_window: Any, cashier: Actor) -> None:
    window = make_window()
    page = window.login
    assert window.stack.currentWidget() is page
    assert "Quầy TN-DH01" in page.counter_label.text()
    page.username.setText("thungan1")
    qtbot.keyClicks(page.password, "sai-mat-khau")
    press(page.password, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert page.error.text() == "Sai tên đăng nhập hoặc mật khẩu."
    assert window.stack.currentWidget() is page
    page.password.clear()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    assert "Nguyễn Thị Hằng" in window.work.operator_button.text()
    # A cashier has no Settings.
    assert not window.work.nav_buttons["settings"].isVisibleTo(window)
    window.work.show_screen("settings")
    assert window.work.current_key() == "payment"
    assert "quản trị" in window.work.message_bar.text()


def test_idle_lock_resume_and_switch_operator(
    qtbot: Any, make_window: Any, cashier: Actor, admin: Actor
) -> None:
    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    assert window.idle_lock.interval_ms() == 10 * 60_000  # the default
    window.idle_lock.set_interval_ms(300)
    qtbot.waitUntil(window.is_locked, timeout=5000)
    page = window.login
    assert window.stack.currentWidget() is page
    assert "Màn hình đã khóa" in page.title.text()
    assert page.username.text() == "thungan1" and page.username.isReadOnly()

    # The same operator resumes where they were.
    window.idle_lock.set_interval_ms(60_000)
    qtbot.keyClicks(page.password, CASHIER_PASSWORD)
    press(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_locked() and window.stack.currentWidget() is window.work)
    assert window.state.actor.username == "thungan1"

    # Locked again (Ctrl+L); another operator signs in instead: the operator switches.
    window.work.pages["payment"].search.setText("dang go do")
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.is_locked()
    page.switch_button.click()
    qtbot.keyClicks(page.username, "quantri")
    qtbot.keyClicks(page.password, ADMIN_PASSWORD)
    press(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.work)
    wait_ops(qtbot)
    assert window.state.actor.username == "quantri"
    assert window.work.pages["payment"].search.text() == ""  # the form was reset
    assert "Đã đổi người thu" in window.work.message_bar.text()


def test_settings_saved_by_admin_and_audited(
    qtbot: Any, make_window: Any, admin: Actor, db: Any
) -> None:
    window = make_window()
    login(qtbot, window, "quantri", ADMIN_PASSWORD)
    page = window.work.show_screen("settings")
    wait_ops(qtbot)
    page.idle_minutes.setValue(3)
    page.receipt_format.setCurrentIndex(
        page.receipt_format.findData(page.receipt_format.itemData(1))
    )
    page.collection_point.setText("Điểm thu Bưu điện xã Hóa Thượng")
    page.save_button.click()
    wait_ops(qtbot)
    assert page.save_status.text() == "Đã lưu cài đặt."
    stored = load_settings(db)
    assert stored.idle_lock_minutes == 3
    assert stored.receipt_format.value == "a5"
    assert get_counter(db).collection_point == "Điểm thu Bưu điện xã Hóa Thượng"
    assert window.idle_lock.interval_ms() == 3 * 60_000

    # Adding a cashier from the same screen.
    qtbot.keyClicks(page.new_username, "thungan2")
    type_text(page.new_full_name, "Phạm Thị Lụa")
    qtbot.keyClicks(page.new_password, "matkhau-123")
    press(page.new_password, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert any(op.username == "thungan2" for op in page.operators)
