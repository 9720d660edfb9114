"""Diacritic folding for name search: NFC/NFD-insensitive, đ/Đ handled, case kept."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.text import fold, fold_key

# Every Vietnamese letter with its plain base, written out (not derived from Unicode data).
_VIETNAMESE_LOWER = {
    "a": "aàáảãạ",
    "ă": "ăằắẳẵặ",
    "â": "âầấẩẫậ",
    "e": "eèéẻẽẹ",
    "ê": "êềếểễệ",
    "i": "iìíỉĩị",
    "o": "oòóỏõọ",
    "ô": "ôồốổỗộ",
    "ơ": "ơờớởỡợ",
    "u": "uùúủũụ",
    "ư": "ưừứửữự",
    "y": "yỳýỷỹỵ",
    "đ": "đ",
}
_BASE = {"ă": "a", "â": "a", "ê": "e", "ô": "o", "ơ": "o", "ư": "u", "đ": "d"}
_CONSONANTS = "bcdghklmnpqrstvx"

VIETNAMESE_LETTERS = (
    "".join(_VIETNAMESE_LOWER.values())
    + "".join(_VIETNAMESE_LOWER.values()).upper()
    + _CONSONANTS
    + _CONSONANTS.upper()
)


def test_alphabet_is_complete() -> None:
    # 12 vowels x 6 tones + đ, both cases: guards the table above against typos
    lower = "".join(_VIETNAMESE_LOWER.values())
    assert len(set(lower)) == 12 * 6 + 1
    assert all(unicodedata.is_normalized("NFC", ch) and len(ch) == 1 for ch in lower)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn Thị Hằng", "Nguyen Thi Hang"),
        ("Đặng Văn Đức", "Dang Van Duc"),
        ("ĐỖ THỊ NGỌC ÁNH", "DO THI NGOC ANH"),
        ("Trương Quốc Hưng", "Truong Quoc Hung"),
        ("Lê Thị Thuỷ", "Le Thi Thuy"),
        ("Lê Thị Thủy", "Le Thi Thuy"),
        ("Phạm Ngọc Ẩn", "Pham Ngoc An"),
        ("Ưng Hoàng Phúc", "Ung Hoang Phuc"),
        ("Ơn", "On"),
        ("đường Điện Biên Phủ", "duong Dien Bien Phu"),
        ("Ðinh Văn Tâm", "Dinh Van Tam"),  # Icelandic eth, seen in converted legacy text
        ("Nguyen Van A", "Nguyen Van A"),
        ("", ""),
        ("  2 khoảng  trắng ", "  2 khoang  trang "),  # fold keeps spacing; fold_key does not
        ("Số 12/3, ngõ 45", "So 12/3, ngo 45"),
    ],
)
def test_fold_examples(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    "text", ["Nguyễn Thị Hằng", "Đặng Văn Đức", "Trương Quốc Hưng", "ỰỪỨ ẶẰẮ ỘỒỐ"]
)
def test_fold_is_normalisation_insensitive(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text  # the test really feeds decomposed input
    assert fold(nfd) == fold(text) == fold(unicodedata.normalize("NFC", nfd))


def test_every_vietnamese_letter_folds_to_its_base() -> None:
    for base, letters in _VIETNAMESE_LOWER.items():
        plain = _BASE.get(base, base)
        for letter in letters:
            assert fold(letter) == plain, letter
            assert fold(letter.upper()) == plain.upper(), letter.upper()
            assert fold(unicodedata.normalize("NFD", letter)) == plain, letter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn Thị Hằng", "nguyen thi hang"),
        ("  NGUYỄN   thị\tHằng\n", "nguyen thi hang"),
        ("Đặng Văn Đức", "dang van duc"),
        ("nguyen thi hang", "nguyen thi hang"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_fold_key_examples(text: str, expected: str) -> None:
    assert fold_key(text) == expected


def test_fold_key_matches_typed_names() -> None:
    assert fold_key("nguyen thi hang") == fold_key("Nguyễn Thị Hằng")
    assert fold_key("dang van duc") == fold_key("ĐẶNG VĂN ĐỨC")
    assert fold_key("d") == fold_key("đ") == fold_key("Đ")
    assert fold_key("nguyen thi hang") != fold_key("Nguyễn Thị Hương")


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(st.text())
def test_fold_ignores_normal_form(text: str) -> None:
    assert fold(unicodedata.normalize("NFC", text)) == fold(unicodedata.normalize("NFD", text))


vietnamese_text = st.text(alphabet=st.sampled_from([*VIETNAMESE_LETTERS, " "]))


@given(vietnamese_text)
def test_fold_of_vietnamese_is_ascii_and_keeps_length_and_case(text: str) -> None:
    folded = fold(text)
    assert folded.isascii()
    assert len(folded) == len(text)  # one plain letter per letter
    assert fold(text.upper()) == folded.upper()
    assert fold(text.lower()) == folded.lower()
    assert fold(unicodedata.normalize("NFD", text)) == folded


@given(vietnamese_text)
def test_fold_key_is_idempotent_and_trimmed(text: str) -> None:
    key = fold_key(text)
    assert fold_key(key) == key
    assert key == key.strip()
    assert "  " not in key
    assert key == key.lower()
