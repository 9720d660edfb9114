"""Operator accounts: who may take payments, who may void, who administers the counter.

Passwords are stored as argon2id hashes only. Failed logins are audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.clock import now_utc
from app.domain.types import Role
from app.errors import UserFacingError, ValidationError
from app.services.common import Actor, actor_of, audit, load_actor
from app.storage.db import Database
from app.storage.models import Operator

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,32}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class OperatorView:
    id: int
    username: str
    full_name: str
    role: Role
    active: bool


def validate_account(username: str, full_name: str, password: str) -> None:
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "username",
            "Tên đăng nhập",
            "chỉ gồm 3–32 chữ thường không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới",
            rule_en="3-32 lower-case ASCII letters, digits, '.', '-' or '_'",
        )
    if not full_name.strip():
        raise ValidationError("full_name", "Họ và tên", "không được để trống", rule_en="required")
    check_password(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            "password",
            "Mật khẩu",
            f"phải có ít nhất {MIN_PASSWORD} ký tự",
            rule_en=f"at least {MIN_PASSWORD} characters",
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
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
        password_changed_at=now,
    )
    session.add(op)
    session.flush()
    return op


def create_first_admin(db: Database, *, username: str, full_name: str, password: str) -> Actor:
    """The first account of a new counter; refused once any operator exists."""
    validate_account(username, full_name, password)
    with db.write() as session:
        if session.scalar(select(func.count()).select_from(Operator)):
            raise UserFacingError(
                "Quầy đã có tài khoản; hãy đăng nhập bằng tài khoản quản trị để thêm người dùng."
            )
        op = add_operator_row(session, username, full_name, Role.ADMIN, password)
        actor = actor_of(op)
        audit(session, "operator.create", actor=actor, subject=username, role=Role.ADMIN.value)
        return actor


def create_operator(
    db: Database, *, username: str, full_name: str, role: Role, password: str, by: Actor
) -> OperatorView:
    by.require(Role.ADMIN, action="tạo tài khoản người dùng")
    validate_account(username, full_name, password)
    with db.write() as session:
        load_actor(session, by)
        op = add_operator_row(session, username, full_name, role, password)
        audit(session, "operator.create", actor=by, subject=username, role=role.value)
        return OperatorView(op.id, op.username, op.full_name, role, op.active)


def authenticate(db: Database, username: str, password: str) -> Actor:
    with db.write() as session:
        op = session.scalar(select(Operator).where(Operator.username == username.strip()))
        ok = False
        if op is not None and op.active:
            try:
                ok = _hasher.verify(op.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok or op is None:
            audit(session, "login.failed", actor=None, subject=username)
            session.commit()
            raise UserFacingError(
                "Sai tên đăng nhập hoặc mật khẩu.", message_en="wrong user name or password"
            )
        if _hasher.check_needs_rehash(op.password_hash):
            op.password_hash = _hasher.hash(password)
        actor = actor_of(op)
        audit(session, "login", actor=actor, subject=username)
        return actor


def change_password(db: Database, actor: Actor, old: str, new: str) -> None:
    check_password(new)
    authenticate(db, actor.username, old)
    with db.write() as session:
        op = load_actor(session, actor)
        op.password_hash = _hasher.hash(new)
        op.password_changed_at = now_utc()
        audit(session, "operator.password", actor=actor, subject=actor.username)


def list_operators(db: Database) -> list[OperatorView]:
    with db.read() as session:
        ops = session.scalars(select(Operator).order_by(Operator.username)).all()
        return [OperatorView(o.id, o.username, o.full_name, Role(o.role), o.active) for o in ops]
