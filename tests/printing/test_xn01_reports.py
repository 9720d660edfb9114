"""Mẫu 01-XN in its three formats: same columns, same rows, same totals as the report."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.domain.documents import Xn01Report
from app.domain.money import format_number
from printing.xn01 import render_xn01_csv, render_xn01_pdf, render_xn01_xlsx
from printing.xn01_layout import COLUMNS, TITLE, VOID_NOTE

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
HEADERS = [c.header for c in COLUMNS]
AMOUNT_COL = HEADERS.index("Số tiền (đồng)")
MM = 72 / 25.4

Text = Callable[..., str]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_columns_are_the_ones_the_form_asks_for() -> None:
    assert [h for h in HEADERS if h != "Ghi chú"] == [
        "STT",
        "Mã xác nhận",
        "Họ và tên",
        "Mã số BHXH",
        "Loại hình",
        "Số tháng",
        "Từ tháng – Đến tháng",
        "Số tiền (đồng)",
        "Thời điểm nộp",
        "Nhân viên thu",
        "Điểm thu",
    ]


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_one_page_has_every_row_total_and_signature(report: Xn01Report, pdf_text: Text) -> None:
    pdf = render_xn01_pdf(report)
    text = pdf_text(pdf)
    raw = flat(pdf_text(pdf, raw=True))
    assert TITLE in text
    assert "Mẫu 01-XN" in text
    assert "Ngày 15/03/2026" in text
    assert "Trang 1/1" in text
    for row in report.rows:
        line = next(ln for ln in text.splitlines() if row.confirmation_code in ln)
        assert format_number(row.amount) in line
        assert row.scheme_label in line
        assert row.paid_at.astimezone(HANOI).strftime("%d/%m/%Y %H:%M:%S") in line
        assert ("ĐÃ HỦY" in line) == row.voided
        assert row.full_name in raw
    for label, count, amount in report.totals_by_scheme:
        assert f"Cộng {label}: {count} khoản {format_number(amount)}" in flat(text)
    assert f"TỔNG CỘNG: {report.grand_count} khoản {format_number(report.grand_total)}" in flat(
        text
    )
    assert VOID_NOTE in raw
    assert "Người lập biểu" in text and "Thủ trưởng đơn vị" in text
    assert text.count("(Ký, ghi rõ họ tên)") == 2


def test_pdf_many_pages_repeat_the_header_and_number_the_pages(
    big_report: Xn01Report, pdf_text: Text, pdf_info: Callable[[bytes], dict[str, str]]
) -> None:
    pdf = render_xn01_pdf(big_report)
    pages = int(pdf_info(pdf)["Pages"])
    assert pages >= 3
    seen_codes: list[str] = []
    codes = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
    for page in range(1, pages + 1):
        text = pdf_text(pdf, page=page)
        assert f"Trang {page}/{pages}" in text
        assert "Mẫu 01-XN" in text
        found = codes.findall(text)
        if found:  # a page of payments starts with the table header
            header = next(ln for ln in text.splitlines() if "Mã xác nhận" in ln)
            for word in ("STT", "Mã xác nhận", "Họ và tên", "Mã số BHXH", "Loại hình", "Ghi chú"):
                assert word in header
        seen_codes += found
    assert seen_codes == [r.confirmation_code for r in big_report.rows], "every row once, in order"
    last = pdf_text(pdf, page=pages)
    assert "Người lập biểu" in last and "Thủ trưởng đơn vị" in last


def test_pdf_is_a4_landscape(
    report: Xn01Report, page_size: Callable[[bytes], tuple[float, float]]
) -> None:
    assert page_size(render_xn01_pdf(report)) == pytest.approx((297 * MM, 210 * MM), abs=0.01)


def test_pdf_long_name_wraps_inside_its_column(
    report: Xn01Report, pdf_words: Callable[[bytes], list[tuple[str, float, float, float, float]]]
) -> None:
    words = pdf_words(render_xn01_pdf(report))
    long_name = next(r.full_name for r in report.rows if len(r.full_name) > 60)
    # words of the long name that appear nowhere else on the page ("Trang" does: "Trang 1/1")
    name_words = {"Tôn", "Nữ", "Phương", "Thảo", "Bảo", "Châu", "Huyền", "Kim", "Diệu", "Hiền"}
    assert name_words <= set(long_name.split())
    boxes = [(x0, y0, x1) for w, x0, y0, x1, _ in words if w in name_words]
    assert len({round(y0) for _, y0, _ in boxes}) >= 2, "the long name wraps"
    # all its pieces stay left of where the next column (Mã số BHXH) starts
    bhxh_x = min(x0 for w, x0, _, _, _ in words if w == "0111222333")
    assert max(x1 for _, _, x1 in boxes) < bhxh_x
    page_width = 297 * MM
    assert all(x1 <= page_width - 5 * MM for _, _, _, x1, _ in words)


def test_empty_day_still_renders(make_report: Callable[..., Xn01Report], pdf_text: Text) -> None:
    empty = make_report(0, voided=())
    text = pdf_text(render_xn01_pdf(empty))
    assert "TỔNG CỘNG: 0 khoản 0" in flat(text)
    assert "Trang 1/1" in text
    assert render_xn01_csv(empty).decode("utf-8-sig").splitlines()[0].startswith("STT,")
    assert render_xn01_xlsx(empty)


# --- XLSX ------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> tuple[openpyxl.worksheet.worksheet.Worksheet, int]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header_row = next(
        i for i, row in enumerate(sheet.iter_rows(values_only=True), start=1) if row[0] == "STT"
    )
    return sheet, header_row


def test_xlsx_has_typed_cells_and_the_totals(big_report: Xn01Report) -> None:
    sheet, header_row = _xlsx_rows(render_xn01_xlsx(big_report))
    header = [c.value for c in sheet[header_row]]
    assert header == HEADERS
    assert all(c.font.b for c in sheet[header_row])
    assert sheet.freeze_panes == f"A{header_row + 1}"
    assert sheet.column_dimensions["C"].width >= 20  # Họ và tên is wide

    values = list(sheet.iter_rows(min_row=header_row + 1, values_only=True))
    rows = values[: len(big_report.rows)]
    for got, row in zip(rows, big_report.rows, strict=True):
        assert got[0] == row.stt and type(got[0]) is int
        assert got[1] == row.confirmation_code
        assert got[2] == row.full_name
        assert type(got[5]) is int and got[5] == row.months
        assert type(got[AMOUNT_COL]) is int and got[AMOUNT_COL] == row.amount
        paid = got[HEADERS.index("Thời điểm nộp")]
        assert isinstance(paid, datetime) and paid.tzinfo is None
        assert paid == row.paid_at.astimezone(HANOI).replace(tzinfo=None)
        assert got[-1] == ("ĐÃ HỦY" if row.voided else None)

    totals = {
        r[0]: r[AMOUNT_COL]
        for r in values[len(big_report.rows) :]
        if r[0] and r[AMOUNT_COL] is not None
    }
    for label, count, amount in big_report.totals_by_scheme:
        assert totals[f"Cộng {label}: {count} khoản"] == amount
    assert totals[f"TỔNG CỘNG: {big_report.grand_count} khoản"] == big_report.grand_total
    assert all(type(v) is int for v in totals.values())
    assert sum(r.amount for r in big_report.rows if not r.voided) == big_report.grand_total
    assert any(VOID_NOTE == r[0] for r in values)

    # amount and date-time cells carry display formats
    first = sheet.cell(row=header_row + 1, column=AMOUNT_COL + 1)
    assert first.number_format == "#,##0"
    assert (
        "dd/mm/yyyy"
        in sheet.cell(row=header_row + 1, column=HEADERS.index("Thời điểm nộp") + 1).number_format
    )


# --- CSV -------------------------------------------------------------------------------------


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM, so Excel reads Vietnamese correctly"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_has_bom_header_rows_and_totals(big_report: Xn01Report) -> None:
    data = render_xn01_csv(big_report)
    assert b"\r\n" in data
    records = _csv(data)
    assert records[0] == HEADERS
    rows = records[1 : 1 + len(big_report.rows)]
    for got, row in zip(rows, big_report.rows, strict=True):
        assert len(got) == len(HEADERS)
        assert got[0] == str(row.stt)
        assert got[1] == row.confirmation_code
        assert got[2] == row.full_name
        assert got[3] == row.ma_so_bhxh
        assert got[AMOUNT_COL] == str(row.amount)  # plain digits, no separators
        assert got[HEADERS.index("Thời điểm nộp")] == row.paid_at.astimezone(HANOI).strftime(
            "%d/%m/%Y %H:%M:%S"
        )
        assert got[-1] == ("ĐÃ HỦY" if row.voided else "")
    tail = records[1 + len(big_report.rows) :]
    totals = {r[0]: int(r[AMOUNT_COL]) for r in tail if r[AMOUNT_COL]}
    for label, count, amount in big_report.totals_by_scheme:
        assert totals[f"Cộng {label}: {count} khoản"] == amount
    assert totals[f"TỔNG CỘNG: {big_report.grand_count} khoản"] == big_report.grand_total
    assert tail[-1][0] == VOID_NOTE


# --- the three agree -------------------------------------------------------------------------


def test_all_three_formats_state_the_same_totals(big_report: Xn01Report, pdf_text: Text) -> None:
    grand = big_report.grand_total
    pdf = flat(pdf_text(render_xn01_pdf(big_report)))
    sheet, header_row = _xlsx_rows(render_xn01_xlsx(big_report))
    xlsx = {
        r[0]: r[AMOUNT_COL]
        for r in sheet.iter_rows(min_row=header_row + 1 + len(big_report.rows), values_only=True)
        if r[0]
    }
    csv_totals = {
        r[0]: r[AMOUNT_COL] for r in _csv(render_xn01_csv(big_report))[1 + len(big_report.rows) :]
    }
    grand_label = f"TỔNG CỘNG: {big_report.grand_count} khoản"
    assert f"{grand_label} {format_number(grand)}" in pdf
    assert xlsx[grand_label] == grand
    assert csv_totals[grand_label] == str(grand)
    for label, count, amount in big_report.totals_by_scheme:
        scheme_label = f"Cộng {label}: {count} khoản"
        assert f"{scheme_label} {format_number(amount)}" in pdf
        assert xlsx[scheme_label] == amount
        assert csv_totals[scheme_label] == str(amount)


@pytest.mark.parametrize("render", [render_xn01_pdf, render_xn01_xlsx, render_xn01_csv])
def test_totals_that_disagree_with_the_rows_are_refused(
    report: Xn01Report, render: Callable[[Xn01Report], bytes]
) -> None:
    with pytest.raises(ValueError, match="match"):
        render(replace(report, grand_total=report.grand_total + 1000))
    wrong_scheme = tuple(
        (label, count, amount + 1) for label, count, amount in report.totals_by_scheme
    )
    with pytest.raises(ValueError, match="match"):
        render(replace(report, totals_by_scheme=wrong_scheme))


def test_decomposed_names_come_out_composed_in_every_format(
    report: Xn01Report, pdf_text: Text
) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")
    rows = (replace(report.rows[0], full_name=nfd), *report.rows[1:])
    decomposed = replace(report, rows=rows)
    assert "Nguyễn Thị Hằng" in pdf_text(render_xn01_pdf(decomposed))
    assert _csv(render_xn01_csv(decomposed))[1][2] == "Nguyễn Thị Hằng"
    sheet, header_row = _xlsx_rows(render_xn01_xlsx(decomposed))
    assert sheet.cell(row=header_row + 1, column=3).value == "Nguyễn Thị Hằng"
