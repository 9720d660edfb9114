"""Confirmation codes, format 2: only the 32 Crockford symbols, a check that catches every single
misread symbol and every adjacent swap; format-1 codes already issued keep verifying."""

from __future__ import annotations

import random

from app.domain.codes import (
    CODE_FORMAT,
    CROCKFORD_SYMBOLS,
    code_version,
    compute_code,
    format_code,
    normalise_code,
    verify_code,
)

KEY = bytes(range(32))


def records(n: int) -> list[dict[str, object]]:
    rng = random.Random(12)
    return [{"n": i, "amount": rng.randrange(10**9), "who": f"p{rng.random()}"} for i in range(n)]


def test_new_codes_use_only_crockford_symbols() -> None:
    assert CODE_FORMAT == 2
    codes = [compute_code(KEY, r) for r in records(3000)]  # type: ignore[arg-type]
    assert all(set(code) <= set(CROCKFORD_SYMBOLS) for code in codes)
    assert all(code_version(code) == 2 for code in codes)
    # Some format-1 codes of the same records end in a symbol no one can read aloud.
    old = [compute_code(KEY, r, version=1) for r in records(3000)]  # type: ignore[arg-type]
    assert any(code[-1] in "*~$=U" for code in old)


def test_every_single_error_and_every_adjacent_swap_is_caught() -> None:
    for record in records(300):
        code = compute_code(KEY, record)  # type: ignore[arg-type]
        for i, original in enumerate(code):
            for symbol in CROCKFORD_SYMBOLS:
                if symbol != original:
                    wrong = code[:i] + symbol + code[i + 1 :]
                    assert code_version(wrong) != 2, (code, wrong)
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert code_version(swapped) != 2, (code, swapped)


def test_codes_of_both_formats_verify_and_normalise() -> None:
    for record in records(200):
        new = compute_code(KEY, record)  # type: ignore[arg-type]
        old = compute_code(KEY, record, version=1)  # type: ignore[arg-type]
        assert verify_code(KEY, record, format_code(new))  # type: ignore[arg-type]
        assert verify_code(KEY, record, old.lower())  # type: ignore[arg-type]
        assert normalise_code(format_code(old)) == old
        other = dict(record, n=-1)
        assert not verify_code(KEY, other, new)  # type: ignore[arg-type]
        assert not verify_code(KEY, other, old)  # type: ignore[arg-type]
