"""Operator accounts: who may take payments, who may void, who administers the counter.

Passwords are stored as argon2id hashes only. Failed logins are audited (sealed with the
counter's key like every audit entry, though no operator is named).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import select

from app.domain.passwords import check_password, hash_password, needs_rehash, password_matches
from app.domain.types import Role
from app.errors import UserFacingError, ValidationError
from app.services.common import Actor, actor_of
from app.services.queries import add_operator_row, audit, load_actor
from app.services.sealing import check_heads, counter_id_of, ledger_key, provide_key
from app.storage.db import Database
from app.storage.models import Operator

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,32}$")


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
    """Log in; the start of every session at the window and of every CLI command run as an
    operator, so it is also where the books are compared with their head anchor (findings go
    to the log; `app.services.sealing.check_heads` gives them to a front end to show)."""
    # The audit entry below is sealed with the counter's key: read it before the write lock
    # (this also caches it for the session that follows the login).
    sealing = ledger_key(db) if counter_id_of(db) is not None else None
    actor = _log_in(db, username, password, sealing)
    if sealing is not None:
        for finding in check_heads(db):
            log.warning("ledger head anchor at login: %s %s", finding.kind, finding.record)
    return actor


def _log_in(db: Database, username: str, password: str, sealing: tuple[str, bytes] | None) -> Actor:
    with db.write() as session:
        if sealing is not None:
            provide_key(session, *sealing)
        op = session.scalar(select(Operator).where(Operator.username == username.strip()))
        ok = op is not None and op.active and password_matches(op.password_hash, password)
        if not ok or op is None:
            audit(session, "login.failed", actor=None, subject=username)
            session.commit()
            raise UserFacingError(
                "Sai tên đăng nhập hoặc mật khẩu.", message_en="wrong user name or password"
            )
        if needs_rehash(op.password_hash):
            op.password_hash = hash_password(password)
        actor = actor_of(op)
        audit(session, "login", actor=actor, subject=username)
        return actor


def list_operators(db: Database) -> list[OperatorView]:
    with db.read() as session:
        ops = session.scalars(select(Operator).order_by(Operator.username)).all()
        return [OperatorView(o.id, o.username, o.full_name, Role(o.role), o.active) for o in ops]
