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


# --- the status bar's notice ---------------------------------------------------------------

RATE_NOTICE_ACK_KEY = "rates.notice_acknowledged"  # settings row: the version acknowledged


@dataclass(frozen=True)
class RateNotice:
    """What the window says about the rate table in force: nothing (`text` None) unless a
    newer table should exist by now and no supervisor has acknowledged this one."""

    version: str
    text: str | None  # one line for the status bar: what is old and what to do
    detail: str | None  # the longer explanation (tooltip)


def rate_notice(db: Database, today: date, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> RateNotice:
    from app.storage.models import Setting

    with db.read() as session:
        table = current_table(session)
        acknowledged = session.get(Setting, RATE_NOTICE_ACK_KEY)
    status = rate_status(table, today, max_age_days)
    # A table that already holds rows dated after today was made knowing what is coming: no
    # newer one is due before that date passes.
    knows_the_future = table.newest_effective_from() > today
    seen = acknowledged is not None and acknowledged.value == table.version
    if not status.stale or knows_the_future or seen:
        return RateNotice(table.version, None, None)
    text = (
        f"Bảng mức đóng {table.version} (mức mới nhất từ {status.newest_effective_from:%d/%m/%Y}) "
        "có thể đã cũ: bấm Đồng bộ ngay (F12) hoặc báo quản trị cài bảng mới"
    )
    return RateNotice(table.version, text, status.message)


def acknowledge_rate_notice(db: Database, version: str, *, by: Actor) -> None:
    """A supervisor (or admin) has seen the notice for `version`: it stays hidden until a
    different table is in force. Audited."""
    from app.domain.types import Role
    from app.services.queries import audit
    from app.storage.models import Setting

    by.require(Role.SUPERVISOR, Role.ADMIN, action="xác nhận thông báo bảng mức đóng")
    with db.write() as session:
        row = session.get(Setting, RATE_NOTICE_ACK_KEY)
        if row is None:
            session.add(Setting(key=RATE_NOTICE_ACK_KEY, value=version))
        else:
            row.value = version
        audit(session, "rates.notice_acknowledged", actor=by, subject=version)
