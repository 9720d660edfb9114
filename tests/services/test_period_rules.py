"""The period and household rules through the services, on a real SQLite file."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.domain.periods import FIXED_LENGTH, MonthSpan, month_index, month_start, overlap
from app.domain.rates import load_default_rate_table
from app.domain.types import PaymentMethod, Scheme, Sex, SupportCategory
from app.errors import UserFacingError, ValidationError
from app.services.common import Actor
from app.services.history import (
    CentralPeriod,
    bhyt_card_for_receipt,
    participant_history,
    record_central_paid_periods,
)
from app.services.households import (
    add_member,
    card_holders,
    create_household,
    get_household,
    household_of,
)
from app.services.participants import ParticipantInput, ParticipantView, create_participant
from app.services.payments import (
    PaymentRequest,
    PaymentView,
    preview_payment,
    record_payment,
    void_payment,
)
from app.storage.db import Database
from app.storage.models import AuditEvent, Payment

TABLE = load_default_rate_table()
DEC_1 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội, 01/12/2026


def bhxh(payer: ParticipantView, **kw: object) -> PaymentRequest:
    base: dict[str, object] = dict(
        client_request_id=str(uuid.uuid4()),
        participant_id=payer.id,
        scheme=Scheme.BHXH_TN,
        income=1_500_000,
        support_category=SupportCategory.OTHER,
        method=PaymentMethod.YEARLY,
    )
    base.update(kw)
    return PaymentRequest(**base)  # type: ignore[arg-type]


def bhyt(who: ParticipantView, months: int = 3, **kw: object) -> PaymentRequest:
    return PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=who.id,
        scheme=Scheme.BHYT_HGD,
        months=months,
        **kw,  # type: ignore[arg-type]
    )


def person(db: Database, by: Actor, name: str, cccd: str) -> ParticipantView:
    """A participant whose date of birth and sex agree with the CCCD's 4th to 6th digits."""
    code = int(cccd[3])
    born = date((1900 if code < 2 else 2000) + int(cccd[4:6]), 3, 14)
    sex = Sex.MALE if code % 2 == 0 else Sex.FEMALE
    return create_participant(
        db, ParticipantInput(full_name=name, date_of_birth=born, sex=sex, cccd=cccd), by=by
    )


def refusal(db: Database, req: PaymentRequest, by: Actor, now: datetime) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        record_payment(db, req, by=by, now=now)
    with db.read() as s:  # nothing half-saved
        assert (
            s.scalar(select(Payment.id).where(Payment.client_request_id == req.client_request_id))
            is None
        )
    return info.value


# --- R1 months already covered ------------------------------------------------------------------


def test_same_period_twice_is_refused_naming_months(
    db: Database, cashier: Actor, supervisor: Actor, payer: ParticipantView
) -> None:
    first = record_payment(db, bhxh(payer, start_month=date(2026, 12, 1)), by=cashier, now=DEC_1)
    assert (first.period_from, first.period_to) == (date(2026, 12, 1), date(2027, 11, 30))
    err = refusal(db, bhxh(payer, start_month=date(2026, 12, 1)), cashier, DEC_1)
    assert err.field == "start_month"
    assert "đã đóng các tháng 12/2026–11/2027" in err.message
    # a quarterly overlapping only the first month is refused too, naming that month
    err = refusal(
        db,
        bhxh(payer, method=PaymentMethod.QUARTERLY, start_month=date(2026, 11, 1)),
        cashier,
        DEC_1,
    )
    assert "12/2026–01/2027" in err.message
    # voiding frees the months again
    void_payment(
        db, receipt_number=first.receipt_number, reason="Thu nhầm kỳ", supervisor=supervisor
    )
    again = record_payment(db, bhxh(payer, start_month=date(2026, 12, 1)), by=cashier, now=DEC_1)
    assert again.period_from == date(2026, 12, 1)


