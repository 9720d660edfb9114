"""Identifiers a counter handles: mã số BHXH, CCCD (with its chip-card QR line), BHYT card number.

Each `validate_*` function takes what a person typed or a scanner sent, returns the normalised
identifier (spaces removed, upper-cased where letters occur) and raises `ValidationError` naming
the field and the broken rule in Vietnamese otherwise. Only published structure is checked:
there is no public check-digit rule for mã số BHXH or CCCD, so none is applied.

CCCD structure (12 digits): 3 digits province of birth registration, 1 digit sex and century
of birth, 2 digits year of birth within the century, 6 digits serial. The sex/century digit is
2 × (century index) + (0 male, 1 female) with 1900s → 0/1, 2000s → 2/3, 2100s → 4/5,
2200s → 6/7, 1800s → 8/9. When the date of birth or sex is known it must agree with the digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from app.domain.text import fold_key
from app.domain.types import Sex
from app.errors import ValidationError

_CCCD_FIELD = "cccd"
_CCCD_LABEL = "Số CCCD"
_QR_FIELD = "cccd_qr"
_QR_LABEL = "Mã QR CCCD"

# First year of the century each sex/century digit pair encodes, indexed by digit // 2.
_CENTURY_STARTS = (1900, 2000, 2100, 2200, 1800)
_FIRST_ENCODABLE_YEAR = 1800
_LAST_ENCODABLE_YEAR = 2299


def _ascii_digits(text: str, count: int) -> bool:
    # str.isdigit would also accept Arabic-Indic, full-width and superscript digits.
    return len(text) == count and all("0" <= ch <= "9" for ch in text)


def _without_spaces(text: str) -> str:
    return "".join(text.split())


# --- mã số BHXH ------------------------------------------------------------------------------


def validate_ma_so_bhxh(text: str) -> str:
    """Return the 10-digit mã số BHXH with spaces removed; `ValidationError` unless 10 digits."""
    code = _without_spaces(text)
    if not _ascii_digits(code, 10):
        raise ValidationError(
            "ma_so_bhxh",
            "Mã số BHXH",
            "phải gồm đúng 10 chữ số",
            rule_en="must be exactly 10 digits",
        )
    return code


# --- CCCD ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CccdFacts:
    """What the digits of a CCCD number say about its holder."""

    province_code: str
    sex: Sex
    birth_year: int


def _require_cccd_format(text: str) -> str:
    cccd = _without_spaces(text)
    if not _ascii_digits(cccd, 12):
        raise ValidationError(
            _CCCD_FIELD,
            _CCCD_LABEL,
            "phải gồm đúng 12 chữ số",
            rule_en="must be exactly 12 digits",
        )
    return cccd


def _facts_of(cccd: str) -> CccdFacts:
    sex_century = int(cccd[3])
    return CccdFacts(
        province_code=cccd[:3],
        sex=Sex.FEMALE if sex_century % 2 else Sex.MALE,
        birth_year=_CENTURY_STARTS[sex_century // 2] + int(cccd[4:6]),
    )


def cccd_facts(cccd: str) -> CccdFacts:
    """Province code, sex and birth year encoded in a CCCD number (format checked first)."""
    return _facts_of(_require_cccd_format(cccd))


def _sex_century_digit(sex: Sex, year: int) -> int:
    century_index = _CENTURY_STARTS.index(year // 100 * 100)
    return 2 * century_index + (1 if sex is Sex.FEMALE else 0)


def _mismatch(rule: str, rule_en: str) -> ValidationError:
    return ValidationError(_CCCD_FIELD, _CCCD_LABEL, rule, rule_en=rule_en)


def validate_cccd(text: str, *, date_of_birth: date | None = None, sex: Sex | None = None) -> str:
    """Return the 12-digit CCCD with spaces removed, checked against known birth date and sex.

    Raises `ValidationError` (field "cccd") for a wrong format, a sex/century digit (the 4th)
    that disagrees with `sex` or the century of `date_of_birth`, or digits 5–6 that disagree
    with the year of `date_of_birth`.
    """
    cccd = _require_cccd_format(text)
    facts = _facts_of(cccd)
    year = date_of_birth.year if date_of_birth is not None else None
    if year is not None and not _FIRST_ENCODABLE_YEAR <= year <= _LAST_ENCODABLE_YEAR:
        raise _mismatch(
            f"năm sinh {year} nằm ngoài khoảng số CCCD ghi được "
            f"({_FIRST_ENCODABLE_YEAR}–{_LAST_ENCODABLE_YEAR})",
            rule_en=f"birth year {year} cannot be encoded in a CCCD number",
        )

    digit = int(cccd[3])
    if sex is not None and year is not None:
        expected = _sex_century_digit(sex, year)
        if digit != expected:
            raise _mismatch(
                f"chữ số thứ 4 (giới tính, thế kỷ) không khớp với giới tính {sex.label} "
                f"và năm sinh {year}: phải là {expected}",
                rule_en=f"4th digit (sex, century) must be {expected} for {sex.value}, {year}",
            )
    elif sex is not None and facts.sex is not sex:
        raise _mismatch(
            f"chữ số thứ 4 (giới tính, thế kỷ) không khớp với giới tính {sex.label}",
            rule_en=f"4th digit (sex, century) does not match sex {sex.value}",
        )
    elif year is not None and facts.birth_year // 100 != year // 100:
        raise _mismatch(
            f"chữ số thứ 4 (giới tính, thế kỷ) không khớp với năm sinh {year}",
            rule_en=f"4th digit (sex, century) does not match birth year {year}",
        )

    if year is not None and int(cccd[4:6]) != year % 100:
        raise _mismatch(
            f"chữ số thứ 5–6 (năm sinh) không khớp với năm sinh {year}: phải là {year % 100:02d}",
            rule_en=f"digits 5-6 (birth year) must be {year % 100:02d} for birth year {year}",
        )
    return cccd


# --- CCCD chip-card QR line ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CccdQr:
    """The fields of the QR code on a chip CCCD card, as a counter scanner types them."""

    cccd: str
    old_cmnd: str | None
    full_name: str
    date_of_birth: date
    sex: Sex
    address: str
    issued_on: date | None


_QR_FIELD_COUNT = 7


def _qr_error(rule: str, rule_en: str) -> ValidationError:
    return ValidationError(_QR_FIELD, _QR_LABEL, rule, rule_en=rule_en)


def looks_like_cccd_qr(line: str) -> bool:
    """Cheap test for a search box: 12 digits then "|" at the start (leading spaces ignored)."""
    head = line.lstrip()[:13]
    return len(head) == 13 and _ascii_digits(head[:12], 12) and head[12] == "|"


def _qr_date(text: str, what: str, what_en: str) -> date:
    if _ascii_digits(text, 8):
        try:
            return date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            pass
    raise _qr_error(
        f"{what} phải có dạng NgàyThángNăm 8 chữ số (ví dụ 05091985), nhận được “{text}”",
        rule_en=f"{what_en} must be DDMMYYYY, got {text!r}",
    )


def parse_cccd_qr(line: str) -> CccdQr:
    """Parse `<cccd>|<old CMND or empty>|<name>|<DDMMYYYY>|<Nam/Nữ>|<address>|<DDMMYYYY>`.

    Tolerates surrounding white space and CR/LF, NFD input (everything returned is NFC), "Nu"
    or any case for the sex, and empty fields appended after the seventh. Old CMND numbers had
    9 digits, and 12 for those issued 2012–2016, so both are accepted.

    Raises `ValidationError` with field "cccd_qr" for anything else, including a CCCD number
    that disagrees with the date of birth or sex in the same line (a misread or forged code):
    the rule then carries `validate_cccd`'s explanation.
    """
    fields = [part.strip() for part in unicodedata.normalize("NFC", line).strip().split("|")]
    # Some scanners add a trailing separator; an extra empty field carries nothing.
    while len(fields) > _QR_FIELD_COUNT and not fields[-1]:
        fields.pop()
    if len(fields) != _QR_FIELD_COUNT:
        raise _qr_error(
            f"không đúng định dạng: cần {_QR_FIELD_COUNT} trường ngăn cách bởi “|”, "
            f"nhận được {len(fields)}",
            rule_en=f"expected {_QR_FIELD_COUNT} '|'-separated fields, got {len(fields)}",
        )
    raw_id, raw_cmnd, raw_name, raw_dob, raw_sex, raw_address, raw_issued = fields

    if not _ascii_digits(raw_id, 12):
        raise _qr_error(
            "số CCCD (trường đầu tiên) phải gồm đúng 12 chữ số",
            rule_en="first field (CCCD) must be exactly 12 digits",
        )
    if raw_cmnd and not (_ascii_digits(raw_cmnd, 9) or _ascii_digits(raw_cmnd, 12)):
        raise _qr_error(
            "số CMND cũ (trường thứ hai) phải để trống hoặc gồm 9 hay 12 chữ số",
            rule_en="second field (old CMND) must be empty, 9 or 12 digits",
        )
    full_name = " ".join(raw_name.split())
    if not full_name:
        raise _qr_error("thiếu họ và tên (trường thứ ba)", rule_en="third field (name) is empty")
    date_of_birth = _qr_date(raw_dob, "ngày sinh (trường thứ tư)", "fourth field (birth date)")
    sex_key = fold_key(raw_sex)
    if sex_key == "nam":
        sex = Sex.MALE
    elif sex_key == "nu":
        sex = Sex.FEMALE
    else:
        raise _qr_error(
            f"giới tính (trường thứ năm) phải là Nam hoặc Nữ, nhận được “{raw_sex}”",
            rule_en=f"fifth field (sex) must be Nam or Nữ, got {raw_sex!r}",
        )
    issued_on = (
        _qr_date(raw_issued, "ngày cấp (trường thứ bảy)", "seventh field (issue date)")
        if raw_issued
        else None
    )
    try:
        cccd = validate_cccd(raw_id, date_of_birth=date_of_birth, sex=sex)
    except ValidationError as exc:
        raise _qr_error(
            f"số CCCD trong mã không khớp với ngày sinh, giới tính: {exc.rule}",
            rule_en=f"CCCD number disagrees with birth date/sex in the code: {exc.message_en}",
        ) from exc
    return CccdQr(
        cccd=cccd,
        old_cmnd=raw_cmnd or None,
        full_name=full_name,
        date_of_birth=date_of_birth,
        sex=sex,
        address=raw_address,
        issued_on=issued_on,
    )


# --- BHYT household card ---------------------------------------------------------------------

_BHYT_FIELD = "bhyt_card"
_BHYT_LABEL = "Mã thẻ BHYT"
_HOUSEHOLD_PREFIX = "GD"
# 15 characters: 2 letters (beneficiary group, GD = hộ gia đình), 1 digit benefit level,
# 2 digits province, 10 digits mã số BHXH.
_BHYT_CARD = re.compile(r"GD[0-9]{13}", re.ASCII)


def validate_bhyt_card(text: str) -> str:
    """Return a household BHYT card number (GD + 13 digits) upper-cased with spaces removed."""
    card = _without_spaces(text).upper()
    if not card.startswith(_HOUSEHOLD_PREFIX):
        raise ValidationError(
            _BHYT_FIELD,
            _BHYT_LABEL,
            "thẻ BHYT hộ gia đình phải bắt đầu bằng GD",
            rule_en="a household BHYT card number must start with GD",
        )
    if not _BHYT_CARD.fullmatch(card):
        raise ValidationError(
            _BHYT_FIELD,
            _BHYT_LABEL,
            "phải gồm 15 ký tự: GD và 13 chữ số",
            rule_en="must be 15 characters: GD followed by 13 digits",
        )
    return card
