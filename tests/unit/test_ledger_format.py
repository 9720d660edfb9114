"""Ledger record formats 1 and 2, the wire form, the keyed audit link and the head anchor."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime

import pytest

from app.domain.chain import GENESIS, Heads, keyed_link, open_anchor, seal_anchor
from app.domain.ledger import (
    MalformedRecord,
    PaymentBody,
    PaymentBodyV2,
    SealedRecord,
    VoidBodyV2,
    check_record,
    from_wire,
    seal,
    to_wire,
)
from app.services.verify import PAYMENT_COLUMNS, VOID_COLUMNS, numbers_text

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))

V1 = PaymentBody(
    id="p-1",
    counter_id="c-1",
    series="TN",
    receipt_number=1,
    participant_id="x-1",
    payer_name="Lê Thị Mỹ Đào",
    ma_so_bhxh="0123456789",
    cccd=None,
    scheme="bhyt_hgd",
    method=None,
    months=3,
    period_from=date(2027, 1, 1),
    period_to=date(2027, 3, 31),
    income=None,
    support_category=None,
    member_order=1,
    amount=631_800,
    rate_version="2026-07",
    paid_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
    business_date=date(2026, 12, 1),
    cashier="thungan1",
)
V2 = PaymentBodyV2(
    **vars(V1),
    client_request_id="r-1",
    operator_id=2,
    tendered=700_000,
    gross_per_month=210_600,
    support_per_month=0,
    total_gross=631_800,
    total_support=0,
    support_months=0,
)


def test_format_2_signs_its_place_in_the_chain_and_a_full_mac() -> None:
    record = seal(KEY, 7, "payment", V2.canonical(), "a" * 64)
    assert record.body["v"] == 2
    assert (record.body["seq"], record.body["prev_hash"]) == (7, "a" * 64)
    assert record.mac is not None and len(record.mac) == 64
    assert check_record(KEY, record) is None
    # The same body one place later is another record: another code and MAC.
    later = seal(KEY, 8, "payment", V2.canonical(), "a" * 64)
    assert later.code != record.code and later.mac != record.mac


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"seq": 8}, "vị trí trong chuỗi"),
        ({"prev_hash": "b" * 64}, "vị trí trong chuỗi"),
        ({"mac": None}, "mac"),
        ({"mac": "0" * 64}, "mã băm"),
    ],
)
def test_format_2_record_changed_is_refused(change: dict[str, object], why: str) -> None:
    record = seal(KEY, 7, "payment", V2.canonical(), "a" * 64)
    edited = SealedRecord(**{**vars(record), **change})  # type: ignore[arg-type]
    assert why in (check_record(KEY, edited) or "")


def test_a_relinked_format_2_chain_needs_the_key() -> None:
    """Without the key, an attacker can recompute the link hash but not the code or MAC."""
    from app.domain.chain import link_hash

    record = seal(KEY, 7, "payment", V2.canonical(), "a" * 64)
    body = {**record.body, "seq": 6, "prev_hash": "c" * 64}
    relinked = SealedRecord(
        6, "payment", body, record.code, "c" * 64,
        link_hash("c" * 64, {**body, "code": record.code, "mac": record.mac}), record.mac,
    )  # fmt: skip
    assert check_record(None, relinked) is None  # the unkeyed check cannot tell
    assert "mã xác nhận" in (check_record(KEY, relinked) or "")


def test_format_1_records_keep_their_rules() -> None:
    record = seal(KEY, 1, "payment", V1.canonical(), GENESIS)
    assert record.body["v"] == 1 and "seq" not in record.body and record.mac is None
    assert check_record(KEY, record) is None
    assert check_record(OTHER_KEY, record) is not None
    assert "mac" not in to_wire(record)
    assert from_wire(dict(to_wire(record))) == record


def test_wire_carries_the_mac_of_format_2() -> None:
    record = seal(KEY, 1, "payment", V2.canonical(), GENESIS)
    wire = dict(to_wire(record))
    assert wire["mac"] == record.mac
    assert from_wire(wire) == record
    del wire["mac"]
    with pytest.raises(MalformedRecord, match="mac"):
        from_wire(wire)


def test_every_column_of_payments_and_voids_is_signed() -> None:
    """Tables are views of the ledger: a new column must be added to the format-2 body."""
    from_entry = {"ledger_seq", "confirmation_code", "signature"}
    payment_fields = {f.name for f in fields(PaymentBodyV2)}
    assert set(PAYMENT_COLUMNS) - from_entry <= payment_fields
    void_fields = {f.name for f in fields(VoidBodyV2)}
    assert set(VOID_COLUMNS) - from_entry <= void_fields


def test_keyed_link_and_anchor() -> None:
    entry = {"seq": 1, "action": "login"}
    assert keyed_link(KEY, GENESIS, entry) != keyed_link(OTHER_KEY, GENESIS, entry)
    heads = Heads(12, "a" * 64, 30, "b" * 64)
    text = seal_anchor(KEY, "c-1", heads)
    assert text.isascii()
    assert open_anchor(KEY, "c-1", text) == heads
    assert open_anchor(KEY, "c-2", text) is None  # another counter's anchor is no use here
    assert open_anchor(OTHER_KEY, "c-1", text) is None
    assert open_anchor(KEY, "c-1", text.replace("|12|", "|11|")) is None
    assert open_anchor(KEY, "c-1", "rác") is None


def test_numbers_text_names_ranges() -> None:
    assert numbers_text([2]) == "2"
    assert numbers_text([1, 2, 3, 5, 7, 8]) == "1–3, 5, 7–8"
