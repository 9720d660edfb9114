"""The period rules (docs/RULES.md R1–R6), each at the edges of its dates, and a property over
(method, start month, payment day) that no accepted request breaks a rule."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.households import fiscal_year, member_order
from app.domain.periods import (
    FIXED_LENGTH,
    MonthSpan,
    check_bhxh_period,
    check_bhyt_period,
    default_bhxh_start,
    gaps,
    merge_spans,
    month_index,
    month_start,
    next_unpaid,
    overlap,
    rate_change_notes,
)
from app.domain.quote import bhyt_card_start, bhyt_card_window
from app.domain.rates import RateTable, load_default_rate_table
from app.domain.types import PaymentMethod, Scheme
from app.errors import ValidationError

TABLE = load_default_rate_table()
M = PaymentMethod


def span(a: str, b: str) -> MonthSpan:
    """span("2026-12", "2027-03")"""
    y1, m1 = map(int, a.split("-"))
    y2, m2 = map(int, b.split("-"))
    return MonthSpan(date(y1, m1, 1), date(y2, m2, 1))


def check(
    method: PaymentMethod,
    start: date,
    paid_on: date,
    paid: tuple[MonthSpan, ...] = (),
    months: int | None = None,
    table: RateTable = TABLE,
) -> None:
    n = months if months is not None else FIXED_LENGTH[method]
    check_bhxh_period(table, method=method, start_month=start, months=n, paid_on=paid_on, paid=paid)


def refused(*args: Any, **kw: Any) -> str:
    with pytest.raises(ValidationError) as info:
        check(*args, **kw)
    assert info.value.field == "start_month"
    assert info.value.label == "Từ tháng"
    return info.value.message


def with_back_payment(on: bool) -> RateTable:
    d: dict[str, Any] = copy.deepcopy(TABLE.to_dict())
    d["bhxh_tn"]["back_payment_allowed"][0]["value"] = on
    return RateTable.from_dict(d)


# --- the rate-table data ------------------------------------------------------------------------


def test_deadlines_and_switch_are_table_data() -> None:
    on = date(2026, 12, 1)
    assert [TABLE.payment_deadline_months(m, on) for m in FIXED_LENGTH] == [1, 3, 4, 7]
    assert TABLE.back_payment_allowed(on) is False
    d: dict[str, Any] = copy.deepcopy(TABLE.to_dict())
    d["bhxh_tn"]["deadline_months"].append(
        {"effective_from": "2027-01-01", "value": {"1": 1, "3": 2, "6": 4, "12": 7}}
    )
    changed = RateTable.from_dict(d)
    assert changed.payment_deadline_months(M.QUARTERLY, date(2026, 12, 31)) == 3
    assert changed.payment_deadline_months(M.QUARTERLY, date(2027, 1, 1)) == 2
    assert RateTable.from_dict(changed.to_dict()) == changed


def test_table_without_the_new_lists_borrows_the_shipped_rows() -> None:
    d: dict[str, Any] = copy.deepcopy(TABLE.to_dict())
    for key in ("deadline_months", "back_payment_allowed", "lump_sum_step_months"):
        del d["bhxh_tn"][key]
    old = RateTable.from_dict(d)
    assert "deadline_months" not in old.to_dict()["bhxh_tn"]  # type: ignore[operator]
    assert old.payment_deadline_months(M.YEARLY, date(2026, 12, 1)) == 7
    assert old.lump_sum_step(date(2026, 12, 1)) == 12
    assert old.back_payment_allowed(date(2026, 12, 1)) is False


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"1": 1, "3": 2, "6": 4}, "bhxh_tn.deadline_months[0].value.12"),
        ({"1": 2, "3": 2, "6": 4, "12": 7}, "bhxh_tn.deadline_months[0].value.1"),
        ({"1": 1, "3": 0, "6": 4, "12": 7}, "bhxh_tn.deadline_months[0].value.3"),
    ],
)
def test_bad_deadlines_refused(value: object, path: str) -> None:
    d: dict[str, Any] = copy.deepcopy(TABLE.to_dict())
    d["bhxh_tn"]["deadline_months"][0]["value"] = value
    with pytest.raises(Exception, match=path.replace("[", r"\[").replace("]", r"\]")):
        RateTable.from_dict(d)


# --- spans --------------------------------------------------------------------------------------


def test_spans_merge_overlap_gaps() -> None:
    paid = merge_spans(
        [span("2027-01", "2027-03"), span("2026-10", "2026-12"), span("2027-06", "2027-06")]
    )
    assert paid == (span("2026-10", "2027-03"), span("2027-06", "2027-06"))
    assert overlap(paid, span("2027-02", "2027-07")) == (
        span("2027-02", "2027-03"),
        span("2027-06", "2027-06"),
    )
    assert overlap(paid, span("2027-04", "2027-05")) == ()
    assert next_unpaid(paid) == date(2027, 7, 1)
    assert next_unpaid(()) is None
    assert gaps(paid, date(2027, 12, 15)) == (
        span("2027-04", "2027-05"),
        span("2027-07", "2027-11"),
    )
    assert gaps(paid, date(2027, 7, 1)) == (span("2027-04", "2027-05"),)
    assert span("2026-12", "2027-03").text == "12/2026–03/2027"
    assert span("2026-12", "2026-12").text == "12/2026"
    assert MonthSpan.of(date(2026, 12, 1), date(2027, 11, 30)).months == 12


# --- R1 months already covered ------------------------------------------------------------------


def test_overlap_refused_naming_the_months() -> None:
    paid = (span("2026-12", "2027-03"),)
    msg = refused(M.YEARLY, date(2026, 12, 1), date(2026, 12, 1), paid)
    assert "Đã đóng các tháng 12/2026–03/2027".lower() in msg.lower()
    assert "04/2027" in msg  # the next unpaid month
    # the month right after is free
    check(M.MONTHLY, date(2027, 4, 1), date(2027, 4, 30), paid)
    # one month of overlap at the end is enough to refuse
    msg = refused(M.QUARTERLY, date(2026, 10, 1), date(2026, 11, 1), paid)
    assert "12/2026" in msg and "03/2027" not in msg


def test_default_start_continues_and_reports_gap() -> None:
    paid = (span("2026-01", "2026-09"),)
    # yearly: 10/2026 is still within the first 7 months on 01/12/2026 → continue there
    plan = default_bhxh_start(TABLE, M.YEARLY, paid, date(2026, 12, 1))
    assert (plan.start, plan.gap) == (date(2026, 10, 1), None)
    # monthly: 10/2026 is past → start this month, the skipped months are the gap
    plan = default_bhxh_start(TABLE, M.MONTHLY, paid, date(2026, 12, 1))
    assert plan.start == date(2026, 12, 1)
    assert plan.gap == span("2026-10", "2026-11")
    assert plan.note is not None and "10/2026–11/2026" in plan.note
    # nothing paid yet: this month
    assert default_bhxh_start(TABLE, M.YEARLY, (), date(2026, 12, 31)).start == date(2026, 12, 1)
    # paid ahead: the month after
    ahead = (span("2026-12", "2027-11"),)
    assert default_bhxh_start(TABLE, M.YEARLY, ahead, date(2026, 12, 1)).start == date(2027, 12, 1)


# --- R2 deadlines by method ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "deadline"), [(M.MONTHLY, 1), (M.QUARTERLY, 3), (M.HALF_YEAR, 4), (M.YEARLY, 7)]
)
def test_deadline_edges(method: PaymentMethod, deadline: int) -> None:
    start = date(2027, 1, 1)
    last_day_in_time = month_start(month_index(start) + deadline) - timedelta(days=1)
    check(method, start, start)  # first day of the period
    check(method, start, last_day_in_time)  # last day of the last month in time
    late = last_day_in_time + timedelta(days=1)
    if deadline < FIXED_LENGTH[method]:
        msg = refused(method, start, late)
        assert f"trong {deadline} tháng đầu" in msg
        assert method.label in msg
        assert PaymentMethod.MONTHLY.label in msg  # the choice that remains
        assert f"{late:%m/%Y}" in msg
    else:  # monthly and 3-monthly: the month after the period is already back-payment
        assert "đóng bù" in refused(method, start, late)


def test_three_monthly_is_in_time_through_its_third_month() -> None:
    # Decree 134/2015/NĐ-CP Art. 12(1)(b): "trong 03 tháng" — the whole period, not the first 2
    check(M.QUARTERLY, date(2026, 10, 1), date(2026, 12, 31))
    msg = refused(M.QUARTERLY, date(2026, 10, 1), date(2027, 1, 1))
    assert "đóng bù" in msg and "cơ quan BHXH" in msg and "595/QĐ-BHXH" in msg
    assert "01/2027" in msg  # the earliest period still open
    # the default start continues a quarterly payer into the period still in time
    paid = (span("2026-07", "2026-09"),)
    plan = default_bhxh_start(TABLE, M.QUARTERLY, paid, date(2026, 12, 15))
    assert (plan.start, plan.gap) == (date(2026, 10, 1), None)


def test_twelve_monthly_taken_in_november_for_january_is_refused() -> None:
    # the case: a 12-monthly payment for a period from January taken in November
    msg = refused(M.YEARLY, date(2026, 1, 1), date(2026, 11, 20))
    assert "7 tháng đầu" in msg and "07/2026" in msg and "11/2026–12/2026" in msg


# --- R3 lump sum --------------------------------------------------------------------------------


def test_lump_sum_starts_at_the_next_unpaid_month() -> None:
    on = date(2026, 12, 1)
    check(M.LUMP_SUM, date(2026, 12, 1), on, months=24)
    msg = refused(M.LUMP_SUM, date(2027, 1, 1), on, months=24)
    assert "12/2026" in msg
    paid = (span("2026-06", "2027-05"),)
    check(M.LUMP_SUM, date(2027, 6, 1), on, paid, months=60)
    assert "06/2027" in refused(M.LUMP_SUM, date(2027, 7, 1), on, paid, months=36)
    # a gap behind: the lump sum is for future years, it starts this month
    old = (span("2025-01", "2025-12"),)
    check(M.LUMP_SUM, date(2026, 12, 1), on, old, months=48)
    assert "12/2026" in refused(M.LUMP_SUM, date(2026, 1, 1), on, old, months=48)


# --- R4 past and far future ---------------------------------------------------------------------


@pytest.mark.parametrize("method", list(FIXED_LENGTH))
def test_far_future_edges(method: PaymentMethod) -> None:
    on = date(2026, 12, 31)
    n = FIXED_LENGTH[method]
    check(method, month_start(month_index(on) + n), on)  # exactly one period ahead
    msg = refused(method, month_start(month_index(on) + n + 1), on)
    assert "quá xa" in msg and f"tối đa {n} tháng" in msg


def test_past_period_refused_unless_switch_on() -> None:
    on = date(2026, 12, 1)
    msg = refused(M.YEARLY, date(2020, 1, 1), on)
    assert "đóng bù" in msg and "back_payment_allowed" in msg
    assert "đóng bù" in refused(M.MONTHLY, date(2026, 11, 1), on)
    check(M.YEARLY, date(2020, 1, 1), on, table=with_back_payment(True))
    check(M.MONTHLY, date(2026, 11, 1), on, table=with_back_payment(True))
    # the switch does not let a payment cover a month already paid
    with pytest.raises(ValidationError):
        check(
            M.MONTHLY,
            date(2026, 11, 1),
            on,
            (span("2026-11", "2026-11"),),
            table=with_back_payment(True),
        )


# --- R5 BHYT ------------------------------------------------------------------------------------


def test_bhyt_card_window_edges() -> None:
    first = bhyt_card_window(date(2026, 12, 1), None, 3)
    assert (first.start, first.end) == (date(2026, 12, 31), date(2027, 3, 30))
    assert "lần đầu" in first.rule
    run_on = bhyt_card_window(date(2026, 12, 1), date(2027, 1, 31), 12)
    assert (run_on.start, run_on.end) == (date(2027, 2, 1), date(2028, 1, 31))
    assert "liên tục" in run_on.rule
    # a gap of 3 months exactly (card ended 31/08, paid 01/12) waits 30 days
    gap = bhyt_card_window(date(2026, 12, 1), date(2026, 8, 31), 6)
    assert gap.start == date(2026, 12, 31) and "gián đoạn" in gap.rule
    # one day less than 3 months runs on
    assert bhyt_card_start(date(2026, 11, 30), date(2026, 8, 31)) == date(2026, 9, 1)
    # 31/01 + 3 months: to the end of April
    assert bhyt_card_window(date(2027, 1, 31), date(2027, 1, 30), 3).end == date(2027, 4, 30)


def test_bhyt_period_checks() -> None:
    card = date(2027, 2, 1)
    check_bhyt_period(start_month=card, months=3, card_start=card, card_rule="r", paid=())
    with pytest.raises(ValidationError, match="chỉ có giá trị từ 01/02/2027"):
        check_bhyt_period(
            start_month=date(2027, 1, 1), months=3, card_start=card, card_rule="r", paid=()
        )
    check_bhyt_period(
        start_month=date(2027, 5, 1), months=3, card_start=card, card_rule="r", paid=()
    )
    with pytest.raises(ValidationError, match="quá xa"):
        check_bhyt_period(
            start_month=date(2027, 6, 1), months=3, card_start=card, card_rule="r", paid=()
        )
    with pytest.raises(ValidationError, match="02/2027"):
        check_bhyt_period(
            start_month=card,
            months=3,
            card_start=card,
            card_rule="r",
            paid=(span("2026-12", "2027-02"),),
        )


def test_member_order_from_household_and_fiscal_year() -> None:
    from datetime import UTC, datetime

    t = [datetime(2027, 1, d, tzinfo=UTC) for d in (3, 5, 9, 12, 20)]
    assert member_order("a", {}) == 1
    paid = {"a": t[0], "b": t[1]}
    assert member_order("c", paid) == 3
    assert member_order("b", paid) == 2  # a renewal keeps the place
    assert member_order("a", paid) == 1
    many = {k: v for k, v in zip("abcde", t, strict=True)}
    assert member_order("f", many) == 6  # the ladder's last value (40 %) applies from the 5th
    assert TABLE.bhyt_member_percent(member_order("f", many), date(2027, 1, 1)) == 40
    assert [
        TABLE.bhyt_member_percent(member_order(k, many), date(2027, 1, 1)) for k in "abcde"
    ] == [
        100,
        70,
        60,
        50,
        40,
    ]
    assert fiscal_year(date(2026, 12, 31)) == 2026 and fiscal_year(date(2027, 1, 1)) == 2027


# --- R6 which rate applies ----------------------------------------------------------------------


def test_rate_change_inside_period_is_explained() -> None:
    notes = rate_change_notes(TABLE, Scheme.BHXH_TN, date(2026, 12, 1), date(2027, 11, 30))
    assert len(notes) == 1
    assert "2.200.000 đ từ 01/01/2027" in notes[0] and "1.500.000 đ" in notes[0]
    assert "ngày nộp tiền 01/12/2026" in notes[0]
    # a period ending the day before the change: nothing to say
    assert rate_change_notes(TABLE, Scheme.BHXH_TN, date(2026, 12, 1), date(2026, 12, 31)) == ()
    # paid on the day of the change: the new value is the one in force
    assert rate_change_notes(TABLE, Scheme.BHXH_TN, date(2027, 1, 1), date(2027, 12, 31)) == ()
    # BHYT does not depend on the poverty line
    assert rate_change_notes(TABLE, Scheme.BHYT_HGD, date(2026, 12, 1), date(2027, 11, 30)) == ()


# --- property: no accepted request breaks a rule ------------------------------------------------

methods = st.sampled_from([M.MONTHLY, M.QUARTERLY, M.HALF_YEAR, M.YEARLY, M.LUMP_SUM])
days = st.dates(min_value=date(2025, 7, 1), max_value=date(2030, 12, 31))


@st.composite
def paid_history(draw: st.DrawFn) -> tuple[MonthSpan, ...]:
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        first = month_start(
            draw(st.integers(month_index(date(2024, 1, 1)), month_index(date(2031, 12, 1))))
        )
        spans.append(MonthSpan.starting(first, draw(st.integers(1, 24))))
    return merge_spans(spans)


@settings(max_examples=400, deadline=None)
@given(
    method=methods,
    start_offset=st.integers(-30, 30),
    paid_on=days,
    paid=paid_history(),
    lump_years=st.integers(2, 5),
    back=st.booleans(),
)
def test_no_accepted_request_breaks_a_rule(
    method: PaymentMethod,
    start_offset: int,
    paid_on: date,
    paid: tuple[MonthSpan, ...],
    lump_years: int,
    back: bool,
) -> None:
    table = with_back_payment(True) if back else TABLE
    p = month_index(paid_on)
    start = month_start(p + start_offset)
    n = 12 * lump_years if method is M.LUMP_SUM else FIXED_LENGTH[method]
    try:
        check_bhxh_period(
            table, method=method, start_month=start, months=n, paid_on=paid_on, paid=paid
        )
    except ValidationError as refusal:
        assert refusal.field == "start_month" and refusal.message.startswith("Từ tháng")
        return
    wanted = MonthSpan.starting(start, n)
    assert overlap(paid, wanted) == ()  # R1
    lag = p - month_index(start)
    if method is M.LUMP_SUM:  # R3
        after = next_unpaid(paid)
        assert start == max(month_start(p), after) if after else start == month_start(p)
        return
    assert -lag <= FIXED_LENGTH[method]  # R4: not more than one period ahead
    if not back:
        assert lag < table.payment_deadline_months(method, paid_on)  # R2 and no back-payment


@settings(max_examples=200, deadline=None)
@given(method=st.sampled_from(list(FIXED_LENGTH)), paid_on=days, paid=paid_history())
def test_default_start_is_always_accepted_or_the_month_is_paid(
    method: PaymentMethod, paid_on: date, paid: tuple[MonthSpan, ...]
) -> None:
    plan = default_bhxh_start(TABLE, method, paid, paid_on)
    n = FIXED_LENGTH[method]
    try:
        check_bhxh_period(
            TABLE, method=method, start_month=plan.start, months=n, paid_on=paid_on, paid=paid
        )
    except ValidationError as refusal:
        # only when the person has paid this far ahead or has later paid months in the way
        assert "quá xa" in refusal.message or "trùng" in refusal.message
