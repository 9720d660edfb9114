"""Mẫu 01-XN — the day's payments by confirmation code — as PDF, XLSX and CSV.

All three are built from one `Xn01Report` and the one column definition in
`printing.xn01_layout`, so they carry the same rows, the same per-loại-hình totals and the same
grand total (the report's own, which exclude voided payments; a report whose stated totals
disagree with its rows is refused with ValueError). Voided payments are listed, marked "ĐÃ HỦY"
in the "Ghi chú" column, and a note line says they are not counted.

- PDF: A4 landscape, the table header repeated on every page, "Trang x/y" on every page,
  totals, then the signature blocks (kept together on one page). The table is drawn directly
  on the canvas — one text object and one line path per page — after a first pass that lays
  out every row (wrapping long names) and so knows the page count. Measured on the dev box:
  10.000 payments in ~1.3 s; a platypus LongTable of the same cells, unwrapped and without
  "Trang x/y", took ~8 s.
- XLSX: openpyxl write-only mode; amounts, months and STT are numbers, the time of payment is a
  real (naive, local) datetime; header row bold and frozen, repeated when printed.
- CSV: UTF-8 with BOM (so Excel opens the Vietnamese correctly), comma separated, CRLF; a
  header row, the rows, then the totals rows and the note. Amounts are plain digits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.domain.documents import Xn01Report
from app.domain.text import spreadsheet_safe
from printing.blocks import Align, TextStyle, draw_line, wrap
from printing.fonts import MONO, SANS, SANS_BOLD, ensure_fonts, save_canvas, string_width
from printing.xn01_layout import (
    AMOUNT_INDEX,
    COLUMNS,
    DATETIME_EXCEL,
    FORM_NAME,
    MONEY_EXCEL,
    SIGNERS,
    SIGNING_DATE,
    TITLE,
    VOID_NOTE,
    Cell,
    ColumnKind,
    TotalLine,
    check_totals,
    date_line,
    generated_text,
    text_of,
    total_lines,
    unit_line,
    value_of,
    void_summary,
)

# --- PDF -------------------------------------------------------------------------------------

PAGE: Final[tuple[float, float]] = landscape(A4)
MARGIN: Final[float] = 10 * mm
CELL_SIZE: Final = 7.0
CELL_LEADING: Final = 8.6
CELL_PAD_X: Final = 1.6
CELL_PAD_Y: Final = 2.0
FOOTER_H: Final = 14.0
FIRST_HEADER_H: Final = 62.0
NEXT_HEADER_H: Final = 30.0
VOID_GRAY: Final = 0.88
TOTAL_GRAY: Final = 0.93

_HEADER_STYLE: Final = TextStyle(SANS_BOLD, CELL_SIZE, CELL_LEADING, Align.CENTER)


def _column_font(kind: ColumnKind) -> str:
    return MONO if kind is ColumnKind.CODE else SANS


def _column_align(kind: ColumnKind) -> Align:
    if kind in (ColumnKind.INT, ColumnKind.MONEY):
        return Align.RIGHT
    if kind is ColumnKind.DATETIME:
        return Align.CENTER
    return Align.LEFT


@dataclass(frozen=True)
class _Grid:
    lefts: tuple[float, ...]  # x of each column's left edge, plus the table's right edge
    fonts: tuple[str, ...]
    aligns: tuple[Align, ...]
    header_lines: tuple[tuple[str, ...], ...]
    header_h: float

    @property
    def right(self) -> float:
        return self.lefts[-1]

    def inner(self, i: int) -> float:
        return self.lefts[i + 1] - self.lefts[i] - 2 * CELL_PAD_X


def _grid() -> _Grid:
    width = PAGE[0] - 2 * MARGIN
    scale = width / sum(c.pdf_mm for c in COLUMNS)  # the specs are proportions of the page
    lefts = [MARGIN]
    for c in COLUMNS:
        lefts.append(lefts[-1] + c.pdf_mm * scale)
    inner = [lefts[i + 1] - lefts[i] - 2 * CELL_PAD_X for i in range(len(COLUMNS))]
    headers = tuple(
        tuple(wrap(c.header, _HEADER_STYLE, w)) for c, w in zip(COLUMNS, inner, strict=True)
    )
    header_h = max(len(h) for h in headers) * CELL_LEADING + 2 * CELL_PAD_Y
    return _Grid(
        tuple(lefts),
        tuple(_column_font(c.kind) for c in COLUMNS),
        tuple(_column_align(c.kind) for c in COLUMNS),
        headers,
        header_h,
    )


# A laid-out table row: for each column, its lines with their widths.
_Lines = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class _Row:
    cells: tuple[_Lines, ...]
    height: float
    voided: bool = False
    total: TotalLine | None = None


def _fit(text: str, font: str, width: float) -> _Lines:
    w = string_width(text, font, CELL_SIZE)
    if w <= width:
        return ((text, w),)
    style = TextStyle(font, CELL_SIZE, CELL_LEADING)
    return tuple((line, style.width(line)) for line in wrap(text, style, width))


class _CellFitter:
    """`_fit` with the two shortcuts that halve the table's layout time: a day's report repeats
    the same few loại hình, periods, cashiers and points thousands of times (remembered per
    column), and an ASCII string in the monospace font is as wide as its length says."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, float, str], _Lines] = {}
        self._mono_advance = string_width("0", MONO, CELL_SIZE)

    def __call__(self, text: str, font: str, width: float) -> _Lines:
        if font == MONO and text.isascii():
            w = len(text) * self._mono_advance
            if w <= width:
                return ((text, w),)
        key = (font, width, text)
        lines = self._seen.get(key)
        if lines is None:
            lines = self._seen[key] = _fit(text, font, width)
        return lines


