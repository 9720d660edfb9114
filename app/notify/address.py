"""Payer addresses for notifications: Vietnamese mobile numbers and email addresses.

Guarantees:
- `normalise_mobile` accepts a Vietnamese mobile number written as 0xxxxxxxxx, +84xxxxxxxxx,
  84xxxxxxxxx or 0084xxxxxxxxx, with spaces, dots, dashes or brackets, and returns the national
  form 0xxxxxxxxx; anything else (a landline, a wrong length, an unassigned prefix) is refused
  with a ValidationError naming the field and the rule.
- `to_international` / `to_national` convert 0xxxxxxxxx ↔ +84xxxxxxxxx exactly.
- `normalise_email` trims and checks the shape name@domain.tld (no spaces, one @, a dot in the
  domain, at most 200 characters); the domain is lower-cased, the local part kept as typed.
"""

from __future__ import annotations

import re

from app.errors import ValidationError

# Mobile prefixes after the 2018 renumbering (0 + three digits); source: the Ministry of
# Information and Communications' 11→10-digit conversion plan, as summarised by the carriers.
# 03x Viettel; 05x Vietnamobile/Gmobile/Reddi; 07x MobiFone; 08x VinaPhone/Viettel/MobiFone/
# Itel; 09x the original 10-digit numbers of every carrier.
MOBILE_PREFIXES = frozenset(
    "032 033 034 035 036 037 038 039 "
    "052 055 056 058 059 "
    "070 076 077 078 079 "
    "081 082 083 084 085 086 087 088 089 "
    "090 091 092 093 094 096 097 098 099".split()
)
_SEPARATORS = re.compile(r"[\s.\-()]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL = 200

_PHONE_RULE = "phải là số di động Việt Nam 10 chữ số (0xxxxxxxxx hoặc +84xxxxxxxxx)"


def normalise_mobile(raw: str, *, field: str = "phone", label: str = "Số điện thoại") -> str:
    """0xxxxxxxxx from any usual way of writing a Vietnamese mobile number."""
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not (len(digits) == 10 and digits.isdigit() and digits.isascii()):
        raise ValidationError(field, label, _PHONE_RULE, rule_en="not a 10-digit mobile number")
    if digits[:3] not in MOBILE_PREFIXES:
        raise ValidationError(
            field,
            label,
            f"đầu số {digits[:3]} không phải đầu số di động Việt Nam",
            rule_en=f"{digits[:3]} is not a Vietnamese mobile prefix",
        )
    return digits


def is_mobile(raw: str) -> bool:
    try:
        normalise_mobile(raw)
    except ValidationError:
        return False
    return True


def to_international(national: str) -> str:
    """0912345678 → +84912345678."""
    return "+84" + normalise_mobile(national)[1:]


def to_national(international: str) -> str:
    """+84912345678 → 0912345678."""
    return normalise_mobile(international)


def normalise_email(raw: str, *, field: str = "email", label: str = "Email") -> str:
    email = raw.strip()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email) or not email.isascii():
        raise ValidationError(
            field,
            label,
            "không đúng dạng ten@mien.vn",
            rule_en="not an e-mail address",
        )
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def is_email(raw: str) -> bool:
    try:
        normalise_email(raw)
    except ValidationError:
        return False
    return True
