"""The Z report of a real closed shift, rendered on both papers and read back (pdftotext)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from app.domain.types import Scheme
from app.services.common import Actor
from app.services.participants import create_participant
from app.services.payments import PaymentRequest, record_payment, void_payment
from app.services.shifts import cash_move, close_shift, open_shift, print_zreport
from app.storage.db import Database
from printing.zreport import ZReportLayout, render_zreport
from tests.printing.conftest import page_size_pt
from tests.support.counters import CASHIER, PAYER, add_staff


@pytest.fixture
def closed_shift(db: Database, admin: Actor, supervisor: Actor) -> tuple[str, Actor, int]:
    clerk = add_staff(db, admin, CASHIER)
    person = create_participant(db, PAYER, by=clerk)
    opened = open_shift(db, by=clerk, counts={500_000: 1, 100_000: 5})
    paid = [
        record_payment(
            db,
            PaymentRequest(str(uuid.uuid4()), person.id, Scheme.BHYT_HGD, months=3, member_order=1),
            by=clerk,
        )
        for _ in range(3)
    ]
    void_payment(db, receipt_number=2, reason="thu nhầm người", supervisor=supervisor)
    cash_move(
        db, event="drop", amount=500_000, reason="nộp két giữa ca", supervisor=supervisor, by=clerk
    )
    expected = 1_000_000 + paid[0].amount * 2 - 500_000
    close_shift(
        db,
        by=clerk,
        counts={500_000: expected // 500_000},
        reason="thiếu tiền lẻ trong ngăn",
        supervisor=supervisor,
    )
    return opened.id, clerk, expected


@pytest.mark.parametrize("layout", list(ZReportLayout))
def test_z_report_prints_every_field(
    db: Database,
    closed_shift: tuple[str, Actor, int],
    layout: ZReportLayout,
    pdf_text: Callable[..., str],
    pdf_info: Callable[[bytes], dict[str, str]],
) -> None:
    shift_id, clerk, expected = closed_shift
    data = print_zreport(db, shift_id, by=clerk)
    assert data.copy_number == 0
    pdf = render_zreport(data, layout)
    text = " ".join(pdf_text(pdf, raw=True).split())
    for wanted in (
        "BÁO CÁO CHỐT CA (Z)",
        "Quầy: TN-DH01",
        "Nguyễn Thị Hằng (thungan1)",
        "Mở ca:",
        "Đóng ca:",
        "Tiền đầu ca: 1.000.000 đ",
        "100.000 đ × 5",
        "BHYT hộ gia đình (3 khoản)",
        "Hủy, trả lại tiền (1 lệnh)",
        "Nộp về két",
        "nộp két giữa ca",
        f"Tiền phải có (theo sổ): {expected:,} đ".replace(",", "."),
        "Chênh lệch:",
        "Lý do chênh lệch: thiếu tiền lẻ trong ngăn",
        "Giám sát xác nhận: Trần Đức Giám (giamsat)",
        "Chưa đồng bộ khi đóng ca: 3 khoản",
        "số 0000001 – 0000003",
    ):
        assert wanted in text, wanted
    assert data.records_hash in "".join(text.split())
    assert "BẢN SAO" not in text
    width, _ = page_size_pt(pdf_info(pdf))
    assert round(width) == (227 if layout is ZReportLayout.ROLL_80MM else 595)


def test_reprint_is_marked_as_a_copy(
    db: Database, closed_shift: tuple[str, Actor, int], pdf_text: Callable[..., str]
) -> None:
    shift_id, clerk, _ = closed_shift
    print_zreport(db, shift_id, by=clerk)
    copy = print_zreport(db, shift_id, by=clerk)
    assert copy.copy_number == 1
    text = pdf_text(render_zreport(copy, ZReportLayout.ROLL_80MM), raw=True)
    assert "BẢN SAO (lần 1)" in text
