"""Receipt numbers have one printed form, used by the receipt, the window and the CLI."""

from __future__ import annotations

from app.domain.documents import format_receipt_number


def test_zero_padded_to_seven_digits() -> None:
    assert format_receipt_number(1) == "0000001"
    assert format_receipt_number(42) == "0000042"
    assert format_receipt_number(9_999_999) == "9999999"


def test_longer_numbers_are_shown_whole() -> None:
    assert format_receipt_number(12_345_678) == "12345678"
