"""Made-up but realistic documents: the printer test page, the sample images in docs/samples/
and the benchmark all print these. Nothing here is a real person; confirmation codes and QR
payloads are shaped like real ones but verify against no key.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from app.domain.codes import CROCKFORD_SYMBOLS, group_symbols
from app.domain.documents import ReceiptData, VoidInfo, Xn01Report, Xn01Row, receipt_qr_payload
from app.domain.money import amount_in_words

_FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
)
_MIDDLE = ("Thị", "Văn", "Đức", "Ngọc", "Minh", "Thu", "Hữu", "Thanh", "Quang", "Khánh")
_GIVEN = (
    "Hằng",
    "Dũng",
    "Hương",
    "Tuấn",
    "Lan",
    "Hải",
    "Yến",
    "Phúc",
    "Trâm",
    "Nghĩa",
    "Ánh",
    "Đạt",
)
_CASHIERS = ("Trần Thị Mai", "Lê Văn Khoa", "Phạm Ngọc Ánh")


def sample_code(rng: random.Random) -> str:
    return group_symbols("".join(rng.choice(CROCKFORD_SYMBOLS) for _ in range(12)))


def sample_receipt(
    *,
    reprint_number: int = 0,
    voided: bool = False,
    payer_name: str = "Nguyễn Thị Hằng",
    ma_so_bhxh: str | None = "0123456789",
) -> ReceiptData:
    """A 12-month BHXH tự nguyện payment with state support (the DOMAIN.md worked example)."""
    amount = 3_168_000
    paid_at = datetime(2026, 3, 15, 2, 41, 12, tzinfo=UTC)  # 09:41 in Hà Nội
    void = (
        VoidInfo(
            reason="Nhập sai số tháng đóng, người nộp yêu cầu lập lại",
            voided_at=datetime(2026, 3, 15, 3, 5, tzinfo=UTC),
            supervisor="Phạm Văn Đức",
            ledger_seq=1043,
            void_id="VD-C01-000017",
        )
        if voided
        else None
    )
    return ReceiptData(
        organisation="Bưu điện huyện Đông Anh — Tổ chức dịch vụ thu BHXH, BHYT",
        collection_point="Điểm thu xã Uy Nỗ",
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
        amount=amount,
        amount_words=amount_in_words(amount),
        rate_version="BHXHTN-2025-07-01 v2",
        confirmation_code="7KQ2-9XMD-4TR6",
        qr_payload=receipt_qr_payload(
            counter_id="3f6c2a9e-8b1d-4c57-9e0a-5d2f7b8c1e44",
            series="C01-2026",
            number=123,
            code="7KQ29XMD4TR6",
            amount=amount,
            paid_at=paid_at,
        ),
        detail_lines=(
            ("Mức thu nhập chọn đóng", "1.500.000 đ/tháng"),
            ("Đóng 22% × 12 tháng", "3.960.000 đ"),
            ("Nhà nước hỗ trợ 20% (đối tượng khác)", "−792.000 đ"),
        ),
        reprint_number=reprint_number,
        void=void,
    )


def sample_report(payments: int = 40, *, seed: int = 7, void_every: int = 17) -> Xn01Report:
    """A business day with `payments` payments at one counter, every `void_every`-th voided."""
    rng = random.Random(seed)
    day = date(2026, 3, 15)
    start = datetime(2026, 3, 15, 0, 30, tzinfo=UTC)  # 07:30 local
    bhyt_monthly = (105_300, 73_710, 63_180, 52_650, 42_120)
    rows: list[Xn01Row] = []
    for i in range(1, payments + 1):
        if rng.random() < 0.55:
            scheme = "BHXH tự nguyện"
            months = rng.choice((1, 3, 6, 12))
            income = rng.choice((1_500_000, 2_000_000, 3_000_000, 5_000_000))
            amount = (income * 22 // 100 - 66_000) * months
            first = rng.randint(1, 12)
        else:
            scheme = "BHYT hộ gia đình"
            months = rng.choice((3, 6, 12))
            amount = rng.choice(bhyt_monthly) * months
            first = rng.randint(1, 12)
        last_index = first - 1 + months - 1
        period = f"{first:02d}/2026 – {last_index % 12 + 1:02d}/{2026 + last_index // 12}"
        name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
        rows.append(
            Xn01Row(
                stt=i,
                confirmation_code=sample_code(rng),
                full_name=name,
                ma_so_bhxh="" if rng.random() < 0.08 else f"{rng.randrange(10**10):010d}",
                scheme_label=scheme,
                months=months,
                period_text=period,
                amount=amount,
                paid_at=start + timedelta(seconds=i * 36_000 // max(payments, 1)),
                cashier=rng.choice(_CASHIERS),
                collection_point="Điểm thu xã Uy Nỗ",
                receipt_number=1000 + i,
                voided=void_every > 0 and i % void_every == 0,
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
        business_date=day,
        rows=tuple(rows),
        totals_by_scheme=by_scheme,
        grand_total=sum(a for _, _, a in by_scheme),
        grand_count=sum(c for _, c, _ in by_scheme),
        generated_at=datetime(2026, 3, 16, 0, 15, tzinfo=UTC),
    )
