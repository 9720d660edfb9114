"""Quotes: what a payer owes for BHXH tự nguyện or BHYT hộ gia đình, with the full breakdown.

Pure functions of a `RateTable` and the counter's inputs; no I/O. Every quote records the rate
table version it used, so a stored payment can always be re-explained.

Rules applied (DOMAIN.md "Contribution rules"; the figures themselves live in the rate table):
- Every rate is looked up on `paid_on`, and the values in force that day apply to every month of
  the period paid for. That is what the reference worked example requires: paid 22/11/2026 for
  12/2026–11/2027, support is on the 1.500.000 đ poverty line for all 12 months although the line
  rises on 01/01/2027.
- Rounding: `app.domain.money.round_half_up_dong`, per month, before multiplying by months; the
  lump-sum discount rounds each discounted month the same way.
- Money is `int` đồng; rates are `int` basis points / whole percent; the fund's return is an exact
  `Fraction`. No floats.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from app.domain.money import format_vnd, round_half_up_dong
from app.domain.rates import RateTable
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import ValidationError

BP_PER_UNIT = 10_000  # basis points in 100%
PERCENT_PER_UNIT = 100

BreakdownLine = tuple[str, str]
"""(Vietnamese label, value text), ready to show on screen or a receipt."""

TOTAL_LABEL = "Số tiền phải nộp"
VERSION_LABEL = "Phiên bản bảng mức đóng"

_FIXED_MONTHS = {
    PaymentMethod.MONTHLY: 1,
    PaymentMethod.QUARTERLY: 3,
    PaymentMethod.HALF_YEAR: 6,
    PaymentMethod.YEARLY: 12,
}


@dataclass(frozen=True)
class Quote:
    """A priced request, before any money changes hands.

    Per-month amounts (`gross_per_month`, `support_per_month`, `payable_per_month`) are those of a
    month that receives state support when any does; `support_months` says how many of the
    `months` do (the lifetime cap can cut support off part-way). Totals are exact sums over the
    months: `total = total_gross - total_support - lump_sum_discount` is what the payer hands over.

    `breakdown` explains how the total was reached; `total_line` and `version_line` are the two
    lines that close every quote; `lines` is all of them in order, for a plain listing. A screen
    that shows the total apart shows `breakdown` and `version_line`.
    """

    scheme: Scheme
    months: int
    period_from: date
    period_to: date
    gross_per_month: int
    support_per_month: int
    payable_per_month: int
    total_gross: int
    total_support: int
    total: int
    rate_version: str
    support_category: SupportCategory | None
    income: int | None
    member_order: int | None
    method: PaymentMethod | None
    support_months: int
    lump_sum_discount: int
    breakdown: tuple[BreakdownLine, ...]
    lines: tuple[BreakdownLine, ...] = field(init=False)
    # Added by the period rules (app.domain.periods, docs/RULES.md), for the confirm screen and
    # the receipt: which rule the quote used and why (a rate change inside the period, a gap, a
    # member order worked out from the household), and the BHYT card's validity.
    notes: tuple[str, ...] = ()
    card_from: date | None = None
    card_to: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", (*self.breakdown, self.total_line, self.version_line))

    @property
    def total_line(self) -> BreakdownLine:
        return (TOTAL_LABEL, format_vnd(self.total))

    @property
    def version_line(self) -> BreakdownLine:
        return (VERSION_LABEL, self.rate_version)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _first_of_month(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (30/11 + 3 months → 28/02)."""
    index = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(index, 12)
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def _period(start_month: date, months: int) -> tuple[date, date]:
    first = _first_of_month(start_month)
    last_month = _add_months(first, months - 1)
    last_day = calendar.monthrange(last_month.year, last_month.month)[1]
    return first, last_month.replace(day=last_day)


def _period_text(period_from: date, period_to: date) -> str:
    # "%m/%Y" without strftime (it runs on every payment: record_payment's hot path).
    return f"{period_from.month:02d}/{period_from.year} – {period_to.month:02d}/{period_to.year}"


def _bp_text(bp: int) -> str:
    """2200 → "22%", 450 → "4,5%" (Vietnamese decimal comma)."""
    whole, frac = divmod(bp, 100)
    return f"{whole}%" if frac == 0 else f"{whole},{f'{frac:02d}'.rstrip('0')}%"


def _decimal_percent_text(decimal_text: str) -> str:
    """ "0.0045" → "0,45%" exactly (Decimal arithmetic on the published string, no float)."""
    value = (Decimal(decimal_text) * 100).normalize()
    return f"{value:f}".replace(".", ",") + "%"


def _require_int(value: object, field: str, label: str) -> None:
    # bool is an int subclass; True must not be read as 1 month or 1 đồng.
    if type(value) is not int:
        raise ValidationError(field, label, "phải là số nguyên", rule_en="must be an integer")


