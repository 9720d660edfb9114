"""Which months a payer may pay for: months already covered, deadlines, lump sums, past and future.

Pure rules over month spans; no I/O. The figures (deadline per method, lump-sum step, whether a
counter may take a period already past) are rate-table data (`app.domain.rates`); this module
holds only what they mean. Every rule and its source are written up in docs/RULES.md; the
number after "R" in a comment is the rule's number there.

Months are handled as whole calendar months: a `MonthSpan` is first month .. last month, both
inclusive, each given by its first day. A payment's period (`period_from`–`period_to`) is
turned into a span with `MonthSpan.of`.

Guarantees (`check_bhxh_period` / `check_bhyt_period` raise `ValidationError` naming the field
and the rule, in Vietnamese, else return None):
- no accepted request covers a month already paid (R1);
- a fixed-method period is paid within its deadline: payment month − first month < the table's
  deadline for the method (R2), unless the period is entirely past and the table allows
  back-payment (R4);
- a period never starts more than the method's length after the payment month (R4);
- a lump sum starts at the next unpaid month, never in the past (R3; its length is checked by
  the quote: whole years from the table);
- a BHYT period never starts before the card rule's start (R5), nor more than its length later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import TypeVar

from app.domain.money import format_vnd
from app.domain.rates import Dated, RateTable
from app.domain.types import PaymentMethod, Scheme
from app.errors import ValidationError

T = TypeVar("T")

FIXED_LENGTH = {
    PaymentMethod.MONTHLY: 1,
    PaymentMethod.QUARTERLY: 3,
    PaymentMethod.HALF_YEAR: 6,
    PaymentMethod.YEARLY: 12,
}

START_FIELD = "start_month"
START_LABEL = "Từ tháng"


def month_index(d: date) -> int:
    """Months since year 0: consecutive months differ by 1."""
    return d.year * 12 + d.month - 1


def month_start(index: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def month_text(d: date) -> str:
    return f"{d:%m/%Y}"


@dataclass(frozen=True, order=True)
class MonthSpan:
    """Whole months `first` .. `last` (both the first day of their month), inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first.day != 1 or self.last.day != 1 or self.last < self.first:
            raise ValueError(f"not a month span: {self.first} .. {self.last}")

    @classmethod
    def of(cls, period_from: date, period_to: date) -> MonthSpan:
        return cls(period_from.replace(day=1), period_to.replace(day=1))

    @classmethod
    def starting(cls, first: date, months: int) -> MonthSpan:
        start = month_index(first)
        return cls(month_start(start), month_start(start + months - 1))

    @property
    def months(self) -> int:
        return month_index(self.last) - month_index(self.first) + 1

    @property
    def text(self) -> str:
        """ "12/2026–03/2027", or "12/2026" for one month."""
        if self.first == self.last:
            return month_text(self.first)
        return f"{month_text(self.first)}–{month_text(self.last)}"


def merge_spans(spans: Iterable[MonthSpan]) -> tuple[MonthSpan, ...]:
    """Sorted, with overlapping or adjacent spans joined."""
    out: list[MonthSpan] = []
    for span in sorted(spans):
        if out and month_index(span.first) <= month_index(out[-1].last) + 1:
            if span.last > out[-1].last:
                out[-1] = MonthSpan(out[-1].first, span.last)
        else:
            out.append(span)
    return tuple(out)


def overlap(paid: Iterable[MonthSpan], wanted: MonthSpan) -> tuple[MonthSpan, ...]:
    """The months of `wanted` that `paid` already covers, as merged spans."""
    parts = []
    for span in paid:
        first, last = max(span.first, wanted.first), min(span.last, wanted.last)
        if first <= last:
            parts.append(MonthSpan(first, last))
    return merge_spans(parts)


def spans_text(spans: Sequence[MonthSpan]) -> str:
    return ", ".join(s.text for s in spans)


def gaps(paid: Iterable[MonthSpan], until: date) -> tuple[MonthSpan, ...]:
    """Unpaid months between the first paid month and the month before `until`."""
    merged = merge_spans(paid)
    out: list[MonthSpan] = []
    stop = month_index(until) - 1
    for a, b in pairwise(merged):
        lo, hi = month_index(a.last) + 1, min(month_index(b.first) - 1, stop)
        if lo <= hi:
            out.append(MonthSpan(month_start(lo), month_start(hi)))
    if merged and month_index(merged[-1].last) + 1 <= stop:
        out.append(MonthSpan(month_start(month_index(merged[-1].last) + 1), month_start(stop)))
    return tuple(out)


