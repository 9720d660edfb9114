"""The counter receipt (biên lai thu tiền) as a PDF, for an 80 mm thermal roll or an A5 sheet.

`render_receipt(data, layout)` is pure: the same `ReceiptData` gives byte-for-byte the same PDF
(no clock, no random document id — ReportLab's invariant mode) and nothing is read but the
bundled fonts, which are embedded (subset) in every file.

It guarantees that the receipt carries everything DOMAIN.md "Receipts" lists — organisation
and collection point, series and zero-padded number, local date and time (Asia/Ho_Chi_Minh),
cashier, payer and mã số BHXH (or "Chưa có mã — CCCD: …"), loại hình, months and period, the
detail lines, amount in figures and in words, rate version, the Mã xác nhận in large bold
monospace, a QR code of `qr_payload` and where to look the payment up — plus a "BẢN SAO (lần
n)" band on a reprint and an "ĐÃ HỦY" band with the void's reason, record, supervisor and time
on a voided payment.

The roll receipt is exactly 80 mm wide and as tall as its content: every block is measured
first, then the page is created at that height and drawn. The A5 receipt is portrait, with the
QR code beside the Mã xác nhận and signature blocks for payer and cashier; an unusually long
breakdown continues on a second sheet. Text wraps (a long name continues on the next line
inside its column); nothing is clipped. All text is NFC-normalised before drawing.

It refuses (ValueError) data that would print a wrong receipt: a non-ASCII QR payload, a naive
timestamp, or amount-in-words that does not read the amount in figures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Final

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.domain.clock import format_local, local_time
from app.domain.documents import ReceiptData, VoidInfo, format_receipt_number
from app.domain.money import amount_in_words, format_vnd
from printing.blocks import (
    Align,
    Block,
    Columns,
    Field,
    FitText,
    Line,
    Qr,
    Rule,
    Spacer,
    Stamp,
    Text,
    TextStyle,
    clean,
)
from printing.fonts import MONO_BOLD, SANS, SANS_BOLD, ensure_fonts, save_canvas

RATE_TERM: Final = "Bảng mức đóng"  # one term everywhere for the rate table version
LOOKUP_HINT: Final = "Tra cứu: baohiemxahoi.gov.vn (Tra cứu quá trình đóng) hoặc ứng dụng VssID"


class ReceiptLayout(Enum):
    ROLL_80MM = "roll_80mm"
    A5 = "a5"


@dataclass(frozen=True)
class _Profile:
    page_width: float
    page_height: float | None  # None: a roll, as tall as the content
    margin_x: float
    margin_y: float
    org: TextStyle
    small: TextStyle
    body: TextStyle
    strong: TextStyle
    title: TextStyle
    amount: TextStyle
    code_heading: TextStyle
    code: TextStyle
    stamp: TextStyle
    qr_size: float
    gap: float  # vertical rhythm unit
    wide: bool  # A5: header in two columns, QR beside the code, signature blocks


def _style(font: str, size: float, align: Align = Align.LEFT) -> TextStyle:
    return TextStyle(font, size, round(size * 1.25, 2), align)


_PROFILES: Final = {
    ReceiptLayout.ROLL_80MM: _Profile(
        page_width=80 * mm,
        page_height=None,
        # 80 mm paper, 72 mm printable on the usual thermal head: 4 mm each side.
        margin_x=4 * mm,
        margin_y=4 * mm,
        org=_style(SANS_BOLD, 9, Align.CENTER),
        small=_style(SANS, 7.5),
        body=_style(SANS, 8.5),
        strong=_style(SANS_BOLD, 8.5),
        title=_style(SANS_BOLD, 13, Align.CENTER),
        amount=_style(SANS_BOLD, 11),
        code_heading=_style(SANS_BOLD, 9, Align.CENTER),
        code=_style(MONO_BOLD, 20, Align.CENTER),
        stamp=_style(SANS_BOLD, 14),
        qr_size=32 * mm,
        gap=2.5 * mm,
        wide=False,
    ),
    ReceiptLayout.A5: _Profile(
        page_width=A5[0],
        page_height=A5[1],
        margin_x=12 * mm,
        margin_y=9 * mm,
        org=_style(SANS_BOLD, 10),
        small=_style(SANS, 8.5),
        body=_style(SANS, 9.5),
        strong=_style(SANS_BOLD, 9.5),
        title=_style(SANS_BOLD, 16, Align.CENTER),
        amount=_style(SANS_BOLD, 12.5),
        code_heading=_style(SANS_BOLD, 10),
        code=_style(MONO_BOLD, 24),
        stamp=_style(SANS_BOLD, 15),
        qr_size=30 * mm,
        gap=2.5 * mm,
        wide=True,
    ),
}

_FIELD_LABELS: Final = (
    "Ngày nộp:",
    "Nhân viên thu:",
    "Người nộp:",
    "Mã số BHXH:",
    "Loại hình:",
    "Số tháng đóng:",
    "Thời gian đóng:",
    "Số tiền:",
    "Bảng mức đóng:",
    "Tiền khách đưa:",
    "Tiền trả lại:",
    "Hạn thẻ BHYT:",
)


@cache
def _label_width(layout: ReceiptLayout) -> float:
    """Width of the label column: the widest label, capped so values keep room to breathe."""
    ensure_fonts()
    p = _PROFILES[layout]
    content = p.page_width - 2 * p.margin_x
    widest = max(p.body.width(label) for label in _FIELD_LABELS) + p.body.size * 0.6
    return min(widest, content * 0.42)


def format_month(day: date) -> str:
    return day.strftime("%m/%Y")


def format_period(start: date, end: date) -> str:
    return f"{format_month(start)} – {format_month(end)}"


def payer_code_text(data: ReceiptData) -> str:
    if data.ma_so_bhxh:
        return data.ma_so_bhxh
    # The no-break space keeps "CCCD:" with its number when the line wraps.
    return f"Chưa có mã — CCCD:\u00a0{data.cccd}" if data.cccd else "Chưa có mã"


def _validate(data: ReceiptData) -> None:
    if not data.qr_payload.isascii():
        raise ValueError(
            "qr_payload must be ASCII (QR byte mode is read as ISO-8859-1 by scanners)"
        )
    if data.amount < 0:
        raise ValueError(f"amount must not be negative, got {data.amount}")
    expected_words = amount_in_words(data.amount)
    if data.amount_words and clean(data.amount_words) != expected_words:
        raise ValueError(
            f"amount_words {data.amount_words!r} does not read {data.amount} ({expected_words!r})"
        )
    local_time(data.paid_at)
    if data.void is not None:
        local_time(data.void.voided_at)


def _void_details(void: VoidInfo, wide: bool) -> list[str]:
    record = f"Bản ghi hủy: số {void.ledger_seq}, mã {void.void_id}"
    who = f"Người duyệt hủy: {void.supervisor}"
    when = f"Thời điểm hủy: {format_local(void.voided_at)}"
    if wide:
        # A sheet has the width to run these together (and needs the height); no-break spaces
        # keep each part whole, so a line never ends in the middle of the supervisor's name.
        parts = [part.replace(" ", "\u00a0") for part in (record, who, when)]
        return [f"Lý do: {void.reason}", ". ".join(parts) + "."]
    return [f"Lý do: {void.reason}", record, who, when]


def _blocks(data: ReceiptData, layout: ReceiptLayout) -> list[Block]:
    p = _PROFILES[layout]
    label_w = _label_width(layout)
    body, strong = p.body, p.strong
    number = format_receipt_number(data.number)

    def field(label: str, value: str, value_style: TextStyle = body) -> Field:
        return Field(label, value, body, value_style, label_w, space_after=p.gap * 0.25)

    out: list[Block] = []
    if p.wide:
        left: list[Block] = [
            Text(data.organisation, p.org),
            Text(f"Điểm thu: {data.collection_point}", p.small),
            Text(f"Quầy: {data.counter_code}", p.small),
        ]
        right_style = p.body.with_align(Align.RIGHT)
        right: list[Block] = [
            Text(f"Ký hiệu: {data.series}", right_style),
            Text(f"Số: {number}", p.strong.with_align(Align.RIGHT), space_after=p.gap * 0.5),
        ]
        if data.reprint_number >= 1:
            # On a sheet the copy mark sits in the header, where the eye lands first.
            right.append(Stamp(f"BẢN SAO (lần {data.reprint_number})", p.amount, padding=3.0))
        out.append(Columns([(0.62, left), (0.38, right)], gap=p.gap, space_after=p.gap))
    else:
        centred_small = p.small.with_align(Align.CENTER)
        out += [
            Text(data.organisation, p.org),
            Text(f"Điểm thu: {data.collection_point}", centred_small),
            Text(f"Quầy: {data.counter_code}", centred_small),
            Rule(p.gap / 2),
        ]
    out.append(Text("BIÊN LAI THU TIỀN", p.title, space_after=p.gap * 0.3))
    if not p.wide:
        out.append(Text(f"Ký hiệu: {data.series}   Số: {number}", body.with_align(Align.CENTER)))
    out.append(Spacer(p.gap * 0.6))

    if data.void is not None:
        out.append(
            Stamp(
                "ĐÃ HỦY",
                p.stamp,
                _void_details(data.void, p.wide),
                p.small if not p.wide else p.body,
                inverse=True,
                space_after=p.gap * 0.6,
            )
        )
    if data.reprint_number >= 1 and not p.wide:
        out.append(Stamp(f"BẢN SAO (lần {data.reprint_number})", p.stamp, space_after=p.gap * 0.6))

    out += [
        field("Ngày nộp:", format_local(data.paid_at)),
        field("Nhân viên thu:", data.cashier),
        field("Người nộp:", data.payer_name, strong),
        field("Mã số BHXH:", payer_code_text(data), strong if data.ma_so_bhxh else body),
        field("Loại hình:", data.scheme_label),
        field("Số tháng đóng:", str(data.months)),
        field("Thời gian đóng:", format_period(data.period_from, data.period_to)),
    ]
    if data.card_from is not None and data.card_to is not None:
        out.append(field("Hạn thẻ BHYT:", f"{data.card_from:%d/%m/%Y} – {data.card_to:%d/%m/%Y}"))
    if data.detail_lines:
        out.append(Spacer(p.gap * 0.3))
        out.append(Text("Chi tiết:", body))
        out += [
            Line(label, value, p.small, indent=p.small.size) for label, value in data.detail_lines
        ]
    out.append(Rule(p.gap / 2))

    # No-break spaces keep "1.263.600 đ" and "(ĐÃ HỦY)" whole if a big amount must wrap.
    amount_text = format_vnd(data.amount).replace(" ", "\u00a0") + (
        " (ĐÃ\u00a0HỦY)" if data.void is not None else ""
    )
    amount_label_w = min(label_w, p.amount.width("Số tiền:") + p.amount.size * 0.6)
    out += [
        Field("Số tiền:", amount_text, p.amount, p.amount, amount_label_w, space_after=p.gap * 0.2),
        Text(
            f"Bằng chữ: {data.amount_words or amount_in_words(data.amount)}",
            body,
            space_after=p.gap * 0.2,
        ),
        field(f"{RATE_TERM}:", data.rate_version),
    ]
    if data.tendered is not None and data.tendered >= data.amount and data.void is None:
        out += [
            field("Tiền khách đưa:", format_vnd(data.tendered)),
            field("Tiền trả lại:", format_vnd(data.tendered - data.amount)),
        ]
    out.append(Rule(p.gap / 2))

    hint = Text(LOOKUP_HINT, p.small.with_align(Align.CENTER if not p.wide else Align.LEFT))
    if p.wide:
        code_column: list[Block] = [
            Spacer(p.gap),
            Text("MÃ XÁC NHẬN", p.code_heading, space_after=p.gap * 0.3),
            FitText(data.confirmation_code, p.code, space_after=p.gap * 0.6),
            Text("Dùng mã này để đối chiếu khoản đã nộp.", p.small, space_after=p.gap * 0.3),
            hint,
        ]
        qr_column: list[Block] = [Qr(data.qr_payload, p.qr_size, Align.RIGHT)]
        out.append(Columns([(0.66, code_column), (0.34, qr_column)], gap=p.gap, space_after=p.gap))
        signer_style = p.strong.with_align(Align.CENTER)
        note_style = p.small.with_align(Align.CENTER)
        out.append(
            Columns(
                [
                    (
                        0.5,
                        [
                            Text("Người nộp tiền", signer_style),
                            Text("(Ký, ghi rõ họ tên)", note_style),
                        ],
                    ),
                    (
                        0.5,
                        [
                            Text("Người thu tiền", signer_style),
                            Text("(Ký, ghi rõ họ tên)", note_style),
                            Spacer(10 * mm),
                            Text(data.cashier, p.body.with_align(Align.CENTER)),
                        ],
                    ),
                ],
                gap=p.gap,
            )
        )
    else:
        out += [
            Text("MÃ XÁC NHẬN", p.code_heading, space_after=p.gap * 0.2),
            FitText(data.confirmation_code, p.code, space_after=p.gap * 0.4),
            Qr(data.qr_payload, p.qr_size, space_after=p.gap * 0.4),
            hint,
            Text("Vui lòng giữ biên lai để đối chiếu.", p.small.with_align(Align.CENTER)),
        ]
    return out


def render_receipt(data: ReceiptData, layout: ReceiptLayout) -> bytes:
    """PDF bytes of the receipt for `data` in `layout`. See the module docstring."""
    ensure_fonts()
    _validate(data)
    p = _PROFILES[layout]
    width = p.page_width - 2 * p.margin_x
    blocks = _blocks(data, layout)
    heights = [b.measure(width) for b in blocks]

    if p.page_height is None:
        page_height = sum(heights) + 2 * p.margin_y
    else:
        page_height = p.page_height
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(p.page_width, page_height),
        pageCompression=1,
        initialFontName=SANS,
        invariant=1,
    )
    number = format_receipt_number(data.number)
    canvas.setTitle(f"Biên lai {data.series} số {number}")
    canvas.setCreator("QuầyThu")
    canvas.setAuthor(data.organisation)
    canvas.setSubject("Biên lai thu tiền BHXH, BHYT")

    top = page_height - p.margin_y
    for block, height in zip(blocks, heights, strict=True):
        # A sheet with a very long breakdown continues on a second sheet; a roll never does.
        if (
            p.page_height is not None
            and top - height < p.margin_y
            and top < page_height - p.margin_y
        ):
            canvas.showPage()
            top = page_height - p.margin_y
            continued = Text(
                f"Biên lai {data.series} số {number} — {data.payer_name} (tiếp theo)",
                p.small,
                space_after=p.gap,
            )
            continued_height = continued.measure(width)
            continued.draw(canvas, p.margin_x, top, width)
            top -= continued_height
        block.draw(canvas, p.margin_x, top, width)
        top -= height
    canvas.showPage()
    save_canvas(canvas)
    return buffer.getvalue()
