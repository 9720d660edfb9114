"""Cash counts by Vietnamese denomination and the shift tally (app.domain.cash, .shifts)."""

from __future__ import annotations

import pytest

from app.domain.cash import DENOMINATIONS, check_counts, count_total, format_counts, parse_counts
from app.domain.shifts import records_hash, tally
from app.errors import ValidationError


def test_counts_round_trip_largest_first_without_zero_rows() -> None:
    counts = check_counts({1_000: 5, 500_000: 2, 200_000: 0, 500: 3})
    assert list(counts) == [500_000, 1_000, 500]
    text = format_counts(counts)
    assert text == "500000:2,1000:5,500:3"
    assert parse_counts(text) == counts
    assert count_total(counts) == 1_006_500
    assert parse_counts("") == {}


@pytest.mark.parametrize(
    "text",
    [
        "1000:5,500000:2",
        "300:1",
        "1000:0",
        "1000:05",
        "1000",
        "1000:1,1000:1",
        " 1000:1",
        "1000:-1",
    ],
)
def test_parse_refuses_what_format_would_not_write(text: str) -> None:
    with pytest.raises(ValueError):
        parse_counts(text)


def test_check_names_the_denomination() -> None:
    with pytest.raises(ValidationError, match="mệnh giá 300 đ"):
        check_counts({300: 1})
    with pytest.raises(ValidationError, match=r"50\.000 đ"):
        check_counts({50_000: -1})
    assert DENOMINATIONS[0] == 500_000 and 1_000 in DENOMINATIONS


def test_tally_expected_cash() -> None:
    pay = {"amount": 300_000, "scheme": "bhyt_hgd", "receipt_number": 7, "id": "p1"}
    records = [
        (1, "shift", {"event": "open", "amount": 1_000_000}),
        (2, "payment", pay),
        (3, "payment", {**pay, "amount": 100_000, "receipt_number": 8, "scheme": "bhxh_tn"}),
        (4, "void", {"payment_id": "p0"}),  # a payment of an earlier shift, refunded now
        (5, "shift", {"event": "drop", "amount": 200_000, "reason": "r", "supervisor": "g"}),
        (6, "shift", {"event": "pickup", "amount": 50_000, "reason": "r", "supervisor": "g"}),
    ]
    t = tally(records, {"p0": 120_000})
    assert t.expected == 1_000_000 + 400_000 - 120_000 - 200_000 + 50_000
    assert t.by_scheme == {"bhyt_hgd": (1, 300_000), "bhxh_tn": (1, 100_000)}
    assert (t.first_receipt, t.last_receipt, t.voids) == (7, 8, 1)
    assert records_hash(["a" * 64]) != records_hash(["b" * 64])