# ---------------------------------------------------------------------------------------------
# The lump-sum discount: one function, its source stated here.


def discounted_lump_sum(payables: Sequence[int], monthly_return: Fraction) -> int:
    """Amount due now for future months paid at once: Σ_{i=1..n} payable_i / (1 + r)^(i−1).

    Source: our reading of the lump-sum formula of the earlier decree (Decree 134/2015/NĐ-CP,
    "đóng một lần cho nhiều năm về sau với mức thấp hơn mức đóng hằng tháng"), which DOMAIN.md
    adopts for Decree 159/2025: month i's payable amount (22% × income − state support) is
    discounted by (1 + r)^(i−1), where r is the fund's average monthly investment return of the
    year before payment, published yearly (a rate-table value). Confirm against the official text
    before a release.

    Rounding: each discounted month is rounded half up to the đồng, then summed, in keeping with
    the per-month rounding rule. With r = 0 the result is exactly Σ payable_i.
    """
    if monthly_return < 0:
        raise ValueError(f"monthly return must not be negative, got {monthly_return}")
    growth = 1 + monthly_return
    total = 0
    factor = Fraction(1)  # (1 + r)^(i−1)
    for payable in payables:
        term = payable / factor
        total += round_half_up_dong(term.numerator, term.denominator)
        factor *= growth
    return total


# ---------------------------------------------------------------------------------------------
# BHXH tự nguyện


def _bhxh_months(table: RateTable, method: PaymentMethod, months: int | None, on: date) -> int:
    if method not in table.bhxh_methods(on):
        raise ValidationError(
            "method",
            "Phương thức đóng",
            f"«{method.label}» không áp dụng theo bảng mức đóng hiện hành",
            rule_en=f"{method.value} is not allowed by the rate table in force",
        )
    if method is PaymentMethod.LUMP_SUM:
        low, high = table.lump_sum_months(on)
        if months is None:
            raise ValidationError(
                "months",
                "Số tháng",
                f"phải nhập khi đóng một lần (từ {low} đến {high} tháng)",
                rule_en=f"is required for a lump sum ({low} to {high} months)",
            )
        _require_int(months, "months", "Số tháng")
        step = table.lump_sum_step(on)
        if not low <= months <= high or months % step:
            # Whole future years (DOMAIN: 2 to 5 years = 24..60 months; one year is the
            # 12-monthly method); docs/RULES.md R3.
            allowed = [str(n) for n in range(low, high + 1) if n % step == 0]
            listed = ", ".join(allowed[:-1]) + f" hoặc {allowed[-1]}" if allowed else "—"
            raise ValidationError(
                "months",
                "Số tháng",
                f"khi đóng một lần cho nhiều năm về sau phải là số năm tròn: {listed} tháng",
                rule_en=f"must be one of {', '.join(allowed)} for a lump sum",
            )
        return months
    fixed = _FIXED_MONTHS[method]
    if months is not None and months != fixed:
        raise ValidationError(
            "months",
            "Số tháng",
            f"phải là {fixed} với phương thức «{method.label}»",
            rule_en=f"must be {fixed} for method {method.value}",
        )
    return fixed


def _check_income(table: RateTable, income: int, on: date) -> None:
    label = "Mức thu nhập lựa chọn"
    _require_int(income, "income", label)
    low, high = table.income_bounds(on)
    if not low <= income <= high:
        raise ValidationError(
            "income",
            label,
            f"phải từ {format_vnd(low)} đến {format_vnd(high)}",
            rule_en=f"must be between {format_vnd(low)} and {format_vnd(high)}",
        )
    step = table.income_step(on)
    if income % step:
        raise ValidationError(
            "income",
            label,
            f"phải là bội số của {format_vnd(step)}",
            rule_en=f"must be a multiple of {format_vnd(step)}",
        )


