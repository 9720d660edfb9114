"""The receipt PDF, read back the way a person (pdftotext) and a scanner (zxing) would read it."""

from __future__ import annotations

import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import zxingcpp

from app.domain.documents import ReceiptData, VoidInfo
from app.domain.money import amount_in_words, format_vnd
from printing.receipt import LOOKUP_HINT, ReceiptLayout, render_receipt

MM = 72 / 25.4
LAYOUTS = list(ReceiptLayout)

Text = Callable[..., str]


def flat(text: str) -> str:
    """Whitespace collapsed, so a wrapped paragraph reads as one line again."""
    return " ".join(text.split())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_field_is_printed_in_vietnamese(
    receipt: ReceiptData, layout: ReceiptLayout, pdf_text: Text
) -> None:
    pdf = render_receipt(receipt, layout)
    text = pdf_text(pdf)
    one_line = flat(pdf_text(pdf, raw=True))
    for expected in (
        "Bưu điện huyện Đông Anh — Tổ chức dịch vụ thu BHXH, BHYT",
        "Điểm thu xã Uy Nỗ",
        "C01",
        "BIÊN LAI THU TIỀN",
        "C01-2026",
        "0000123",  # number, zero-padded to 7 digits
        "15/03/2026 09:41",  # 02:41 UTC in Asia/Ho_Chi_Minh
        "Trần Thị Mai",
        "Nguyễn Thị Hằng",
        "0123456789",
        "BHXH tự nguyện",
        "01/2026 – 12/2026",
        "Mức thu nhập chọn đóng",
        "1.500.000 đ/tháng",
        "Nhà nước hỗ trợ 20% (đối tượng khác)",
        "−792.000 đ",
        "3.168.000 đ",
        "BHXHTN-2025-07-01 v2",
        "MÃ XÁC NHẬN",
        "7KQ2-9XMD-4TR6",
    ):
        assert expected in one_line, expected
    assert format_vnd(receipt.amount) == "3.168.000 đ"
    assert f"Bằng chữ: {amount_in_words(receipt.amount)}" in one_line
    assert amount_in_words(receipt.amount) == "Ba triệu một trăm sáu mươi tám nghìn đồng"
    assert LOOKUP_HINT in one_line
    assert "Số tháng đóng: 12" in one_line
    assert "BẢN SAO" not in text and "ĐÃ HỦY" not in text
    # Text is extractable as composed Vietnamese, not as glyph soup.
    assert unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_payer_without_code_shows_cccd_and_local_date(
    receipt_bhyt: ReceiptData, layout: ReceiptLayout, pdf_text: Text
) -> None:
    one_line = flat(pdf_text(render_receipt(receipt_bhyt, layout), raw=True))
    assert "Chưa có mã — CCCD: 079301004567" in one_line
    assert "Huỳnh Thị Ngọc Trâm" in one_line
    assert "BHYT hộ gia đình" in one_line
    assert "Q102-2026" in one_line and "0000007" in one_line
    # 17:05 UTC on 31/12 is already 1 January in Hà Nội
    assert "01/01/2027 00:05" in one_line
    assert "01/2027 – 06/2027" in one_line
    assert "442.260 đ" in one_line
    assert amount_in_words(442_260) in one_line
    assert "Bốn trăm bốn mươi hai nghìn hai trăm sáu mươi đồng" in one_line


@pytest.mark.parametrize("layout", LAYOUTS)
def test_reprint_says_ban_sao_with_its_number(
    receipt: ReceiptData, layout: ReceiptLayout, pdf_text: Text
) -> None:
    text = pdf_text(render_receipt(replace(receipt, reprint_number=2), layout))
    assert "BẢN SAO (lần 2)" in text
    assert "7KQ2-9XMD-4TR6" in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_void_says_da_huy_with_reason_record_supervisor_and_time(
    receipt: ReceiptData, void_info: VoidInfo, layout: ReceiptLayout, pdf_text: Text
) -> None:
    one_line = flat(pdf_text(render_receipt(replace(receipt, void=void_info), layout), raw=True))
    assert "ĐÃ HỦY" in one_line
    assert "Lý do: Nhập sai số tháng đóng, người nộp yêu cầu lập lại" in one_line
    assert "1043" in one_line and "VD-C01-000017" in one_line
    assert "Phạm Văn Đức" in one_line
    assert "15/03/2026 10:05" in one_line
    # the payment itself is still fully shown: a void never hides what was voided
    assert "3.168.000 đ" in one_line and "7KQ2-9XMD-4TR6" in one_line