def next_unpaid(paid: Iterable[MonthSpan]) -> date | None:
    """The month after the last paid one (None: nothing paid)."""
    merged = merge_spans(paid)
    return month_start(month_index(merged[-1].last) + 1) if merged else None


@dataclass(frozen=True)
class StartPlan:
    """The default first month of a request and the unpaid months it skips (a gap)."""

    start: date
    gap: MonthSpan | None

    @property
    def note(self) -> str | None:
        if self.gap is None:
            return None
        return (
            f"Gián đoạn: chưa đóng các tháng {self.gap.text} "
            f"({self.gap.months} tháng); kỳ này bắt đầu từ {month_text(self.start)}."
        )


def default_bhxh_start(
    table: RateTable, method: PaymentMethod, paid: Sequence[MonthSpan], paid_on: date
) -> StartPlan:
    """R1: continue the last paid period; if the method's rules refuse that month (it is too
    far past), start at the payment month and report the months skipped as a gap."""
    current = paid_on.replace(day=1)
    after_last = next_unpaid(paid)
    if after_last is None:
        return StartPlan(current, None)
    if after_last >= current or _starts_in_time(table, method, after_last, paid_on):
        return StartPlan(after_last, None)
    gap = MonthSpan(after_last, month_start(month_index(current) - 1))
    return StartPlan(current, gap)


def _starts_in_time(table: RateTable, method: PaymentMethod, start: date, paid_on: date) -> bool:
    if method is PaymentMethod.LUMP_SUM:
        return False
    lag = month_index(paid_on) - month_index(start)
    return lag < table.payment_deadline_months(method, paid_on) or table.back_payment_allowed(
        paid_on
    )


def _refuse(rule_vi: str, rule_en: str) -> ValidationError:
    return ValidationError(START_FIELD, START_LABEL, rule_vi, rule_en=rule_en)


def _check_overlap(paid: Sequence[MonthSpan], wanted: MonthSpan) -> None:
    # R1: a month is paid for once.
    covered = overlap(paid, wanted)
    if covered:
        after = next_unpaid(paid)
        hint = f"; tháng chưa đóng tiếp theo là {month_text(after)}" if after else ""
        raise _refuse(
            f"trùng tháng đã đóng: đã đóng các tháng {spans_text(covered)} "
            f"(không thu hai lần cho một tháng){hint}",
            f"overlaps months already paid: {spans_text(covered)}",
        )


def check_bhxh_period(
    table: RateTable,
    *,
    method: PaymentMethod,
    start_month: date,
    months: int,
    paid_on: date,
    paid: Sequence[MonthSpan],
) -> None:
    """Refuse a BHXH tự nguyện request the period rules do not allow (see module docstring)."""
    wanted = MonthSpan.starting(start_month.replace(day=1), months)
    _check_overlap(paid, wanted)
    current = paid_on.replace(day=1)
    p, s = month_index(paid_on), month_index(wanted.first)
    if method is PaymentMethod.LUMP_SUM:
        # R3: "đóng một lần cho nhiều năm về sau" pays future months from the next unpaid one.
        after_last = next_unpaid(paid)
        expected = max(current, after_last) if after_last else current
        if wanted.first != expected:
            raise _refuse(
                f"đóng một lần cho nhiều năm về sau phải bắt đầu từ tháng chưa đóng tiếp theo "
                f"({month_text(expected)}), không phải {month_text(wanted.first)}",
                f"a lump sum starts at the next unpaid month {expected:%m/%Y}",
            )
        return
    length = FIXED_LENGTH[method]
    if s - p > length:
        # R4: at most one period of the method ahead.
        latest = month_start(p + length)
        raise _refuse(
            f"kỳ đóng {wanted.text} bắt đầu quá xa: phương thức «{method.label}» chỉ đóng trước "
            f"tối đa {length} tháng, tức kỳ bắt đầu muộn nhất từ {month_text(latest)}",
            f"starts more than {length} months ahead (latest start {latest:%m/%Y})",
        )
    lag = p - s
    if lag < 0:
        return
    # R2: monthly within the month, 3-monthly within its 3 months, 6-monthly within the first 4,
    # 12-monthly within the first 7 (Decree 134/2015/NĐ-CP Art. 12(1), Decision 595/QĐ-BHXH
    # Art. 11(1); docs/RULES.md R2). The figures are rate-table data.
    deadline = table.payment_deadline_months(method, paid_on)
    if lag < deadline:
        return
    if table.back_payment_allowed(paid_on):
        return  # R4: the table's switch allows back-payment (off in the shipped table)
    if lag >= length:
        raise _refuse(
            f"kỳ đóng {wanted.text} đã qua: quầy không thu đóng bù cho các tháng đã qua. Người "
            "quá hạn đóng phải đăng ký lại phương thức đóng với cơ quan BHXH, tiền đóng bù có tính "
            f"lãi (Quyết định 595/QĐ-BHXH, Điều 11 khoản 3; bảng mức đóng {table.version}, "
            f"mục back_payment_allowed). Kỳ đóng sớm nhất có thể bắt đầu từ {month_text(current)}",
            "back-payment for a past period is not allowed at the counter",
        )
    last_in_time = month_start(s + deadline - 1)
    left = MonthSpan(current, wanted.last)
    raise _refuse(
        f"quá hạn đóng: phương thức «{method.label}» phải đóng trong {deadline} tháng đầu của kỳ "
        f"(kỳ {wanted.text}, hạn đến hết tháng {month_text(last_in_time)}). Còn có thể: đóng "
        f"«{PaymentMethod.MONTHLY.label}» cho các tháng còn lại của kỳ ({left.text}), bắt đầu từ "
        f"tháng {month_text(current)}, hoặc chọn kỳ mới bắt đầu từ tháng {month_text(current)}",
        f"late: {method.value}-monthly is due within the first {deadline} months of the period",
    )