def quote_bhxh_tn(
    table: RateTable,
    *,
    income: int,
    category: SupportCategory,
    method: PaymentMethod,
    months: int | None = None,
    start_month: date,
    paid_on: date,
    support_months_used: int = 0,
) -> Quote:
    """Quote BHXH tự nguyện for `months` months from `start_month` (normalised to the 1st).

    `months` may be omitted for the fixed methods (1/3/6/12) and must match them if given; a lump
    sum needs it. `support_months_used` is how many months of state support the person has
    already received; support stops once the lifetime cap is reached, part-way through the period
    if need be (the earlier months are the supported ones).

    Raises `ValidationError` naming the field for an income out of bounds or off-step, bad
    months, a method the table does not allow, or a negative `support_months_used`.
    """
    n = _bhxh_months(table, method, months, paid_on)
    _check_income(table, income, paid_on)
    _require_int(support_months_used, "support_months_used", "Số tháng đã được hỗ trợ")
    if support_months_used < 0:
        raise ValidationError(
            "support_months_used",
            "Số tháng đã được hỗ trợ",
            "không được là số âm",
            rule_en="must not be negative",
        )

    rate_bp = table.bhxh_rate_bp(paid_on)
    poverty_line = table.poverty_line(paid_on)
    percent = table.support_percent(category, paid_on)
    cap = table.support_lifetime_months(paid_on)

    gross = round_half_up_dong(income * rate_bp, BP_PER_UNIT)
    # Support is a share of 22% × poverty line; it can never exceed the month's contribution.
    support_rate = min(
        gross,
        round_half_up_dong(percent * rate_bp * poverty_line, PERCENT_PER_UNIT * BP_PER_UNIT),
    )
    supported = max(0, min(n, cap - support_months_used))
    # Per-month figures describe a supported month when there is one, else an unsupported one.
    support = support_rate if supported else 0
    payables = [gross - support] * supported + [gross] * (n - supported)

    total_gross = gross * n
    total_support = support * supported
    undiscounted = total_gross - total_support
    discount = 0
    period_from, period_to = _period(start_month, n)
    support_basis = f"{percent}% × {_bp_text(rate_bp)} × {format_vnd(poverty_line)}"

    lines: list[BreakdownLine] = [
        ("Loại hình", Scheme.BHXH_TN.label),
        ("Phương thức đóng", method.label),
        ("Số tháng", str(n)),
        ("Từ tháng – Đến tháng", _period_text(period_from, period_to)),
        ("Mức thu nhập lựa chọn", format_vnd(income)),
        (f"Mức đóng/tháng ({_bp_text(rate_bp)} thu nhập)", format_vnd(gross)),
        ("Đối tượng", f"{category.label} – hỗ trợ {percent}%"),
    ]
    if supported == n:
        lines += [
            ("Nhà nước hỗ trợ/tháng", f"{format_vnd(support)} ({support_basis})"),
            ("Số phải đóng/tháng", format_vnd(gross - support)),
        ]
    elif supported == 0:
        lines += [
            ("Nhà nước hỗ trợ/tháng", f"0 đ – đã hưởng đủ {cap} tháng hỗ trợ tối đa"),
            ("Số phải đóng/tháng", format_vnd(gross)),
        ]
    else:
        lines += [
            ("Nhà nước hỗ trợ/tháng", f"{format_vnd(support)} ({support_basis})"),
            (
                "Số tháng được hỗ trợ",
                f"{supported}/{n} tháng đầu – {n - supported} tháng sau không được hỗ trợ "
                f"vì đã đủ {cap} tháng hỗ trợ tối đa",
            ),
            ("Số phải đóng/tháng (tháng được hỗ trợ)", format_vnd(gross - support)),
            ("Số phải đóng/tháng (tháng không được hỗ trợ)", format_vnd(gross)),
        ]
    lines += [
        ("Tổng mức đóng", format_vnd(total_gross)),
        ("Tổng Nhà nước hỗ trợ", format_vnd(total_support)),
    ]

    if method is PaymentMethod.LUMP_SUM:
        fund = table.fund_return(paid_on.year - 1)
        discounted = discounted_lump_sum(payables, fund.monthly_rate)
        discount = undiscounted - discounted
        rate_note = f"{_decimal_percent_text(fund.text)}/tháng, năm {fund.year}"
        if fund.placeholder:
            rate_note += " (số liệu tạm)"
        lines += [
            ("Lãi suất đầu tư bình quân của quỹ", rate_note),
            ("Giảm trừ do đóng một lần", format_vnd(discount)),
        ]

    total = undiscounted - discount
    return Quote(
        scheme=Scheme.BHXH_TN,
        months=n,
        period_from=period_from,
        period_to=period_to,
        gross_per_month=gross,
        support_per_month=support,
        payable_per_month=gross - support,
        total_gross=total_gross,
        total_support=total_support,
        total=total,
        rate_version=table.version,
        support_category=category,
        income=income,
        member_order=None,
        method=method,
        support_months=supported,
        lump_sum_discount=discount,
        breakdown=tuple(lines),
    )


# ---------------------------------------------------------------------------------------------
# BHYT hộ gia đình


