"""The one definition of the Mẫu 01-XN table: its columns, titles, totals and notes.

The PDF, XLSX and CSV renderers in `printing.xn01` all read `COLUMNS` and the helpers below, so
the three files always carry the same columns in the same order with the same numbers. To
change the layout (when the official form becomes available), change it here only.

Each column says what it is (`kind`), how to get its value from an `Xn01Row` (`getter`,
returning a typed value: `int` for STT/months/amount, a naive local `datetime` for the time of
payment, `str` otherwise) and how wide it is on paper (mm) and in a spreadsheet (characters).
The columns are those DOMAIN.md gives for the form, plus "Ghi chú", which marks a voided
payment "ĐÃ HỦY" (voided payments are listed for reconciliation but excluded from every total).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Final

from app.domain.clock import local_time
from app.domain.documents import Xn01Report, Xn01Row
from app.domain.money import format_number

TITLE: Final = "TỔNG HỢP SỐ TIỀN THU BHXH, BHYT THEO MÃ XÁC NHẬN"
FORM_NAME: Final = "Mẫu 01-XN"
VOID_MARK: Final = "ĐÃ HỦY"
VOID_NOTE: Final = (
    "Ghi chú: các khoản đánh dấu “ĐÃ HỦY” được liệt kê để đối chiếu nhưng không tính vào số "
    "khoản và số tiền tổng cộng."
)
SIGNERS: Final = (
    ("Người lập biểu", "(Ký, ghi rõ họ tên)"),
    ("Thủ trưởng đơn vị", "(Ký, ghi rõ họ tên)"),
)
SIGNING_DATE: Final = "……………, ngày …… tháng …… năm ………"  # filled in by hand
DATETIME_TEXT: Final = "%d/%m/%Y %H:%M:%S"
DATETIME_EXCEL: Final = "dd/mm/yyyy hh:mm:ss"
MONEY_EXCEL: Final = "#,##0"

Cell = int | str | datetime


class ColumnKind(Enum):
    """How a column is typed, aligned and formatted in each output."""

    INT = "int"  # a count: right-aligned, plain digits
    TEXT = "text"  # wraps on paper
    CODE = "code"  # a code read character by character: monospace on paper, never wrapped
    MONEY = "money"  # đồng: "1.263.600" on paper, a number in XLSX, plain digits in CSV
    DATETIME = "datetime"  # naive local time: "dd/mm/yyyy HH:MM:SS", a real datetime in XLSX


@dataclass(frozen=True)
class Column:
    header: str
    kind: ColumnKind
    getter: Callable[[Xn01Row], Cell]
    pdf_mm: float  # width on the A4 landscape page
    xlsx_chars: float  # Excel column width, in characters


def _paid_at_local(row: Xn01Row) -> datetime:
    # Spreadsheets have no time zones: the business day is Hà Nội time, so write that.
    return local_time(row.paid_at).replace(tzinfo=None)


COLUMNS: Final[tuple[Column, ...]] = (
    Column("STT", ColumnKind.INT, lambda r: r.stt, 9, 7),
    Column("Mã xác nhận", ColumnKind.CODE, lambda r: r.confirmation_code, 24, 17),
    Column("Họ và tên", ColumnKind.TEXT, lambda r: r.full_name, 38, 28),
    Column("Mã số BHXH", ColumnKind.CODE, lambda r: r.ma_so_bhxh, 19, 13),
    Column("Loại hình", ColumnKind.TEXT, lambda r: r.scheme_label, 23, 18),
    Column("Số tháng", ColumnKind.INT, lambda r: r.months, 11, 9),
    Column("Từ tháng – Đến tháng", ColumnKind.TEXT, lambda r: r.period_text, 25, 19),
    Column("Số tiền (đồng)", ColumnKind.MONEY, lambda r: r.amount, 19, 14),
    Column("Thời điểm nộp", ColumnKind.DATETIME, _paid_at_local, 27, 20),
    Column("Nhân viên thu", ColumnKind.TEXT, lambda r: r.cashier, 28, 20),
    Column("Điểm thu", ColumnKind.TEXT, lambda r: r.collection_point, 30, 22),
    Column("Ghi chú", ColumnKind.TEXT, lambda r: VOID_MARK if r.voided else "", 14, 10),
)

AMOUNT_INDEX: Final = next(i for i, c in enumerate(COLUMNS) if c.kind is ColumnKind.MONEY)


def value_of(column: Column, row: Xn01Row) -> Cell:
    """The typed value of `column` for `row`; text NFC-normalised (names typed on another
    system may arrive decomposed, which neither the PDF fonts nor a search in Excel expect)."""
    value = column.getter(row)
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def text_of(column: Column, value: Cell) -> str:
    """The value as printed on paper."""
    if column.kind is ColumnKind.MONEY and isinstance(value, int):
        return format_number(value)
    if isinstance(value, datetime):
        return value.strftime(DATETIME_TEXT)
    return str(value)


@dataclass(frozen=True)
class TotalLine:
    label: str
    count: int
    amount: int
    grand: bool


def total_lines(report: Xn01Report) -> list[TotalLine]:
    """One line per loại hình, then the grand total — as the report states them."""
    lines = [
        TotalLine(f"Cộng {label}: {count} khoản", count, amount, False)
        for label, count, amount in report.totals_by_scheme
    ]
    lines.append(
        TotalLine(
            f"TỔNG CỘNG: {report.grand_count} khoản", report.grand_count, report.grand_total, True
        )
    )
    return lines


def void_summary(report: Xn01Report) -> str:
    voided = [r for r in report.rows if r.voided]
    amount = format_number(sum(r.amount for r in voided))
    return (
        f"Số khoản đã hủy trong ngày: {len(voided)} (tổng {amount} đồng, không tính vào tổng cộng)."
    )


def date_line(report: Xn01Report) -> str:
    return f"Ngày {report.business_date.strftime('%d/%m/%Y')}"


def unit_line(report: Xn01Report) -> str:
    return f"Điểm thu: {report.collection_point} — Quầy: {report.counter_code}"


def generated_text(report: Xn01Report) -> str:
    if report.generated_at.tzinfo is None:
        stamp = report.generated_at
    else:
        stamp = local_time(report.generated_at)
    return f"Lập lúc {stamp.strftime('%d/%m/%Y %H:%M')}"


def check_totals(report: Xn01Report) -> None:
    """Refuse a report whose stated totals disagree with its own rows (voids excluded): printed
    for reconciliation, such a report would itself be a discrepancy."""
    by_scheme: dict[str, tuple[int, int]] = {}
    for row in report.rows:
        if not row.voided:
            count, amount = by_scheme.get(row.scheme_label, (0, 0))
            by_scheme[row.scheme_label] = (count + 1, amount + row.amount)
    stated = {
        label: (count, amount)
        for label, count, amount in report.totals_by_scheme
        if count or amount
    }
    if stated != by_scheme:
        raise ValueError(f"totals_by_scheme {stated} do not match the rows {by_scheme}")
    if report.grand_count != sum(c for c, _ in by_scheme.values()) or report.grand_total != sum(
        a for _, a in by_scheme.values()
    ):
        raise ValueError("grand_count / grand_total do not match the rows")