def test_default_start_continues_and_central_periods_count(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    # central says 01/2026–09/2026 were paid elsewhere
    added = record_central_paid_periods(
        db,
        [
            CentralPeriod(payer.id, Scheme.BHXH_TN, date(2026, 1, 1), date(2026, 9, 30), "central"),
            CentralPeriod(payer.id, Scheme.BHXH_TN, date(2026, 1, 1), date(2026, 9, 30), "central"),
        ],
    )
    assert added == 1
    assert (
        record_central_paid_periods(
            db, [CentralPeriod(payer.id, Scheme.BHXH_TN, date(2026, 1, 1), date(2026, 9, 30))]
        )
        == 0
    )
    with pytest.raises(ValidationError):
        record_central_paid_periods(
            db, [CentralPeriod(payer.id, Scheme.BHXH_TN, date(2026, 9, 1), date(2026, 1, 31))]
        )
    with pytest.raises(UserFacingError, match="Không tìm thấy"):
        record_central_paid_periods(
            db, [CentralPeriod("no-such-id", Scheme.BHXH_TN, date(2026, 1, 1), date(2026, 1, 31))]
        )
    # 12-monthly from 10/2026 is still within its first 7 months: the default continues there
    q = preview_payment(db, bhxh(payer), now=DEC_1)
    assert (q.period_from, q.period_to) == (date(2026, 10, 1), date(2027, 9, 30))
    assert q.notes and "2.200.000 đ từ 01/01/2027" in q.notes[-1]
    # monthly cannot reach back: it starts this month and says which months were skipped
    q = preview_payment(db, bhxh(payer, method=PaymentMethod.MONTHLY), now=DEC_1)
    assert q.period_from == date(2026, 12, 1)
    assert any("chưa đóng các tháng 10/2026–11/2026" in n for n in q.notes)
    # a typed start over central's months is refused
    err = refusal(
        db,
        bhxh(payer, method=PaymentMethod.HALF_YEAR, start_month=date(2026, 9, 1)),
        cashier,
        DEC_1,
    )
    assert "09/2026" in err.message


# --- R2, R3, R4 through the payment ---------------------------------------------------------------


def test_deadline_refusal_names_the_choices(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    nov_20 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    err = refusal(db, bhxh(payer, start_month=date(2026, 1, 1)), cashier, nov_20)
    assert "7 tháng đầu" in err.message and "Hằng tháng" in err.message
    # on 31/07 it is still in time
    jul_31 = datetime(2026, 7, 31, 3, 0, tzinfo=UTC)
    assert (
        record_payment(db, bhxh(payer, start_month=date(2026, 1, 1)), by=cashier, now=jul_31).months
        == 12
    )


def test_lump_sum_whole_years_from_next_unpaid(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    err = refusal(db, bhxh(payer, method=PaymentMethod.LUMP_SUM, months=2), cashier, DEC_1)
    assert err.field == "months" and "24, 36, 48 hoặc 60" in err.message
    record_payment(db, bhxh(payer, method=PaymentMethod.MONTHLY), by=cashier, now=DEC_1)
    err = refusal(
        db,
        bhxh(payer, method=PaymentMethod.LUMP_SUM, months=24, start_month=date(2027, 3, 1)),
        cashier,
        DEC_1,
    )
    assert "01/2027" in err.message
    lump = record_payment(
        db, bhxh(payer, method=PaymentMethod.LUMP_SUM, months=24), by=cashier, now=DEC_1
    )
    assert (lump.period_from, lump.period_to) == (date(2027, 1, 1), date(2028, 12, 31))


def test_past_and_far_future_refused(db: Database, cashier: Actor, payer: ParticipantView) -> None:
    err = refusal(db, bhxh(payer, start_month=date(2020, 1, 1)), cashier, DEC_1)
    assert "đóng bù" in err.message
    err = refusal(db, bhxh(payer, start_month=date(2035, 1, 1)), cashier, DEC_1)
    assert "quá xa" in err.message


# --- R5 households and BHYT -----------------------------------------------------------------------


def test_household_member_order_and_cards(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    second = person(db, cashier, "Lê Văn Hai", "001085002345")
    third = person(db, cashier, "Lê Thị Ba", "001185003456")
    hh = create_household(db, head_participant_id=payer.id, address="Thôn Đông", by=cashier)
    assert [m.participant_id for m in hh.members] == [payer.id] and hh.members[0].is_head
    add_member(db, hh.id, second.id, relation="Chồng", by=cashier)
    hh = add_member(db, hh.id, third.id, relation="Con", by=cashier)
    assert [m.full_name for m in hh.members] == ["Lê Thị Mỹ Đào", "Lê Văn Hai", "Lê Thị Ba"]

    # the first to pay in the fiscal year is the 1st member, whoever is head
    q = preview_payment(db, bhyt(second), now=DEC_1)
    assert (q.member_order, q.payable_per_month) == (1, 105_300)
    a = record_payment(db, bhyt(second), by=cashier, now=DEC_1)
    assert a.member_order == 1
    b = record_payment(db, bhyt(payer), by=cashier, now=DEC_1 + timedelta(hours=1))
    assert (b.member_order, b.gross_per_month) == (2, 73_710)
    assert (b.card_from, b.card_to) == (date(2026, 12, 31), date(2027, 3, 30))
    stored = bhyt_card_for_receipt(db, b.receipt_number)
    assert stored is not None and (stored.start, stored.end) == (b.card_from, b.card_to)
    # typing another order is refused for a household member
    err = refusal(db, bhyt(third, member_order=1), cashier, DEC_1)
    assert err.field == "member_order" and "thành viên thứ 3" in err.message
    c = record_payment(db, bhyt(third), by=cashier, now=DEC_1 + timedelta(hours=2))
    assert (c.member_order, c.gross_per_month) == (3, 63_180)

    # first enrolment: the card starts 30 days after payment, shown on the quote
    q = preview_payment(db, bhyt(person(db, cashier, "Người Mới", "001090004567")), now=DEC_1)
    assert (q.card_from, q.card_to) == (date(2026, 12, 31), date(2027, 3, 30))
    assert any("lần đầu" in n for n in q.notes)
    assert ("Thẻ BHYT có giá trị", "31/12/2026 – 30/03/2027") in q.lines

    # a renewal runs on from the card before, and the same months cannot be bought twice
    q = preview_payment(db, bhyt(second, 6), now=DEC_1 + timedelta(days=60))
    assert q.card_from == date(2027, 3, 31) and any("liên tục" in n for n in q.notes)
    err = refusal(db, bhyt(second, start_month=date(2027, 1, 1)), cashier, DEC_1)
    assert "đã đóng các tháng 01/2027–02/2027" in err.message

    holders = card_holders(db, hh.id, date(2027, 1, 15))
    assert {m.full_name for m in holders} == {"Lê Thị Mỹ Đào", "Lê Văn Hai", "Lê Thị Ba"}
    assert all(m.card_end == date(2027, 3, 30) for m in holders)
    assert card_holders(db, hh.id, date(2027, 3, 31)) == ()

    # in the next fiscal year the order starts again
    jan = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    assert preview_payment(db, bhyt(third), now=jan).member_order == 1


def test_move_member_and_override_outside_household(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    other = person(db, cashier, "Trần Văn Khác", "001085009999")
    one = create_household(db, head_participant_id=payer.id, by=cashier)
    two = create_household(db, head_participant_id=other.id, by=cashier)
    with pytest.raises(ValidationError, match="đã thuộc một hộ gia đình"):
        create_household(db, head_participant_id=payer.id, by=cashier)
    kid = person(db, cashier, "Lê Bé", "001210001111")
    add_member(db, one.id, kid.id, by=cashier)
    with pytest.raises(UserFacingError, match="đã là thành viên"):
        add_member(db, one.id, kid.id, by=cashier)
    add_member(db, two.id, kid.id, relation="Con", by=cashier)
    assert [m.full_name for m in get_household(db, one.id).members] == ["Lê Thị Mỹ Đào"]
    moved = household_of(db, kid.id)
    assert moved is not None and moved.id == two.id
    with db.read() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("household.move") == 1 and actions.count("household.create") == 2

    # someone in no household: a typed order is taken as an override and audited
    loner = person(db, cashier, "Người Lẻ", "001085007777")
    view = record_payment(db, bhyt(loner, member_order=2), by=cashier, now=DEC_1)
    assert view.member_order == 2 and view.gross_per_month == 73_710
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.subject == view.id)).one()
    assert "nhập tay" in json.loads(event.details)["notes"][0]


# --- R6 history -----------------------------------------------------------------------------------


def test_history_paid_periods_support_and_receipts(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    views: list[PaymentView] = [
        record_payment(db, bhxh(payer, start_month=date(2026, 12, 1)), by=cashier, now=DEC_1),
        record_payment(db, bhyt(payer), by=cashier, now=DEC_1),
    ]
    record_central_paid_periods(
        db, [CentralPeriod(payer.id, Scheme.BHXH_TN, date(2026, 1, 1), date(2026, 6, 30))]
    )
    h = participant_history(db, payer.id, now=DEC_1)
    bhxh_h = h.scheme(Scheme.BHXH_TN)
    assert [s.text for s in bhxh_h.paid] == ["01/2026–06/2026", "12/2026–11/2027"]
    assert bhxh_h.next_unpaid == date(2027, 12, 1)
    assert [g.text for g in bhxh_h.gaps] == ["07/2026–11/2026"]
    assert (h.support_months_used, h.support_months_cap) == (12, 120)
    assert [r.confirmation_code for r in h.last_receipts] == [
        v.confirmation_code for v in reversed(views)
    ]
    assert h.bhyt_card is not None and h.bhyt_card.start == date(2026, 12, 31)
    assert h.bhyt_card_end == date(2027, 3, 30)
    assert h.scheme(Scheme.BHYT_HGD).paid[0].text == "12/2026–02/2027"


# --- property through record_payment --------------------------------------------------------------

_people = itertools.count(1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(list(PaymentMethod)),
            st.integers(-8, 13),  # start month, relative to the payment month
            st.integers(0, 75),  # days after the previous payment
            st.sampled_from([24, 36, 48, 60, 12, 30]),  # lump-sum months
            st.booleans(),  # give no start month (continue the last period)
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_record_payment_never_accepts_a_request_that_breaks_a_rule(
    db: Database, cashier: Actor, steps: list[tuple[PaymentMethod, int, int, int | None, bool]]
) -> None:
    who = person(db, cashier, "Người Thử", f"001085{next(_people):06d}")
    when = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    accepted: list[tuple[PaymentView, date]] = []
    for method, offset, days, lump, continue_last in steps:
        when += timedelta(days=days)
        paid_on = (when + timedelta(hours=7)).date()
        start = None if continue_last else month_start(month_index(paid_on) + offset)
        months = lump if method is PaymentMethod.LUMP_SUM else None
        req = bhxh(who, method=method, start_month=start, income=2_200_000, months=months)
        try:
            accepted.append((record_payment(db, req, by=cashier, now=when), paid_on))
        except ValidationError as refusal:
            assert refusal.field in {"start_month", "months"}
    event(f"accepted {len(accepted)} of {len(steps)}")
    spans = [MonthSpan.of(v.period_from, v.period_to) for v, _ in accepted]
    for i, a in enumerate(spans):  # R1: no month paid twice
        assert all(overlap([a], b) == () for b in spans[i + 1 :])
    for view, paid_on in accepted:
        lag = month_index(paid_on) - month_index(view.period_from)
        if view.method is PaymentMethod.LUMP_SUM:  # R3
            assert view.months in (24, 36, 48, 60) and lag <= 0
        else:
            assert view.method is not None
            assert lag < TABLE.payment_deadline_months(view.method, paid_on)  # R2, R4 past
            assert -lag <= FIXED_LENGTH[view.method]  # R4 ahead
