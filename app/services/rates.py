"""Which rate table is in force at this counter, and installing a new one.

The shipped table (resources/rates/default.json) is installed when the counter is initialised;
the central system pushes newer ones by sync; an admin may enter one by hand (audited). The
table in force is the most recently installed one. Installing is refused for an invalid table,
and installing the same version twice with different content is refused too — a version names
one table forever, and every payment records the version it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.rates import RateTable
from app.services.common import Actor
from app.services.queries import current_table, install_table
from app.storage.db import Database

DEFAULT_MAX_AGE_DAYS = 400


def current_rate_table(db: Database) -> RateTable:
    with db.read() as session:
        return current_table(session)


def install_rate_table(db: Database, table: RateTable, *, source: str, by: Actor | None) -> bool:
    with db.write() as session:
        return install_table(session, table, source=source, by=by)


@dataclass(frozen=True)
class RateStatus:
    version: str
    newest_effective_from: date
    stale: bool
    message: str | None


def rate_status(
    table: RateTable, today: date, max_age_days: int = DEFAULT_MAX_AGE_DAYS
) -> RateStatus:
    newest = table.newest_effective_from(as_of=today)
    age = (today - newest).days
    stale = age > max_age_days
    message = (
        f"Bảng mức đóng đang dùng ({table.version}) có mức mới nhất từ {newest:%d/%m/%Y}, "
        f"đã {age} ngày. Hãy đồng bộ với hệ thống trung tâm hoặc kiểm tra mức lương cơ sở, "
        "chuẩn nghèo mới."
        if stale
        else None
    )
    return RateStatus(table.version, newest, stale, message)
