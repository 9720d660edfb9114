"""Issue 12 — what a cashier's busy hour showed, one test (or a few) per point."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QWidget,
)

from app.domain.clock import business_date, now_utc
from app.domain.money import format_number, format_vnd
from app.domain.types import Scheme
from app.services.participants import ParticipantView
from app.services.payments import list_payments
from app.storage.db import Database
from tests.ui.conftest import activate, press, type_text, wait_ops
from tests.ui.test_ui_payment import needs_pdftotext, pdf_text

QUOTE_WAIT_MS = 400


def _blank_texts(dialog: QWidget) -> list[str]:
    """Names of visible labels and buttons whose text is empty (icon-only buttons excepted)."""
    blank = []
    for label in dialog.findChildren(QLabel):
        if label.isVisibleTo(dialog) and label.pixmap().isNull() and not label.text().strip():
            if label.buddy() is not None:
                blank.append(f"label for {label.buddy().objectName()}")
    for button in dialog.findChildren(QAbstractButton):
        if button.isVisibleTo(dialog) and button.icon().isNull() and not button.text().strip():
            blank.append(f"button {button.objectName() or type(button).__name__}")
    return blank


def test_translator_falls_back_to_the_source_never_to_empty(styled_app: QApplication) -> None:
    # A string we do not translate comes back as Qt's source text…
    assert QCoreApplication.translate("QPrintDialog", "Properties") == "Properties"
    assert QCoreApplication.translate("QFileDialog", "Detail View") == "Detail View"
    # …and ours still win.
    assert QCoreApplication.translate("QFileDialog", "&Save") == "&Lưu"


def test_print_and_file_dialogs_have_no_blank_labels(qtbot: Any, styled_app: QApplication) -> None:
    printer = QPrinter()
    print_dialog = QPrintDialog(printer)
    qtbot.addWidget(print_dialog)
    print_dialog.show()
    qtbot.waitExposed(print_dialog)
    assert _blank_texts(print_dialog) == []
    print_dialog.reject()

    file_dialog = QFileDialog(None, "Lưu", "")
    file_dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    file_dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    qtbot.addWidget(file_dialog)
    file_dialog.show()
    qtbot.waitExposed(file_dialog)
    assert _blank_texts(file_dialog) == []
    assert file_dialog.labelText(QFileDialog.DialogLabel.Reject) == "Hủy"
    file_dialog.done(QDialog.DialogCode.Rejected)


# --- 12.3 cash handling, 12.4 income, and the confirm step's notes and card dates -------------


def _bhxh_quote(qtbot: Any, make_window: Any, income: int = 1_500_000) -> tuple[Any, Any]:
    from tests.ui.test_ui_payment import find_by_typing, signed_in_payment_page, wait_quote

    window, page = signed_in_payment_page(qtbot, make_window)
    find_by_typing(qtbot, page, "0123456789")
    page.scheme.setCurrentIndex(page.scheme.findData(Scheme.BHXH_TN))
    page.income.setValue(income)
    wait_quote(qtbot, page)
    return window, page


@needs_pdftotext
def test_cash_tendered_change_big_and_on_the_receipt(
    qtbot: Any, make_window: Any, db: Database, payer: ParticipantView, tmp_path: Path
) -> None:
    _window, page = _bhxh_quote(qtbot, make_window)
    total = page.quote.total
    dialog = page.take_payment()
    activate(qtbot, dialog)

    # Below the total: "còn thiếu …" in red, and the confirm key stays disabled.
    type_text(dialog.tendered, "1000")
    assert dialog.tendered.text() == "1.000"  # grouped as typed
    assert dialog.change_label.text() == f"còn thiếu {format_vnd(total - 1000)}"
    assert dialog.change_label.objectName() == "shortfall"
    assert not dialog.confirm_button.isEnabled()
    shortfall = dialog.change_label.palette().color(dialog.change_label.foregroundRole())
    dialog.tendered.clear()
    type_text(dialog.tendered, "4,000,000")  # a comma-grouped amount reads the same
    assert dialog.tendered.text() == "4.000.000"
    assert dialog.change_label.objectName() == "change"
    assert dialog.confirm_button.isEnabled()
    change = dialog.change_label.palette().color(dialog.change_label.foregroundRole())
    assert shortfall != change

    # Quick-cash keys: one key each.
    qtbot.keyClick(dialog.tendered, Qt.Key.Key_F5)
    assert dialog.tendered.text() == format_number(total)
    qtbot.keyClick(dialog.tendered, Qt.Key.Key_F6)
    assert dialog.tendered.text() == format_number(-(-total // 50_000) * 50_000)
    qtbot.keyClick(dialog.tendered, Qt.Key.Key_F7)
    assert dialog.tendered.text() == format_number(-(-total // 100_000) * 100_000)
    qtbot.keyClick(dialog.tendered, Qt.Key.Key_F8)
    tendered = -(-total // 500_000) * 500_000
    assert dialog.tendered.text() == format_number(tendered)

    press(dialog.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)
    # The change, as large as the amount, stays on the done screen until the next payment.
    assert page.done_change.isVisible()
    assert page.done_change.text() == f"Trả lại khách: {format_vnd(tendered - total)}"
    assert page.done_change.font().pointSize() == page.done_amount.font().pointSize()
    qtbot.waitUntil(lambda: page.preview.pdf is not None, timeout=10_000)
    text = " ".join(pdf_text(page.preview.pdf, tmp_path).split())
    assert f"Tiền khách đưa: {format_vnd(tendered)}" in text
    assert f"Tiền trả lại: {format_vnd(tendered - total)}" in text
    qtbot.wait(300)
    assert page.done_change.isVisible()
    page.new_payment()
    assert page.done_change.isHidden() and page.done_change.text() == ""


@pytest.mark.parametrize(
    ("typed", "rule", "nearest"),
    [
        ("1000000", "thấp hơn mức tối thiểu", "1.500.000 đ"),
        ("50000000", "cao hơn mức tối đa", None),
        ("2010000", "không đúng bước 50.000 đ", "2.000.000 đ hoặc 2.050.000 đ"),
    ],
)
def test_income_out_of_rule_is_an_error_never_replaced(
    qtbot: Any,
    make_window: Any,
    payer: ParticipantView,
    typed: str,
    rule: str,
    nearest: str | None,
) -> None:
    _window, page = _bhxh_quote(qtbot, make_window)
    page.income.selectAll()
    type_text(page.income.lineEdit(), typed)
    page.scheme.setFocus()  # leaving the field does not "fix" it
    qtbot.wait(QUOTE_WAIT_MS)
    assert page.income.value() == int(typed)  # every digit kept, nothing replaced
    assert page.income.text().startswith(format_number(int(typed)))
    assert page.quote_error.isVisible() if page.isVisible() else page.quote_error.isVisibleTo(page)
    message = page.quote_error.text()
    assert message.startswith("Mức thu nhập:") and rule in message
    high = page.income.rule_maximum()
    assert f"Mức hợp lệ gần nhất: {nearest or format_vnd(high)}" in message
    assert not page.take_button.isEnabled()
    assert page.take_payment() is None or page.confirm_dialog is None


def test_confirm_shows_the_rule_notes_and_the_bhyt_card_dates(
    qtbot: Any, make_window: Any, db: Database, payer: ParticipantView, tmp_path: Path
) -> None:
    from tests.ui.test_ui_payment import find_by_typing, signed_in_payment_page, wait_quote

    _window, page = signed_in_payment_page(qtbot, make_window)
    find_by_typing(qtbot, page, "0123456789")
    page.scheme.setCurrentIndex(page.scheme.findData(Scheme.BHYT_HGD))
    wait_quote(qtbot, page)
    quote = page.quote
    assert quote.card_from is not None and quote.card_to is not None and quote.notes
    dialog = page.take_payment()
    assert dialog.notes_label.isVisibleTo(dialog)
    for note in quote.notes:
        assert note in dialog.notes_label.text()
    card = f"{quote.card_from:%d/%m/%Y} – {quote.card_to:%d/%m/%Y}"
    assert card in dialog.card_label.text()
    # the wrapped notes do not squeeze the rows below them into each other
    qtbot.waitUntil(dialog.isVisible)
    rows = [dialog.tendered, dialog.notify_phone, dialog.notify_email, dialog.keep_contact]
    for upper, lower in pairwise(rows):
        top = lower.mapTo(dialog, lower.rect().topLeft()).y()
        assert top >= upper.mapTo(dialog, upper.rect().bottomLeft()).y(), lower.objectName()
    for field in rows:
        assert field.height() >= field.sizeHint().height(), field.objectName()
    dialog.confirm()
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    qtbot.waitUntil(lambda: page.preview.pdf is not None, timeout=10_000)
    wait_ops(qtbot)
    text = " ".join(pdf_text(page.preview.pdf, tmp_path).split())
    assert f"Hạn thẻ BHYT: {card}" in text


# --- 12.5 search among namesakes -------------------------------------------------------------


def test_search_rows_tell_namesakes_apart_and_eight_fit(
    qtbot: Any, make_window: Any, db: Database, db_path: Path, cashier: Any
) -> None:
    from datetime import date

    from app.domain.types import Sex
    from app.services.participants import ParticipantInput, create_participant
    from tests.services.test_participant_search import bulk_names
    from tests.ui.test_ui_payment import signed_in_payment_page

    bulk_names(db_path, ["Nguyễn Văn Anh"] * 60)
    target = create_participant(
        db,
        ParticipantInput(
            full_name="Nguyễn Văn Ánh",
            ma_so_bhxh="0123450000",
            date_of_birth=date(1980, 2, 29),
            sex=Sex.MALE,
            address="Thôn Trung, xã Yên Lạc",
        ),
        by=cashier,
    )
    window, page = signed_in_payment_page(qtbot, make_window)
    window.showNormal()
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.height() == 768 and window.width() == 1366)
    page.search.setFocus()
    type_text(page.search, "Nguyễn Văn Ánh")

    def top_is_target() -> bool:
        item = page.results.item(0)
        return item is not None and item.data(Qt.ItemDataRole.UserRole).id == target.id

    qtbot.waitUntil(top_is_target, timeout=10_000)
    line = page.results.item(0).text()
    assert "29/02/1980" in line and "BHXH 0123450000" in line and "Thôn Trung, xã Yên Lạc" in line
    assert "Còn nhiều người khớp hơn" in page.search_hint.text()

    def whole_rows() -> int:
        viewport = page.results.viewport().rect()
        return sum(
            viewport.contains(page.results.visualItemRect(page.results.item(i)))
            for i in range(page.results.count())
        )

    qtbot.waitUntil(lambda: whole_rows() >= 8, timeout=2_000)  # once the layout has settled
    # Without diacritics the same person is still among the first, and Enter picks row 1.
    page.search.clear()
    type_text(page.search, "nguyen van anh")
    qtbot.waitUntil(lambda: page.results.count() == 20, timeout=10_000)


# --- 12.6 status bar, 12.7 keyboard ------------------------------------------------------------


def test_status_bar_whole_at_1366_and_1100_and_no_rate_alarm_at_first_start(
    qtbot: Any, make_window: Any, payer: ParticipantView
) -> None:
    from datetime import UTC, datetime

    from sync.events import SyncStatus
    from tests.ui.test_ui_payment import signed_in_payment_page

    window, page = signed_in_payment_page(qtbot, make_window)
    wait_ops(qtbot)
    # The shipped table knows dates still to come: no notice, no red alarm at first start.
    assert not window.rate_status.isVisibleTo(window)
    assert not window.rate_ack.isVisibleTo(window)
    long_org = "Bưu điện huyện Đông Anh — Tổ chức dịch vụ thu BHXH, BHYT tự nguyện, xã Uy Nỗ " * 2
    window.counter_status.set_full_text(long_org)
    now = datetime.now(UTC)
    window.sync_indicator.show_status(SyncStatus("idle", True, 12_345, 3, now, now, None))
    indicator = window.sync_indicator
    for width, height in ((1366, 768), (1100, 680)):
        window.showNormal()
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width, h=height: (window.width(), window.height()) == (w, h))
        qtbot.wait(20)
        right = indicator.mapTo(window, indicator.rect().topRight()).x()
        assert right <= window.width(), (width, right)
        for part in (
            indicator.state_button,
            indicator.pending_label,
            indicator.rejected_label,
            indicator.last_label,
            indicator.sync_button,
        ):
            assert part.isVisibleTo(window)
            assert part.width() >= part.sizeHint().width(), (width, part.objectName())
        assert window.counter_code.width() >= window.counter_code.sizeHint().width()
        # the payer panel's buttons show their whole caption
        kb = [page.register_button, page.history_button, page.household_button]
        for button in (
            page.register_button,
            page.edit_button,
            page.history_button,
            page.household_button,
        ):
            assert button.width() >= button.sizeHint().width(), (width, button.text())
        # with room (1366 px) the keys are on the buttons; at the minimum in their tooltips
        keys = [page.register_button.key, page.history_button.key, page.household_button.key]
        if width == 1366:
            assert all(k in b.text() for k, b in zip(keys, kb, strict=True))
        assert all(k in b.toolTip() for k, b in zip(keys, kb, strict=True))
        shown = window.counter_status.text()
        assert shown.endswith("…") and window.counter_status.toolTip() == long_org


@needs_pdftotext
def test_keys_reach_logout_reprint_export_enrol_and_no_tab_trap(
    qtbot: Any,
    make_window: Any,
    db: Database,
    payer: ParticipantView,
    printed: list[Path],
    saved_paths: list[Path],
    tmp_path: Path,
) -> None:
    from PySide6.QtWidgets import QAbstractItemView

    from tests.ui.conftest import login
    from tests.ui.test_ui_payment import find_by_typing, signed_in_payment_page, wait_quote

    window, page = signed_in_payment_page(qtbot, make_window)
    assert window.isMaximized()  # the window opens maximised
    find_by_typing(qtbot, page, "0123456789")
    wait_quote(qtbot, page)
    dialog = page.take_payment()
    dialog.confirm()
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in page.print_status.text(), timeout=15_000)
    page.new_payment()  # the next payer is already being served
    activate(qtbot, window)
    qtbot.keyClick(
        page.search,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    from ui.qt.receipt_view import ReceiptDialog

    def copy_pdf() -> bytes | None:
        shown = [d for d in window.findChildren(ReceiptDialog) if d.preview.pdf is not None]
        return shown[0].preview.pdf if shown else None

    qtbot.waitUntil(lambda: copy_pdf() is not None, timeout=15_000)
    assert "BẢN SAO (lần 1)" in " ".join(pdf_text(copy_pdf(), tmp_path).split())
    qtbot.waitUntil(lambda: len(printed) == 2, timeout=15_000)  # and printed, no dialog
    wait_ops(qtbot)
    assert list_payments(db, business_date(now_utc()))[0].reprints == 1
    for d in window.findChildren(QDialog):
        d.reject()

    # Tables: Tab leaves them (arrows move inside).
    today = window.work.show_screen("today")
    assert not today.table.tabKeyNavigation()
    xn01 = window.work.show_screen("xn01")
    assert not xn01.table.tabKeyNavigation()
    wait_ops(qtbot)
    activate(qtbot, window)
    qtbot.keyClick(xn01.table, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(p.suffix == ".pdf" for p in saved_paths), timeout=15_000)
    wait_ops(qtbot)
    sync = window.work.show_screen("sync")
    for table in sync.findChildren(QAbstractItemView):
        assert not table.tabKeyNavigation()

    # Sign out by key.
    qtbot.keyClick(
        window.work,
        Qt.Key.Key_Q,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.login, timeout=10_000)
    assert window.state.actor is None

    # Enrolment by key (administrators).
    from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME

    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    sync = window.work.show_screen("sync")
    activate(qtbot, window)
    qtbot.keyClick(
        sync, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: sync.enroll_dialog is not None and sync.enroll_dialog.isVisible())
    sync.enroll_dialog.reject()


def _tab_walk(steps: int) -> list[QWidget]:
    """The widgets Tab reaches, `steps` presses from the focused one (a spin box for its
    line edit)."""
    from PySide6.QtWidgets import QAbstractSpinBox

    def focused() -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None
        spin = widget.parent()
        return spin if isinstance(spin, QAbstractSpinBox) else widget

    seen = []
    for _ in range(steps):
        press(focused(), Qt.Key.Key_Tab)
        seen.append(focused())
    return seen


def test_add_user_form_by_keyboard_tab_order_ctrl_n_and_enter_submits(
    qtbot: Any, make_window: Any, db: Database, cashier: Any
) -> None:
    from app.domain.types import Role
    from app.services.operators import list_operators
    from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME
    from tests.ui.conftest import login

    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    activate(qtbot, window)
    qtbot.keyClick(window.work, Qt.Key.Key_F8)
    settings = window.work.current_key() == "settings" and window.work.pages["settings"]
    assert settings
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: settings.users.rowCount() == 2)

    # Tab through the users card in reading order; the table is a single stop.
    settings.users.setFocus()
    press(settings.users, Qt.Key.Key_Down)  # arrows move inside the table: a row is selected
    assert settings.selected_user() is not None and settings.users.hasFocus()
    expected = [
        settings.reset_password,
        settings.reset_button,
        settings.active_button,
        settings.unlock_button,
        settings.role_choice,
        settings.role_button,
        *settings.policy_spins.values(),
        settings.policy_button,
        settings.new_username,
        settings.new_full_name,
        settings.new_role,
        settings.new_password,
        settings.add_user_button,
    ]

    seen = _tab_walk(len(expected))
    assert [w.objectName() or w.text() for w in seen] == [
        w.objectName() or w.text() for w in expected
    ]
    assert seen == expected
    assert _tab_walk(1) != [settings.add_user_button]  # no trap at the end either

    # Ctrl+N jumps to the form; Enter moves field to field and, on the last, adds the user.
    qtbot.keyClick(settings.users, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert settings.new_username.hasFocus()
    qtbot.keyClicks(settings.new_username, "thungan2")
    press(settings.new_username, Qt.Key.Key_Return)
    assert settings.new_full_name.hasFocus()
    type_text(settings.new_full_name, "Phạm Thị Lụa")
    press(settings.new_full_name, Qt.Key.Key_Return)
    assert settings.new_role.hasFocus()
    press(settings.new_role, Qt.Key.Key_Down)  # Thu ngân → Giám sát viên
    press(settings.new_role, Qt.Key.Key_Return)
    assert settings.new_password.hasFocus()
    press(settings.new_password, Qt.Key.Key_Return)  # no password yet: said at the field
    wait_ops(qtbot)
    error = settings.user_errors.error_label("password")
    assert error is not None and error.isVisibleTo(settings) and "Mật khẩu" in error.text()
    assert settings.new_password.hasFocus()
    assert "thungan2" not in [op.username for op in list_operators(db)]
    qtbot.keyClicks(settings.new_password, "dongho-tamthoi-26")
    press(settings.new_password, Qt.Key.Key_Return)
    wait_ops(qtbot)
    added = {op.username: op for op in list_operators(db)}["thungan2"]
    assert (added.full_name, added.role) == ("Phạm Thị Lụa", Role.SUPERVISOR)
    assert "Đã thêm" in settings.user_status.text()
    assert settings.new_username.text() == "" and settings.new_username.hasFocus()
    qtbot.waitUntil(lambda: settings.users.rowCount() == 3)


# --- 12.2 printing on the first payment --------------------------------------------------------


def test_no_printer_chosen_the_done_screen_says_so_and_offers_one(
    qtbot: Any, make_window: Any, payer: ParticipantView
) -> None:
    from tests.ui.test_ui_payment import find_by_typing, signed_in_payment_page, wait_quote

    window, page = signed_in_payment_page(qtbot, make_window)
    window.state.printer_for_receipt = lambda _parent: None  # nothing chosen in Settings
    find_by_typing(qtbot, page, "0123456789")
    wait_quote(qtbot, page)
    page.take_payment().confirm()
    qtbot.waitUntil(lambda: "Chưa in" in page.print_status.text(), timeout=15_000)
    assert "chưa chọn máy in biên lai" in page.print_status.text()
    assert "Cài đặt (F8)" in page.print_status.text()
    assert page.print_button.text().startswith("Chọn máy in và in")
    assert not [d for d in window.findChildren(QPrintDialog) if d.isVisible()]


def test_printer_chosen_prints_with_no_dialog_and_settings_prints_a_test_page(
    qtbot: Any,
    make_window: Any,
    db: Any,
    admin: Any,
    cashier: Any,
    payer: ParticipantView,
    printed: list[Path],
    tmp_path: Path,
) -> None:
    import shutil
    import subprocess

    from app.services.shifts import close_shift, open_shift

    # The administrator takes the payment below: the cashier hands the drawer over first.
    close_shift(db, by=cashier, counts={500_000: 2})
    open_shift(db, by=admin, counts={500_000: 2})

    from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME
    from tests.ui.conftest import login

    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    settings = window.work.show_screen("settings")
    wait_ops(qtbot)
    # Both formats are offered.
    formats = [settings.receipt_format.itemText(i) for i in range(settings.receipt_format.count())]
    assert len(formats) == 2
    target = tmp_path / "test-page.pdf"

    def to_file(_parent: Any) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        return printer

    settings.print_test_page()  # nothing chosen in the form: says what to do
    assert "Chọn một máy in" in settings.test_print_status.text()
    window.state.extra["printer_for_test"] = to_file
    settings.test_print_button.click()
    qtbot.waitUntil(
        lambda: "Đã gửi trang in thử" in settings.test_print_status.text(), timeout=15_000
    )
    assert target.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", str(target), "-"], check=True, capture_output=True, text=True
        ).stdout
        assert "TRANG IN THỬ" in out
    # A payment with a printer chosen: printed at once, and no print dialog on the way.
    page = window.work.show_screen("payment")
    qtbot.waitUntil(lambda: page.table is not None)
    from tests.ui.test_ui_payment import find_by_typing, wait_quote

    find_by_typing(qtbot, page, "0123456789")
    wait_quote(qtbot, page)
    page.take_payment().confirm()
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in page.print_status.text(), timeout=15_000)
    assert len(printed) == 1
    assert not [d for d in window.findChildren(QPrintDialog) if d.isVisible()]


COUNTER_PRINTER = "Máy in quầy 1"


def _wizard_to_printer_step(qtbot: Any, window: Any) -> Any:
    """The set-up wizard filled in up to its printer step (step 3)."""
    from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME

    wizard = window.wizard
    assert wizard is not None
    wizard.organisation.setText("Bưu điện tỉnh Thái Nguyên")
    wizard.collection_point.setText("Điểm thu Bưu điện xã Đồng Hỷ")
    wizard.counter_code.setText("TN-DH01")
    wizard.next()
    wizard.admin_username.setText(ADMIN_USERNAME)
    wizard.admin_full_name.setText("Đặng Văn Quản")
    wizard.admin_password.setText(ADMIN_PASSWORD)
    wizard.admin_password2.setText(ADMIN_PASSWORD)
    press(wizard.admin_password2, Qt.Key.Key_Return)
    assert wizard.step == 2 and wizard.step_label.text().startswith("Bước 3/4")
    assert wizard.printer.hasFocus()
    return wizard


def _finish_wizard(qtbot: Any, window: Any, wizard: Any) -> None:
    press(wizard.receipt_format, Qt.Key.Key_Return)  # Enter on the last field: next step
    assert wizard.step == 3
    press(wizard.central_url, Qt.Key.Key_Return)  # standalone: set up
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.login, timeout=15_000)
    wait_ops(qtbot)


def _first_payment(qtbot: Any, window: Any) -> Any:
    """A cashier and a payer added, the cashier signed in, one BHXH payment taken."""
    from app.services.participants import create_participant
    from tests.support.counters import CASHIER, PAYER, add_staff, open_test_shift
    from tests.ui.conftest import login
    from tests.ui.test_ui_payment import find_by_typing, wait_quote

    db = window.state.db
    cashier = add_staff(db, _admin_actor(db), CASHIER)
    create_participant(db, PAYER, by=cashier)
    open_test_shift(db, cashier)  # payments need the cashier's open shift (docs/SHIFTS.md)
    window.login.username.clear()
    login(qtbot, window, CASHIER.username, CASHIER.password)
    page = window.work.pages["payment"]
    qtbot.waitUntil(lambda: page.table is not None, timeout=10_000)
    find_by_typing(qtbot, page, "0123456789")
    wait_quote(qtbot, page)
    page.take_payment().confirm()
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    return page


def _admin_actor(db: Database) -> Any:
    from app.services.operators import sign_in
    from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME

    return sign_in(db, ADMIN_USERNAME, ADMIN_PASSWORD).actor


@needs_pdftotext
def test_wizard_printer_step_tests_the_page_and_the_first_receipt_prints_with_no_dialog(
    qtbot: Any, make_window: Any, db_path: Path, printed: list[Path], tmp_path: Path
) -> None:
    from PySide6.QtPdf import QPdfDocument

    from app.services.settings import ReceiptFormat, load_settings

    window = make_window()
    pdf_printer = window.state.printer_for_receipt
    # As Qt's printer list would show a printer installed on this computer.
    wizard = _wizard_to_printer_step(qtbot, window)
    assert wizard.printer.itemData(0) == ""  # "ask each time" first, chosen until changed
    wizard.printer.addItem(COUNTER_PRINTER, COUNTER_PRINTER)
    wizard.printer.setCurrentIndex(wizard.printer.findData(COUNTER_PRINTER))
    wizard.receipt_format.setCurrentIndex(wizard.receipt_format.findData(ReceiptFormat.A5))

    # The test page, reached by Tab and pressed with the space bar, prints in the chosen format.
    target = tmp_path / "wizard-test-page.pdf"

    def to_file(_owner: Any) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        return printer

    window.state.extra["printer_for_test"] = to_file
    wizard.receipt_format.setFocus()
    press(wizard.receipt_format, Qt.Key.Key_Tab)
    assert wizard.printer_choice.test_print_button.hasFocus()
    press(wizard.printer_choice.test_print_button, Qt.Key.Key_Space)
    status = wizard.printer_choice.test_print_status
    qtbot.waitUntil(lambda: "Đã gửi trang in thử" in status.text(), timeout=15_000)
    text = " ".join(pdf_text(target.read_bytes(), tmp_path).split())
    assert "TRANG IN THỬ" in text and "Khổ: A5" in text
    _finish_wizard(qtbot, window, wizard)

    # Saved as the counter's settings, and said on the sign-in screen.
    stored = load_settings(window.state.db)
    assert (stored.printer_name, stored.receipt_format) == (COUNTER_PRINTER, ReceiptFormat.A5)
    assert window.state.settings.printer_name == COUNTER_PRINTER
    assert f"in ngay ra máy in {COUNTER_PRINTER}" in window.login.error.text()

    # The first payment's receipt goes to that printer at once: no print dialog on the way.
    window.state.printer_for_receipt = lambda parent: (
        pdf_printer(parent) if window.state.settings.printer_name == COUNTER_PRINTER else None
    )
    page = _first_payment(qtbot, window)
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in page.print_status.text(), timeout=15_000)
    assert len(printed) == 1 and printed[0].read_bytes().startswith(b"%PDF")
    assert not [d for d in window.findChildren(QPrintDialog) if d.isVisible()]
    document = QPdfDocument()
    document.load(str(printed[0]))
    size = document.pagePointSize(0)  # A5: 148 × 210 mm
    assert (round(size.width() / 72 * 25.4), round(size.height() / 72 * 25.4)) == (148, 210)
    document.close()


def test_wizard_without_a_printer_says_so_and_the_done_screen_offers_one(
    qtbot: Any, make_window: Any, db_path: Path, printed: list[Path]
) -> None:
    from ui.qt.state import _configured_printer

    window = make_window()
    window.state.printer_for_receipt = _configured_printer(window.state)  # the real one
    wizard = _wizard_to_printer_step(qtbot, window)
    wizard.state.extra["printer_for_test"] = lambda owner: wizard.printer_choice.chosen_printer()
    wizard.printer_choice.test_print_button.click()  # "ask each time" is no printer to test
    assert "Chọn một máy in" in wizard.printer_choice.test_print_status.text()
    press(wizard.printer, Qt.Key.Key_Return)
    assert wizard.receipt_format.hasFocus()
    _finish_wizard(qtbot, window, wizard)
    note = window.login.error.text()
    assert "Chưa chọn máy in biên lai" in note and "Cài đặt (F8)" in note
    assert window.login.error.objectName() == "loginNote"  # news, not an alarm

    page = _first_payment(qtbot, window)
    qtbot.waitUntil(lambda: "Chưa in" in page.print_status.text(), timeout=15_000)
    assert "chưa chọn máy in biên lai" in page.print_status.text()
    assert page.print_button.text().startswith("Chọn máy in và in")
    assert not printed and not [d for d in window.findChildren(QPrintDialog) if d.isVisible()]

    # The offer: Ctrl+P opens Qt's print dialog; cancelling it prints nothing and says so.
    from PySide6.QtCore import QTimer

    asked: list[QPrintDialog] = []

    def cancel_dialog() -> None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QPrintDialog)]
        if not shown or not shown[0].isVisible():
            QTimer.singleShot(50, cancel_dialog)
            return
        asked.append(shown[0])
        shown[0].reject()

    QTimer.singleShot(50, cancel_dialog)
    activate(qtbot, window)
    qtbot.keyClick(page.next_button, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    qtbot.waitUntil(lambda: "đã hủy chọn máy in" in page.print_status.text(), timeout=10_000)
    assert not printed


# --- 12.8 nothing freezes the window ------------------------------------------------------------


def test_screens_prepared_before_sign_in_and_the_printer_set_up_off_the_gui_thread(
    qtbot: Any, make_window: Any, payer: ParticipantView, printed: list[Path]
) -> None:
    import threading

    from tests.support.counters import CASHIER
    from tests.ui.conftest import login
    from tests.ui.test_ui_payment import find_by_typing, wait_quote

    window = make_window()  # waits until the sign-in screen has nothing left to do
    assert window.stack.currentWidget() is window.login and window.state.actor is None
    # While the sign-in screen waited, the working screens were built (not shown).
    assert window.work is not None and not window.work.isVisible()
    prepared = window.work.pages["payment"]
    assert prepared._done_built  # the done screen too (the PDF viewer)
    login(qtbot, window, CASHIER.username, CASHIER.password)
    page = window.work.pages["payment"]
    assert page is prepared and window.work.current_key() == "payment"

    # The configured printer is looked up and set up with the printing, on the I/O pool.
    threads: list[threading.Thread] = []
    pdf_printer = window.state.printer_for_receipt

    def configured(parent: Any) -> QPrinter:
        threads.append(threading.current_thread())
        return pdf_printer(parent)

    window.state.printer_for_receipt = configured
    find_by_typing(qtbot, page, "0123456789")
    wait_quote(qtbot, page)
    page.take_payment().confirm()
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in page.print_status.text(), timeout=15_000)
    assert len(printed) == 1 and threads
    assert all(t is not threading.main_thread() for t in threads)


def test_idle_lock_counts_input_to_the_window_and_locks_without_it(
    qtbot: Any, make_window: Any, cashier: Any
) -> None:
    from PySide6.QtTest import QTest

    from tests.support.counters import CASHIER
    from tests.ui.conftest import login

    window = make_window()
    login(qtbot, window, CASHIER.username, CASHIER.password)
    window.idle_lock.set_interval_ms(600)
    handle = window.windowHandle()
    assert handle is not None
    for _ in range(6):  # keys for 1.2 s, each well within the interval: still unlocked
        QTest.keyClick(handle, Qt.Key.Key_Shift)
        qtbot.wait(200)
        assert not window.is_locked()
    qtbot.waitUntil(window.is_locked, timeout=5_000)  # then nothing: locked
    assert window.stack.currentWidget() is window.login


# --- 12.9 small things -------------------------------------------------------------------------


def test_one_term_for_the_rate_table(qtbot: Any, make_window: Any, payer: ParticipantView) -> None:
    from printing.receipt import RATE_TERM
    from ui.qt import payment

    assert payment.RATE_TERM == RATE_TERM
    _window, page = _bhxh_quote(qtbot, make_window)
    assert f"{RATE_TERM}</td>" in page.breakdown.text()
    assert "Biểu phí" not in page.breakdown.text() and "Phiên bản" not in page.breakdown.text()


def test_disabled_buttons_look_disabled(qtbot: Any, styled_app: QApplication) -> None:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QPushButton

    def look(button: QPushButton) -> QImage:
        button.resize(160, 36)
        return button.grab().toImage()

    for name in ("", "primary", "danger"):
        on, off = QPushButton("Lưu"), QPushButton("Lưu")
        on.setObjectName(name)
        off.setObjectName(name)
        off.setEnabled(False)
        qtbot.addWidget(on)
        qtbot.addWidget(off)
        assert look(on) != look(off), name


def test_today_totals_follow_the_filter_and_cashier_by_full_name(
    qtbot: Any, make_window: Any, db: Database, payer: ParticipantView
) -> None:
    from app.domain.types import Scheme as S
    from tests.support.counters import CASHIER
    from tests.ui.test_ui_payment import find_by_typing, wait_quote

    window, page = _bhxh_quote(qtbot, make_window)
    bhxh_total = page.quote.total
    page.take_payment().confirm()
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)
    page.new_payment()
    find_by_typing(qtbot, page, "0123456789")
    page.scheme.setCurrentIndex(page.scheme.findData(S.BHYT_HGD))
    wait_quote(qtbot, page)
    bhyt_total = page.quote.total
    page.take_payment().confirm()
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)
    today = window.work.show_screen("today")
    qtbot.waitUntil(lambda: today.model.rowCount() == 2, timeout=10_000)
    assert today.drawer_total == bhxh_total + bhyt_total
    assert today.filtered_total == bhxh_total + bhyt_total
    today.scheme_filter.setCurrentIndex(today.scheme_filter.findData(S.BHYT_HGD))
    assert today.filtered_total == bhyt_total
    assert "Theo bộ lọc: <b>1</b> / 2 khoản" in today.totals_label.text()
    assert today.drawer_total == bhxh_total + bhyt_total  # the drawer is the whole day
    # The cashier is named by full name, as on the receipt and in 01-XN.
    cashier_col = [
        c
        for c in range(today.model.columnCount())
        if today.model.headerData(c, Qt.Orientation.Horizontal) == "Thu ngân"
    ]
    names = {today.proxy.index(r, cashier_col[0]).data() for r in range(today.proxy.rowCount())}
    assert names == {CASHIER.full_name}
    assert window.work.operator_button.text().endswith(CASHIER.full_name)


def test_idle_lock_over_an_open_confirm_says_nothing_was_recorded(
    qtbot: Any, make_window: Any, db: Database, payer: ParticipantView
) -> None:
    from tests.ui.conftest import CASHIER_PASSWORD

    window, page = _bhxh_quote(qtbot, make_window)
    dialog = page.take_payment()
    assert dialog.isVisible()
    window._idle()  # the idle timer fired
    assert window.is_locked() and not dialog.isVisible()
    window.login.password.clear()
    qtbot.keyClicks(window.login.password, CASHIER_PASSWORD)
    press(window.login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.work, timeout=10_000)
    assert "CHƯA được ghi" in window.work.message_bar.text()
    assert list_payments(db, business_date(now_utc())) == []


def test_rejection_codes_are_shown_in_vietnamese() -> None:
    from ui.qt.sync_indicator import error_text

    shown = error_text("[tampered] hash mismatch")
    assert "[" not in shown and "tampered" not in shown
    assert shown.startswith("Nội dung không khớp mã xác nhận")
    assert error_text("Không kết nối được") == "Không kết nối được"
