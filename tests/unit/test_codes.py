"""Crockford base32 helpers of `app.domain.codes` (the one copy of the alphabet)."""

from __future__ import annotations

import pytest

from app.domain.codes import (
    CROCKFORD_SYMBOLS,
    compute_code,
    encode_crockford,
    format_code,
    group_symbols,
    normalise_code,
)


def test_alphabet_leaves_out_the_confusable_letters() -> None:
    assert len(CROCKFORD_SYMBOLS) == len(set(CROCKFORD_SYMBOLS)) == 32
    assert not set("ILOU") & set(CROCKFORD_SYMBOLS)


def test_encode_is_most_significant_first_and_fixed_length() -> None:
    assert encode_crockford(0, 4) == "0000"
    assert encode_crockford(31, 2) == "0Z"
    assert encode_crockford(32, 2) == "10"
    assert encode_crockford((1 << 80) - 1, 16) == "Z" * 16
    # Only the low 5 × length bits are written.
    assert encode_crockford(32, 1) == "0"


def test_group_symbols() -> None:
    assert group_symbols("7KQ29XMD4TR6") == "7KQ2-9XMD-4TR6"
    assert group_symbols("ABCDEFGHJKMNPQRS") == "ABCD-EFGH-JKMN-PQRS"
    assert group_symbols("ABCDE", 2) == "AB-CD-E"


def test_computed_code_round_trips_through_reading_aloud() -> None:
    code = compute_code(b"k" * 32, {"amount": 3_168_000, "number": 123})
    assert len(code) == 12 and set(code) <= set(CROCKFORD_SYMBOLS + "*~$=U")
    spoken = format_code(code)
    assert spoken == group_symbols(code)
    # Read back in lower case with the O/I/L aliases a payer might say.
    assert normalise_code(spoken.lower().replace("0", "o").replace("1", "l")) == code
    with pytest.raises(ValueError, match="check symbol"):
        wrong = CROCKFORD_SYMBOLS[(CROCKFORD_SYMBOLS.index(code[0]) + 1) % 32] + code[1:]
        normalise_code(wrong)