def test_voided_reprint_shows_both_marks(
    receipt: ReceiptData, void_info: VoidInfo, pdf_text: Text
) -> None:
    text = pdf_text(
        render_receipt(replace(receipt, void=void_info, reprint_number=1), ReceiptLayout.ROLL_80MM)
    )
    assert "BẢN SAO (lần 1)" in text and "ĐÃ HỦY" in text


def test_roll_is_80mm_wide_and_grows_with_the_content(
    receipt: ReceiptData, page_size: Callable[[bytes], tuple[float, float]]
) -> None:
    width, height = page_size(
        render_receipt(replace(receipt, detail_lines=()), ReceiptLayout.ROLL_80MM)
    )
    assert width == pytest.approx(80 * MM, abs=0.01)
    previous = height
    for n in (3, 10):
        lines = tuple(
            (f"Dòng chi tiết số {i}", f"{i * 1000:,} đ".replace(",", ".")) for i in range(n)
        )
        _, taller = page_size(
            render_receipt(replace(receipt, detail_lines=lines), ReceiptLayout.ROLL_80MM)
        )
        assert taller > previous
        previous = taller
    assert 100 * MM < height < 300 * MM


def test_a5_is_a5_portrait_on_one_page(
    receipt_long_name: ReceiptData,
    void_info: VoidInfo,
    pdf_info: Callable[[bytes], dict[str, str]],
    page_size: Callable[[bytes], tuple[float, float]],
) -> None:
    # the busiest receipt there is: voided, reprinted, long name, three detail lines
    pdf = render_receipt(
        replace(receipt_long_name, void=void_info, reprint_number=3), ReceiptLayout.A5
    )
    assert pdf_info(pdf)["Pages"] == "1"
    assert page_size(pdf) == pytest.approx((148 * MM, 210 * MM), abs=0.01)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_long_name_wraps_inside_the_paper(
    receipt_long_name: ReceiptData,
    layout: ReceiptLayout,
    pdf_words: Callable[[bytes], list[tuple[str, float, float, float, float]]],
    page_size: Callable[[bytes], tuple[float, float]],
    pdf_text: Text,
) -> None:
    pdf = render_receipt(receipt_long_name, layout)
    width, _ = page_size(pdf)
    words = pdf_words(pdf)
    assert words
    for word, x0, _, x1, _ in words:
        assert x0 >= 3 * MM and x1 <= width - 3 * MM, (
            f"{word!r} runs off the paper ({x0:.1f}–{x1:.1f})"
        )
    name_words = receipt_long_name.payer_name.split()
    name_lines = {round(y0) for word, _, y0, _, _ in words if word in name_words[1:]}
    assert len(name_lines) >= 2, "a name this long must wrap onto several lines"
    assert receipt_long_name.payer_name in flat(pdf_text(pdf, raw=True))


def test_decomposed_input_prints_as_composed_text(receipt: ReceiptData, pdf_text: Text) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")
    assert nfd != "Nguyễn Thị Hằng"
    text = pdf_text(render_receipt(replace(receipt, payer_name=nfd), ReceiptLayout.ROLL_80MM))
    assert "Nguyễn Thị Hằng" in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_qr_code_decodes_to_the_payload(
    receipt: ReceiptData,
    layout: ReceiptLayout,
    render_gray: Callable[[bytes, int], tuple[bytes, int, int]],
) -> None:
    pixels, width, height = render_gray(render_receipt(receipt, layout), 300)
    image = memoryview(pixels).cast("B", (height, width))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.barcode_formats_from_str("QRCode"))
    assert [b.text for b in found] == [receipt.qr_payload]


def test_qr_code_survives_a_thermal_printer_resolution(
    receipt: ReceiptData, render_gray: Callable[[bytes, int], tuple[bytes, int, int]]
) -> None:
    # 203 dpi is the usual 80 mm thermal head
    pixels, width, height = render_gray(render_receipt(receipt, ReceiptLayout.ROLL_80MM), 203)
    found = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert receipt.qr_payload in [b.text for b in found]


