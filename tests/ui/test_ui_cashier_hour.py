"""Issue 12 — what a cashier's busy hour showed, one test (or a few) per point."""

from __future__ import annotations

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

    window, _page = signed_in_payment_page(qtbot, make_window)
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
    assert window.work.operator_label.text().endswith(CASHIER.full_name)


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
