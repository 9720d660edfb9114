"""Cash in the drawer counted by Vietnamese denomination (docs/SHIFTS.md).

A count is a mapping denomination → number of pieces. Notes of 500.000 … 1.000 đ are always
counted; 500, 200 and 100 đ (the last small notes and coins — BHYT amounts end in hundreds of
đồng) are optional rows. Coins of 5.000, 2.000 and 1.000 đ count under the note of the same
value.

A count travels in a signed shift record as one text field, `counts`: pieces by denomination,
largest first, zero rows left out — `"500000:2,100000:3,1000:5"`; `""` when the amount was
entered as a total. `parse_counts` accepts exactly what `format_counts` writes, so the counter
and central read it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.errors import ValidationError

NOTES: tuple[int, ...] = (500_000, 200_000, 100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000)
SMALL: tuple[int, ...] = (500, 200, 100)  # optional rows
DENOMINATIONS: tuple[int, ...] = NOTES + SMALL
SMALLEST = min(DENOMINATIONS)  # a difference below it cannot be counted out in cash
MAX_PIECES = 100_000  # per denomination: far above any drawer
MAX_CASH = 100_000_000_000  # 100 tỷ đồng: far above any drawer


def count_total(counts: Mapping[int, int]) -> int:
    return sum(d * n for d, n in counts.items())


def check_counts(
    counts: Mapping[int, int], *, field: str = "counts", label: str = "Số tờ"
) -> dict[int, int]:
    """The count with zero rows removed; ValidationError naming the denomination otherwise."""
    out: dict[int, int] = {}
    for denomination, pieces in counts.items():
        if denomination not in DENOMINATIONS:
            raise ValidationError(
                field,
                label,
                f"mệnh giá {denomination} đ không phải mệnh giá tiền Việt Nam được đếm",
                rule_en=f"unknown denomination {denomination}",
            )
        if type(pieces) is not int or not 0 <= pieces <= MAX_PIECES:
            raise ValidationError(
                field,
                f"{label} {denomination:,} đ".replace(",", "."),
                f"phải là số nguyên từ 0 đến {MAX_PIECES}",
                rule_en=f"pieces must be 0..{MAX_PIECES}",
            )
        if pieces:
            out[denomination] = pieces
    return dict(sorted(out.items(), reverse=True))


def format_counts(counts: Mapping[int, int]) -> str:
    """`{100000: 3, 500000: 2}` → `"500000:2,100000:3"` (zero rows left out)."""
    return ",".join(f"{d}:{n}" for d, n in sorted(counts.items(), reverse=True) if n)


def parse_counts(text: str) -> dict[int, int]:
    """The inverse of `format_counts`; ValueError on anything it would not write."""
    if text == "":
        return {}
    out: dict[int, int] = {}
    for part in text.split(","):
        d_text, sep, n_text = part.partition(":")
        if not sep or not d_text.isascii() or not n_text.isascii():
            raise ValueError(text)
        if not (d_text.isdigit() and n_text.isdigit()) or n_text.startswith("0"):
            raise ValueError(text)
        d, n = int(d_text), int(n_text)
        if d not in DENOMINATIONS or not 1 <= n <= MAX_PIECES or d in out:
            raise ValueError(text)
        out[d] = n
    if format_counts(out) != text:  # order and form exactly as written
        raise ValueError(text)
    return out
