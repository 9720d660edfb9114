"""Addresses and the SMS text: Vietnamese mobile numbers, email, one GSM-7 segment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.errors import ValidationError
from app.notify.address import (
    normalise_email,
    normalise_mobile,
    to_international,
    to_national,
)
from app.notify.sms_text import (
    DEFAULT_PAYMENT_TEMPLATE,
    DEFAULT_VOID_TEMPLATE,
    LONGEST_FACTS,
    SAMPLE_FACTS,
    check_template,
    gsm7,
    gsm7_length,
    preview_sms,
    render_sms,
)


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "091 234 5678",
        "0912.345.678",
        "+84912345678",
        "+84 91 234 5678",
        "84912345678",
        "0084912345678",
        "(091) 234-5678",
    ],
)
def test_mobile_numbers_written_any_usual_way(raw: str) -> None:
    assert normalise_mobile(raw) == "0912345678"


def test_national_and_international_forms() -> None:
    assert to_international("0386123456") == "+84386123456"
    assert to_national("+84386123456") == "0386123456"
    assert to_national(to_international("0523456789")) == "0523456789"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("091234567", "10 chữ số"),  # 9 digits
        ("09123456789", "10 chữ số"),  # 11 digits
        ("02438123456", "10 chữ số"),  # a Hà Nội landline (11 digits)
        ("0212345678", "đầu số 021"),  # 10 digits but not a mobile prefix
        ("0951234567", "đầu số 095"),  # unassigned
        ("+1 415 555 0100", "10 chữ số"),
        ("091234567x", "10 chữ số"),
    ],
)
def test_bad_numbers_are_refused_naming_field_and_rule(raw: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalise_mobile(raw)
    assert info.value.field == "phone"
    assert info.value.label == "Số điện thoại"
    assert rule in info.value.rule


def test_email_shape() -> None:
    assert normalise_email("  Le.Dao@Example.VN ") == "Le.Dao@example.vn"
    for bad in ("ledao", "le dao@x.vn", "a@b", "a@@b.vn", "đào@x.vn", "a@b.vn."):
        with pytest.raises(ValidationError) as info:
            normalise_email(bad)
        assert info.value.field == "email"


def test_default_sms_has_every_fact_in_one_ascii_segment() -> None:
    sms = render_sms(DEFAULT_PAYMENT_TEMPLATE, SAMPLE_FACTS)
    assert sms.fits and sms.length == len(sms.text) <= 160
    assert sms.text.isascii()
    assert sms.text == (
        "Le Thi My Dao (0123456789) da nop 3.168.000d BHXH tu nguyen 12 thang ngay 22/11/2026. "
        "Ma xac nhan: 7KQ2-9XMD-4TR6. Tra cuu: VssID, baohiemxahoi.gov.vn"
    )


def test_no_code_yet_and_d_with_stroke() -> None:
    facts = replace(SAMPLE_FACTS, name="Đặng Đức Đông", ma_so_bhxh=None)
    text = render_sms(DEFAULT_PAYMENT_TEMPLATE, facts).text
    assert text.startswith("Dang Duc Dong (chua co ma) ")
    assert text.isascii()


def test_long_name_is_shortened_and_nothing_else_is_dropped() -> None:
    sms = render_sms(DEFAULT_PAYMENT_TEMPLATE, LONGEST_FACTS)  # Tôn Nữ Hoàng Thị Phương Quỳnh
    assert sms.fits, sms
    assert sms.text.startswith("Ton N.H.T.P. Quynh (chua co ma) da nop 999.999.999d ")
    assert "BHYT ho gia dinh 60 thang ngay 31/12/2026" in sms.text
    assert sms.text.endswith("Ma xac nhan: 7KQ2-9XMD-4TR6. Tra cuu: VssID, baohiemxahoi.gov.vn")
    many = "Tôn Nữ Hoàng Thị Phương Quỳnh Như Ý Nguyễn Phạm Bảo Ngọc"
    assert render_sms(DEFAULT_PAYMENT_TEMPLATE, replace(LONGEST_FACTS, name=many)).text.startswith(
        "Ton Ngoc (chua co ma)"
    )
    # With hardly any room left, the given name itself is cut, never the facts.
    tight = "x" * 140 + " {ten} {ma_xac_nhan}"
    cut = render_sms(tight, LONGEST_FACTS)
    assert cut.length == 160 and cut.text.endswith(" Quyn 7KQ2-9XMD-4TR6")


def test_void_template_fits_with_the_longest_facts() -> None:
    sms = render_sms(DEFAULT_VOID_TEMPLATE, LONGEST_FACTS)
    assert sms.fits and "DA BI HUY" in sms.text


def test_gsm7_folding_and_length() -> None:
    assert gsm7("Nguyễn “Văn” Đạt – Hà Nội…") == 'Nguyen "Van" Dat - Ha Noi...'
    assert gsm7("giá 5€ 😀") == "gia 5? ?"
    assert gsm7_length("a{b}") == 6  # the braces are GSM-7 extension characters


def test_template_checks() -> None:
    with pytest.raises(ValidationError, match=r"\{ten_day_du\}"):
        check_template("{ten_day_du} {ma_xac_nhan}")
    with pytest.raises(ValidationError, match="ma_xac_nhan"):
        check_template("{ten} da nop {so_tien}d")
    with pytest.raises(ValidationError, match="tối đa 160"):
        check_template(DEFAULT_PAYMENT_TEMPLATE + " Cam on quy khach da tin tuong su dung dich vu.")
    with pytest.raises(ValidationError):
        check_template("{ma_xac_nhan:>20}")
    with pytest.raises(ValidationError, match="ngoặc"):
        check_template("{ma_xac_nhan")
    assert check_template("  Ma xac nhan {ma_xac_nhan}  ") == "Ma xac nhan {ma_xac_nhan}"


def test_preview_reports_length_for_a_live_counter() -> None:
    short = preview_sms("Ma {ma_xac_nhan}")
    assert (short.text, short.length, short.segments) == ("Ma 7KQ2-9XMD-4TR6", 17, 1)
    long = preview_sms("x" * 150 + " {ma_xac_nhan}")
    assert long.length == 165 and long.segments == 2 and not long.fits
