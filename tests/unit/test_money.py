"""Money: display, amount in words (formal accounting reading), parsing and the rounding rule.

Expected readings are written by hand from the rule in DOMAIN.md ("Money"), not taken from
num2words, which reads inner groups differently ("một nghìn lẻ mười lăm").
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import (
    amount_in_words,
    format_number,
    format_vnd,
    parse_vnd,
    round_half_up_dong,
)
from app.errors import ValidationError

UP_TO_10_15 = st.integers(min_value=0, max_value=10**15)

# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "0 đ"),
        (5, "5 đ"),
        (999, "999 đ"),
        (1_000, "1.000 đ"),
        (105_300, "105.300 đ"),
        (1_263_600, "1.263.600 đ"),
        (1_000_000_000, "1.000.000.000 đ"),
        (-1_000, "-1.000 đ"),
        (-999, "-999 đ"),
    ],
)
def test_format_vnd(amount: int, expected: str) -> None:
    assert format_vnd(amount) == expected


def test_format_number_has_no_unit() -> None:
    assert format_number(1_263_600) == "1.263.600"
    assert format_number(0) == "0"
    assert format_number(-3_168_000) == "-3.168.000"


# --- amount in words: worked examples ----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "Không đồng"),
        (1, "Một đồng"),
        (4, "Bốn đồng"),
        (5, "Năm đồng"),
        (7, "Bảy đồng"),
        (9, "Chín đồng"),
        (10, "Mười đồng"),
        (11, "Mười một đồng"),
        (14, "Mười bốn đồng"),
        (15, "Mười lăm đồng"),
        (19, "Mười chín đồng"),
        (20, "Hai mươi đồng"),
        (21, "Hai mươi mốt đồng"),
        (24, "Hai mươi tư đồng"),
        (25, "Hai mươi lăm đồng"),
        (45, "Bốn mươi lăm đồng"),
        (54, "Năm mươi tư đồng"),
        (55, "Năm mươi lăm đồng"),
        (99, "Chín mươi chín đồng"),
        (100, "Một trăm đồng"),
        (101, "Một trăm linh một đồng"),
        (104, "Một trăm linh bốn đồng"),
        (105, "Một trăm linh năm đồng"),
        (110, "Một trăm mười đồng"),
        (111, "Một trăm mười một đồng"),
        (115, "Một trăm mười lăm đồng"),
        (121, "Một trăm hai mươi mốt đồng"),
        (505, "Năm trăm linh năm đồng"),
        (1_000, "Một nghìn đồng"),
        (1_001, "Một nghìn không trăm linh một đồng"),
        (1_005, "Một nghìn không trăm linh năm đồng"),
        (1_010, "Một nghìn không trăm mười đồng"),
        (1_015, "Một nghìn không trăm mười lăm đồng"),
        (1_021, "Một nghìn không trăm hai mươi mốt đồng"),
        (1_100, "Một nghìn một trăm đồng"),
        (10_000, "Mười nghìn đồng"),
        (15_000, "Mười lăm nghìn đồng"),
        (21_000, "Hai mươi mốt nghìn đồng"),
        (50_000, "Năm mươi nghìn đồng"),
        (42_120, "Bốn mươi hai nghìn một trăm hai mươi đồng"),
        (52_650, "Năm mươi hai nghìn sáu trăm năm mươi đồng"),
        (63_180, "Sáu mươi ba nghìn một trăm tám mươi đồng"),
        (73_710, "Bảy mươi ba nghìn bảy trăm mười đồng"),
        (105_300, "Một trăm linh năm nghìn ba trăm đồng"),
        (330_000, "Ba trăm ba mươi nghìn đồng"),
        (1_000_000, "Một triệu đồng"),
        (1_000_005, "Một triệu không trăm linh năm đồng"),
        (1_015_000, "Một triệu không trăm mười lăm nghìn đồng"),
        (1_263_600, "Một triệu hai trăm sáu mươi ba nghìn sáu trăm đồng"),
        (1_500_000, "Một triệu năm trăm nghìn đồng"),
        (2_340_000, "Hai triệu ba trăm bốn mươi nghìn đồng"),
        (3_168_000, "Ba triệu một trăm sáu mươi tám nghìn đồng"),
        (3_960_000, "Ba triệu chín trăm sáu mươi nghìn đồng"),
        (46_800_000, "Bốn mươi sáu triệu tám trăm nghìn đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (1_000_000_001, "Một tỷ không trăm linh một đồng"),
        (1_000_001_000, "Một tỷ không trăm linh một nghìn đồng"),
        (1_001_000_000, "Một tỷ không trăm linh một triệu đồng"),
        (2_500_000_000, "Hai tỷ năm trăm triệu đồng"),
        (10**12, "Một nghìn tỷ đồng"),
        (10**12 + 10**9, "Một nghìn không trăm linh một tỷ đồng"),
        (10**12 + 5 * 10**6, "Một nghìn tỷ không trăm linh năm triệu đồng"),
        (25 * 10**12, "Hai mươi lăm nghìn tỷ đồng"),
        (10**15, "Một triệu tỷ đồng"),
        (
            999_999_999_999_999,
            "Chín trăm chín mươi chín nghìn chín trăm chín mươi chín tỷ "
            "chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn "
            "chín trăm chín mươi chín đồng",
        ),
    ],
)
def test_amount_in_words_examples(amount: int, expected: str) -> None:
    assert amount_in_words(amount) == expected


def test_amount_in_words_beyond_10_15_repeats_ty() -> None:
    assert amount_in_words(10**18) == "Một tỷ tỷ đồng"
    assert amount_in_words(2 * 10**18 + 3) == "Hai tỷ tỷ không trăm linh ba đồng"


@pytest.mark.parametrize("amount", [-1, -1_000, -(10**15)])
def test_amount_in_words_rejects_negative(amount: int) -> None:
    with pytest.raises(ValueError):
        amount_in_words(amount)


# --- amount in words: properties ---------------------------------------------------------------

_DIGIT_VALUE = {
    "không": 0,
    "một": 1,
    "mốt": 1,
    "hai": 2,
    "ba": 3,
    "bốn": 4,
    "tư": 4,
    "năm": 5,
    "lăm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
}


def _words_to_amount(words: str) -> int:
    """Independent reader of the output, used to show the reading is exact and injective."""
    assert words.endswith(" đồng")
    tokens = words[: -len(" đồng")].lower().split()
    total = 0  # everything closed by a scale word so far
    group = 0  # the three-digit group being read
    pending = 0  # a digit waiting to learn whether it is hundreds, tens or units
    for token in tokens:
        if token in _DIGIT_VALUE:
            pending = _DIGIT_VALUE[token]
        elif token == "trăm":
            group, pending = group + pending * 100, 0
        elif token == "mươi":
            group, pending = group + pending * 10, 0
        elif token == "mười":
            group += 10
        elif token == "linh":
            pass
        elif token == "nghìn":
            total, group, pending = total + (group + pending) * 1000, 0, 0
        elif token == "triệu":
            total, group, pending = total + (group + pending) * 10**6, 0, 0
        elif token == "tỷ":
            # everything read so far counts billions (so "nghìn tỷ" and "tỷ tỷ" work)
            total, group, pending = (total + group + pending) * 10**9, 0, 0
        else:
            raise AssertionError(f"unexpected word {token!r} in {words!r}")
    return total + group + pending


@given(UP_TO_10_15)
def test_amount_in_words_reads_back_to_the_amount(amount: int) -> None:
    assert _words_to_amount(amount_in_words(amount)) == amount


@given(UP_TO_10_15)
def test_amount_in_words_shape(amount: int) -> None:
    words = amount_in_words(amount)
    assert "  " not in words
    assert words == words.strip()
    assert words.endswith("đồng")
    assert words.count("đồng") == 1
    assert words[0].isupper()
    assert words[1:] == words[1:].lower()
    assert amount_in_words(amount) == words  # deterministic


@given(UP_TO_10_15, UP_TO_10_15)
def test_amount_in_words_is_injective(first: int, second: int) -> None:
    if first != second:
        assert amount_in_words(first) != amount_in_words(second)


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=999))
def test_inner_group_is_read_with_all_places(head: int, inner: int) -> None:
    # any non-leading group is read in full, so it always contains "trăm"
    words = amount_in_words(head * 1000 + inner)
    inner_words = words.split(" nghìn ", 1)[1]
    assert inner_words.split()[1] == "trăm"


def test_inner_group_below_ten_says_khong_tram_linh() -> None:
    for unit in range(1, 10):
        assert " nghìn không trăm linh " in amount_in_words(7_000 + unit)


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.500.000", 1_500_000),
        ("1500000", 1_500_000),
        ("1 500 000", 1_500_000),
        ("1.500.000 đ", 1_500_000),
        ("1.500.000đ", 1_500_000),
        ("1.500.000 Đ", 1_500_000),
        ("1.500.000 đồng", 1_500_000),
        ("1.500.000 VND", 1_500_000),
        ("1.500.000 VNĐ", 1_500_000),
        ("  1.500.000  ", 1_500_000),
        ("1\u00a0500\u00a0000", 1_500_000),
        ("1\u202f500\u202f000 đ", 1_500_000),
        ("0", 0),
        ("0 đ", 0),
        ("999", 999),
        ("1.000", 1_000),
        ("12.000", 12_000),
        ("123.000", 123_000),
        ("1.000.000.000", 1_000_000_000),
        ("1.500.000 \u0111\u00f4\u0300ng", 1_500_000),  # "đồng" typed decomposed (NFD)
    ],
)
def test_parse_vnd_accepts(text: str, expected: int) -> None:
    assert parse_vnd(text, "amount", "Số tiền") == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "đ",
        "-1.000",
        "-1000 đ",
        "\u22121000",
        "1,5",
        "1.500,50",
        "1,500,000",
        "1.5",
        "1.50",
        "1500.5",
        "1500.000",
        "1.5000",
        "1.500 000",  # mixed separators
        "1..500",
        ".500",
        "500.",
        "1 5",
        "abc",
        "1.500.000 USD",
        "1e6",
        "١٢٣",  # Arabic-Indic digits are digits to Python but not to a cashier
        "１２３",  # full-width digits
        "+1000",
    ],
)
def test_parse_vnd_rejects(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_vnd(text, "amount", "Số tiền")
    assert caught.value.field == "amount"
    assert caught.value.label == "Số tiền"
    assert caught.value.message.startswith("Số tiền: ")
    assert caught.value.rule
    assert caught.value.message_en


def test_parse_vnd_rules_name_the_problem() -> None:
    def rule(text: str) -> str:
        with pytest.raises(ValidationError) as caught:
            parse_vnd(text, "income", "Mức thu nhập")
        return caught.value.rule

    assert rule("") == "không được để trống"
    assert rule("-5") == "không được là số âm"
    assert "phần lẻ" in rule("1,5")
    assert "chữ số" in rule("abc")


@given(st.integers(min_value=0, max_value=10**18))
def test_format_vnd_round_trips_through_parse_vnd(amount: int) -> None:
    assert parse_vnd(format_vnd(amount), "amount", "Số tiền") == amount
    assert parse_vnd(format_number(amount), "amount", "Số tiền") == amount
    assert parse_vnd(str(amount), "amount", "Số tiền") == amount


# --- rounding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 1, 0),
        (10, 4, 3),  # 2.5 → 3: a half goes up
        (9, 4, 2),  # 2.25 → 2
        (11, 4, 3),  # 2.75 → 3
        (5, 10, 1),  # 0.5 → 1
        (4, 10, 0),
        (15, 10, 2),  # 1.5 → 2
        (25, 10, 3),  # 2.5 → 3 (banker's rounding would give 2)
        (2_340_000 * 45, 1000, 105_300),  # 4,5 % of lương cơ sở
        (105_300 * 70, 100, 73_710),
        (1_500_000 * 22, 100, 330_000),
        (1_234_567 * 45, 1000, 55_556),  # 55.555,515 → 55.556
        (1_234_561 * 45, 1000, 55_555),  # 55.555,245 → 55.555
        (7, 7, 1),
        (1, 3, 0),
        (2, 3, 1),
    ],
)
def test_round_half_up_dong(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up_dong(numerator, denominator) == expected


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=10**6))
def test_round_half_up_dong_is_nearest_with_halves_up(numerator: int, denominator: int) -> None:
    rounded = round_half_up_dong(numerator, denominator)
    # |rounded - n/d| <= 1/2, and exactly 1/2 only when rounded is the upper neighbour
    distance_twice = 2 * (rounded * denominator - numerator)
    assert -denominator < distance_twice <= denominator


@pytest.mark.parametrize(("numerator", "denominator"), [(1, 0), (1, -3), (-1, 3)])
def test_round_half_up_dong_rejects_bad_input(numerator: int, denominator: int) -> None:
    with pytest.raises(ValueError):
        round_half_up_dong(numerator, denominator)
