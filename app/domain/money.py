"""Money in whole đồng: display, reading aloud in words, parsing what a cashier types, rounding.

Amounts are `int` đồng everywhere; no float ever touches money.

Guarantees:
- `format_vnd` / `format_number` group thousands with "." (Vietnamese style): `1.263.600 đ`.
- `parse_vnd` accepts exactly what a cashier plausibly types for a whole, non-negative amount
  and inverts `format_vnd` / `format_number` for every non-negative amount; anything else raises
  `ValidationError` naming the field and the rule.
- `amount_in_words` gives the formal accounting reading used on receipts, for any non-negative
  amount; distinct amounts give distinct readings.
- `round_half_up_dong` is the one statement of the rounding rule for contributions.
"""

from __future__ import annotations

import re
import unicodedata

from app.errors import ValidationError

CURRENCY_SUFFIX = "đ"

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_BILLION = 1_000_000_000


def format_number(amount: int) -> str:
    """`1263600` → `"1.263.600"`; negatives keep a leading minus: `-1000` → `"-1.000"`."""
    grouped = f"{abs(amount):,}".replace(",", ".")
    return f"-{grouped}" if amount < 0 else grouped


def format_vnd(amount: int) -> str:
    """`1263600` → `"1.263.600 đ"`, `0` → `"0 đ"`, `-1000` → `"-1.000 đ"`."""
    return f"{format_number(amount)} {CURRENCY_SUFFIX}"


def round_half_up_dong(numerator: int, denominator: int) -> int:
    """Round `numerator / denominator` to the nearest đồng, halves going up. Integers only.

    THE ROUNDING RULE for contributions (DOMAIN.md "Rounding"): an amount per month that comes
    out as a fraction of a đồng (a rate applied to a base) is rounded half up to the whole đồng,
    per month, and only that rounded monthly amount is multiplied by the number of months. So
    write `round_half_up_dong(base * rate_numerator, rate_denominator) * months`, never
    `round_half_up_dong(base * rate_numerator * months, rate_denominator)`.

    Example: 4,5 % of 2.340.000 = `round_half_up_dong(2_340_000 * 45, 1000)` = 105.300.

    Contribution amounts are never negative, so a negative numerator is a bug and raises
    `ValueError` rather than picking one of the two meanings of "half up" below zero.
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    if numerator < 0:
        raise ValueError(f"numerator must not be negative, got {numerator}")
    quotient, remainder = divmod(numerator, denominator)
    # remainder / denominator >= 1/2, compared without division
    return quotient + 1 if 2 * remainder >= denominator else quotient


# --- amount in words -------------------------------------------------------------------------


def _read_group(value: int, *, full: bool) -> list[str]:
    """Words for one three-digit group 1..999.

    `full` is true for every group except the leftmost non-zero one of the whole number: such
    an inner group is read with all three places ("không trăm", "linh"), so 1.015.000 reads
    "một triệu không trăm mười lăm nghìn" and cannot be mistaken for 1.150.000.
    """
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    says_hundreds = full or hundreds > 0
    if says_hundreds:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if says_hundreds:
                # "linh" keeps the unit in the units place; a 5 after it stays "năm"
                words.append("linh")
            words.append(_DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units == 5:
            words.append("lăm")
        elif units:
            # after "mười" a 1 stays "một" and a 4 stays "bốn"
            words.append(_DIGITS[units])
    else:
        words += [_DIGITS[tens], "mươi"]
        if units == 1:
            words.append("mốt")
        elif units == 4:
            words.append("tư")
        elif units == 5:
            words.append("lăm")
        elif units:
            words.append(_DIGITS[units])
    return words


def _read_below_billion(value: int, *, leading: bool) -> list[str]:
    """Words for 1..999.999.999; `leading` when it starts the whole number."""
    words: list[str] = []
    first = leading
    for scale_value, scale_word in ((1_000_000, "triệu"), (1_000, "nghìn"), (1, "")):
        group = (value // scale_value) % 1000
        if group == 0:
            # an all-zero group is not read at all, scale word included
            continue
        words += _read_group(group, full=not first)
        if scale_word:
            words.append(scale_word)
        first = False
    return words


def _read(value: int, *, leading: bool) -> list[str]:
    """Words for value >= 1. Beyond 999 tỷ the tỷ repeats: 10^12 is "một nghìn tỷ"."""
    if value < _BILLION:
        return _read_below_billion(value, leading=leading)
    billions, rest = divmod(value, _BILLION)
    # the billions count is itself read as a number (possibly with its own "tỷ")
    words = [*_read(billions, leading=leading), "tỷ"]
    if rest:
        words += _read_below_billion(rest, leading=False)
    return words


def amount_in_words(amount: int) -> str:
    """Formal accounting reading of a whole đồng amount, capitalised, ending in " đồng".

    1.263.600 → "Một triệu hai trăm sáu mươi ba nghìn sáu trăm đồng";
    1.015.000 → "Một triệu không trăm mười lăm nghìn đồng"; 0 → "Không đồng".
    Raises `ValueError` for a negative amount (a receipt never shows one).
    """
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    words = _read(amount, leading=True) if amount else [_DIGITS[0]]
    sentence = " ".join([*words, "đồng"])
    return sentence[0].upper() + sentence[1:]


# --- parsing what a cashier types ------------------------------------------------------------

# Either plain digits, or groups of three after a 1-3 digit head, all separated by the same
# character (dot or space). A comma is never accepted: in Vietnamese it is the decimal mark.
_AMOUNT = re.compile(r"[0-9]+|[0-9]{1,3}(?:([. ])[0-9]{3})(?:\1[0-9]{3})*", re.ASCII)
# Unit words a cashier may type or paste after the figure, compared case-insensitively.
_UNITS = ("đồng", "vnđ", "vnd", "đ")
_EXAMPLE = "ví dụ 1.500.000"


def parse_vnd(text: str, field: str, label: str) -> int:
    """Parse an amount of whole đồng typed by a person.

    Accepts "1.500.000", "1500000", "1 500 000", "1.500.000 đ" (also "đ" without the space,
    "đồng", "VND"/"VNĐ"). Raises `ValidationError(field, label, ...)` for an empty value, a
    negative amount, a decimal part or anything else.
    """
    # str.split() also breaks on the no-break and thin spaces that formatters and spreadsheets
    # put between digit groups, so every run of white space becomes one plain space.
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    lowered = cleaned.lower()
    for unit in _UNITS:
        if lowered.endswith(unit):
            cleaned = cleaned[: -len(unit)].rstrip()
            break
    if not cleaned:
        raise ValidationError(field, label, "không được để trống", rule_en="must not be empty")
    if cleaned.startswith(("-", "\u2212")):
        raise ValidationError(field, label, "không được là số âm", rule_en="must not be negative")
    if _AMOUNT.fullmatch(cleaned):
        return int(cleaned.replace(".", "").replace(" ", ""))
    if re.fullmatch(r"[0-9., ]+", cleaned, re.ASCII):
        # digits and separators, but not whole-đồng grouping: "1,5", "1.50", "1500.5"
        raise ValidationError(
            field,
            label,
            f"phải là số đồng nguyên, không có phần lẻ; dấu chấm chỉ để ngăn cách hàng nghìn "
            f"({_EXAMPLE})",
            rule_en="must be whole đồng with '.' only as thousands separator (e.g. 1.500.000)",
        )
    raise ValidationError(
        field,
        label,
        f"chỉ được gồm chữ số, có thể ngăn cách hàng nghìn bằng dấu chấm ({_EXAMPLE})",
        rule_en="must contain only digits, optionally grouped with '.' (e.g. 1.500.000)",
    )
