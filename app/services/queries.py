"""Session-level helpers the services share: each runs inside the caller's open transaction and
never opens one. Everything else in `app.services` takes a `Database` and opens its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.clock import now_utc
from app.domain.passwords import hash_password
from app.domain.rates import RateTable, load_default_rate_table
from app.domain.types import Role
from app.errors import (
    ConfigurationError,
    NotFoundError,
    PermissionDenied,
    UserFacingError,
    ValidationError,
)
from app.services.common import Actor
from app.services.sealing import append_audit
from app.storage.models import Counter, Operator, Payment, RateTableVersion


def _no_longer_active(actor: Actor) -> PermissionDenied:
    return PermissionDenied(
        f"Tài khoản {actor.username} không còn hoạt động.",
        message_en=f"operator {actor.username} is not active",
    )


def load_actor(session: Session, actor: Actor) -> Operator:
    """Re-read the operator inside the transaction: a deactivated account cannot act."""
    op = session.get(Operator, actor.id)
    if op is None or not op.active or op.username != actor.username:
        raise _no_longer_active(actor)
    return op


def check_actor(session: Session, actor: Actor) -> None:
    """`load_actor` without loading the ORM object: for the hot path that only needs the check."""
    ops = Operator.__table__
    row = (
        session.connection()
        .execute(select(ops.c.active, ops.c.username).where(ops.c.id == actor.id))
        .first()
    )
    if row is None or not row.active or row.username != actor.username:
        raise _no_longer_active(actor)


def require_counter(session: Session) -> Counter:
    counter = session.scalar(select(Counter).where(Counter.id == 1))
    if counter is None:
        raise ConfigurationError(
            "Quầy chưa được khởi tạo. Hãy chạy trình thiết lập (hoặc lệnh `quaythu init`).",
            message_en="counter not initialised: run `quaythu init`",
        )
    return counter


def audit(
    session: Session,
    action: str,
    *,
    actor: Actor | None,
    subject: str = "",
    at: datetime | None = None,
    **details: Any,
) -> None:
    """One audit entry, chained and keyed (`app.services.sealing`), in the open transaction."""
    append_audit(
        session,
        action,
        operator_id=actor.id if actor else None,
        subject=subject,
        at=at or now_utc(),
        details=details,
    )


def add_operator_row(
    session: Session, username: str, full_name: str, role: Role, password: str
) -> Operator:
    if session.scalar(select(Operator).where(Operator.username == username)) is not None:
        raise ValidationError(
            "username", "Tên đăng nhập", f"“{username}” đã có người dùng", rule_en="already taken"
        )
    now = now_utc()
    op = Operator(
        username=username,
        full_name=full_name.strip(),
        role=role.value,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
        password_changed_at=now,
    )
    session.add(op)
    session.flush()
    return op


def payment_by_number(session: Session, receipt_number: int) -> Payment:
    p = session.scalar(select(Payment).where(Payment.receipt_number == receipt_number))
    if p is None:
        raise NotFoundError(
            f"Không có biên lai số {receipt_number} tại quầy này.",
            message_en=f"no receipt number {receipt_number}",
        )
    return p


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
