"""Today's payments (reprint, void), a failed print, and the Mẫu 01-XN export."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.domain.clock import business_date, now_utc
from app.domain.money import format_vnd
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.services.common import Actor
from app.services.participants import ParticipantView
from app.services.payments import PaymentRequest, PaymentView, get_payment, record_payment
from app.storage.db import Database
from tests.ui.conftest import (
    CASHIER_PASSWORD,
    SUPERVISOR_PASSWORD,
    activate,
    login,
    press,
    type_text,
    wait_ops,
)

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler")


def pay(db: Database, who: ParticipantView, by: Actor, scheme: Scheme) -> PaymentView:
    if scheme is Scheme.BHXH_TN:
        req = PaymentRequest(
            uuid.uuid4().hex,
            who.id,
            scheme,
            method=PaymentMethod.YEARLY,
            income=1_500_000,
            support_category=SupportCategory.OTHER,
        )
    else:
        req = PaymentRequest(uuid.uuid4().hex, who.id, scheme, months=12, member_order=1)
    return record_payment(db, req, by=by)


@pytest.fixture
def two_payments(db: Database, payer: ParticipantView, cashier: Actor) -> list[PaymentView]:
    return [pay(db, payer, cashier, Scheme.BHXH_TN), pay(db, payer, cashier, Scheme.BHYT_HGD)]


def today_page(qtbot: Any, make_window: Any, username: str, password: str) -> tuple[Any, Any]:
    window = make_window()
    login(qtbot, window, username, password)
    activate(qtbot, window)
    qtbot.keyClick(window.work.pages["payment"].search, Qt.Key.Key_F10)
    page = window.work.pages["today"]
    assert window.work.current_key() == "today"
    wait_ops(qtbot)
    return window, page


def pdf_text(path_or_bytes: Path | bytes, tmp_path: Path) -> str:
    if isinstance(path_or_bytes, bytes):
        path = tmp_path / "t.pdf"
        path.write_bytes(path_or_bytes)
    else:
        path = path_or_bytes
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_list_totals_and_filter(
    qtbot: Any, make_window: Any, two_payments: list[PaymentView]
) -> None:
    _window, page = today_page(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    assert page.proxy.rowCount() == 2
    total = sum(p.amount for p in two_payments)
    assert page.drawer_total == total
    assert format_vnd(total) in page.totals_label.text()
    page.scheme_filter.setCurrentIndex(page.scheme_filter.findData(Scheme.BHYT_HGD))
    assert page.proxy.rowCount() == 1
    page.scheme_filter.setCurrentIndex(0)
    type_text(page.search, "le thi my")  # name without diacritics
    assert page.proxy.rowCount() == 2
    page.search.clear()
    qtbot.keyClicks(page.search, two_payments[1].confirmation_code)
    assert page.proxy.rowCount() == 1


@needs_pdftotext
def test_reprint_is_a_counted_copy(
    qtbot: Any,
    make_window: Any,
    db: Database,
    two_payments: list[PaymentView],
    printed: list[Path],
    tmp_path: Path,
) -> None:
    _window, page = today_page(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    target = two_payments[0]
    assert page.select_receipt(target.receipt_number)
    dialog = page.reprint_selected()
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in dialog.status_text(), timeout=15_000)
    assert get_payment(db, target.receipt_number).reprints == 1
    text = pdf_text(dialog.preview.pdf, tmp_path)
    assert "BẢN SAO" in text and target.confirmation_code in text
    assert printed and printed[-1].read_bytes().startswith(b"%PDF")
    wait_ops(qtbot)
    assert "In lại 1 lần" in page.model.data(page.model.index(0, 9), Qt.ItemDataRole.DisplayRole)


def test_void_signed_by_supervisor(
    qtbot: Any,
    make_window: Any,
    db: Database,
    two_payments: list[PaymentView],
    supervisor: Actor,
) -> None:
    window, page = today_page(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    target = two_payments[1]
    page.select_receipt(target.receipt_number)
    dialog = page.void_selected()
    activate(qtbot, dialog)
    # Reason is required.
    qtbot.keyClicks(dialog.supervisor, "giamsat")
    qtbot.keyClicks(dialog.password, SUPERVISOR_PASSWORD)
    press(dialog.password, Qt.Key.Key_Return)
    assert "Lý do hủy" in dialog.error.text()
    type_text(dialog.reason, "Thu nhầm loại hình, người nộp yêu cầu hủy")
    dialog.submit()
    qtbot.waitUntil(lambda: page.void_dialog is None, timeout=10_000)
    wait_ops(qtbot)
    voided = get_payment(db, target.receipt_number)
    assert voided.voided and voided.void_reason.startswith("Thu nhầm")
    # The drawer total leaves the voided amount out.
    assert page.drawer_total == two_payments[0].amount
    assert "Đã hủy biên lai" in window.work.message_bar.text()
    page.select_receipt(target.receipt_number)
    assert not page.void_button.isEnabled()


def test_void_refused_for_a_cashier(
    qtbot: Any, make_window: Any, db: Database, two_payments: list[PaymentView]
) -> None:
    _window, page = today_page(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    target = two_payments[0]
    page.select_receipt(target.receipt_number)
    dialog = page.void_selected()
    type_text(dialog.reason, "Cố tự hủy khoản thu")
    dialog.supervisor.setText("thungan1")
    dialog.password.setText(CASHIER_PASSWORD)
    dialog.submit()
    wait_ops(qtbot)
    assert dialog.isVisible()
    assert "không được hủy khoản thu" in dialog.error.text()
    assert not get_payment(db, target.receipt_number).voided
    dialog.reject()


def test_failed_print_keeps_the_payment_and_it_can_be_printed_again(
    qtbot: Any, make_window: Any, db: Database, payer: ParticipantView, tmp_path: Path
) -> None:
    from PySide6.QtPrintSupport import QPrinter

    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    working = window.state.printer_for_receipt

    def broken_printer(_parent: Any) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(tmp_path / "no-such-dir" / "x.pdf"))
        return printer

    window.state.printer_for_receipt = broken_printer
    page = window.work.pages["payment"]
    qtbot.waitUntil(lambda: page.table is not None)
    qtbot.keyClicks(page.search, "0123456789")
    press(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.participant is not None)
    qtbot.waitUntil(page.quote_is_current)
    dialog = page.take_payment()
    dialog.confirm()
    qtbot.waitUntil(lambda: "Không in được" in page.print_status.text(), timeout=15_000)
    assert "ĐÃ được ghi" in page.print_status.text()
    payment = page.last_payment
    assert get_payment(db, payment.receipt_number).amount == payment.amount

    window.state.printer_for_receipt = working
    window.work.show_screen("today")
    wait_ops(qtbot)
    today = window.work.pages["today"]
    assert today.select_receipt(payment.receipt_number)
    reprint = today.reprint_selected()
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in reprint.status_text(), timeout=15_000)
    assert get_payment(db, payment.receipt_number).reprints == 1


@needs_pdftotext
def test_xn01_totals_and_exports(
    qtbot: Any,
    make_window: Any,
    db: Database,
    two_payments: list[PaymentView],
    supervisor: Actor,
    saved_paths: list[Path],
) -> None:
    from app.services.payments import void_payment

    void_payment(
        db, receipt_number=two_payments[1].receipt_number, reason="Thu nhầm", supervisor=supervisor
    )
    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    activate(qtbot, window)
    qtbot.keyClick(window.work.pages["payment"].search, Qt.Key.Key_F7)
    page = window.work.pages["xn01"]
    wait_ops(qtbot)
    assert page.selected_day() == business_date(now_utc())
    report = page.report
    assert report is not None and len(report.rows) == 2
    assert report.grand_total == two_payments[0].amount and report.grand_count == 1
    assert page.table.rowCount() == 2
    assert format_vnd(two_payments[0].amount) in page.totals_label.text()
    assert page.table.item(1, 10).text() == "ĐÃ HỦY"

    for kind in ("pdf", "xlsx", "csv"):
        page.export_buttons[kind].click()
        wait_ops(qtbot)
    assert [p.suffix for p in saved_paths] == [".pdf", ".xlsx", ".csv"]
    pdf, xlsx, csv_path = saved_paths
    assert pdf.read_bytes().startswith(b"%PDF")
    assert two_payments[0].confirmation_code in pdf_text(pdf, Path(pdf.parent))
    assert xlsx.read_bytes().startswith(b"PK")
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    flat = "\n".join(",".join(r) for r in rows)
    assert two_payments[0].confirmation_code in flat
    assert two_payments[1].confirmation_code in flat
    assert str(csv_path) in page.export_status.text()
