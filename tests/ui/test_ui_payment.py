"""Taking payments end to end through the real widgets: search, quote, confirm, code, receipt."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.domain.clock import business_date, now_utc
from app.domain.money import format_vnd
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.services.common import Actor
from app.services.participants import ParticipantView, search_participants
from app.services.payments import PaymentRequest, list_payments, preview_payment
from app.storage.db import Database
from tests.ui.conftest import CASHIER_PASSWORD, activate, login, press, type_text, wait_ops

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler")


def pdf_text(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "check.pdf"
    source.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
    )
    return out.stdout


def signed_in_payment_page(qtbot: Any, make_window: Any) -> tuple[Any, Any]:
    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    page = window.work.pages["payment"]
    assert window.work.current_key() == "payment"
    qtbot.waitUntil(lambda: page.table is not None)
    return window, page


def wait_quote(qtbot: Any, page: Any) -> None:
    qtbot.waitUntil(page.quote_is_current, timeout=10_000)


def find_by_typing(qtbot: Any, page: Any, query: str) -> None:
    page.search.setFocus()
    qtbot.keyClicks(page.search, query)
    press(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)


@needs_pdftotext
def test_bhxh_tu_nguyen_payment_end_to_end(
    qtbot: Any,
    make_window: Any,
    db: Database,
    payer: ParticipantView,
    printed: list[Path],
    tmp_path: Path,
) -> None:
    window, page = signed_in_payment_page(qtbot, make_window)
    assert page.search.hasFocus()

    # A name typed without diacritics finds "Lê Thị Mỹ Đào".
    find_by_typing(qtbot, page, "le thi my dao")
    assert page.participant.id == payer.id
    assert page.scheme.hasFocus()  # the cursor moves on to the payment fields

    # Worked example of DOMAIN.md: income 1.500.000, "others", 12 months.
    page.scheme.setCurrentIndex(page.scheme.findData(Scheme.BHXH_TN))
    page.income.setValue(1_500_000)
    page.category.setCurrentIndex(page.category.findData(SupportCategory.OTHER))
    page.method.setCurrentIndex(page.method.findData(PaymentMethod.YEARLY))
    wait_quote(qtbot, page)
    expected = preview_payment(
        db,
        PaymentRequest(
            "x",
            payer.id,
            Scheme.BHXH_TN,
            method=PaymentMethod.YEARLY,
            income=1_500_000,
            support_category=SupportCategory.OTHER,
        ),
    )
    assert page.total.text() == format_vnd(expected.total)
    if business_date(now_utc()).year <= 2026:
        assert page.total.text() == "3.168.000 đ"
    assert "Nhà nước hỗ trợ/tháng" in page.breakdown.text()
    assert "66.000 đ" in page.breakdown.text()

    # The quote follows the typing: 2.000.000 → 22% × 2.000.000 − 66.000 = 374.000 a month.
    page.income.selectAll()
    qtbot.keyClicks(page.income.lineEdit(), "2000000")
    wait_quote(qtbot, page)
    assert page.quote.income == 2_000_000
    page.income.setValue(1_500_000)
    wait_quote(qtbot, page)

    # F9 → confirm step with the amount in figures and words, cash tendered, change due.
    qtbot.keyClick(page.income, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: page.confirm_dialog is not None)
    dialog = page.confirm_dialog
    activate(qtbot, dialog)
    assert dialog.amount_label.text() == format_vnd(expected.total)
    assert "Ba triệu một trăm sáu mươi tám nghìn đồng" in dialog.words_label.text()
    qtbot.keyClicks(dialog.tendered, "3.500.000")
    assert dialog.change_label.text() == format_vnd(3_500_000 - expected.total)
    press(dialog.tendered, Qt.Key.Key_Return)
    press(dialog, Qt.Key.Key_Return)  # a second Enter must not record a second payment
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)

    payments = list_payments(db, business_date(now_utc()))
    assert len(payments) == 1
    payment = payments[0]
    assert payment.amount == expected.total
    assert payment.tendered == 3_500_000
    assert payment.cashier == "thungan1"
    # The code is shown, large.
    assert page.code_label.text() == payment.confirmation_code
    assert page.code_label.font().pointSize() >= 30 or "40pt" in page.styleSheet() + (
        page.code_label.styleSheet() or window.styleSheet() or ""
    )

    # The receipt: PDF bytes in the preview, carrying the code; printed (to a PDF file here).
    qtbot.waitUntil(lambda: page.preview.pdf is not None, timeout=10_000)
    pdf = page.preview.pdf
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert payment.confirmation_code in text
    assert "Lê Thị Mỹ Đào" in text
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in page.print_status.text(), timeout=15_000)
    assert len(printed) == 1 and printed[0].read_bytes().startswith(b"%PDF")


def test_bhyt_ho_gia_dinh_payment_keyboard_only(
    qtbot: Any, make_window: Any, db: Database, payer: ParticipantView, printed: list[Path]
) -> None:
    window, page = signed_in_payment_page(qtbot, make_window)
    find_by_typing(qtbot, page, "0123456789")  # mã số BHXH
    # Choose BHYT hộ gia đình with the keyboard, Enter moving field to field.
    qtbot.keyClick(page.scheme, Qt.Key.Key_Down)
    assert page.scheme.currentData() == Scheme.BHYT_HGD
    press(page.scheme, Qt.Key.Key_Return)
    assert page.member_order.hasFocus()
    page.member_order.lineEdit().selectAll()
    qtbot.keyClicks(page.member_order.lineEdit(), "2")
    press(page.member_order, Qt.Key.Key_Return)
    assert page.bhyt_months.hasFocus()
    page.bhyt_months.setCurrentIndex(page.bhyt_months.findData(6))
    wait_quote(qtbot, page)
    expected = preview_payment(
        db, PaymentRequest("x", payer.id, Scheme.BHYT_HGD, months=6, member_order=2)
    )
    assert page.total.text() == format_vnd(expected.total)
    if business_date(now_utc()).year <= 2026:
        assert expected.total == 73_710 * 6
    # Enter on the last field takes the payment: the confirm step opens.
    press(page.bhyt_months, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.confirm_dialog is not None)
    dialog = page.confirm_dialog
    request_id = dialog.request_id
    dialog.confirm()
    dialog.confirm()  # double click while the first is being written
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)
    payments = list_payments(db, business_date(now_utc()))
    assert len(payments) == 1 and dialog.attempts == 1
    assert payments[0].scheme is Scheme.BHYT_HGD and payments[0].member_order == 2
    assert payments[0].amount == expected.total and payments[0].tendered is None
    assert page.code_label.text() == payments[0].confirmation_code
    assert request_id  # one id per dialog
    # F5: a new payment starts clean, cursor in the search box.
    activate(qtbot, window)
    qtbot.keyClick(page.next_button, Qt.Key.Key_F5)
    assert page.pages.currentWidget() is page.entry and page.participant is None
    assert page.search.hasFocus()


def test_confirm_refuses_too_little_cash_and_esc_goes_back(
    qtbot: Any, make_window: Any, db: Database, payer: ParticipantView
) -> None:
    _window, page = signed_in_payment_page(qtbot, make_window)
    find_by_typing(qtbot, page, "0191850012")  # CCCD prefix
    wait_quote(qtbot, page)
    dialog = page.take_payment()
    activate(qtbot, dialog)
    qtbot.keyClicks(dialog.tendered, "1000")
    assert dialog.change_label.text().startswith("còn thiếu")
    press(dialog.tendered, Qt.Key.Key_Return)
    assert "ít hơn số phải thu" in dialog.error.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.confirm_dialog is None)
    assert list_payments(db, business_date(now_utc())) == []


def test_cccd_qr_scan_of_unregistered_person_opens_prefilled_registration(
    qtbot: Any, make_window: Any, db: Database, cashier: Actor
) -> None:
    _window, page = signed_in_payment_page(qtbot, make_window)
    # A scanner types the QR line and Enter (ASCII name to keep the key events simple).
    line = "079090012345|123456789|Tran Van Binh|05091990|Nam|12 Le Loi, Hue|01012022"
    page.search.setFocus()
    qtbot.keyClicks(page.search, line)
    press(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.registration_dialog is not None, timeout=10_000)
    reg = page.registration_dialog
    activate(qtbot, reg)
    assert reg.full_name.text() == "Tran Van Binh"
    assert reg.cccd.text() == "079090012345"
    assert reg.date_of_birth.text() == "05/09/1990"
    assert reg.sex.currentText() == "Nam"
    assert reg.address.text() == "12 Le Loi, Hue"
    assert reg.phone.hasFocus()
    qtbot.keyClicks(reg.phone, "0987654321")
    reg.save()
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    assert page.participant.cccd == "079090012345" and page.participant.ma_so_bhxh is None
    assert "chưa có" in page.person.text()
    wait_quote(qtbot, page)
    assert page.quote is not None

    # Scanning the same card again finds the person directly.
    page.new_payment()
    qtbot.keyClicks(page.search, line)
    press(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    assert page.registration_dialog is None
    assert page.participant.full_name == "Tran Van Binh"


def test_registration_typed_in_vietnamese_and_cccd_checked_at_the_field(
    qtbot: Any, make_window: Any, db: Database, cashier: Actor
) -> None:
    _window, page = signed_in_payment_page(qtbot, make_window)
    qtbot.keyClick(page.search, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: page.registration_dialog is not None)
    reg = page.registration_dialog
    activate(qtbot, reg)
    name = "Nguyễn Thị Hằng Ngọc Đức Ưởng"
    type_text(reg.full_name, name)
    assert reg.full_name.text() == name
    press(reg.full_name, Qt.Key.Key_Return)
    assert reg.date_of_birth.hasFocus()
    qtbot.keyClicks(reg.date_of_birth, "14/03/1985")
    reg.sex.setCurrentIndex(reg.sex.findText("Nữ"))
    qtbot.keyClicks(reg.cccd, "001085012345")  # 4th digit 0 = male, 1900s: wrong for a woman
    type_text(reg.address, "Thôn Đồng Tâm, xã Đồng Hỷ")
    reg.income.setValue(2_000_000)
    reg.method.setCurrentIndex(reg.method.findData(PaymentMethod.HALF_YEAR))
    reg.save()
    wait_ops(qtbot)
    error = reg.errors.error_label("cccd")
    assert error.isVisibleTo(reg)
    assert "chữ số thứ 4" in error.text()
    assert reg.cccd.hasFocus()
    assert reg.isVisible()

    reg.cccd.setText("001185012345")
    reg.save()
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    assert page.participant.full_name == name
    assert page.participant.address == "Thôn Đồng Tâm, xã Đồng Hỷ"
    # The declaration's choices prefill the payment.
    assert page.income.value() == 2_000_000
    assert page.method.currentData() == PaymentMethod.HALF_YEAR
    found = search_participants(db, "nguyen thi hang ngoc")
    assert [p.full_name for p in found] == [name]
