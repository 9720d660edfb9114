"""Made-up but realistic receipts and Mẫu 01-XN reports: the printing tests, the benchmark and
the sample images in docs/samples/ (scripts/render_samples.py) all use these. Nothing here is a
real person; confirmation codes and QR payloads are shaped like real ones but verify against no
key.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta

from app.domain.codes import CROCKFORD_SYMBOLS, group_symbols
from app.domain.documents import ReceiptData, VoidInfo, Xn01Report, Xn01Row, receipt_qr_payload
from app.domain.money import amount_in_words
from app.domain.shifts import ZReportData
from tests.support.names import GIVEN, MIDDLE, SURNAMES

ORGANISATION = "Bưu điện huyện Đông Anh — Tổ chức dịch vụ thu BHXH, BHYT"
COLLECTION_POINT = "Điểm thu xã Uy Nỗ"
BUSINESS_DAY = date(2026, 3, 15)

# 3.168.000 đ: BHXH tự nguyện, income 1.500.000, "others" support (20 %), 12 months — the worked
# example of DOMAIN.md.
AMOUNT = 3_168_000

VOID = VoidInfo(
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


def sample_receipt(
    *,
    reprint_number: int = 0,
    voided: bool = False,
    payer_name: str = "Nguyễn Thị Hằng",
    ma_so_bhxh: str | None = "0123456789",
) -> ReceiptData:
    """A 12-month BHXH tự nguyện payment with state support (the DOMAIN.md worked example)."""
    paid_at = datetime(2026, 3, 15, 2, 41, 12, tzinfo=UTC)  # 09:41 in Hà Nội
    return ReceiptData(
        organisation=ORGANISATION,
        collection_point=COLLECTION_POINT,
        counter_code="C01",
        series="C01-2026",
        number=123,
        paid_at=paid_at,
        cashier="Trần Thị Mai",
        payer_name=payer_name,
        ma_so_bhxh=ma_so_bhxh,
        cccd="001190012345",
        scheme_label="BHXH tự nguyện",
        months=12,
        period_from=date(2026, 1, 1),
        period_to=date(2026, 12, 31),
        amount=AMOUNT,
        amount_words=amount_in_words(AMOUNT),
        rate_version="BHXHTN-2025-07-01 v2",
        confirmation_code="7KQ2-9XMD-4TR6",
        # ~95 ASCII characters
        qr_payload=receipt_qr_payload(
            counter_id="3f6c2a9e-8b1d-4c57-9e0a-5d2f7b8c1e44",
            series="C01-2026",
            number=123,
            code="7KQ29XMD4TR6",
            amount=AMOUNT,
            paid_at=paid_at,
        ),
        detail_lines=(
            ("Mức thu nhập chọn đóng", "1.500.000 đ/tháng"),
            ("Đóng 22% × 12 tháng", "3.960.000 đ"),
            ("Nhà nước hỗ trợ 20% (đối tượng khác)", "−792.000 đ"),
        ),
        reprint_number=reprint_number,
        void=VOID if voided else None,
    )


def sample_receipt_bhyt() -> ReceiptData:
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


def report_of(rows: Sequence[Xn01Row]) -> Xn01Report:
    """The report of `rows` for BUSINESS_DAY at the sample collection point, totals summed."""
    totals: dict[str, tuple[int, int]] = {}
    for row in rows:
        if not row.voided:
            count, total = totals.get(row.scheme_label, (0, 0))
            totals[row.scheme_label] = (count + 1, total + row.amount)
    by_scheme = tuple((label, c, a) for label, (c, a) in sorted(totals.items()))
    return Xn01Report(
        organisation=ORGANISATION,
        collection_point=COLLECTION_POINT,
        counter_code="C01",
        business_date=BUSINESS_DAY,
        rows=tuple(rows),
        totals_by_scheme=by_scheme,
        grand_total=sum(a for _, _, a in by_scheme),
        grand_count=sum(c for _, c, _ in by_scheme),
        generated_at=datetime(2026, 3, 16, 0, 15, tzinfo=UTC),
    )


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
    """`payments` rows cycling through six people (one with a very long name); the STTs in
    `voided` are voided. What the printing tests check, row by row."""
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
                confirmation_code=group_symbols(body),
                full_name=name,
                ma_so_bhxh=code,
                scheme_label=scheme,
                months=months,
                period_text=period,
                amount=amount,
                paid_at=start + timedelta(minutes=3 * i, seconds=i % 60),
                cashier=_CASHIERS[i % 2],
                collection_point=COLLECTION_POINT,
                receipt_number=100 + i,
                voided=i in voided,
            )
        )
    return report_of(rows)


def _random_code(rng: random.Random) -> str:
    return group_symbols("".join(rng.choice(CROCKFORD_SYMBOLS) for _ in range(12)))


_BHYT_MONTHLY = (105_300, 73_710, 63_180, 52_650, 42_120)
_SAMPLE_CASHIERS = ("Trần Thị Mai", "Lê Văn Khoa", "Phạm Ngọc Ánh")


def sample_report(payments: int = 40, *, seed: int = 7, void_every: int = 17) -> Xn01Report:
    """A business day of `payments` random payments at one counter, every `void_every`-th
    voided: the volume the benchmark renders and the look of the sample images."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 15, 0, 30, tzinfo=UTC)  # 07:30 local
    rows: list[Xn01Row] = []
    for i in range(1, payments + 1):
        if rng.random() < 0.55:
            scheme = "BHXH tự nguyện"
            months = rng.choice((1, 3, 6, 12))
            income = rng.choice((1_500_000, 2_000_000, 3_000_000, 5_000_000))
            amount = (income * 22 // 100 - 66_000) * months
        else:
            scheme = "BHYT hộ gia đình"
            months = rng.choice((3, 6, 12))
            amount = rng.choice(_BHYT_MONTHLY) * months
        first = rng.randint(1, 12)
        last_index = first - 1 + months - 1
        period = f"{first:02d}/2026 – {last_index % 12 + 1:02d}/{2026 + last_index // 12}"
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        rows.append(
            Xn01Row(
                stt=i,
                confirmation_code=_random_code(rng),
                full_name=name,
                ma_so_bhxh="" if rng.random() < 0.08 else f"{rng.randrange(10**10):010d}",
                scheme_label=scheme,
                months=months,
                period_text=period,
                amount=amount,
                paid_at=start + timedelta(seconds=i * 36_000 // max(payments, 1)),
                cashier=rng.choice(_SAMPLE_CASHIERS),
                collection_point=COLLECTION_POINT,
                receipt_number=1000 + i,
                voided=void_every > 0 and i % void_every == 0,
            )
        )
    return report_of(rows)


def sample_zreport(copy_number: int = 0) -> ZReportData:
    """A closed shift of a busy morning: float counted by denomination, two schemes, a void, a
    drop to the safe, a 20.000 đ shortfall confirmed by a supervisor, two payments unsynced."""
    float_counts = ((100_000, 5), (50_000, 6), (20_000, 10), (10_000, 10))
    counted = (
        (500_000, 19),
        (200_000, 1),
        (100_000, 1),
        (50_000, 1),
        (20_000, 2),
        (5_000, 1),
        (1_000, 1),
    )
    expected = 1_000_000 + 13_584_000 - 3_168_000 - 1_500_000  # float + taken − void − drop
    assert sum(d * n for d, n in counted) == expected - 20_000
    return ZReportData(
        organisation=ORGANISATION,
        collection_point=COLLECTION_POINT,
        counter_code="DA-UN01",
        shift_id="6f1c2a90-4b7e-4d21-9a3c-5e8f0d2b7c14",
        cashier="Nguyễn Thị Hằng (thungan1)",
        opened_at=datetime(2026, 3, 15, 0, 30, tzinfo=UTC),
        closed_at=datetime(2026, 3, 15, 4, 45, tzinfo=UTC),
        closed_by="Nguyễn Thị Hằng (thungan1)",
        float_amount=1_000_000,
        float_counts=float_counts,
        schemes=(("BHXH tự nguyện", 3, 9_504_000), ("BHYT hộ gia đình", 4, 4_080_000)),
        payments=7,
        payment_total=13_584_000,
        voids=1,
        void_total=3_168_000,
        moves=(
            (
                datetime(2026, 3, 15, 2, 10, tzinfo=UTC),
                "Nộp về két",
                1_500_000,
                "Nộp két giữa ca",
                "Phạm Văn Đức (giamsat)",
            ),
        ),
        expected=expected,
        counted=expected - 20_000,
        counted_counts=counted,
        difference=-20_000,
        reason="Thiếu 20.000 đ, chưa rõ nguyên nhân, đã báo giám sát",
        supervisor="Phạm Văn Đức (giamsat)",
        unsynced=2,
        series="C01",
        first_receipt=1041,
        last_receipt=1047,
        records_hash="9c0e5b1f7a3d2e4c6b8a0f1e3d5c7b9a2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c",
        copy_number=copy_number,
    )
