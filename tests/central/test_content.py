"""Central's content rules on real sealed records (the counter's own sealing code): a body the
counter's key signed but that breaks a domain rule is refused as `invalid`, flagged
`invalid_content`, with a reason naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.canonical import CanonicalValue
from app.domain.chain import GENESIS
from app.domain.ledger import seal, to_wire
from app.domain.quote import quote_bhxh_tn
from app.domain.types import PaymentMethod, SupportCategory
from central.ingest.classify import classify
from central.ingest.content import content_problem
from central.ingest.parse import parse
from tests.central.test_ingest_stages import COUNTER, EMPTY, KEY, QUOTE, RATES, payment, pid


def verdict_for(body: dict[str, CanonicalValue]) -> tuple[str, str | None, str, str | None]:
    record = seal(KEY, 1, "payment", body, GENESIS)
    [v] = classify(COUNTER, EMPTY, [parse(to_wire(record))])
    return v.status, v.reason_code, str(v.reason), v.flag_kind


def test_a_valid_payment_passes() -> None:
    assert (
        content_problem(seal(KEY, 1, "payment", payment(1).canonical(), GENESIS), COUNTER.rates)
        is None
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -QUOTE.total}, "amount"),
        ({"amount": QUOTE.total + 1}, "amount"),
        ({"amount": 10**15}, "amount"),
        ({"amount": 2**70}, "amount"),
        ({"amount": True}, "amount"),
        ({"months": "mười hai"}, "months"),
        ({"months": 5}, "months"),
        ({"scheme": "bhxh_bb"}, "scheme"),
        ({"period_to": "2026-11-01"}, "period_to"),
        ({"period_from": "2026-02-30"}, "period_from"),
        ({"paid_at": "hôm qua"}, "paid_at"),
        ({"business_date": "2026-11-22"}, "business_date"),
        ({"payer_name": "x" * 50_000}, "payer_name"),
        ({"payer_name": "Nguyễn\u202eThị"}, "payer_name"),
        ({"payer_name": "Nguyễn\x00Thị"}, "payer_name"),
        ({"payer_name": ""}, "payer_name"),
        ({"ma_so_bhxh": "12345"}, "ma_so_bhxh"),
        ({"cccd": "00119001234X"}, "cccd"),
        ({"participant_id": "người-1"}, "participant_id"),
        ({"rate_version": "không-có"}, "rate_version"),
        ({"member_order": 0}, "member_order"),
        ({"v": 99}, "v"),
    ],
)
def test_content_breaking_a_rule_is_refused_and_flagged(
    change: dict[str, CanonicalValue], field: str
) -> None:
    body = {**payment(1).canonical(), **change}
    status, code, reason, flag = verdict_for(body)
    assert (status, code) == ("rejected", "invalid")
    assert field in reason
    # flagged for the auditor: as content, or — what cannot even be read (a boolean or an
    # integer beyond 64 bits where an amount belongs) — as invalid at parsing
    unreadable = change in ({"amount": 2**70}, {"amount": True})
    assert flag == (None if unreadable else "invalid_content")


def bhxh_body(*, supported: int, months: int = 12) -> dict[str, CanonicalValue]:
    paid_on = date(2026, 11, 21)
    cap = RATES.support_lifetime_months(paid_on)
    q = quote_bhxh_tn(
        RATES,
        income=2_000_000,
        category=SupportCategory.POOR,
        method=PaymentMethod.YEARLY,
        start_month=date(2026, 12, 1),
        paid_on=paid_on,
        support_months_used=cap - supported,
    )
    return {
        **payment(1).canonical(),
        "scheme": "bhxh_tn",
        "method": "12",
        "months": months,
        "income": 2_000_000,
        "support_category": "poor",
        "member_order": None,
        "period_from": q.period_from.isoformat(),
        "period_to": q.period_to.isoformat(),
        "amount": q.total,
    }


def test_bhxh_amount_with_any_count_of_supported_months_is_accepted() -> None:
    for supported in (12, 0, 5):
        assert verdict_for(bhxh_body(supported=supported))[0] == "accepted"
    # ... but not one the rate table cannot give, nor one that contradicts a stated count
    assert verdict_for({**bhxh_body(supported=12), "amount": 1_000})[1] == "invalid"
    stated = {**bhxh_body(supported=12), "support_months": 0}
    assert verdict_for(stated)[1] == "invalid"
    assert verdict_for({**bhxh_body(supported=12), "method": "7"})[1] == "invalid"


def test_a_void_needs_a_wellformed_target_and_reason() -> None:
    from app.domain.ledger import VoidBody
    from tests.central.test_ingest_stages import PAID, chain

    pay = chain(1)[0]
    good = VoidBody(
        id=pid(500),
        counter_id=COUNTER.ledger_counter_id,
        payment_id=pid(1),
        payment_receipt_number=1,
        payment_code=pay.code,
        reason="Thu nhầm số tháng",
        supervisor="giam.sat",
        voided_at=PAID,
        business_date=date(2026, 11, 21),
    ).canonical()
    rules = COUNTER.rates
    assert content_problem(seal(KEY, 2, "void", good, pay.hash), rules) is None
    for change, field in (
        ({"payment_code": pay.code.lower()}, "payment_code"),
        ({"reason": " "}, "reason"),
        ({"reason": "a\x1bb"}, "reason"),
        ({"payment_id": "x"}, "payment_id"),
    ):
        problem = content_problem(seal(KEY, 2, "void", {**good, **change}, pay.hash), rules)
        assert problem is not None and field in problem
