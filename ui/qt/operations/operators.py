"""Operators: signing in (and the supervisor's signature is in `payments.void`), accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.domain.types import Role
    from app.services.common import Actor
    from app.services.operators import OperatorView
    from ui.qt.state import AppState

ADDED = OpChanges(operators=True)


def sign_in(parent: QObject, state: AppState, username: str, password: str) -> Op[Actor]:
    """Check a user name and password (argon2, on the database thread; a sign-in typed while
    the database still opens waits behind the opening op)."""

    def check() -> Actor:
        from app.services.operators import authenticate

        return authenticate(state.db, username, password)

    return DbOp(parent, check)


def all_operators(parent: QObject, state: AppState) -> Op[list[OperatorView]]:
    def load() -> list[OperatorView]:
        from app.services.operators import list_operators

        return list_operators(state.db)

    return DbOp(parent, load)


def add(
    parent: QObject, state: AppState, *, username: str, full_name: str, role: Role, password: str
) -> Op[OperatorView]:
    actor = state.require_actor()

    def create() -> OperatorView:
        from app.services.operators import create_operator

        return create_operator(
            state.db,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            by=actor,
        )

    return DbOp(parent, create).changes(state, ADDED)