def quote_bhyt_hgd(
    table: RateTable,
    *,
    member_order: int,
    months: int,
    start_month: date,
    paid_on: date,
) -> Quote:
    """Quote BHYT hộ gia đình for the household's `member_order`-th member (1-based).

    The first member pays the BHYT rate × lương cơ sở per month; later members pay the ladder's
    percentage of the FIRST member's rounded monthly amount (the last ladder value applies to the
    5th and later members). `months` must be one of the table's periods (3, 6, 12).
    """
    _require_int(member_order, "member_order", "Thành viên thứ")
    if member_order < 1:
        raise ValidationError(
            "member_order",
            "Thành viên thứ",
            "phải từ 1 trở lên",
            rule_en="must be at least 1",
        )
    _require_int(months, "months", "Số tháng")
    periods = table.bhyt_periods(paid_on)
    if months not in periods:
        allowed = ", ".join(str(p) for p in periods[:-1]) + f" hoặc {periods[-1]}"
        raise ValidationError(
            "months",
            "Số tháng",
            f"phải là {allowed} tháng" if len(periods) > 1 else f"phải là {periods[0]} tháng",
            rule_en=f"must be one of {', '.join(str(p) for p in periods)}",
        )

    base = table.base_salary(paid_on)
    rate_bp = table.bhyt_rate_bp(paid_on)
    percent = table.bhyt_member_percent(member_order, paid_on)
    first_member = round_half_up_dong(base * rate_bp, BP_PER_UNIT)
    per_month = round_half_up_dong(first_member * percent, PERCENT_PER_UNIT)
    total = per_month * months
    period_from, period_to = _period(start_month, months)

    lines: list[BreakdownLine] = [
        ("Loại hình", Scheme.BHYT_HGD.label),
        ("Thành viên thứ", str(member_order)),
        ("Lương cơ sở", format_vnd(base)),
        (
            f"Mức đóng người thứ nhất/tháng ({_bp_text(rate_bp)} lương cơ sở)",
            format_vnd(first_member),
        ),
    ]
    if member_order > 1:
        lines.append(("Tỷ lệ so với người thứ nhất", f"{percent}%"))
    lines += [
        ("Mức đóng/tháng", format_vnd(per_month)),
        ("Số tháng", str(months)),
        ("Từ tháng – Đến tháng", _period_text(period_from, period_to)),
    ]
    return Quote(
        scheme=Scheme.BHYT_HGD,
        months=months,
        period_from=period_from,
        period_to=period_to,
        gross_per_month=per_month,
        support_per_month=0,
        payable_per_month=per_month,
        total_gross=total,
        total_support=0,
        total=total,
        rate_version=table.version,
        support_category=None,
        income=None,
        member_order=member_order,
        method=None,
        support_months=0,
        lump_sum_discount=0,
        breakdown=tuple(lines),
    )


CARD_GAP_MONTHS = 3
CARD_WAITING_DAYS = 30


def bhyt_card_start(paid_on: date, previous_card_end: date | None) -> date:
    """First day of validity of the BHYT hộ gia đình card bought on `paid_on`.

    Continuous participants (the previous card ended less than 3 months before payment, or has
    not ended yet) run on from the previous card: the day after it ends. A first enrolment, or a
    gap of 3 months or more, waits 30 days: the card starts on `paid_on` + 30 days.

    "Gap" is measured from the first uncovered day (previous end + 1) to `paid_on`, in calendar
    months (day clamped to the month's end): a card ending 31/01 has a 3-month gap from 01/05.
    """
    if previous_card_end is not None:
        run_on = previous_card_end + timedelta(days=1)
        if paid_on < _add_months(run_on, CARD_GAP_MONTHS):
            return run_on
    return paid_on + timedelta(days=CARD_WAITING_DAYS)


@dataclass(frozen=True)
class CardWindow:
    """A BHYT hộ gia đình card's validity, and the rule that set its first day (for receipts)."""

    start: date
    end: date
    rule: str


def bhyt_card_window(
    paid_on: date, previous_card_end: date | None, months: int, period_from: date | None = None
) -> CardWindow:
    """The card bought on `paid_on` for `months` months: `bhyt_card_start`, or the first day of
    the period paid for if that is later; it ends the day before the same day `months` later."""
    start = bhyt_card_start(paid_on, previous_card_end)
    if previous_card_end is not None and start == previous_card_end + timedelta(days=1):
        rule = f"tham gia liên tục: nối tiếp thẻ trước hết hạn {previous_card_end:%d/%m/%Y}"
    elif previous_card_end is None:
        rule = f"tham gia lần đầu: sau {CARD_WAITING_DAYS} ngày kể từ ngày đóng {paid_on:%d/%m/%Y}"
    else:
        rule = (
            f"gián đoạn từ {CARD_GAP_MONTHS} tháng trở lên (thẻ trước hết hạn "
            f"{previous_card_end:%d/%m/%Y}): sau {CARD_WAITING_DAYS} ngày kể từ ngày đóng "
            f"{paid_on:%d/%m/%Y}"
        )
    if period_from is not None and period_from > start:
        start = period_from
        rule += f"; kỳ đóng bắt đầu từ {period_from:%m/%Y} nên thẻ có giá trị từ ngày đầu kỳ"
    after = _add_months(start, months)
    # Same day `months` later, less a day; where that day does not exist (31/01 + 3 months), the
    # card runs to the end of the month.
    end = after if after.day < start.day else after - timedelta(days=1)
    return CardWindow(start, end, rule)