def _row_height(cells: Sequence[_Lines]) -> float:
    return max(len(c) for c in cells) * CELL_LEADING + 2 * CELL_PAD_Y


def _layout_rows(report: Xn01Report, grid: _Grid) -> list[_Row]:
    inners = [grid.inner(i) for i in range(len(COLUMNS))]
    specs = list(zip(COLUMNS, grid.fonts, inners, strict=True))
    rows: list[_Row] = []
    fit = _CellFitter()
    for row in report.rows:
        cells = tuple(fit(text_of(col, value_of(col, row)), font, w) for col, font, w in specs)
        rows.append(_Row(cells, _row_height(cells), voided=row.voided))
    label_w = grid.lefts[AMOUNT_INDEX] - grid.lefts[0] - 2 * CELL_PAD_X
    amount_w = inners[AMOUNT_INDEX]
    for line in total_lines(report):
        font = SANS_BOLD
        label = _fit(line.label, font, label_w)
        amount = _fit(text_of(COLUMNS[AMOUNT_INDEX], line.amount), font, amount_w)
        cells = (label, amount)
        rows.append(_Row(cells, _row_height(cells), total=line))
    return rows


def _paginate(
    rows: Sequence[_Row], grid: _Grid, tail_h: float
) -> tuple[list[tuple[int, int]], bool]:
    """Split rows into pages as (start, end) ranges; say whether the tail (note and signatures)
    needs a page of its own."""
    bottom = MARGIN + FOOTER_H
    pages: list[tuple[int, int]] = []
    start = 0
    top = PAGE[1] - MARGIN - FIRST_HEADER_H - grid.header_h
    y = top
    for i, row in enumerate(rows):
        if y - row.height < bottom and i > start:
            pages.append((start, i))
            start = i
            y = PAGE[1] - MARGIN - NEXT_HEADER_H - grid.header_h
        y -= row.height
    pages.append((start, len(rows)))
    return pages, y - tail_h < bottom


def _draw_page_header(canvas: Canvas, report: Xn01Report, first: bool) -> float:
    top = PAGE[1] - MARGIN
    width = PAGE[0] - 2 * MARGIN
    small = TextStyle(SANS, 7.5, 9.5)
    strong = TextStyle(SANS_BOLD, 8.5, 10.5)
    draw_line(canvas, report.organisation, strong, MARGIN, top - 8.5, width * 0.7)
    draw_line(canvas, FORM_NAME, strong.with_align(Align.RIGHT), MARGIN, top - 8.5, width)
    if first:
        draw_line(canvas, unit_line(report), small, MARGIN, top - 19, width)
        title = TextStyle(SANS_BOLD, 13, 16, Align.CENTER)
        draw_line(canvas, TITLE, title, MARGIN, top - 38, width)
        draw_line(
            canvas,
            date_line(report),
            TextStyle(SANS, 9.5, 12, Align.CENTER),
            MARGIN,
            top - 52,
            width,
        )
        return top - FIRST_HEADER_H
    continued = f"{TITLE} — {date_line(report)} (tiếp theo)"
    draw_line(canvas, continued, TextStyle(SANS_BOLD, 9, 11, Align.CENTER), MARGIN, top - 22, width)
    return top - NEXT_HEADER_H


