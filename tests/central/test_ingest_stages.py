"""Central's ingest stages on their own: parse, classify and continuity are pure, so every rule
is checked here on real sealed records (the counter's own sealing code) without HTTP or a
database. The HTTP-level guarantees are in tests/sync/test_central.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.domain.chain import GENESIS
from app.domain.ledger import (
    MalformedRecord,
    PaymentBody,
    SealedRecord,
    VoidBody,
    WireRecord,
    from_wire,
    seal,
    to_wire,
)
from app.domain.quote import quote_bhyt_hgd
from app.domain.rates import load_default_rate_table
from central.ingest.classify import CounterFacts, Held, HeldRecord, Link, Verdict, classify
from central.ingest.continuity import continuity
from central.ingest.parse import ParsedRecord, Unparsable, parse

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
LEDGER_COUNTER = "5f0c6a3e-8d2b-4c1e-9a77-0b1d2e3f4a5b"
RATES = load_default_rate_table()
COUNTER = CounterFacts("QT-A1", LEDGER_COUNTER, KEY, {RATES.version: RATES})
PAID = datetime(2026, 11, 21, 3, 15, tzinfo=UTC)


def pid(n: int) -> str:
    """A record or participant id in canonical UUID form, readable in assertions."""
    return f"00000000-0000-4000-8000-{n:012d}"


# A BHYT hộ gia đình payment for the first member, 3 months, priced by the shipped rate table:
# content central's domain checks accept.
QUOTE = quote_bhyt_hgd(
    RATES, member_order=1, months=3, start_month=date(2026, 12, 1), paid_on=date(2026, 11, 21)
)


def payment(n: int, *, amount: int = QUOTE.total, counter_id: str = LEDGER_COUNTER) -> PaymentBody:
    return PaymentBody(
        id=pid(n),
        counter_id=counter_id,
        series="QT01",
        receipt_number=n,
        participant_id=pid(10_000 + n),
        payer_name="Nguyễn Thị Hoa",
        ma_so_bhxh=None,
        cccd="001190012345",
        scheme="bhyt_hgd",
        method=None,
        months=3,
        period_from=QUOTE.period_from,
        period_to=QUOTE.period_to,
        income=None,
        support_category=None,
        member_order=1,
        amount=amount,
        rate_version=RATES.version,
        paid_at=PAID,
        business_date=date(2026, 11, 21),
        cashier="thu.ngan",
    )


def chain(n: int, *, key: bytes = KEY) -> list[SealedRecord]:
    """Payments 1..n of one counter, sealed and linked as the counter does it."""
    out: list[SealedRecord] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        record = seal(key, seq, "payment", payment(seq).canonical(), prev)
        out.append(record)
        prev = record.hash
    return out


def parsed(record: SealedRecord) -> ParsedRecord:
    p = parse(to_wire(record))
    assert isinstance(p, ParsedRecord)
    return p


def held_from(records: list[SealedRecord], counter_id: str = COUNTER.id) -> Held:
    ps = [parsed(r) for r in records]
    return Held(
        by_id={p.id: HeldRecord(counter_id, p.fingerprint) for p in ps},
        by_seq={p.seq: Link(p.id, p.record.prev_hash, p.record.hash) for p in ps},
    )


EMPTY = Held({}, {})


def statuses(verdicts: list[Verdict]) -> list[tuple[str, str | None]]:
    return [(v.status, v.reason_code) for v in verdicts]


# --- the wire pair -----------------------------------------------------------------------------


def test_wire_round_trip_keeps_every_field() -> None:
    record = chain(1)[0]
    wire = to_wire(record)
    assert set(wire) == {"seq", "kind", "body", "code", "prev_hash", "hash"}
    assert from_wire(wire) == record


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"body": None}, "thiếu nội dung"),
        ({"seq": 0}, "seq"),
        ({"seq": True}, "seq"),
        ({"kind": "void"}, "loại bản ghi"),
        ({"prev_hash": "ab" * 31}, "prev_hash"),
        ({"hash": "G" * 64}, "hash"),
        ({"code": "ABC"}, "mã xác nhận"),
    ],
)
def test_from_wire_names_the_malformed_field(change: dict[str, object], named: str) -> None:
    wire: dict[str, object] = {**to_wire(chain(1)[0]), **change}
    with pytest.raises(MalformedRecord) as caught:
        from_wire(wire)
    assert named in caught.value.reason


# --- parse -------------------------------------------------------------------------------------


def test_parse_reads_the_columns_central_indexes() -> None:
    record = chain(1)[0]
    p = parsed(record)
    assert p.record == record
    assert (p.id, p.seq, p.kind, p.receipt_number, p.business_date) == (
        pid(1),
        1,
        "payment",
        1,
        "2026-11-21",
    )
    assert p.payment is not None and p.payment.amount == QUOTE.total and p.void is None
    assert p.at == "2026-11-21T03:15:00.000000Z"


def test_parse_reads_a_void() -> None:
    pay = chain(1)[0]
    body = VoidBody(
        id="void-1",
        counter_id=LEDGER_COUNTER,
        payment_id=pid(1),
        payment_receipt_number=1,
        payment_code=pay.code,
        reason="thu nhầm",
        supervisor="to.truong",
        voided_at=PAID,
        business_date=date(2026, 11, 21),
    ).canonical()
    p = parsed(seal(KEY, 2, "void", body, pay.hash))
    assert p.void is not None and (p.void.payment_id, p.void.payment_code) == (pid(1), pay.code)
    assert p.payment is None and p.receipt_number == 1


@pytest.mark.parametrize(
    ("body_change", "reason"),
    [
        ({"amount": "mười"}, "trường amount thiếu hoặc sai kiểu"),
        ({"amount": True}, "trường amount thiếu hoặc sai kiểu"),
        ({"paid_at": None}, "trường paid_at thiếu hoặc sai kiểu"),
        ({"ma_so_bhxh": 123}, "trường ma_so_bhxh sai kiểu"),
        ({"id": "x" * 37}, "id bản ghi dài quá 36 ký tự"),
    ],
)
def test_parse_refuses_a_body_with_a_wrong_field(
    body_change: dict[str, object], reason: str
) -> None:
    wire = to_wire(chain(1)[0])
    wire["body"] = {**wire["body"], **body_change}  # type: ignore[dict-item]
    p = parse(wire)
    assert isinstance(p, Unparsable)
    assert p.reason == reason and p.seq == 1


def test_unparsable_echoes_what_it_can_read() -> None:
    wire: WireRecord = to_wire(chain(1)[0])
    broken: dict[str, object] = {**wire, "hash": "nope"}
    p = parse(broken)
    assert isinstance(p, Unparsable) and (p.id, p.seq) == (pid(1), 1)
    p = parse({"seq": "1", "body": []})
    assert isinstance(p, Unparsable) and (p.id, p.seq) == ("", 0)


# --- classify ----------------------------------------------------------------------------------


def test_a_fresh_chain_is_accepted() -> None:
    verdicts = classify(COUNTER, EMPTY, [parsed(r) for r in chain(3)])
    assert statuses(verdicts) == [("accepted", None)] * 3
    assert [v.item()["id"] for v in verdicts] == [pid(1), pid(2), pid(3)]


def test_a_record_already_held_is_a_duplicate_not_flagged() -> None:
    records = chain(2)
    verdicts = classify(COUNTER, held_from(records), [parsed(r) for r in records])
    assert statuses(verdicts) == [("duplicate", None)] * 2
    assert not any(v.flagged for v in verdicts)


def test_the_same_record_twice_in_one_batch_is_accepted_once() -> None:
    record = chain(1)[0]
    verdicts = classify(COUNTER, EMPTY, [parsed(record), parsed(record)])
    assert statuses(verdicts) == [("accepted", None), ("duplicate", None)]


def test_other_content_under_a_held_id_is_a_flagged_conflict() -> None:
    original = chain(1)[0]
    forged = seal(KEY, 1, "payment", payment(1, amount=1).canonical(), GENESIS)
    [verdict] = classify(COUNTER, held_from([original]), [parsed(forged)])
    assert (verdict.status, verdict.reason_code, verdict.flagged) == ("rejected", "conflict", True)
    assert verdict.reason is not None and pid(1) in verdict.reason


def test_other_content_under_an_id_taken_earlier_in_the_batch_is_a_conflict() -> None:
    first = chain(1)[0]
    second = seal(KEY, 2, "payment", payment(1, amount=1).canonical(), first.hash)
    verdicts = classify(COUNTER, EMPTY, [parsed(first), parsed(second)])
    assert statuses(verdicts) == [("accepted", None), ("rejected", "conflict")]


def test_an_id_held_for_another_counter_is_a_conflict_even_with_equal_content() -> None:
    record = chain(1)[0]
    [verdict] = classify(COUNTER, held_from([record], counter_id="QT-B2"), [parsed(record)])
    assert (verdict.status, verdict.reason_code) == ("rejected", "conflict")


def test_a_body_naming_another_counter_is_refused() -> None:
    body = payment(1, counter_id="0c7e1b55-0000-4000-8000-000000000000").canonical()
    [verdict] = classify(COUNTER, EMPTY, [parsed(seal(KEY, 1, "payment", body, GENESIS))])
    assert (verdict.status, verdict.reason_code, verdict.flagged) == (
        "rejected",
        "wrong_counter",
        True,
    )


def test_an_edited_body_or_a_code_under_another_key_is_tampered() -> None:
    record = chain(1)[0]
    edited = SealedRecord(
        record.seq,
        record.kind,
        {**record.body, "amount": QUOTE.total + 1},
        record.code,
        record.prev_hash,
        record.hash,
    )
    foreign = chain(1, key=OTHER_KEY)[0]
    verdicts = classify(COUNTER, EMPTY, [parsed(edited), parsed(foreign)])
    assert statuses(verdicts) == [("rejected", "tampered")] * 2
    assert "mã băm" in str(verdicts[0].reason) and "mã xác nhận" in str(verdicts[1].reason)


def test_a_second_record_claiming_a_taken_number_is_a_fork() -> None:
    records = chain(2)
    rival = seal(KEY, 2, "payment", payment(99).canonical(), records[0].hash)
    held = held_from(records[:2])
    [verdict] = classify(COUNTER, held, [parsed(rival)])
    assert (verdict.status, verdict.reason_code) == ("rejected", "fork")
    assert pid(2) in str(verdict.reason)
    # the same inside one batch: the first claim wins
    verdicts = classify(COUNTER, held_from(records[:1]), [parsed(records[1]), parsed(rival)])
    assert statuses(verdicts) == [("accepted", None), ("rejected", "fork")]


def test_an_unparsable_item_is_invalid_and_flagged() -> None:
    item = Unparsable(pid(7), 7, "mã xác nhận phải có 12 ký tự")
    [verdict] = classify(COUNTER, EMPTY, [item])
    assert (verdict.status, verdict.reason_code, verdict.flagged) == ("rejected", "invalid", True)
    assert verdict.reason == "bản ghi không hợp lệ: mã xác nhận phải có 12 ký tự"
    assert verdict.item() == {
        "id": pid(7),
        "seq": 7,
        "status": "rejected",
        "reason_code": "invalid",
        "reason": verdict.reason,
    }


# --- continuity --------------------------------------------------------------------------------


def test_a_linked_chain_raises_no_flag() -> None:
    records = chain(4)
    result = continuity(
        list(enumerate(parsed(r) for r in records[2:])), held_from(records[:2]), head_seq=2
    )
    assert result.flags == () and result.filled_below_head == ()


def test_a_missing_predecessor_is_a_gap_naming_the_numbers() -> None:
    records = chain(6)
    held = Held({}, {}, below=2)  # central holds 1..2; the batch brings 6
    [(index, flag)] = continuity([(0, parsed(records[5]))], held, head_seq=2).flags
    assert (index, flag.kind, flag.seq, flag.seq_to, flag.record_id) == (0, "gap", 3, 5, pid(6))
    assert flag.detail.startswith("thiếu bản ghi số 3–5 trước bản ghi số 6")


def test_records_arriving_under_the_head_fill_a_gap() -> None:
    records = chain(5)
    held = held_from([records[0], records[4]])
    result = continuity([(0, parsed(records[1])), (1, parsed(records[2]))], held, head_seq=5)
    assert result.filled_below_head == (2, 3)
    assert result.flags == ()  # 2 links to 1; 3 links to 2 (accepted just before)


def test_a_first_record_not_starting_at_the_root_is_a_chain_break() -> None:
    first = seal(KEY, 1, "payment", payment(1).canonical(), "f" * 64)
    [(_, flag)] = continuity([(0, parsed(first))], EMPTY, head_seq=0).flags
    assert (flag.kind, flag.seq) == ("chain_break", 1)


def test_a_rewritten_link_breaks_the_chain_both_ways() -> None:
    records = chain(3)
    rewritten = seal(KEY, 2, "payment", payment(2).canonical(), "e" * 64)
    held = held_from([records[0], records[2]])
    flags = continuity([(4, parsed(rewritten))], held, head_seq=3).flags
    assert [(i, f.kind, f.seq, f.record_id) for i, f in flags] == [
        (4, "chain_break", 2, pid(2)),
        (4, "chain_break", 3, pid(3)),
    ]
