"""A shift's Z report (báo cáo chốt ca) as a PDF, for an 80 mm roll or an A4 sheet.

`render_zreport(data, layout)` is pure like the receipt: the same `ZReportData` gives the same
bytes (ReportLab's invariant mode), fonts are the bundled DejaVu, embedded. It prints what
docs/SHIFTS.md lists: counter, cashier, opened and closed times, the float, payments by scheme
(count, amount), voids, drops and pick-ups, the expected cash, the count by denomination, the
difference with its reason and supervisor, how many payments were not yet synced at the close,
the shift's first and last receipt numbers and the hash over its records; a copy carries a
"BẢN SAO (lần n)" band. The roll is exactly 80 mm wide and as tall as its content; the A4
sheet continues on a second page if it must. Signature lines for cashier and supervisor close
the report.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import Enum
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.domain.clock import format_local
from app.domain.documents import format_receipt_number
from app.domain.money import format_number, format_vnd
from app.domain.shifts import ZReportData
from printing.blocks import Align, Block, Columns, Line, Rule, Spacer, Stamp, Text, TextStyle
from printing.fonts import MONO, SANS, SANS_BOLD, ensure_fonts, save_canvas


class ZReportLayout(Enum):
    ROLL_80MM = "roll_80mm"
    A4 = "a4"


@dataclass(frozen=True)
class _Profile:
    page_width: float
    page_height: float | None  # None: a roll, as tall as the content
    margin: float
    small: TextStyle
    body: TextStyle
    strong: TextStyle
    title: TextStyle
    mono: TextStyle
    gap: float


def _style(font: str, size: float, align: Align = Align.LEFT) -> TextStyle:
    return TextStyle(font, size, round(size * 1.25, 2), align)


_PROFILES: Final = {
    ZReportLayout.ROLL_80MM: _Profile(
        80 * mm,
        None,
        4 * mm,
        _style(SANS, 7.5),
        _style(SANS, 8.5),
        _style(SANS_BOLD, 8.5),
        _style(SANS_BOLD, 12, Align.CENTER),
        _style(MONO, 6.5),
        2.2 * mm,
    ),
    ZReportLayout.A4: _Profile(
        A4[0],
        A4[1],
        18 * mm,
        _style(SANS, 9),
        _style(SANS, 10.5),
        _style(SANS_BOLD, 10.5),
        _style(SANS_BOLD, 16, Align.CENTER),
        _style(MONO, 9),
        3 * mm,
    ),
}


def _denomination_lines(counts: tuple[tuple[int, int], ...], p: _Profile) -> list[Block]:
    return [
        Line(f"{format_number(d)} đ × {n}", format_vnd(d * n), p.small, indent=p.small.size)
        for d, n in counts
    ]


def _receipts(data: ZReportData) -> str:
    if data.first_receipt is None or data.last_receipt is None:
        return "(không có biên lai)"
    first = format_receipt_number(data.first_receipt)
    last = format_receipt_number(data.last_receipt)
    return f"{data.series} số {first} – {last}"


def _blocks(data: ZReportData, layout: ZReportLayout) -> list[Block]:
    p = _PROFILES[layout]
    body, strong, small = p.body, p.strong, p.small
    centred = small.with_align(Align.CENTER)
    out: list[Block] = [
        Text(data.organisation, strong.with_align(Align.CENTER)),
        Text(f"Điểm thu: {data.collection_point}", centred),
        Text(f"Quầy: {data.counter_code}", centred),
        Rule(p.gap / 2),
        Text("BÁO CÁO CHỐT CA (Z)", p.title, space_after=p.gap * 0.5),
    ]
    if data.copy_number >= 1:
        out.append(Stamp(f"BẢN SAO (lần {data.copy_number})", p.title, space_after=p.gap * 0.5))
    out += [
        Line("Thu ngân:", data.cashier, body),
        Line("Mở ca:", format_local(data.opened_at), body),
        Line("Đóng ca:", format_local(data.closed_at), body),
        Line("Người đóng ca:", data.closed_by, body),
        Line("Mã ca:", data.shift_id, small),
        Rule(p.gap / 2),
        Line("Tiền đầu ca:", format_vnd(data.float_amount), strong),
        *_denomination_lines(data.float_counts, p),
        Spacer(p.gap * 0.4),
        Text("Khoản thu theo loại hình:", strong),
    ]
    for label, count, amount in data.schemes:
        out.append(Line(f"{label} ({count} khoản)", format_vnd(amount), body, indent=small.size))
    out += [
        Line(f"Cộng thu ({data.payments} khoản)", format_vnd(data.payment_total), strong),
        Line(f"Hủy, trả lại tiền ({data.voids} lệnh)", f"−{format_vnd(data.void_total)}", body),
    ]
    for at, label, amount, reason, by in data.moves:
        sign = "−" if label.startswith("Nộp") else "+"
        out.append(
            Line(f"{label} {format_local(at, '%H:%M')}", f"{sign}{format_vnd(amount)}", body)
        )
        out.append(Text(f"{reason} — giám sát: {by}", small, space_after=p.gap * 0.2))
    out += [
        Rule(p.gap / 2),
        Line("Tiền phải có (theo sổ):", format_vnd(data.expected), strong),
        Line("Tiền đếm thực tế:", format_vnd(data.counted), strong),
        *_denomination_lines(data.counted_counts, p),
        Line("Chênh lệch:", format_vnd(data.difference), strong),
    ]
    if data.reason:
        out.append(Text(f"Lý do chênh lệch: {data.reason}", body))
    if data.supervisor:
        out.append(Text(f"Giám sát xác nhận: {data.supervisor}", body))
    out += [
        Rule(p.gap / 2),
        Line("Biên lai trong ca:", _receipts(data), body),
        Line("Chưa đồng bộ khi đóng ca:", f"{data.unsynced} khoản", body),
        Text("Mã băm các bản ghi của ca (SHA-256):", small),
        # Two halves of 32 on the roll: a hash must not break at an arbitrary place.
        *(
            [Text(data.records_hash, p.mono, space_after=p.gap)]
            if p.page_height is not None
            else [
                Text(data.records_hash[:32], p.mono),
                Text(data.records_hash[32:], p.mono, space_after=p.gap),
            ]
        ),
    ]
    signer = strong.with_align(Align.CENTER)
    note = small.with_align(Align.CENTER)
    out.append(
        Columns(
            [
                (0.5, [Text("Thu ngân", signer), Text("(Ký, ghi rõ họ tên)", note)]),
                (0.5, [Text("Giám sát", signer), Text("(Ký, ghi rõ họ tên)", note)]),
            ],
            gap=p.gap,
            space_after=14 * mm,
        )
    )
    return out


def render_zreport(data: ZReportData, layout: ZReportLayout) -> bytes:
    """PDF bytes of the Z report for `data` in `layout`. See the module docstring."""
    ensure_fonts()
    if data.opened_at.tzinfo is None or data.closed_at.tzinfo is None:
        raise ValueError("Z report instants must be aware")
    p = _PROFILES[layout]
    width = p.page_width - 2 * p.margin
    blocks = _blocks(data, layout)
    heights = [b.measure(width) for b in blocks]
    page_height = p.page_height or sum(heights) + 2 * p.margin
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(p.page_width, page_height),
        pageCompression=1,
        initialFontName=SANS,
        invariant=1,
    )
    canvas.setTitle(f"Báo cáo chốt ca {data.counter_code} {format_local(data.closed_at)}")
    canvas.setCreator("QuầyThu")
    canvas.setAuthor(data.organisation)
    top = page_height - p.margin
    for block, height in zip(blocks, heights, strict=True):
        if p.page_height is not None and top - height < p.margin:
            canvas.showPage()
            top = page_height - p.margin
        block.draw(canvas, p.margin, top, width)
        top -= height
    canvas.showPage()
    save_canvas(canvas)
    return buffer.getvalue()