def _draw_table_header(canvas: Canvas, grid: _Grid, top: float) -> float:
    h = grid.header_h
    canvas.setFillGray(0.85)
    canvas.rect(grid.lefts[0], top - h, grid.right - grid.lefts[0], h, stroke=0, fill=1)
    canvas.setFillGray(0)
    text = canvas.beginText()
    emit = _text_emitter(text)
    text.setFont(SANS_BOLD, CELL_SIZE)
    for i, lines in enumerate(grid.header_lines):
        # vertically centred in the header band
        y = top - (h - len(lines) * CELL_LEADING) / 2 - CELL_SIZE * 0.93 - 0.6
        mid = (grid.lefts[i] + grid.lefts[i + 1]) / 2
        for line in lines:
            text.setTextOrigin(mid - string_width(line, SANS_BOLD, CELL_SIZE) / 2, y)
            emit(line)
            y -= CELL_LEADING
    canvas.drawText(text)
    return top - h


def _text_emitter(text: object) -> Callable[[str], None]:
    """`textOut` measures every string to advance the cursor; each cell sets its own origin, so
    that measuring is wasted (a third of the table's time). `_textOut` is the same operation
    minus the cursor move; fall back to the public method if a ReportLab release drops it."""
    emit = getattr(text, "_textOut", None) or getattr(text, "textOut")  # noqa: B009
    return cast(Callable[[str], None], emit)


class _CellText:
    """One text object for all the table's cells, switching font only when a cell needs another."""

    def __init__(self, canvas: Canvas) -> None:
        self.text = canvas.beginText()
        self.emit = _text_emitter(self.text)
        self._font = ""

    def font(self, name: str) -> None:
        if name != self._font:
            self.text.setFont(name, CELL_SIZE)
            self._font = name

    def at(self, x: float, y: float, line: str) -> None:
        self.text.setTextOrigin(x, y)
        self.emit(line)


def _fill_backgrounds(canvas: Canvas, grid: _Grid, rows: Sequence[_Row], top: float) -> float:
    """Grey behind voided and total rows (drawn first, under text and rules); the rows' bottom."""
    x0, x1 = grid.lefts[0], grid.right
    y = top
    for row in rows:
        if row.voided or row.total is not None:
            canvas.setFillGray(VOID_GRAY if row.voided else TOTAL_GRAY)
            canvas.rect(x0, y - row.height, x1 - x0, row.height, stroke=0, fill=1)
        y -= row.height
    canvas.setFillGray(0)
    return y


def _draw_payment_cells(out: _CellText, grid: _Grid, row: _Row, baseline_top: float) -> None:
    for i, lines in enumerate(row.cells):
        if not lines[0][0]:
            continue
        out.font(grid.fonts[i])
        left, right, align = grid.lefts[i], grid.lefts[i + 1], grid.aligns[i]
        baseline = baseline_top
        for line, w in lines:
            if align is Align.RIGHT:
                x = right - CELL_PAD_X - w
            elif align is Align.CENTER:
                x = (left + right - w) / 2
            else:
                x = left + CELL_PAD_X
            out.at(x, baseline, line)
            baseline -= CELL_LEADING


def _draw_total_cells(out: _CellText, grid: _Grid, row: _Row, baseline_top: float) -> None:
    """A total: its label right-aligned before the amount column, the amount in it."""
    amount_left, amount_right = grid.lefts[AMOUNT_INDEX], grid.lefts[AMOUNT_INDEX + 1]
    out.font(SANS_BOLD)
    label, amount = row.cells
    baseline = baseline_top
    for line, w in label:
        out.at(amount_left - CELL_PAD_X - w, baseline, line)
        baseline -= CELL_LEADING
    line, w = amount[0]
    out.at(amount_right - CELL_PAD_X - w, baseline_top, line)


def _add_vertical_rules(
    rules: Any, grid: _Grid, rows: Sequence[_Row], top: float, bottom: float
) -> None:
    """Every column for payments; for the totals only the label/amount split; the header's."""
    x0, x1 = grid.lefts[0], grid.right
    payments_bottom = top - sum(r.height for r in rows if r.total is None)
    for i, x in enumerate(grid.lefts):
        full = i in (0, AMOUNT_INDEX, AMOUNT_INDEX + 1, len(grid.lefts) - 1)
        rules.moveTo(x, top + grid.header_h)
        rules.lineTo(x, bottom if full else payments_bottom)
    rules.moveTo(x0, top + grid.header_h)
    rules.lineTo(x1, top + grid.header_h)
    rules.moveTo(x0, top)
    rules.lineTo(x1, top)


