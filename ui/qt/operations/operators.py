"""Operators: signing in, the password lifecycle and accounts (the supervisor's signature is in
`payments.void`). Every argon2 hash or verify runs here, on the database thread — never on the GUI
thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.domain.types import Role
    from app.services.operators import AccountPolicy, OperatorView, SignIn
    from ui.qt.state import AppState

ADDED = OpChanges(operators=True)
CHANGED = OpChanges(operators=True)


def sign_in(parent: QObject, state: AppState, username: str, password: str) -> Op[SignIn]:
    """Check a user name and password (argon2, on the database thread; a sign-in typed while
    the database still opens waits behind the opening op)."""

    def check() -> SignIn:
        from app.services.operators import sign_in as service_sign_in

        return service_sign_in(state.db, username, password)

    return DbOp(parent, check)


def change_own_password(
    parent: QObject, state: AppState, username: str, old: str, new: str
) -> Op[SignIn]:
    def change() -> SignIn:
        from app.services.operators import change_password

        return change_password(state.db, username, old, new)

    return DbOp(parent, change).changes(state, CHANGED)


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


def reset(parent: QObject, state: AppState, username: str, password: str) -> Op[OperatorView]:
    actor = state.require_actor()

    def run() -> OperatorView:
        from app.services.operators import reset_password

        return reset_password(state.db, username, password, by=actor)

    return DbOp(parent, run).changes(state, CHANGED)


def set_active(parent: QObject, state: AppState, username: str, active: bool) -> Op[OperatorView]:
    actor = state.require_actor()

    def run() -> OperatorView:
        from app.services.operators import set_active as service_set_active

        return service_set_active(state.db, username, active, by=actor)

    return DbOp(parent, run).changes(state, CHANGED)


def set_role(parent: QObject, state: AppState, username: str, role: Role) -> Op[OperatorView]:
    actor = state.require_actor()

    def run() -> OperatorView:
        from app.services.operators import set_role as service_set_role

        return service_set_role(state.db, username, role, by=actor)

    return DbOp(parent, run).changes(state, CHANGED)


def unlock(parent: QObject, state: AppState, username: str) -> Op[OperatorView]:
    actor = state.require_actor()

    def run() -> OperatorView:
        from app.services.operators import unlock as service_unlock

        return service_unlock(state.db, username, by=actor)

    return DbOp(parent, run).changes(state, CHANGED)


def policy(parent: QObject, state: AppState) -> Op[AccountPolicy]:
    def load() -> AccountPolicy:
        from app.services.operators import load_policy

        return load_policy(state.db)

    return DbOp(parent, load)


def save_policy(parent: QObject, state: AppState, new: AccountPolicy) -> Op[AccountPolicy]:
    actor = state.require_actor()

    def save() -> AccountPolicy:
        from app.services.operators import save_policy as service_save_policy

        return service_save_policy(state.db, new, by=actor)

    return DbOp(parent, save).changes(state, CHANGED)
