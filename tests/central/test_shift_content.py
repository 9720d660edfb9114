"""Central's content rules for shift records (docs/SHIFTS.md), on records sealed by the
counter's own code: pure, no HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from app.domain.chain import GENESIS
from app.domain.ledger import ShiftBody, seal, to_wire
from central.ingest.classify import CounterFacts, Held, classify
from central.ingest.content import content_problem
from central.ingest.parse import ParsedRecord, parse

KEY = bytes(range(32))
COUNTER = "5f0c6a3e-8d2b-4c1e-9a77-0b1d2e3f4a5b"
SHIFT = "00000000-0000-4000-8000-000000000001"
AT = datetime(2026, 11, 21, 3, 15, tzinfo=UTC)

OPEN = ShiftBody(
    id=SHIFT,
    counter_id=COUNTER,
    shift_id=SHIFT,
    event="open",
    at=AT,
    business_date=date(2026, 11, 21),
    operator_id=2,
    operator="thungan1",
    amount=1_000_000,
    counts="500000:2",
)
CLOSE = replace(
    OPEN,
    id="00000000-0000-4000-8000-000000000002",
    event="close",
    amount=990_000,
    counts="500000:1,200000:2,50000:1,20000:2",
    expected=1_000_000,
    difference=-10_000,
    reason="thiếu tiền lẻ",
    payments=0,
    unsynced=0,
    records_hash="0" * 64,
)


def problem(body: ShiftBody) -> str | None:
    return content_problem(seal(KEY, 1, "shift", body.canonical(), GENESIS), {})


def test_good_shift_records_pass() -> None:
    assert problem(OPEN) is None
    assert problem(CLOSE) is None
    assert problem(replace(OPEN, counts="", amount=1_234_000)) is None


def test_bad_shift_records_are_named() -> None:
    assert "counts" in (problem(replace(OPEN, counts="2:500000")) or "")
    assert "amount" in (problem(replace(OPEN, amount=999_000)) or "")
    assert "difference" in (problem(replace(CLOSE, difference=0)) or "")
    assert "reason" in (problem(replace(CLOSE, reason=None)) or "")
    drop = replace(OPEN, event="drop", counts="", amount=100_000, reason="nộp két")
    assert "supervisor" in (problem(drop) or "")
    assert problem(replace(drop, supervisor="giamsat")) is None
    assert "shift_id" in (problem(replace(OPEN, shift_id="x")) or "")


def test_a_format_1_shift_record_is_unparsable() -> None:
    wire = to_wire(seal(KEY, 1, "shift", {**OPEN.canonical(), "v": 1}, GENESIS))
    assert not isinstance(parse(dict(wire)), ParsedRecord)


def test_shift_records_are_accepted_into_the_chain() -> None:
    first = seal(KEY, 1, "shift", OPEN.canonical(), GENESIS)
    second = seal(KEY, 2, "shift", CLOSE.canonical(), first.hash)
    items = [parse(dict(to_wire(r))) for r in (first, second)]
    verdicts = classify(CounterFacts("QT-A1", COUNTER, KEY), Held({}, {}), items)
    assert [v.status for v in verdicts] == ["accepted", "accepted"]
    forged = seal(bytes(32), 2, "shift", CLOSE.canonical(), first.hash)
    verdict = classify(
        CounterFacts("QT-A1", COUNTER, KEY), Held({}, {}), [parse(dict(to_wire(forged)))]
    )
    assert verdict[0].reason_code == "tampered"


def test_a_difference_below_100_dong_needs_no_reason() -> None:
    small = replace(CLOSE, amount=999_980, counts="", difference=-20, reason=None)
    assert problem(small) is None
    assert "reason" in (problem(replace(small, amount=999_900, difference=-100)) or "")
