"""Non-secret counter settings kept in the `settings` key/value table.

What lives here: the receipt printer's name, the receipt format, whether to print the receipt at
once after a payment, and after how many idle minutes the window locks. Secrets (API tokens,
SMTP passwords) never come here — they live in the OS keyring (`app.secrets`).

Guarantees:
- `load_settings` never fails on a missing or unreadable stored value: it falls back to the
  default for that key, so an old or hand-edited database still opens.
- `save_settings` is for administrators only, validates every value (ValidationError naming the
  field), writes only the keys that changed, and audits the change with before/after values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum

from sqlalchemy import select

from app.domain.types import Role
from app.errors import ValidationError
from app.services.common import Actor
from app.services.queries import audit, load_actor
from app.storage.db import Database
from app.storage.models import Setting


class ReceiptFormat(StrEnum):
    """Paper the receipt is laid out for; values match `printing.receipt.ReceiptLayout`."""

    ROLL_80MM = "roll_80mm"
    A5 = "a5"

    @property
    def label(self) -> str:
        return {"roll_80mm": "Giấy cuộn 80 mm", "a5": "Khổ A5"}[self.value]


MIN_IDLE_LOCK_MINUTES = 1
MAX_IDLE_LOCK_MINUTES = 240
MAX_PRINTER_NAME = 200


@dataclass(frozen=True)
class CounterSettings:
    printer_name: str = ""  # "" → ask with the print dialog each time
    receipt_format: ReceiptFormat = ReceiptFormat.ROLL_80MM
    auto_print: bool = True  # print the receipt as soon as a payment is recorded
    idle_lock_minutes: int = 10


DEFAULTS = CounterSettings()

# Stored key for each field. Keys are namespaced so other modules can share the table.
_KEYS = {
    "printer_name": "printer.name",
    "receipt_format": "receipt.format",
    "auto_print": "receipt.auto_print",
    "idle_lock_minutes": "lock.idle_minutes",
}


def _encode(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _decode(name: str, raw: str) -> object:
    if name == "printer_name":
        return raw
    if name == "receipt_format":
        return ReceiptFormat(raw)
    if name == "auto_print":
        if raw not in ("0", "1"):
            raise ValueError(raw)
        return raw == "1"
    if name == "idle_lock_minutes":
        minutes = int(raw)
        if not MIN_IDLE_LOCK_MINUTES <= minutes <= MAX_IDLE_LOCK_MINUTES:
            raise ValueError(raw)
        return minutes
    raise KeyError(name)


def load_settings(db: Database) -> CounterSettings:
    """The stored settings, each missing or unreadable value replaced by its default."""
    with db.read() as session:
        stored = {
            row.key: row.value
            for row in session.scalars(select(Setting).where(Setting.key.in_(_KEYS.values())))
        }
    values: dict[str, object] = {}
    for name, key in _KEYS.items():
        if key in stored:
            try:
                values[name] = _decode(name, stored[key])
            except (ValueError, KeyError):
                continue  # keep the default rather than refuse to start
    return replace(DEFAULTS, **values)  # type: ignore[arg-type]


def validate_settings(new: CounterSettings) -> CounterSettings:
    """Return `new` with the printer name trimmed; ValidationError for anything out of range."""
    minutes = new.idle_lock_minutes
    if type(minutes) is not int or not (MIN_IDLE_LOCK_MINUTES <= minutes <= MAX_IDLE_LOCK_MINUTES):
        raise ValidationError(
            "idle_lock_minutes",
            "Tự khóa màn hình sau",
            f"phải từ {MIN_IDLE_LOCK_MINUTES} đến {MAX_IDLE_LOCK_MINUTES} phút",
            rule_en=f"must be {MIN_IDLE_LOCK_MINUTES}-{MAX_IDLE_LOCK_MINUTES} minutes",
        )
    printer = new.printer_name.strip()
    if len(printer) > MAX_PRINTER_NAME:
        raise ValidationError(
            "printer_name",
            "Máy in biên lai",
            f"tên dài quá {MAX_PRINTER_NAME} ký tự",
            rule_en="name too long",
        )
    if not isinstance(new.receipt_format, ReceiptFormat):
        raise ValidationError(
            "receipt_format",
            "Khổ biên lai",
            "phải là giấy cuộn 80 mm hoặc khổ A5",
            rule_en="must be roll_80mm or a5",
        )
    return replace(new, printer_name=printer)


def save_settings(db: Database, new: CounterSettings, *, by: Actor) -> CounterSettings:
    """Store `new` (administrators only); audits the keys that changed. Returns what is stored."""
    by.require(Role.ADMIN, action="thay đổi cài đặt quầy")
    new = validate_settings(new)
    before = load_settings(db)
    with db.write() as session:
        load_actor(session, by)
        changed: dict[str, list[str]] = {}
        for f in fields(CounterSettings):
            old_value, new_value = getattr(before, f.name), getattr(new, f.name)
            key = _KEYS[f.name]
            row = session.get(Setting, key)
            encoded = _encode(f.name, new_value)
            if row is None:
                session.add(Setting(key=key, value=encoded))
            elif row.value != encoded:
                row.value = encoded
            if old_value != new_value:
                changed[key] = [_encode(f.name, old_value), encoded]
        if changed:
            audit(session, "settings.update", actor=by, subject="settings", changed=changed)
    return new
