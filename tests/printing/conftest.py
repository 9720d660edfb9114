"""Fixtures for the printing tests: realistic receipts and Mẫu 01-XN reports, and small helpers
that look at rendered PDFs with poppler (pdftotext, pdfinfo, pdftoppm) and zxing-cpp."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from app.domain.documents import ReceiptData, VoidInfo, Xn01Report, Xn01Row
from app.domain.money import amount_in_words

POPPLER = ("pdftotext", "pdfinfo", "pdftoppm")


@pytest.fixture(scope="session", autouse=True)
def _poppler_present() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"poppler-utils missing: {', '.join(missing)}")


# --- receipts --------------------------------------------------------------------------------

# 3.168.000 đ: BHXH tự nguyện, income 1.500.000, "others" support (20 %), 12 months — the worked
# example of DOMAIN.md.
AMOUNT = 3_168_000


@pytest.fixture
def receipt() -> ReceiptData:
    return ReceiptData(
        organisation="Bưu điện huyện Đông Anh — Tổ chức dịch vụ thu BHXH, BHYT",
        collection_point="Điểm thu xã Uy Nỗ",
        counter_code="C01",
        series="C01-2026",
        number=123,
        paid_at=datetime(2026, 3, 15, 2, 41, 12, tzinfo=UTC),  # 09:41 in Hà Nội
        cashier="Trần Thị Mai",
        payer_name="Nguyễn Thị Hằng",
        ma_so_bhxh="0123456789",
        cccd="001190012345",
        scheme_label="BHXH tự nguyện",
        months=12,
        period_from=date(2026, 1, 1),
        period_to=date(2026, 12, 31),
        amount=AMOUNT,
        amount_words=amount_in_words(AMOUNT),
        rate_version="BHXHTN-2025-07-01 v2",
        confirmation_code="7KQ2-9XMD-4TR6",
        # as app.domain.documents.receipt_qr_payload builds it: ~95 ASCII characters
        qr_payload=(
            "QTXN1|3f6c2a9e-8b1d-4c57-9e0a-5d2f7b8c1e44|C01-2026|123|7KQ29XMD4TR6|3168000"
            "|20260315T024112Z"
        ),
        detail_lines=(
            ("Mức thu nhập chọn đóng", "1.500.000 đ/tháng"),
            ("Đóng 22% × 12 tháng", "3.960.000 đ"),
            ("Nhà nước hỗ trợ 20% (đối tượng khác)", "−792.000 đ"),
        ),
    )


@pytest.fixture
def receipt_bhyt() -> ReceiptData:
    """BHYT hộ gia đình, 2nd member, 6 months, a first payer with no mã số BHXH yet."""
    amount = 73_710 * 6
    return ReceiptData(
        organisation="Công ty TNHH Dịch vụ Thu hộ Phương Nam",
        collection_point="Điểm thu phường Bến Nghé, Quận 1",
        counter_code="Q1-02",
        series="Q102-2026",
        number=7,
        paid_at=datetime(2026, 12, 31, 17, 5, tzinfo=UTC),  # 00:05 on 1 January 2027 locally
        cashier="Lê Văn Khoa",
        payer_name="Huỳnh Thị Ngọc Trâm",
        ma_so_bhxh=None,
        cccd="079301004567",
        scheme_label="BHYT hộ gia đình",
        months=6,
        period_from=date(2027, 1, 1),
        period_to=date(2027, 6, 30),
        amount=amount,
        amount_words=amount_in_words(amount),
        rate_version="BHYTHGD-2024-07-01 v1",
        confirmation_code="Q4ZM-1B7T-X9KD",
        qr_payload="QT1|Q1-02|88|Q4ZM1B7TX9KD|442260|20261231T170500Z|",
    )


@pytest.fixture
def void_info() -> VoidInfo:
    return VoidInfo(
        reason="Nhập sai số tháng đóng, người nộp yêu cầu lập lại",
        voided_at=datetime(2026, 3, 15, 3, 5, tzinfo=UTC),  # 10:05 locally
        supervisor="Phạm Văn Đức",
        ledger_seq=1043,
        void_id="VD-C01-000017",
    )


LONG_NAME = (
    "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Ngọc Bảo Châu Huyền Trang Đặng Thị Kim Ngân "
    "Võ Thị Diệu Hiền"
)


@pytest.fixture
def receipt_long_name(receipt: ReceiptData) -> ReceiptData:
    return replace(receipt, payer_name=LONG_NAME)


# --- Mẫu 01-XN -------------------------------------------------------------------------------

_PEOPLE = (
    ("Nguyễn Thị Hằng", "0123456789", "BHXH tự nguyện", 12, "01/2026 – 12/2026", 3_168_000),
    ("Trần Văn Dũng", "0198765432", "BHYT hộ gia đình", 12, "04/2026 – 03/2027", 1_263_600),
    ("Lê Thị Hương", "", "BHXH tự nguyện", 3, "03/2026 – 05/2026", 792_000),
    ("Phạm Đức Tuấn", "3012345678", "BHYT hộ gia đình", 6, "03/2026 – 08/2026", 442_260),
    ("Hoàng Ngọc Ánh", "2401234567", "BHXH tự nguyện", 1, "03/2026 – 03/2026", 1_034_000),
    (LONG_NAME, "0111222333", "BHYT hộ gia đình", 3, "04/2026 – 06/2026", 315_900),
)
_CASHIERS = ("Trần Thị Mai", "Lê Văn Khoa")
_CODES = "7KQ29XMD4TR6 Q4ZM1B7TX9KD 3HV8P0WQ2N5C M1T6R8YB4ZK0 9XD2F7GJ5Q1H B7N4W0CX8T3M".split()


def build_report(payments: int, voided: Collection[int] = (3,)) -> Xn01Report:
    """`payments` rows cycling through six people; the STTs in `voided` are voided."""
    start = datetime(2026, 3, 15, 0, 30, tzinfo=UTC)  # 07:30 locally
    rows = []
    for i in range(1, payments + 1):
        name, code, scheme, months, period, amount = _PEOPLE[(i - 1) % len(_PEOPLE)]
        raw = _CODES[(i - 1) % len(_CODES)]
        # unique per row: the last 4 symbols carry the row number
        body = raw[:8] + f"{i:04d}"
        rows.append(
            Xn01Row(
                stt=i,
                confirmation_code=f"{body[:4]}-{body[4:8]}-{body[8:]}",
                full_name=name,
                ma_so_bhxh=code,
                scheme_label=scheme,
                months=months,
                period_text=period,
                amount=amount,
                paid_at=start + timedelta(minutes=3 * i, seconds=i % 60),
                cashier=_CASHIERS[i % 2],
                collection_point="Điểm thu xã Uy Nỗ",
                receipt_number=100 + i,
                voided=i in voided,
            )
        )
    totals: dict[str, tuple[int, int]] = {}
    for row in rows:
        if not row.voided:
            count, total = totals.get(row.scheme_label, (0, 0))
            totals[row.scheme_label] = (count + 1, total + row.amount)
    by_scheme = tuple((label, c, a) for label, (c, a) in sorted(totals.items()))
    return Xn01Report(
        organisation="Bưu điện huyện Đông Anh — Tổ chức dịch vụ thu BHXH, BHYT",
        collection_point="Điểm thu xã Uy Nỗ",
        counter_code="C01",
        business_date=date(2026, 3, 15),
        rows=tuple(rows),
        totals_by_scheme=by_scheme,
        grand_total=sum(a for _, _, a in by_scheme),
        grand_count=sum(c for _, c, _ in by_scheme),
        generated_at=datetime(2026, 3, 16, 0, 15, tzinfo=UTC),
    )


@pytest.fixture
def make_report() -> Callable[..., Xn01Report]:
    return build_report


@pytest.fixture
def report() -> Xn01Report:
    """One page: six payments, one of them (STT 3) voided."""
    return build_report(6)


@pytest.fixture(scope="module")
def big_report() -> Xn01Report:
    """Several pages: 130 payments, three voided."""
    return build_report(130, voided={3, 64, 130})


# --- looking at PDFs -------------------------------------------------------------------------


def _write(tmp_path: Path, pdf: bytes, name: str = "doc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[..., str]:
    """pdftotext of the whole PDF, or of one page (1-based). `-layout` keeps the visual lines;
    `raw=True` gives the text in drawing order instead, so a paragraph wrapped inside a column
    next to another column still reads as one run of words."""

    def run(pdf: bytes, page: int | None = None, raw: bool = False) -> str:
        path = _write(tmp_path, pdf)
        pages = ["-f", str(page), "-l", str(page)] if page else []
        out = subprocess.run(
            ["pdftotext", "-raw" if raw else "-layout", "-enc", "UTF-8", *pages, str(path), "-"],
            check=True,
            capture_output=True,
        )
        return out.stdout.decode("utf-8")

    return run


@pytest.fixture
def pdf_words(tmp_path: Path) -> Callable[[bytes], list[tuple[str, float, float, float, float]]]:
    """Every word with its box (xMin, yMin, xMax, yMax) in points, from pdftotext -bbox."""

    def run(pdf: bytes) -> list[tuple[str, float, float, float, float]]:
        path = _write(tmp_path, pdf)
        html = subprocess.run(
            ["pdftotext", "-bbox", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
        ).stdout.decode("utf-8")
        pattern = re.compile(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
        )
        return [
            (w, float(x0), float(y0), float(x1), float(y1))
            for x0, y0, x1, y1, w in pattern.findall(html)
        ]

    return run


@pytest.fixture
def pdf_info(tmp_path: Path) -> Callable[[bytes], dict[str, str]]:
    def run(pdf: bytes) -> dict[str, str]:
        path = _write(tmp_path, pdf)
        out = subprocess.run(
            ["pdfinfo", str(path)], check=True, capture_output=True
        ).stdout.decode()
        return {
            k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())
        }

    return run


def page_size_pt(info: dict[str, str]) -> tuple[float, float]:
    match = re.match(r"([\d.]+) x ([\d.]+) pts", info["Page size"])
    assert match, info["Page size"]
    return float(match.group(1)), float(match.group(2))


@pytest.fixture
def page_size(
    pdf_info: Callable[[bytes], dict[str, str]],
) -> Callable[[bytes], tuple[float, float]]:
    return lambda pdf: page_size_pt(pdf_info(pdf))


@pytest.fixture
def render_gray(tmp_path: Path) -> Callable[[bytes, int], tuple[bytes, int, int]]:
    """Rasterise page 1 with pdftoppm as 8-bit grey (PGM) → (pixels, width, height)."""

    def run(pdf: bytes, dpi: int = 300) -> tuple[bytes, int, int]:
        path = _write(tmp_path, pdf)
        out = subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", "1", "-l", "1", str(path)],
            check=True,
            capture_output=True,
        ).stdout
        return parse_pgm(out)

    return run


def parse_pgm(data: bytes) -> tuple[bytes, int, int]:
    """A binary PGM (P5): magic, width, height, maxval separated by whitespace (comments
    allowed), then one byte per pixel."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5", fields[0]
    width, height, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    assert maxval == 255
    pixels = data[pos + 1 : pos + 1 + width * height]
    assert len(pixels) == width * height
    return pixels, width, height