def test_fonts_are_embedded(receipt: ReceiptData, tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(render_receipt(receipt, ReceiptLayout.ROLL_80MM))
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout.decode()
    font_rows = [line for line in out.splitlines()[2:] if line.strip()]
    assert font_rows
    for row in font_rows:
        assert "DejaVu" in row, row
        # columns: name type encoding emb sub uni object ID
        assert row.split()[-5:-3] == ["yes", "yes"], row  # embedded, subset


def test_refuses_a_non_ascii_qr_payload(receipt: ReceiptData) -> None:
    with pytest.raises(ValueError, match="ASCII"):
        render_receipt(replace(receipt, qr_payload="QT1|Hằng"), ReceiptLayout.ROLL_80MM)


def test_refuses_amount_words_that_do_not_read_the_amount(receipt: ReceiptData) -> None:
    with pytest.raises(ValueError, match="amount_words"):
        render_receipt(replace(receipt, amount_words=amount_in_words(3_186_000)), ReceiptLayout.A5)


def test_refuses_a_naive_timestamp(receipt: ReceiptData) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_receipt(
            replace(receipt, paid_at=datetime(2026, 3, 15, 9, 41)), ReceiptLayout.ROLL_80MM
        )


def test_empty_amount_words_are_filled_in(receipt: ReceiptData, pdf_text: Text) -> None:
    text = flat(
        pdf_text(
            render_receipt(replace(receipt, amount_words=""), ReceiptLayout.ROLL_80MM), raw=True
        )
    )
    assert amount_in_words(receipt.amount) in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_long_field_stays_on_the_paper(
    receipt: ReceiptData,
    void_info: VoidInfo,
    layout: ReceiptLayout,
    pdf_words: Callable[[bytes], list[tuple[str, float, float, float, float]]],
    page_size: Callable[[bytes], tuple[float, float]],
    pdf_text: Text,
) -> None:
    long = replace(
        receipt,
        organisation="Tổng công ty Bưu điện Việt Nam — Bưu điện tỉnh Thừa Thiên Huế — " * 2,
        collection_point="Điểm thu liên xã Phong Điền, Quảng Điền, Hương Trà, Phú Vang",
        cashier="Nguyễn Thị Thanh Hương Xuân Quỳnh Ngọc Bích",
        payer_name="Công Tằng Tôn Nữ Thị Hoàng Phương Thảo Nguyên Khánh Linh",
        scheme_label="BHXH tự nguyện (đóng một lần cho nhiều năm về sau)",
        rate_version="BHXHTN-2025-07-01-NĐ159-2025-tỉnh-Thừa-Thiên-Huế-hỗ-trợ-thêm",
        detail_lines=(
            ("Nhà nước hỗ trợ theo Nghị định 159/2025/NĐ-CP và ngân sách tỉnh", "−1.234.567 đ"),
            ("Ghi chú", "Đóng bù cho các tháng còn thiếu trước khi đủ điều kiện hưởng lương hưu"),
        ),
        void=replace(void_info, reason="Người nộp đổi ý sau khi đã in biên lai, " * 3),
        reprint_number=12,
    )
    pdf = render_receipt(long, layout)
    width, _ = page_size(pdf)
    for word, x0, _, x1, _ in pdf_words(pdf):
        assert x0 >= 3 * MM and x1 <= width - 3 * MM, f"{word!r} runs off the paper"
    one_line = flat(pdf_text(pdf, raw=True))
    for value in (long.payer_name, long.cashier, long.scheme_label, long.collection_point):
        assert value in one_line
    assert "BẢN SAO (lần 12)" in one_line


@pytest.mark.parametrize("layout", LAYOUTS)
def test_cash_tendered_and_change_are_printed(
    receipt: ReceiptData, layout: ReceiptLayout, pdf_text: Text
) -> None:
    plain = flat(pdf_text(render_receipt(receipt, layout), raw=True))
    assert "Tiền khách đưa" not in plain and "Tiền trả lại" not in plain
    paid = replace(receipt, tendered=3_500_000)
    one_line = flat(pdf_text(render_receipt(paid, layout), raw=True))
    assert "Tiền khách đưa: 3.500.000 đ" in one_line
    assert "Tiền trả lại: 332.000 đ" in one_line
    assert "Bảng mức đóng: BHXHTN-2025-07-01 v2" in one_line
    assert "Biểu phí" not in one_line


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bhyt_card_dates_are_printed(
    receipt: ReceiptData, layout: ReceiptLayout, pdf_text: Text
) -> None:
    from datetime import date

    card = replace(receipt, card_from=date(2026, 4, 14), card_to=date(2027, 4, 13))
    one_line = flat(pdf_text(render_receipt(card, layout), raw=True))
    assert "Hạn thẻ BHYT: 14/04/2026 – 13/04/2027" in one_line
