"""The SMS text: one GSM-7 segment (≤ 160 characters) with the payment facts and the code.

Letter 3964/BHXH-TST asks the counter to give the payer the Mã xác nhận with họ và tên, mã số
BHXH, ngày nộp tiền, số tiền, loại hình and số tháng, and to point to the VSS lookup. The text
is a template setting with placeholders (`PLACEHOLDERS`); `render_sms` fills it in.

Guarantees:
- the output is folded to ASCII with `app.domain.text.fold` (so đ/Đ → d/D as well as every tone
  and vowel mark) and then contains only GSM-7 characters: typographic quotes and dashes become
  their ASCII look-alikes, anything else that is not GSM-7 becomes "?";
- `RenderedSms.length` counts GSM-7 septets (the extension characters ^ { } [ ] ~ | \\ count 2),
  `segments` is 1 while the length is ≤ 160 (153 per part beyond that);
- when the text would exceed 160, only the name is shortened: middle names to initials, then
  the family name too, then the given name is cut — the other facts are never dropped;
- `check_template` refuses (ValidationError naming the field) an unknown placeholder, a
  placeholder with a format spec, or a template that cannot fit one segment with the longest
  facts and a 10-character name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from string import Formatter
from typing import Final

from app.domain.text import fold
from app.errors import ValidationError

SEGMENT: Final = 160
MULTIPART_SEGMENT: Final = 153
MIN_NAME: Final = 10

PLACEHOLDERS: Final = {
    "ten": "họ và tên (rút gọn khi cần)",
    "ma_so": "mã số BHXH, hoặc 'chua co ma'",
    "ngay": "ngày nộp, dd/mm/yyyy",
    "gio": "giờ nộp, hh:mm",
    "so_tien": "số tiền, 1.263.600",
    "loai_hinh": "loại hình tham gia",
    "so_thang": "số tháng đóng",
    "tu_thang": "từ tháng, mm/yyyy",
    "den_thang": "đến tháng, mm/yyyy",
    "ma_xac_nhan": "Mã xác nhận, 7KQ2-9XMD-4TR6",
    "bien_lai": "số biên lai",
}

DEFAULT_PAYMENT_TEMPLATE: Final = (
    "{ten} ({ma_so}) da nop {so_tien}d {loai_hinh} {so_thang} thang ngay {ngay}. "
    "Ma xac nhan: {ma_xac_nhan}. Tra cuu: VssID, baohiemxahoi.gov.vn"
)
DEFAULT_VOID_TEMPLATE: Final = (
    "Khoan nop {so_tien}d ngay {ngay} cua {ten}, ma xac nhan {ma_xac_nhan}, DA BI HUY tai "
    "diem thu. Neu ban khong yeu cau huy, hay bao co quan BHXH."
)

_EXTENSION: Final = frozenset("^{}[]~|\\")
_LOOKALIKE: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "`": "'",
        "\t": " ",
        "\r": " ",
    }
)


@dataclass(frozen=True)
class SmsFacts:
    """What a payment SMS may say (all values already formatted, Vietnamese with diacritics ok)."""

    name: str
    ma_so_bhxh: str | None
    paid_at_local: datetime
    amount_text: str  # "1.263.600"
    scheme_label: str  # "BHXH tự nguyện"
    months: int
    period_from: str  # "12/2026"
    period_to: str
    code: str  # grouped
    receipt: str  # "AA/26 0000123" or the number


@dataclass(frozen=True)
class RenderedSms:
    text: str
    length: int  # GSM-7 septets
    segments: int

    @property
    def fits(self) -> bool:
        return self.segments == 1


def gsm7(text: str) -> str:
    """Fold Vietnamese to ASCII and keep only GSM-7 characters."""
    folded = fold(text).translate(_LOOKALIKE)
    return "".join(ch if (" " <= ch <= "~" or ch == "\n") else "?" for ch in folded)


def gsm7_length(text: str) -> int:
    return sum(2 if ch in _EXTENSION else 1 for ch in text)


def segments_for(length: int) -> int:
    if length <= SEGMENT:
        return 1
    return -(-length // MULTIPART_SEGMENT)


@lru_cache(maxsize=64)
def _parse(template: str) -> tuple[tuple[str, str | None, str | None, str | None], ...]:
    return tuple(Formatter().parse(template))  # every payment renders: parse a template once


def _fields(template: str) -> list[str]:
    names = []
    try:
        parsed = _parse(template)
    except ValueError as exc:
        raise ValidationError(
            "sms_template",
            "Mẫu tin nhắn",
            "dấu ngoặc { } không khớp",
            rule_en=f"unbalanced braces: {exc}",
        ) from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
            raise ValidationError(
                "sms_template",
                "Mẫu tin nhắn",
                f"không có chỗ điền {{{name}}}; chỉ dùng: {known}",
                rule_en=f"unknown placeholder {{{name}}}",
            )
        names.append(name)
    return names


def _values(facts: SmsFacts) -> dict[str, str]:
    return {
        "ten": "",
        "ma_so": facts.ma_so_bhxh or "chua co ma",
        "ngay": f"{facts.paid_at_local:%d/%m/%Y}",
        "gio": f"{facts.paid_at_local:%H:%M}",
        "so_tien": facts.amount_text,
        "loai_hinh": facts.scheme_label,
        "so_thang": str(facts.months),
        "tu_thang": facts.period_from,
        "den_thang": facts.period_to,
        "ma_xac_nhan": facts.code,
        "bien_lai": facts.receipt,
    }


def name_forms(name: str) -> list[str]:
    """The name, then ever shorter forms.

    "Nguyen Thi My Dao", "Nguyen T.M. Dao", "N.T.M. Dao", "Nguyen Dao", "Dao".
    """
    words = gsm7(name).split()
    if not words:
        return [""]
    forms = [" ".join(words)]
    if len(words) > 2:
        forms.append(f"{words[0]} {''.join(w[0] + '.' for w in words[1:-1])} {words[-1]}")
    if len(words) > 1:
        forms.append(f"{''.join(w[0] + '.' for w in words[:-1])} {words[-1]}")
    if len(words) > 2:
        forms.append(f"{words[0]} {words[-1]}")
    forms.append(words[-1])
    return forms


def _fill(template: str, values: dict[str, str]) -> str:
    out = []
    for literal, name, _spec, _conversion in _parse(template):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return gsm7("".join(out))


def render_sms(template: str, facts: SmsFacts) -> RenderedSms:
    """Fill `template` with `facts`, shortening the name (only) to fit one segment if it can."""
    used = _fields(template)
    values = _values(facts)
    text = ""
    for form in name_forms(facts.name):
        text = _fill(template, {**values, "ten": form})
        if gsm7_length(text) <= SEGMENT:
            break
    else:
        # Even the given name alone is too long: cut it to what is left.
        count = used.count("ten")
        if count:
            room = SEGMENT - gsm7_length(_fill(template, values))
            given = name_forms(facts.name)[-1][: max(1, room // count)]
            text = _fill(template, {**values, "ten": given})
    length = gsm7_length(text)
    return RenderedSms(text=text, length=length, segments=segments_for(length))


# Facts for the live preview and for the worst case a template must fit.
SAMPLE_FACTS: Final = SmsFacts(
    name="Lê Thị Mỹ Đào",
    ma_so_bhxh="0123456789",
    paid_at_local=datetime(2026, 11, 22, 10, 15),
    amount_text="3.168.000",
    scheme_label="BHXH tự nguyện",
    months=12,
    period_from="12/2026",
    period_to="11/2027",
    code="7KQ2-9XMD-4TR6",
    receipt="0000123",
)
LONGEST_FACTS: Final = SmsFacts(
    name="Tôn Nữ Hoàng Thị Phương Quỳnh",
    ma_so_bhxh="chua co ma",
    paid_at_local=datetime(2026, 12, 31, 23, 59),
    amount_text="999.999.999",
    scheme_label="BHYT hộ gia đình",
    months=60,
    period_from="12/2026",
    period_to="11/2031",
    code="7KQ2-9XMD-4TR6",
    receipt="9999999",
)


def preview_sms(template: str) -> RenderedSms:
    """What the settings screen shows under the template: the sample filled in, with its length."""
    return render_sms(template, SAMPLE_FACTS)


def worst_case_length(template: str) -> int:
    """GSM-7 length of `template` with the longest facts and a MIN_NAME-letter name (the length
    a saved template must keep within one segment). Raises ValidationError for a bad template."""
    _fields(template)
    return gsm7_length(_fill(template, {**_values(LONGEST_FACTS), "ten": "x" * MIN_NAME}))


def check_template(
    template: str, *, field: str = "sms_template", label: str = "Mẫu tin nhắn"
) -> str:
    """The template, if it always fits one segment with a name of at least MIN_NAME letters."""
    template = template.strip()
    if not template:
        raise ValidationError(field, label, "không được để trống", rule_en="empty")
    try:
        used = _fields(template)
    except ValidationError as exc:
        raise ValidationError(
            field, label, exc.rule, rule_en=(exc.message_en or "").partition(": ")[2] or None
        ) from exc
    if "ma_xac_nhan" not in used:
        raise ValidationError(
            field,
            label,
            "phải có {ma_xac_nhan} (mã xác nhận là điều bắt buộc phải báo cho người nộp)",
            rule_en="must contain {ma_xac_nhan}",
        )
    worst = worst_case_length(template)
    if worst > SEGMENT:
        raise ValidationError(
            field,
            label,
            f"dài {worst} ký tự với số liệu dài nhất và tên {MIN_NAME} ký tự; "
            f"tối đa {SEGMENT} (một tin)",
            rule_en=f"{worst} > {SEGMENT} characters in the worst case",
        )
    return template