def check_bhyt_period(
    *,
    start_month: date,
    months: int,
    card_start: date,
    card_rule: str,
    paid: Sequence[MonthSpan],
) -> None:
    """R5: a BHYT hộ gia đình period starts no earlier than the card rule allows, no more than
    its own length later, and covers no month already paid."""
    wanted = MonthSpan.starting(start_month.replace(day=1), months)
    _check_overlap(paid, wanted)
    earliest = card_start.replace(day=1)
    if wanted.first < earliest:
        raise _refuse(
            f"thẻ BHYT chỉ có giá trị từ {card_start:%d/%m/%Y} ({card_rule}); kỳ đóng không thể "
            f"bắt đầu từ {month_text(wanted.first)}",
            f"the card can start no earlier than {card_start.isoformat()}",
        )
    latest = month_start(month_index(earliest) + months)
    if wanted.first > latest:
        raise _refuse(
            f"kỳ đóng {wanted.text} bắt đầu quá xa: chỉ đóng trước tối đa {months} tháng, tức kỳ "
            f"bắt đầu muộn nhất từ {month_text(latest)}",
            f"starts more than {months} months after the card could start",
        )


# --- which rate applies, and why (R6) ---------------------------------------------------------


def _change_inside(rows: Sequence[Dated[T]], paid_on: date, period_to: date) -> list[date]:
    return [r.effective_from for r in rows if paid_on < r.effective_from <= period_to]


def rate_change_notes(
    table: RateTable, scheme: Scheme, paid_on: date, period_to: date
) -> tuple[str, ...]:
    """Say, for each known rate change that falls inside the paid period, which value the quote
    used and why: the rate in force on the payment day applies to every month paid for."""
    why = (
        f"số tiền tính theo mức áp dụng vào ngày nộp tiền {paid_on:%d/%m/%Y}, cho mọi tháng "
        "của kỳ đóng (mức đóng xác định theo ngày nộp)"
    )
    notes: list[str] = []

    def money(name: str, rows: Sequence[Dated[int]], used: int) -> None:
        for when in _change_inside(rows, paid_on, period_to):
            new = next(r.value for r in rows if r.effective_from == when)
            notes.append(
                f"{name} đổi thành {format_vnd(new)} từ {when:%d/%m/%Y} (trong kỳ đóng); "
                f"đã dùng {format_vnd(used)}: {why}."
            )

    money("Lương cơ sở", table.base_salary_rows, table.base_salary(paid_on))
    changed: list[tuple[str, list[date]]]
    if scheme is Scheme.BHXH_TN:
        money("Chuẩn nghèo nông thôn", table.rural_poverty_line, table.poverty_line(paid_on))
        changed = [
            (
                "Tỷ lệ đóng BHXH tự nguyện",
                _change_inside(table.bhxh_rate_bp_rows, paid_on, period_to),
            ),
            (
                "Mức hỗ trợ của Nhà nước",
                _change_inside(table.support_percent_rows, paid_on, period_to),
            ),
        ]
    else:
        changed = [
            ("Tỷ lệ đóng BHYT", _change_inside(table.bhyt_rate_bp_rows, paid_on, period_to)),
            (
                "Tỷ lệ giảm theo thành viên",
                _change_inside(table.bhyt_member_percent_rows, paid_on, period_to),
            ),
        ]
    for name, dates in changed:
        notes += [f"{name} thay đổi từ {when:%d/%m/%Y} (trong kỳ đóng); {why}." for when in dates]
    return tuple(notes)
