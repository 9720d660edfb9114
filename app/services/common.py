"""Things every service needs: the acting operator.

Services are plain functions over a `Database`; they return frozen views, never ORM objects that
outlive their session, so a front end can hand results across threads safely. The helpers they
share inside a transaction (actor checks, the counter row, audit events) are in `queries`.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.types import Role
from app.errors import PermissionDenied
from app.storage.models import Operator


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
