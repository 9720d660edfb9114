"""Identifiers: mã số BHXH, CCCD and its chip-card QR line, BHYT household card number."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.identifiers import (
    CccdFacts,
    CccdQr,
    cccd_facts,
    looks_like_cccd_qr,
    parse_cccd_qr,
    validate_bhyt_card,
    validate_cccd,
    validate_ma_so_bhxh,
)
from app.domain.types import Sex
from app.errors import ValidationError

# The sex/century digit table (DOMAIN.md, extended as in the brief), written out by hand.
SEX_CENTURY_DIGIT = {
    (1900, Sex.MALE): 0,
    (1900, Sex.FEMALE): 1,
    (2000, Sex.MALE): 2,
    (2000, Sex.FEMALE): 3,
    (2100, Sex.MALE): 4,
    (2100, Sex.FEMALE): 5,
    (2200, Sex.MALE): 6,
    (2200, Sex.FEMALE): 7,
    (1800, Sex.MALE): 8,
    (1800, Sex.FEMALE): 9,
}


def make_cccd(province: str, sex: Sex, born: date, serial: str = "123456") -> str:
    digit = SEX_CENTURY_DIGIT[(born.year // 100 * 100, sex)]
    return f"{province}{digit}{born.year % 100:02d}{serial}"


# --- mã số BHXH ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0123456789", "0123456789"),
        ("79 1234 5678", "7912345678"),
        (" 7912345678 \n", "7912345678"),
        ("0000000000", "0000000000"),
    ],
)
def test_ma_so_bhxh_accepts(text: str, expected: str) -> None:
    assert validate_ma_so_bhxh(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "123456789",
        "12345678901",
        "012345678a",
        "01234-56789",
        "０１２３４５６７８９",
        "GD47912345",
    ],
)
def test_ma_so_bhxh_rejects(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_ma_so_bhxh(text)
    assert caught.value.field == "ma_so_bhxh"
    assert caught.value.label == "Mã số BHXH"
    assert caught.value.rule == "phải gồm đúng 10 chữ số"
    assert caught.value.message == "Mã số BHXH: phải gồm đúng 10 chữ số"


# --- CCCD ------------------------------------------------------------------------------------


def test_cccd_examples() -> None:
    # woman born 1985 registered in Hà Nội (001): digit 1, year 85
    assert validate_cccd("001185012345", date_of_birth=date(1985, 3, 9), sex=Sex.FEMALE) == (
        "001185012345"
    )
    # man born 2003 in TP HCM (079): digit 2, year 03
    assert validate_cccd("079 203 001234", date_of_birth=date(2003, 1, 1), sex=Sex.MALE) == (
        "079203001234"
    )
    assert validate_cccd("079203001234") == "079203001234"


@pytest.mark.parametrize(
    ("cccd", "facts"),
    [
        ("001185012345", CccdFacts("001", Sex.FEMALE, 1985)),
        ("079090000001", CccdFacts("079", Sex.MALE, 1990)),
        ("038203000001", CccdFacts("038", Sex.MALE, 2003)),
        ("038310000001", CccdFacts("038", Sex.FEMALE, 2010)),
        ("001400000001", CccdFacts("001", Sex.MALE, 2100)),
        ("001599000001", CccdFacts("001", Sex.FEMALE, 2199)),
        ("001601000001", CccdFacts("001", Sex.MALE, 2201)),
        ("001777000001", CccdFacts("001", Sex.FEMALE, 2277)),
        ("001899000001", CccdFacts("001", Sex.MALE, 1899)),
        ("001999000001", CccdFacts("001", Sex.FEMALE, 1899)),
    ],
)
def test_cccd_facts(cccd: str, facts: CccdFacts) -> None:
    assert cccd_facts(cccd) == facts


@pytest.mark.parametrize(
    "text", ["", "00118501234", "0011850123456", "00118501234X", "001-185-012345", "٠٠١١٨٥٠١٢٣٤٥"]
)
def test_cccd_rejects_bad_format(text: str) -> None:
    for call in (lambda: validate_cccd(text), lambda: cccd_facts(text)):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == "cccd"
        assert caught.value.label == "Số CCCD"
        assert caught.value.rule == "phải gồm đúng 12 chữ số"


def _cccd_rule(cccd: str, *, born: date | None = None, sex: Sex | None = None) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_cccd(cccd, date_of_birth=born, sex=sex)
    assert caught.value.field == "cccd"
    assert caught.value.label == "Số CCCD"
    return caught.value.rule


def test_cccd_mismatch_rules_are_specific() -> None:
    # a male 1900s digit (0) for a woman born 1985
    assert _cccd_rule("001085012345", born=date(1985, 3, 9), sex=Sex.FEMALE) == (
        "chữ số thứ 4 (giới tính, thế kỷ) không khớp với giới tính Nữ và năm sinh 1985: phải là 1"
    )
    # only the sex known
    assert _cccd_rule("001085012345", sex=Sex.FEMALE) == (
        "chữ số thứ 4 (giới tính, thế kỷ) không khớp với giới tính Nữ"
    )
    assert _cccd_rule("001185012345", sex=Sex.MALE) == (
        "chữ số thứ 4 (giới tính, thế kỷ) không khớp với giới tính Nam"
    )
    # only the date known, wrong century
    assert _cccd_rule("001285012345", born=date(1985, 3, 9)) == (
        "chữ số thứ 4 (giới tính, thế kỷ) không khớp với năm sinh 1985"
    )
    # right century and sex, wrong year digits
    assert _cccd_rule("001186012345", born=date(1985, 3, 9), sex=Sex.FEMALE) == (
        "chữ số thứ 5–6 (năm sinh) không khớp với năm sinh 1985: phải là 85"
    )
    assert _cccd_rule("001186012345", born=date(1985, 3, 9)).startswith("chữ số thứ 5–6")
    assert "1750" in _cccd_rule("001850012345", born=date(1750, 1, 1))


def test_cccd_sex_alone_ignores_century() -> None:
    for digit in "02468":
        assert validate_cccd(f"001{digit}85012345", sex=Sex.MALE)
    for digit in "13579":
        assert validate_cccd(f"001{digit}85012345", sex=Sex.FEMALE)


provinces = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
birth_dates = st.dates(min_value=date(1800, 1, 1), max_value=date(2299, 12, 31))
serials = st.integers(min_value=0, max_value=999_999).map(lambda n: f"{n:06d}")


@given(provinces, st.sampled_from(Sex), birth_dates, serials)
def test_cccd_accepts_every_valid_combination(
    province: str, sex: Sex, born: date, serial: str
) -> None:
    cccd = make_cccd(province, sex, born, serial)
    assert validate_cccd(cccd, date_of_birth=born, sex=sex) == cccd
    assert validate_cccd(cccd, date_of_birth=born) == cccd
    assert validate_cccd(cccd, sex=sex) == cccd
    assert cccd_facts(cccd) == CccdFacts(province, sex, born.year)


@given(provinces, st.sampled_from(Sex), birth_dates, serials)
def test_cccd_rejects_flipped_sex_digit(province: str, sex: Sex, born: date, serial: str) -> None:
    cccd = make_cccd(province, sex, born, serial)
    flipped = f"{cccd[:3]}{int(cccd[3]) ^ 1}{cccd[4:]}"  # same century, other sex
    assert _cccd_rule(flipped, born=born, sex=sex).startswith("chữ số thứ 4")
    assert _cccd_rule(flipped, sex=sex).startswith("chữ số thứ 4")
    # without the sex the flipped number is still consistent with the date alone
    assert validate_cccd(flipped, date_of_birth=born) == flipped


@given(provinces, st.sampled_from(Sex), birth_dates, serials, st.integers(1, 4))
def test_cccd_rejects_wrong_century(
    province: str, sex: Sex, born: date, serial: str, shift: int
) -> None:
    cccd = make_cccd(province, sex, born, serial)
    other_century = f"{cccd[:3]}{(int(cccd[3]) + 2 * shift) % 10}{cccd[4:]}"
    with pytest.raises(ValidationError) as caught:
        validate_cccd(other_century, date_of_birth=born)
    assert caught.value.rule.startswith("chữ số thứ 4")


# --- CCCD QR ---------------------------------------------------------------------------------

SAMPLE_QR = (
    "001185012345|012345678|Nguyễn Thị Hằng|09031985|Nữ|"
    "Số 12, ngõ 34 Láng Hạ, Phường Láng Hạ, Quận Đống Đa, Hà Nội|15082021"
)
SAMPLE = CccdQr(
    cccd="001185012345",
    old_cmnd="012345678",
    full_name="Nguyễn Thị Hằng",
    date_of_birth=date(1985, 3, 9),
    sex=Sex.FEMALE,
    address="Số 12, ngõ 34 Láng Hạ, Phường Láng Hạ, Quận Đống Đa, Hà Nội",
    issued_on=date(2021, 8, 15),
)


def test_parse_cccd_qr_sample() -> None:
    assert parse_cccd_qr(SAMPLE_QR) == SAMPLE


@pytest.mark.parametrize(
    "line",
    [
        SAMPLE_QR + "\r\n",
        SAMPLE_QR + "\r",
        SAMPLE_QR + "   ",
        "  " + SAMPLE_QR,
        SAMPLE_QR + "|",
        SAMPLE_QR + "||",
        unicodedata.normalize("NFD", SAMPLE_QR),
        SAMPLE_QR.replace("|Nữ|", "|Nu|"),
        SAMPLE_QR.replace("|Nữ|", "|NỮ|"),
        SAMPLE_QR.replace("|Nữ|", "|nữ|"),
    ],
)
def test_parse_cccd_qr_is_tolerant(line: str) -> None:
    parsed = parse_cccd_qr(line)
    assert parsed == SAMPLE
    assert unicodedata.is_normalized("NFC", parsed.full_name)
    assert unicodedata.is_normalized("NFC", parsed.address)


def test_parse_cccd_qr_optional_fields() -> None:
    line = "079203001234||Trần Văn Nam|01012003|Nam|Ấp 3, xã Tân Phú|"
    parsed = parse_cccd_qr(line)
    assert parsed.old_cmnd is None
    assert parsed.issued_on is None
    assert parsed.sex is Sex.MALE
    assert parsed.date_of_birth == date(2003, 1, 1)
    assert parsed.cccd == "079203001234"
    # 12-digit CMND (issued 2012-2016) in the old-number field
    assert parse_cccd_qr(line.replace("||", "|012345678901|")).old_cmnd == "012345678901"


@pytest.mark.parametrize(
    ("line", "rule_part"),
    [
        ("", "cần 7 trường"),
        ("001185012345", "cần 7 trường"),
        ("001185012345|012345678|Nguyễn Thị Hằng|09031985|Nữ|Hà Nội", "nhận được 6"),
        (SAMPLE_QR + "|extra", "nhận được 8"),
        (SAMPLE_QR.replace("001185012345", "00118501234"), "12 chữ số"),
        (SAMPLE_QR.replace("012345678", "01234567"), "CMND"),
        (SAMPLE_QR.replace("Nguyễn Thị Hằng", "  "), "họ và tên"),
        (SAMPLE_QR.replace("09031985", "1985-03-09"), "ngày sinh"),
        (SAMPLE_QR.replace("09031985", "31021985"), "ngày sinh"),
        (SAMPLE_QR.replace("|Nữ|", "|F|"), "giới tính"),
        (SAMPLE_QR.replace("|Nữ|", "||"), "giới tính"),
        (SAMPLE_QR.replace("15082021", "150821"), "ngày cấp"),
        # the id says female born 1985; the fields say male, or 1986
        (SAMPLE_QR.replace("|Nữ|", "|Nam|"), "chữ số thứ 4"),
        (SAMPLE_QR.replace("09031985", "09031986"), "chữ số thứ 5–6"),
    ],
)
def test_parse_cccd_qr_rejects(line: str, rule_part: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_cccd_qr(line)
    assert caught.value.field == "cccd_qr"
    assert caught.value.label == "Mã QR CCCD"
    assert rule_part in caught.value.rule


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (SAMPLE_QR, True),
        ("001185012345|", True),
        ("  001185012345|x", True),
        ("001185012345", False),
        ("Nguyễn Thị Hằng", False),
        ("00118501234|5", False),
        ("0011850123456|", False),
        ("", False),
        ("nguyen|thi", False),
    ],
)
def test_looks_like_cccd_qr(line: str, expected: bool) -> None:
    assert looks_like_cccd_qr(line) is expected


_NAME_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđbcghklmnpqrstvx"
)
names = st.lists(
    st.text(alphabet=_NAME_LETTERS, min_size=1, max_size=7).map(str.capitalize),
    min_size=1,
    max_size=5,
).map(" ".join)
addresses = st.text(
    alphabet=st.characters(
        categories=("L", "N", "P", "Zs"), exclude_characters="|", max_codepoint=0x1EFF
    ),
    max_size=80,
).filter(lambda s: s == s.strip() and unicodedata.is_normalized("NFC", s))
old_numbers = st.none() | st.from_regex(r"[0-9]{9}|[0-9]{12}", fullmatch=True)
issue_dates = st.none() | st.dates(min_value=date(2016, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def qr_records(draw: st.DrawFn) -> CccdQr:
    sex = draw(st.sampled_from(Sex))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
    return CccdQr(
        cccd=make_cccd(draw(provinces), sex, born, draw(serials)),
        old_cmnd=draw(old_numbers),
        full_name=draw(names),
        date_of_birth=born,
        sex=sex,
        address=draw(addresses),
        issued_on=draw(issue_dates),
    )


def qr_line(record: CccdQr) -> str:
    issued = record.issued_on.strftime("%d%m%Y") if record.issued_on else ""
    return "|".join(
        [
            record.cccd,
            record.old_cmnd or "",
            record.full_name,
            record.date_of_birth.strftime("%d%m%Y"),
            "Nam" if record.sex is Sex.MALE else "Nữ",
            record.address,
            issued,
        ]
    )


@given(qr_records())
def test_parse_cccd_qr_round_trips(record: CccdQr) -> None:
    line = qr_line(record)
    assert looks_like_cccd_qr(line)
    assert parse_cccd_qr(line) == record
    assert parse_cccd_qr(unicodedata.normalize("NFD", line) + "\r\n") == record


# --- BHYT household card ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GD4797912345678", "GD4797912345678"),
        ("gd4797912345678", "GD4797912345678"),
        ("Gd 4 79 7912345678", "GD4797912345678"),
        (" GD4010123456789\n", "GD4010123456789"),
    ],
)
def test_bhyt_card_accepts(text: str, expected: str) -> None:
    assert validate_bhyt_card(text) == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "thẻ BHYT hộ gia đình phải bắt đầu bằng GD"),
        ("DN4797912345678", "thẻ BHYT hộ gia đình phải bắt đầu bằng GD"),
        ("4797912345678GD", "thẻ BHYT hộ gia đình phải bắt đầu bằng GD"),
        ("GD479791234567", "phải gồm 15 ký tự: GD và 13 chữ số"),
        ("GD47979123456789", "phải gồm 15 ký tự: GD và 13 chữ số"),
        ("GD47979123456X8", "phải gồm 15 ký tự: GD và 13 chữ số"),
        ("GDA797912345678", "phải gồm 15 ký tự: GD và 13 chữ số"),
        ("GD", "phải gồm 15 ký tự: GD và 13 chữ số"),
    ],
)
def test_bhyt_card_rejects(text: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_bhyt_card(text)
    assert caught.value.field == "bhyt_card"
    assert caught.value.label == "Mã thẻ BHYT"
    assert caught.value.rule == rule
