"""Dates typed by people: the one parser for the window, the command line and file imports.

Accepted, with or without leading zeros:
- day first, as Vietnamese write it: `14/03/1985`, `4/3/1985`, `14-03-1985`, `14.03.1985`,
  `14 03 1985`, or the eight digits `14031985`;
- year first, ISO: `1985-03-14`.

Two different mistakes get two different messages: text that is not shaped like a date at all
("malformed", e.g. `14/03/85`), and a well-shaped date that does not exist ("impossible", e.g.
`31/02/2024` or `14/13/1985`), so a cashier knows whether to retype or to re-read the paper.

Months (the first month paid for) are `03/2026`, `3/2026` or ISO `2026-03`, and come back as the
first day of that month.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from app.errors import ValidationError

_SEP = r"[/.\- ]"
_DAY_FIRST = re.compile(rf"^(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}})$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH_FIRST = re.compile(rf"^(\d{{1,2}}){_SEP}(\d{{4}})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _impossible_reason(year: int, month: int, day: int) -> str | None:
    """Why (year, month, day) names no day, in Vietnamese; None when it is a real date."""
    if year < 1:
        return f"không có năm {year}"
    if not 1 <= month <= 12:
        return f"không có tháng {month}"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"tháng {month:02d}/{year} chỉ có {last} ngày"
    return None


def _split_day(raw: str) -> tuple[int, int, int] | None:
    """(year, month, day) from one of the accepted shapes, or None when the text is malformed."""
    for pattern in (_DAY_FIRST, _COMPACT):
        match = pattern.match(raw)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return year, month, day
    match = _ISO_DAY.match(raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return year, month, day
    return None


def parse_day(text: str, *, field: str = "date", label: str = "Ngày") -> date:
    """The date `text` names; `ValidationError` on `field` when malformed or impossible."""
    raw = text.strip()
    parts = _split_day(raw)
    if parts is None:
        raise ValidationError(
            field,
            label,
            f"“{raw}” không đúng dạng ngày/tháng/năm (ví dụ 14/03/1985 hoặc 1985-03-14)",
            rule_en="expected dd/mm/yyyy or yyyy-mm-dd",
        )
    year, month, day = parts
    reason = _impossible_reason(year, month, day)
    if reason is not None:
        raise ValidationError(
            field,
            label,
            f"“{raw}” không phải ngày có thật: {reason}",
            rule_en="no such date",
        )
    return date(year, month, day)


def parse_optional_day(text: str, *, field: str = "date", label: str = "Ngày") -> date | None:
    """`parse_day`, but blank text means no date."""
    return parse_day(text, field=field, label=label) if text.strip() else None


def parse_month(text: str, *, field: str = "start_month", label: str = "Tháng bắt đầu") -> date:
    """The first day of the month `text` names (`03/2026`, `3/2026`, `2026-03`)."""
    raw = text.strip()
    match = _MONTH_FIRST.match(raw)
    if match:
        month, year = (int(g) for g in match.groups())
    else:
        match = _ISO_MONTH.match(raw)
        if match is None:
            raise ValidationError(
                field,
                label,
                f"“{raw}” không đúng dạng tháng/năm (ví dụ 03/2026)",
                rule_en="expected mm/yyyy or yyyy-mm",
            )
        year, month = (int(g) for g in match.groups())
    reason = _impossible_reason(year, month, 1)
    if reason is not None:
        raise ValidationError(
            field, label, f"“{raw}” không phải tháng có thật: {reason}", rule_en="no such month"
        )
    return date(year, month, 1)