def _draw_rows(canvas: Canvas, grid: _Grid, rows: Sequence[_Row], top: float) -> float:
    """Draw rows from `top` down; return the table's bottom edge."""
    x0, x1 = grid.lefts[0], grid.right
    amount_right = grid.lefts[AMOUNT_INDEX + 1]
    bottom = _fill_backgrounds(canvas, grid, rows, top)

    rules = canvas.beginPath()
    out = _CellText(canvas)
    y = top
    first_baseline_drop = CELL_PAD_Y + CELL_SIZE * 0.93
    for row in rows:
        baseline_top = y - first_baseline_drop
        if row.total is not None:
            _draw_total_cells(out, grid, row, baseline_top)
        else:
            _draw_payment_cells(out, grid, row, baseline_top)
            if row.voided:
                # strike the amount through: it is listed, not counted
                w = row.cells[AMOUNT_INDEX][0][1]
                strike_y = baseline_top + CELL_SIZE * 0.3
                rules.moveTo(amount_right - CELL_PAD_X - w, strike_y)
                rules.lineTo(amount_right - CELL_PAD_X, strike_y)
        y -= row.height
        rules.moveTo(x0, y)
        rules.lineTo(x1, y)
    canvas.drawText(out.text)
    _add_vertical_rules(rules, grid, rows, top, bottom)
    canvas.setLineWidth(0.4)
    canvas.drawPath(rules, stroke=1, fill=0)
    return bottom


# note, void summary, signing date, roles, "(Ký, ghi rõ họ tên)", room to sign
_TAIL_STEPS: Final = (14.0, 11.0, 20.0, 13.0, 11.0, 50.0)


def _tail_height() -> float:
    return sum(_TAIL_STEPS)


def _draw_tail(canvas: Canvas, report: Xn01Report, top: float) -> None:
    """The void note and the signature blocks, under the totals."""
    width = PAGE[0] - 2 * MARGIN
    half = width / 2
    note = TextStyle(SANS, 8, 11)
    signer = TextStyle(SANS_BOLD, 9.5, 12, Align.CENTER)
    hint = TextStyle(SANS, 8, 10, Align.CENTER)
    y = top - _TAIL_STEPS[0]
    draw_line(canvas, VOID_NOTE, note, MARGIN, y, width)
    y -= _TAIL_STEPS[1]
    draw_line(canvas, void_summary(report), note, MARGIN, y, width)
    y -= _TAIL_STEPS[2]
    draw_line(canvas, SIGNING_DATE, hint, MARGIN + half, y, half)
    y -= _TAIL_STEPS[3]
    for i, (role, how) in enumerate(SIGNERS):
        draw_line(canvas, role, signer, MARGIN + i * half, y, half)
        draw_line(canvas, how, hint, MARGIN + i * half, y - _TAIL_STEPS[4], half)


def _draw_footer(canvas: Canvas, report: Xn01Report, page: int, pages: int) -> None:
    style = TextStyle(SANS, 7.5, 9)
    width = PAGE[0] - 2 * MARGIN
    y = MARGIN + 2
    draw_line(canvas, f"{FORM_NAME} — {generated_text(report)}", style, MARGIN, y, width)
    draw_line(canvas, f"Trang {page}/{pages}", style.with_align(Align.RIGHT), MARGIN, y, width)


def render_xn01_pdf(report: Xn01Report) -> bytes:
    """Mẫu 01-XN as an A4-landscape PDF. See the module docstring."""
    ensure_fonts()
    check_totals(report)
    grid = _grid()
    rows = _layout_rows(report, grid)
    pages, tail_on_new_page = _paginate(rows, grid, _tail_height())
    page_count = len(pages) + (1 if tail_on_new_page else 0)

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1, initialFontName=SANS, invariant=1)
    canvas.setTitle(
        f"{FORM_NAME} {report.business_date.strftime('%d/%m/%Y')} — {report.collection_point}"
    )
    canvas.setCreator("QuầyThu")
    canvas.setAuthor(report.organisation)
    canvas.setSubject(TITLE)
    bottom = 0.0
    for number, (start, end) in enumerate(pages, start=1):
        top = _draw_page_header(canvas, report, first=number == 1)
        top = _draw_table_header(canvas, grid, top)
        bottom = _draw_rows(canvas, grid, rows[start:end], top)
        if number < page_count:
            _draw_footer(canvas, report, number, page_count)
            canvas.showPage()
    if tail_on_new_page:
        bottom = _draw_page_header(canvas, report, first=False)
    _draw_tail(canvas, report, bottom)
    _draw_footer(canvas, report, page_count, page_count)
    canvas.showPage()
    save_canvas(canvas)
    return buffer.getvalue()


