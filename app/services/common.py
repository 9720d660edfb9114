"""Things every service needs: the acting operator, audit events, the counter.

Services are plain functions over a `Database`; they return frozen views, never ORM objects that
outlive their session, so a front end can hand results across threads safely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.clock import now_utc
from app.domain.types import Role
from app.errors import ConfigurationError, PermissionDenied
from app.storage.models import AuditEvent, Counter, Operator


@dataclass(frozen=True)
class Actor:
    """The operator on whose authority a service acts (checked at login)."""

    id: int
    username: str
    full_name: str
    role: Role

    def require(self, *roles: Role, action: str) -> None:
        if self.role not in roles:
            allowed = ", ".join(r.label for r in roles)
            raise PermissionDenied(
                f"Tài khoản {self.username} ({self.role.label}) không được {action}; "
                f"cần vai trò: {allowed}.",
                message_en=f"{self.username} ({self.role.value}) may not {action}",
            )


def actor_of(op: Operator) -> Actor:
    return Actor(id=op.id, username=op.username, full_name=op.full_name, role=Role(op.role))


def load_actor(session: Session, actor: Actor) -> Operator:
    """Re-read the operator inside the transaction: a deactivated account cannot act."""
    op = session.get(Operator, actor.id)
    if op is None or not op.active or op.username != actor.username:
        raise PermissionDenied(
            f"Tài khoản {actor.username} không còn hoạt động.",
            message_en=f"operator {actor.username} is not active",
        )
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
        raise PermissionDenied(
            f"Tài khoản {actor.username} không còn hoạt động.",
            message_en=f"operator {actor.username} is not active",
        )


@dataclass(frozen=True)
class CounterIdentity:
    counter_id: str
    receipt_series: str


def counter_identity(session: Session) -> CounterIdentity:
    """The counter's id and receipt series (a light `require_counter`)."""
    c = Counter.__table__
    row = (
        session.connection()
        .execute(select(c.c.counter_id, c.c.receipt_series).where(c.c.id == 1))
        .first()
    )
    if row is None:
        require_counter(session)  # raises the "not initialised" error
        raise AssertionError("unreachable")
    return CounterIdentity(row.counter_id, row.receipt_series)


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
    session.add(
        AuditEvent(
            at=at or now_utc(),
            operator_id=actor.id if actor else None,
            action=action,
            subject=subject,
            details=json.dumps(details, ensure_ascii=False, default=str, sort_keys=True),
        )
    )
