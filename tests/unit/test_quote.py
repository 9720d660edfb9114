"""Quotes for BHXH tự nguyện and BHYT hộ gia đình against the worked examples and the rules."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import format_vnd
from app.domain.quote import (
    Quote,
    bhyt_card_start,
    discounted_lump_sum,
    quote_bhxh_tn,
    quote_bhyt_hgd,
)
from app.domain.rates import RateTable, load_default_rate_table
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import ValidationError

TABLE = load_default_rate_table()
PAID = date(2026, 11, 22)
START = date(2026, 12, 1)
FIXED_METHODS = [
    PaymentMethod.MONTHLY,
    PaymentMethod.QUARTERLY,
    PaymentMethod.HALF_YEAR,
    PaymentMethod.YEARLY,
]


def table_with_return(monthly_rate: str) -> RateTable:
    d: dict[str, Any] = copy.deepcopy(TABLE.to_dict())
    d["fund_monthly_return"] = [{"year": 2025, "monthly_rate": monthly_rate}]
    return RateTable.from_dict(d)


def any_length_lump_table(table: RateTable = TABLE) -> RateTable:
    """The table with lump sums of any 2..60 months: exercises the discount formula on short
    and odd lengths, which the shipped table (whole years only) refuses."""
    d: dict[str, Any] = copy.deepcopy(table.to_dict())
    d["bhxh_tn"]["lump_sum_months"][0]["value"] = {"min": 2, "max": 60}
    d["bhxh_tn"]["lump_sum_step_months"][0]["value"] = 1
    return RateTable.from_dict(d)


def bhxh(**kw: Any) -> Quote:
    args: dict[str, Any] = {
        "income": 1_500_000,
        "category": SupportCategory.OTHER,
        "method": PaymentMethod.YEARLY,
        "start_month": START,
        "paid_on": PAID,
    }
    args.update(kw)
    table = args.pop("table", TABLE)
    return quote_bhxh_tn(table, **args)


def line(q: Quote, label: str) -> str:
    values = [v for k, v in q.lines if k == label]
    assert len(values) == 1, (label, q.lines)
    return values[0]


# --- BHXH tự nguyện ----------------------------------------------------------------------------


def test_bhxh_worked_example() -> None:
    q = bhxh()
    assert q.scheme is Scheme.BHXH_TN
    assert q.months == 12
    assert q.gross_per_month == 330_000
    assert q.support_per_month == 66_000
    assert q.payable_per_month == 264_000
    assert q.total_gross == 3_960_000
    assert q.total_support == 792_000
    assert q.total == 3_168_000
    assert q.support_months == 12
    assert q.lump_sum_discount == 0
    assert (q.period_from, q.period_to) == (date(2026, 12, 1), date(2027, 11, 30))
    assert q.rate_version == TABLE.version == "2025.07-3"
    assert (q.income, q.support_category, q.method, q.member_order) == (
        1_500_000,
        SupportCategory.OTHER,
        PaymentMethod.YEARLY,
        None,
    )
    assert line(q, "Số tiền phải nộp") == "3.168.000 đ"
    assert line(q, "Mức đóng/tháng (22% thu nhập)") == "330.000 đ"
    assert line(q, "Nhà nước hỗ trợ/tháng").startswith("66.000 đ")
    assert line(q, "Từ tháng – Đến tháng") == "12/2026 – 11/2027"
    assert line(q, "Phiên bản bảng mức đóng") == "2025.07-3"


@pytest.mark.parametrize(
    "q",
    [
        quote_bhxh_tn(
            TABLE,
            income=1_500_000,
            category=SupportCategory.OTHER,
            method=PaymentMethod.YEARLY,
            start_month=START,
            paid_on=PAID,
        ),
        quote_bhyt_hgd(TABLE, member_order=2, months=6, start_month=START, paid_on=PAID),
    ],
    ids=["bhxh", "bhyt"],
)
def test_total_and_version_are_typed_not_found_by_label(q: Quote) -> None:
    assert q.total_line == ("Số tiền phải nộp", format_vnd(q.total))
    assert q.version_line == ("Phiên bản bảng mức đóng", q.rate_version)
    # The breakdown is every line above the total; the listing closes with total then version.
    assert q.lines == (*q.breakdown, q.total_line, q.version_line)
    assert all(label not in {q.total_line[0], q.version_line[0]} for label, _ in q.breakdown)


def test_bhxh_months_given_must_match_method() -> None:
    assert bhxh(months=12) == bhxh()
    with pytest.raises(ValidationError) as info:
        bhxh(months=6)
    assert info.value.field == "months"
    assert "Số tháng" in info.value.message


@pytest.mark.parametrize(("method", "months"), [(m, int(m.value)) for m in FIXED_METHODS])
def test_bhxh_fixed_methods(method: PaymentMethod, months: int) -> None:
    q = bhxh(method=method)
    assert q.months == months
    assert q.total == months * 264_000


def test_start_month_normalised_and_period_spans_months() -> None:
    q = bhxh(method=PaymentMethod.QUARTERLY, start_month=date(2027, 1, 17))
    assert (q.period_from, q.period_to) == (date(2027, 1, 1), date(2027, 3, 31))
    q = bhxh(method=PaymentMethod.MONTHLY, start_month=date(2028, 2, 29))
    assert (q.period_from, q.period_to) == (date(2028, 2, 1), date(2028, 2, 29))


@pytest.mark.parametrize("income", [1_450_000, 46_850_000, 0, 100_000_000])
def test_income_out_of_bounds(income: int) -> None:
    with pytest.raises(ValidationError) as info:
        bhxh(income=income)
    err = info.value
    assert err.field == "income"
    assert err.label == "Mức thu nhập lựa chọn"
    assert err.rule == "phải từ 1.500.000 đ đến 46.800.000 đ"
    assert err.message.startswith("Mức thu nhập lựa chọn:")
    assert err.message_en is not None and err.message_en.startswith("income:")


@pytest.mark.parametrize("income", [1_500_000, 46_800_000])
def test_income_bounds_inclusive(income: int) -> None:
    assert bhxh(income=income).gross_per_month == income * 22 // 100


@pytest.mark.parametrize("income", [1_525_000, 1_500_001, 46_799_999])
def test_income_step(income: int) -> None:
    with pytest.raises(ValidationError) as info:
        bhxh(income=income)
    assert info.value.field == "income"
    assert info.value.rule == "phải là bội số của 50.000 đ"


def test_support_cap_splits_the_period() -> None:
    q = bhxh(support_months_used=115)
    assert q.support_months == 5
    assert q.support_per_month == 66_000
    assert q.total_support == 5 * 66_000
    assert q.total_gross == 12 * 330_000
    assert q.total == 5 * 264_000 + 7 * 330_000
    assert "5/12" in line(q, "Số tháng được hỗ trợ")
    assert "120" in line(q, "Số tháng được hỗ trợ")
    assert line(q, "Số phải đóng/tháng (tháng không được hỗ trợ)") == "330.000 đ"


def test_support_cap_exactly_reached_and_exhausted() -> None:
    q = bhxh(support_months_used=108)
    assert q.support_months == 12
    assert q.total == 3_168_000
    for used in (120, 150):
        q = bhxh(support_months_used=used)
        assert q.support_months == 0
        assert q.support_per_month == 0
        assert q.payable_per_month == 330_000
        assert q.total == q.total_gross == 3_960_000
        assert "120" in line(q, "Nhà nước hỗ trợ/tháng")


def test_negative_support_months_used() -> None:
    with pytest.raises(ValidationError) as info:
        bhxh(support_months_used=-1)
    assert info.value.field == "support_months_used"


@pytest.mark.parametrize(
    ("category", "paid_on", "support"),
    [
        (SupportCategory.OTHER, date(2025, 6, 30), 33_000),
        (SupportCategory.ETHNIC_MINORITY, date(2025, 6, 30), 33_000),
        (SupportCategory.NEAR_POOR, date(2025, 6, 30), 82_500),
        (SupportCategory.POOR, date(2025, 6, 30), 99_000),
        (SupportCategory.OTHER, date(2025, 7, 1), 66_000),
        (SupportCategory.ETHNIC_MINORITY, date(2025, 7, 1), 99_000),
        (SupportCategory.NEAR_POOR, date(2025, 7, 1), 132_000),
        (SupportCategory.POOR, date(2025, 7, 1), 165_000),
    ],
)
def test_support_by_category_and_date(
    category: SupportCategory, paid_on: date, support: int
) -> None:
    q = bhxh(category=category, paid_on=paid_on, start_month=paid_on)
    assert q.support_per_month == support
    assert q.total == 12 * (330_000 - support)


def test_poverty_line_change_on_2027_01_01() -> None:
    # paid on the last day of 2026: old line, old minimum
    assert bhxh(paid_on=date(2026, 12, 31)).support_per_month == 66_000
    with pytest.raises(ValidationError) as info:
        bhxh(paid_on=date(2027, 1, 1), start_month=date(2027, 1, 1))
    assert info.value.rule == "phải từ 2.200.000 đ đến 46.800.000 đ"
    q = bhxh(income=2_200_000, paid_on=date(2027, 1, 1), start_month=date(2027, 1, 1))
    assert q.gross_per_month == 484_000
    assert q.support_per_month == 96_800  # 20% × 22% × 2.200.000
    assert q.total == 12 * (484_000 - 96_800)


def test_method_not_in_table() -> None:
    d: dict[str, Any] = copy.deepcopy(TABLE.to_dict())
    d["bhxh_tn"]["methods"][0]["value"] = ["1", "3"]
    table = RateTable.from_dict(d)
    with pytest.raises(ValidationError) as info:
        bhxh(table=table)
    assert info.value.field == "method"


# --- lump sum ------------------------------------------------------------------------------


@pytest.mark.parametrize("months", [None, 1, 61, 0, 2, 12, 23, 25, 30, 59, 72])
def test_lump_sum_months_validated(months: int | None) -> None:
    with pytest.raises(ValidationError) as info:
        bhxh(method=PaymentMethod.LUMP_SUM, months=months)
    assert info.value.field == "months"
    assert info.value.label == "Số tháng"
    assert "Số tháng" in info.value.message
    if months is not None:
        assert "24, 36, 48 hoặc 60 tháng" in info.value.message  # R3: whole future years


@pytest.mark.parametrize("months", [24, 36, 48, 60])
def test_lump_sum_whole_years_accepted(months: int) -> None:
    assert bhxh(method=PaymentMethod.LUMP_SUM, months=months).months == months


def test_lump_sum_two_months_by_hand() -> None:
    # r = 0.0045 (2025 row, paid in 2026): 264.000 + 264.000 / 1,0045 = 264.000 + 262.817,32…
    q = bhxh(table=any_length_lump_table(), method=PaymentMethod.LUMP_SUM, months=2)
    assert q.total_gross == 660_000
    assert q.total_support == 132_000
    assert q.total == 264_000 + 262_817
    assert q.lump_sum_discount == 528_000 - q.total == 1_183
    assert line(q, "Giảm trừ do đóng một lần") == "1.183 đ"
    assert "0,45%" in line(q, "Lãi suất đầu tư bình quân của quỹ")
    assert "số liệu tạm" in line(q, "Lãi suất đầu tư bình quân của quỹ")


def test_lump_sum_uses_previous_year_return() -> None:
    d: dict[str, Any] = copy.deepcopy(TABLE.to_dict())
    d["fund_monthly_return"] = [
        {"year": 2025, "monthly_rate": "0"},
        {"year": 2026, "monthly_rate": "0.01"},
    ]
    table = RateTable.from_dict(d)
    q = bhxh(table=table, method=PaymentMethod.LUMP_SUM, months=24)
    assert q.lump_sum_discount == 0  # paid in 2026: the 2025 figure applies
    q = bhxh(
        table=table,
        method=PaymentMethod.LUMP_SUM,
        months=24,
        paid_on=date(2027, 3, 1),
        start_month=date(2027, 4, 1),
        income=2_200_000,
    )
    assert q.lump_sum_discount > 0


def test_lump_sum_with_cap_discounts_the_right_months() -> None:
    q = bhxh(method=PaymentMethod.LUMP_SUM, months=60, support_months_used=115)
    payables = [264_000] * 5 + [330_000] * 55
    assert q.total == discounted_lump_sum(payables, Fraction(45, 10_000))
    assert q.total == q.total_gross - q.total_support - q.lump_sum_discount
    assert q.total_support == 5 * 66_000


def test_discounted_lump_sum_basics() -> None:
    assert discounted_lump_sum([], Fraction(1, 100)) == 0
    assert discounted_lump_sum([100], Fraction(1, 2)) == 100  # first month is not discounted
    assert discounted_lump_sum([100, 100], Fraction(0)) == 200
    # 100 / 1.5 = 66.67 → 67; 100 / 2.25 = 44.44 → 44
    assert discounted_lump_sum([100, 100, 100], Fraction(1, 2)) == 100 + 67 + 44
    # a half rounds up: 3 / 2 = 1.5 → 2
    assert discounted_lump_sum([0, 3], Fraction(1)) == 2
    with pytest.raises(ValueError):
        discounted_lump_sum([100], Fraction(-1, 100))


rates = st.integers(min_value=1, max_value=100).map(lambda k: f"0.{k:04d}")  # 0.0001 … 0.0100


@given(
    monthly_rate=rates,
    months=st.integers(min_value=2, max_value=60),
    category=st.sampled_from(list(SupportCategory)),
    steps=st.integers(min_value=0, max_value=906),
    used=st.integers(min_value=0, max_value=130),
)
def test_lump_sum_properties(
    monthly_rate: str, months: int, category: SupportCategory, steps: int, used: int
) -> None:
    income = 1_500_000 + steps * 50_000
    common: dict[str, Any] = {
        "method": PaymentMethod.LUMP_SUM,
        "months": months,
        "category": category,
        "income": income,
        "support_months_used": used,
    }
    q = bhxh(table=any_length_lump_table(table_with_return(monthly_rate)), **common)
    undiscounted = q.total_gross - q.total_support
    assert type(q.total) is int and type(q.lump_sum_discount) is int
    assert q.total == undiscounted - q.lump_sum_discount
    assert q.total < undiscounted  # r > 0, n > 1, every month pays ≥ 165.000 đ
    flat = bhxh(table=any_length_lump_table(table_with_return("0")), **common)
    assert flat.total == undiscounted
    assert flat.lump_sum_discount == 0


@given(
    payables=st.lists(st.integers(min_value=0, max_value=10**9), max_size=60),
    num=st.integers(min_value=0, max_value=1000),
)
def test_discounted_never_exceeds_undiscounted(payables: list[int], num: int) -> None:
    r = Fraction(num, 10_000)
    total = discounted_lump_sum(payables, r)
    assert type(total) is int
    assert 0 <= total <= sum(payables)
    if num == 0:
        assert total == sum(payables)


# --- property: non-lump quotes -------------------------------------------------------------


@st.composite
def bhxh_inputs(draw: st.DrawFn) -> dict[str, Any]:
    paid_on = date(2025, 7, 1) + timedelta(days=draw(st.integers(0, 5 * 365)))
    low, high = TABLE.income_bounds(paid_on)
    step = TABLE.income_step(paid_on)
    income = draw(st.integers(low // step, high // step)) * step
    return {
        "income": income,
        "category": draw(st.sampled_from(list(SupportCategory))),
        "method": draw(st.sampled_from(FIXED_METHODS)),
        "paid_on": paid_on,
        "start_month": paid_on + timedelta(days=draw(st.integers(0, 60))),
    }


@given(bhxh_inputs())
def test_non_lump_totals(args: dict[str, Any]) -> None:
    q = quote_bhxh_tn(TABLE, **args)
    for value in (
        q.gross_per_month,
        q.support_per_month,
        q.payable_per_month,
        q.total_gross,
        q.total_support,
        q.total,
        q.lump_sum_discount,
    ):
        assert type(value) is int
    assert q.months == int(args["method"].value)
    assert q.total == q.months * q.payable_per_month
    assert q.total == q.total_gross - q.total_support
    assert 0 < q.support_per_month <= q.gross_per_month
    assert q.payable_per_month == q.gross_per_month - q.support_per_month
    assert q.lump_sum_discount == 0
    assert q.rate_version == TABLE.version
    assert q.period_from.day == 1
    assert (q.period_to + timedelta(days=1)).day == 1
    span = (q.period_to.year - q.period_from.year) * 12 + q.period_to.month - q.period_from.month
    assert span + 1 == q.months


@given(bhxh_inputs(), st.integers(min_value=0, max_value=200))
def test_cap_totals(args: dict[str, Any], used: int) -> None:
    q = quote_bhxh_tn(TABLE, support_months_used=used, **args)
    assert q.support_months == max(0, min(q.months, 120 - used))
    assert q.total == q.total_gross - q.total_support
    assert q.total_support == q.support_months * q.support_per_month
    assert 0 <= q.total_support <= q.total_gross


# --- BHYT hộ gia đình ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member_order", "per_month"),
    [(1, 105_300), (2, 73_710), (3, 63_180), (4, 52_650), (5, 42_120), (6, 42_120), (9, 42_120)],
)
def test_bhyt_ladder(member_order: int, per_month: int) -> None:
    q = quote_bhyt_hgd(TABLE, member_order=member_order, months=3, start_month=START, paid_on=PAID)
    assert q.gross_per_month == q.payable_per_month == per_month
    assert q.total == 3 * per_month


def test_bhyt_worked_example() -> None:
    q = quote_bhyt_hgd(TABLE, member_order=2, months=12, start_month=START, paid_on=PAID)
    assert q.total == 884_520
    assert q.scheme is Scheme.BHYT_HGD
    assert (q.support_per_month, q.total_support, q.support_months) == (0, 0, 0)
    assert q.total_gross == 884_520
    assert (q.member_order, q.method, q.income, q.support_category) == (2, None, None, None)
    assert q.rate_version == "2025.07-3"
    assert (q.period_from, q.period_to) == (date(2026, 12, 1), date(2027, 11, 30))
    assert line(q, "Số tiền phải nộp") == "884.520 đ"
    assert line(q, "Mức đóng/tháng") == "73.710 đ"
    assert line(q, "Tỷ lệ so với người thứ nhất") == "70%"


def test_bhyt_uses_base_salary_on_paid_on() -> None:
    q = quote_bhyt_hgd(
        TABLE, member_order=1, months=6, start_month=date(2024, 7, 1), paid_on=date(2024, 6, 30)
    )
    assert q.gross_per_month == 81_000  # 4,5% × 1.800.000


@pytest.mark.parametrize("months", [1, 2, 4, 24, 0])
def test_bhyt_months_validated(months: int) -> None:
    with pytest.raises(ValidationError) as info:
        quote_bhyt_hgd(TABLE, member_order=1, months=months, start_month=START, paid_on=PAID)
    assert info.value.field == "months"
    assert info.value.label == "Số tháng"
    assert info.value.rule == "phải là 3, 6 hoặc 12 tháng"


@pytest.mark.parametrize("member_order", [0, -1])
def test_bhyt_member_order_validated(member_order: int) -> None:
    with pytest.raises(ValidationError) as info:
        quote_bhyt_hgd(TABLE, member_order=member_order, months=3, start_month=START, paid_on=PAID)
    assert info.value.field == "member_order"


@pytest.mark.parametrize(
    ("paid_on", "previous_end", "expected"),
    [
        # first enrolment: 30 days after payment
        (date(2026, 11, 22), None, date(2026, 12, 22)),
        # renewing before the old card ends: runs on
        (date(2026, 11, 22), date(2026, 12, 31), date(2027, 1, 1)),
        # lapsed less than 3 months: runs on from the old card
        (date(2026, 11, 22), date(2026, 10, 31), date(2026, 11, 1)),
        (date(2026, 4, 30), date(2026, 1, 31), date(2026, 2, 1)),
        # lapsed 3 months or more: a new 30-day wait
        (date(2026, 5, 1), date(2026, 1, 31), date(2026, 5, 31)),
        (date(2026, 11, 22), date(2026, 7, 31), date(2026, 12, 22)),
    ],
)
def test_bhyt_card_start(paid_on: date, previous_end: date | None, expected: date) -> None:
    assert bhyt_card_start(paid_on, previous_end) == expected