# --- XLSX ------------------------------------------------------------------------------------

SHEET_TITLE: Final = "Mẫu 01-XN"


def _cell(
    sheet: Any, value: object, *, font: Font | None = None, number_format: str | None = None
) -> WriteOnlyCell:
    c = WriteOnlyCell(sheet, value=spreadsheet_safe(value))
    if font is not None:
        c.font = font
    if number_format is not None:
        c.number_format = number_format
    return c


_BOLD: Final = Font(bold=True)


def _xlsx_page_setup(sheet: Any, header_row: int) -> None:
    """Sheet-level settings. They go in before the first row: write-only mode streams the
    sheet's header (views, columns, page set-up) when the first row arrives."""
    for i, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = column.xlsx_chars
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _xlsx_header(sheet: Any) -> list[WriteOnlyCell]:
    fill = PatternFill("solid", fgColor="D9D9D9")
    wrap_center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header = []
    for column in COLUMNS:
        c = _cell(sheet, column.header, font=_BOLD)
        c.fill = fill
        c.alignment = wrap_center
        header.append(c)
    return header


def _xlsx_payment_rows(sheet: Any, report: Xn01Report) -> Iterator[list[object]]:
    # Plain values cost a fraction of styled cells; only the columns whose display depends on
    # a number format (money, date-time) get a WriteOnlyCell.
    formats = [
        MONEY_EXCEL
        if c.kind is ColumnKind.MONEY
        else DATETIME_EXCEL
        if c.kind is ColumnKind.DATETIME
        else None
        for c in COLUMNS
    ]
    void_fill = PatternFill("solid", fgColor="EDEDED")
    for row in report.rows:
        values: list[object] = []
        for column, fmt in zip(COLUMNS, formats, strict=True):
            value: Cell | None = value_of(column, row)
            if value == "":
                value = None  # a truly empty cell, not an empty string
            value = cast("Cell | None", spreadsheet_safe(value))
            if fmt is not None or row.voided:
                c = _cell(sheet, value, number_format=fmt)
                if row.voided:
                    c.fill = void_fill
                values.append(c)
            else:
                values.append(value)
        yield values


def render_xn01_xlsx(report: Xn01Report) -> bytes:
    """Mẫu 01-XN as an Excel workbook. See the module docstring."""
    check_totals(report)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    title_rows: list[list[object]] = [
        [_cell(sheet, report.organisation, font=_BOLD)],
        [_cell(sheet, TITLE, font=Font(bold=True, size=13))],
        [_cell(sheet, FORM_NAME, font=_BOLD)],
        [spreadsheet_safe(date_line(report))],
        [spreadsheet_safe(unit_line(report))],
        [spreadsheet_safe(generated_text(report))],
        [],
    ]
    _xlsx_page_setup(sheet, header_row=len(title_rows) + 1)
    for title_row in title_rows:
        sheet.append(title_row)
    sheet.append(_xlsx_header(sheet))
    for values in _xlsx_payment_rows(sheet, report):
        sheet.append(values)

    blank = [None] * len(COLUMNS)
    for line in total_lines(report):
        totals: list[object] = list(blank)
        totals[0] = _cell(sheet, line.label, font=_BOLD)
        totals[AMOUNT_INDEX] = _cell(sheet, line.amount, font=_BOLD, number_format=MONEY_EXCEL)
        sheet.append(totals)
    sheet.append([])
    sheet.append([VOID_NOTE])
    sheet.append([void_summary(report)])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- CSV -------------------------------------------------------------------------------------


def _csv_rows(report: Xn01Report) -> Iterator[list[object]]:
    yield [c.header for c in COLUMNS]
    for row in report.rows:
        values = [(c, value_of(c, row)) for c in COLUMNS]
        # Amounts stay plain digits (no "." grouping to confuse a CSV reader); times as printed.
        yield [text_of(c, v) if c.kind is ColumnKind.DATETIME else v for c, v in values]
    for line in total_lines(report):
        out: list[object] = [""] * len(COLUMNS)
        out[0] = line.label
        out[AMOUNT_INDEX] = line.amount
        yield out
    note: list[object] = [""] * len(COLUMNS)
    note[0] = VOID_NOTE
    yield note


def render_xn01_csv(report: Xn01Report) -> bytes:
    """Mẫu 01-XN as CSV. See the module docstring."""
    check_totals(report)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerows([spreadsheet_safe(v) for v in row] for row in _csv_rows(report))
    return "\ufeff".encode() + text.getvalue().encode("utf-8")
