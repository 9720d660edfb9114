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

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.clock import now_utc
from app.domain.rates import RateTable, load_default_rate_table
from app.errors import UserFacingError
from app.services.common import Actor, audit
from app.storage.db import Database
from app.storage.models import RateTableVersion

DEFAULT_MAX_AGE_DAYS = 400


# Parsed tables by version. Safe to cache for the life of the process because a version names
# one table forever (install_table refuses the same version with other content).
_parsed: dict[str, RateTable] = {}


def current_table(session: Session) -> RateTable:
    tables = RateTableVersion.__table__
    version = (
        session.connection()
        .execute(select(tables.c.version).order_by(tables.c.installed_at.desc()).limit(1))
        .scalar()
    )
    return table_for_version(session, version)


def table_for_version(session: Session, version: str | None) -> RateTable:
    """The installed table of that version (None: nothing installed, the shipped default)."""
    if version is None:
        return load_default_rate_table()
    table = _parsed.get(version)
    if table is None:
        body = session.scalar(
            select(RateTableVersion.body).where(RateTableVersion.version == version)
        )
        assert body is not None
        table = _parsed[version] = RateTable.from_json(body)
    return table


def current_rate_table(db: Database) -> RateTable:
    with db.read() as session:
        return current_table(session)


def install_table(session: Session, table: RateTable, *, source: str, by: Actor | None) -> bool:
    """Install inside an open write session; returns False if that version is already there."""
    body = table.to_json()
    existing = session.get(RateTableVersion, table.version)
    if existing is not None:
        if RateTable.from_json(existing.body) != table:
            raise UserFacingError(
                f"Bảng mức đóng phiên bản {table.version} đã có với nội dung khác; "
                "không ghi đè. Phiên bản mới phải có số hiệu mới.",
                message_en=f"rate table {table.version} exists with different content",
            )
        return False
    session.add(
        RateTableVersion(
            version=table.version,
            body=body,
            source=source,
            installed_at=now_utc(),
            installed_by=by.id if by else None,
        )
    )
    audit(session, "rates.install", actor=by, subject=table.version, source=source)
    return True


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
