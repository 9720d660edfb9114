"""Operator accounts: who may take payments, who may void, who administers the counter — and the
password lifecycle (docs/ACCOUNTS.md).

Guarantees:
- passwords are stored as argon2id hashes only; a new one passes `app.domain.passwords` policy and
  is not the current one nor one of the `HISTORY_DEPTH` before it;
- an account made or reset by an admin owes a change at its next sign-in; a password older than
  the maximum age (a setting, at most 180 days, never off) must be changed at sign-in, with a
  warning from `expiry_warning_days` before;
- `lockout_threshold` failed sign-ins in a row lock the account for `lockout_minutes` (stored on
  the account, so a restart does not reset it); an admin can unlock;
- an unknown user name costs one argon2 verify like a known one, and gets the same message;
- accounts are disabled, never deleted; the last active admin cannot be disabled or demoted;
- every change, every sign-in and every failure is an audit event, sealed with the counter's
  key like every audit entry (docs/LEDGER.md), though a failure names no operator.

The argon2 verify runs outside any write transaction: a sign-in never holds SQLite's write lock
for the length of a hash.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.clock import format_local, now_utc
from app.domain.codes import encode_crockford, group_symbols
from app.domain.passwords import (
    HISTORY_DEPTH,
    ChangeReason,
    PasswordStatus,
    check_password,
    dummy_verify,
    hash_password,
    needs_rehash,
    password_matches,
    password_status,
)
from app.domain.text import check_text
from app.domain.types import Role
from app.errors import ConfigurationError, NotFoundError, UserFacingError, ValidationError
from app.services.common import Actor, actor_of
from app.services.masterdata import seal_operator, seal_unsealed
from app.services.pricing_state import seal_unsealed_pricing
from app.services.queries import add_operator_row, audit, load_actor
from app.services.sealing import check_heads, counter_id_of, ledger_key
from app.storage.db import Database
from app.storage.models import Operator, Setting

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,32}$")


# --- policy settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountPolicy:
    max_age_days: int = 180
    expiry_warning_days: int = 14
    lockout_threshold: int = 5
    lockout_minutes: int = 15


POLICY_DEFAULTS = AccountPolicy()
_POLICY_KEYS = {
    "max_age_days": "accounts.password_max_age_days",
    "expiry_warning_days": "accounts.expiry_warning_days",
    "lockout_threshold": "accounts.lockout_threshold",
    "lockout_minutes": "accounts.lockout_minutes",
}
_POLICY_LIMITS = {
    "max_age_days": (1, 180, "Số ngày mật khẩu còn hiệu lực"),
    "expiry_warning_days": (1, 60, "Số ngày báo trước khi mật khẩu hết hạn"),
    "lockout_threshold": (3, 20, "Số lần nhập sai liên tiếp thì khóa"),
    "lockout_minutes": (1, 1440, "Số phút khóa tài khoản"),
}


def _load_policy(session: Session) -> AccountPolicy:
    found = session.execute(
        select(Setting.key, Setting.value).where(Setting.key.in_(list(_POLICY_KEYS.values())))
    )
    rows = {key: value for key, value in found}
    values: dict[str, int] = {}
    for name, key in _POLICY_KEYS.items():
        low, high, _ = _POLICY_LIMITS[name]
        try:
            value = int(rows[key])
        except (KeyError, ValueError):
            continue
        if low <= value <= high:  # a hand-edited value out of range falls back to the default
            values[name] = value
    return replace(POLICY_DEFAULTS, **values)


def load_policy(db: Database) -> AccountPolicy:
    with db.read() as session:
        return _load_policy(session)


def save_policy(db: Database, policy: AccountPolicy, *, by: Actor) -> AccountPolicy:
    """Admin only; every value within its limits (the password age can never be turned off)."""
    by.require(Role.ADMIN, action="đổi chính sách mật khẩu")
    for name, (low, high, label) in _POLICY_LIMITS.items():
        value = getattr(policy, name)
        if not low <= value <= high:
            raise ValidationError(
                name, label, f"phải từ {low} đến {high}", rule_en=f"between {low} and {high}"
            )
    with db.write() as session:
        load_actor(session, by)
        before = _load_policy(session)
        for name, key in _POLICY_KEYS.items():
            session.merge(Setting(key=key, value=str(getattr(policy, name))))
        audit(session, "accounts.policy", actor=by, before=before.__dict__, after=policy.__dict__)
    return policy


# --- views ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorView:
    id: int
    username: str
    full_name: str
    role: Role
    active: bool
    must_change: ChangeReason | None = None
    locked_until: datetime | None = None
    password_changed_at: datetime | None = None

    @property
    def status_label(self) -> str:
        if not self.active:
            return "Đã vô hiệu hóa"
        if self.locked_until is not None and self.locked_until > now_utc():
            return f"Tạm khóa đến {format_local(self.locked_until, '%H:%M %d/%m')}"
        if self.must_change is not None:
            return "Phải đổi mật khẩu"
        return "Đang hoạt động"


def _view(op: Operator) -> OperatorView:
    return OperatorView(
        op.id,
        op.username,
        op.full_name,
        Role(op.role),
        op.active,
        ChangeReason(op.must_change) if op.must_change else None,
        op.locked_until,
        op.password_changed_at,
    )


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: who, and what they owe about their password."""

    actor: Actor
    password: PasswordStatus
    # The books compared with their head anchor at sign-in (docs/LEDGER.md): each line says
    # what is missing or different. Empty when all is well.
    ledger_findings: tuple[str, ...] = ()

    @property
    def change_required(self) -> ChangeReason | None:
        return self.password.change_required


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
    # Printed on receipts and in Mẫu 01-XN (XLSX): no control or invisible characters.
    check_text(full_name, "full_name", "Họ và tên", name=True)
    check_password(password, username=username)


def create_operator(
    db: Database, *, username: str, full_name: str, role: Role, password: str, by: Actor
) -> OperatorView:
    """A new account whose first password (chosen by the admin) must be changed at first
    sign-in."""
    by.require(Role.ADMIN, action="tạo tài khoản người dùng")
    validate_account(username, full_name, password)
    with db.write() as session:
        load_actor(session, by)
        op = add_operator_row(session, username, full_name, role, password)
        op.must_change = ChangeReason.FIRST.value
        seal_operator(session, op, actor=by)
        audit(session, "operator.create", actor=by, subject=username, role=role.value)
        return _view(op)


# --- signing in -----------------------------------------------------------------------------

_WRONG = "Sai tên đăng nhập hoặc mật khẩu."


_keyless: ContextVar[bool] = ContextVar("keyless_sign_in", default=False)


def _login_audit(session: Session, action: str, **kw: Any) -> None:
    """A sign-in's audit entry — skipped (and logged) on a PC without the counter's key."""
    if _keyless.get():
        log.warning("sign-in without the counter's key here: %s not sealed into the audit", action)
        return
    audit(session, action, **kw)


def _wrong() -> UserFacingError:
    # The same words whether the name exists or not (no count of tries left: that would tell).
    return UserFacingError(_WRONG, message_en="wrong user name or password")


def _locked_message(until: datetime, now: datetime) -> UserFacingError:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))  # round up
    return UserFacingError(
        f"Tài khoản đang tạm khóa vì nhập sai mật khẩu nhiều lần liên tiếp. "
        f"Thử lại sau {minutes} phút (lúc {format_local(until, '%H:%M')}), "
        "hoặc nhờ quản trị viên mở khóa.",
        message_en=f"account locked for {minutes} more minute(s)",
    )


@dataclass(frozen=True)
class _Snapshot:
    id: int
    password_hash: str
    active: bool
    locked_until: datetime | None


def _snapshot(db: Database, username: str) -> _Snapshot | None:
    with db.read() as session:
        op = session.scalar(select(Operator).where(Operator.username == username))
        if op is None:
            return None
        return _Snapshot(op.id, op.password_hash, op.active, op.locked_until)


def _record_failure(db: Database, username: str, op_id: int | None, now: datetime) -> None:
    """Count a wrong password (in a row) and lock at the threshold; raises the message."""
    with db.write() as session:
        policy = _load_policy(session)
        op = session.get(Operator, op_id) if op_id is not None else None
        if op is None or not op.active:
            _login_audit(session, "login.failed", actor=None, subject=username[:100])
            session.commit()
            raise _wrong()
        op.failed_logins = (op.failed_logins or 0) + 1
        if op.failed_logins >= policy.lockout_threshold:
            op.locked_until = now + timedelta(minutes=policy.lockout_minutes)
            op.failed_logins = 0
            _login_audit(
                session,
                "login.locked",
                actor=None,
                subject=username,
                until=op.locked_until,
                minutes=policy.lockout_minutes,
            )
            session.commit()
            raise _locked_message(op.locked_until, now)
        _login_audit(
            session, "login.failed", actor=None, subject=username, in_a_row=op.failed_logins
        )
        session.commit()
        raise _wrong()


def _check_credentials(db: Database, username: str, password: str, now: datetime) -> int:
    """The operator id when `password` is right and the account may sign in; else raises (after
    the same argon2 work whatever the reason)."""
    snap = _snapshot(db, username)
    if snap is None:
        dummy_verify(password)
        _record_failure(db, username, None, now)
        raise AssertionError("unreachable")
    ok = password_matches(snap.password_hash, password)
    if snap.locked_until is not None and snap.locked_until > now:
        with db.write() as session:
            _login_audit(session, "login.refused_locked", actor=None, subject=username)
        raise _locked_message(snap.locked_until, now)
    if not ok or not snap.active:
        _record_failure(db, username, snap.id, now)
    return snap.id


def sign_in(db: Database, username: str, password: str, *, now: datetime | None = None) -> SignIn:
    """Check a user name and password; on success the account's failure count is cleared and the
    password's status says whether a change is owed (the front end must get it before anything
    else) or a warning is due."""
    now = now or now_utc()
    username = username.strip()
    # Every audit entry below is sealed with the counter's key: read it (cached for the session
    # that follows) before any write lock is taken — never a keyring call under the lock.
    sealed = counter_id_of(db) is not None
    if sealed:
        try:
            ledger_key(db)
        except ConfigurationError:
            # A new PC after `restore`: the key stayed in the old PC's keyring. Signing in is
            # then only good for `rekey` (payments need the key), which is audited with its
            # actor; entries that cannot be sealed are not written (docs/BACKUP.md).
            sealed = False
            _keyless.set(True)
    try:
        return _sign_in(db, username, password, now, sealed)
    finally:
        _keyless.set(False)


def _sign_in(db: Database, username: str, password: str, now: datetime, sealed: bool) -> SignIn:
    op_id = _check_credentials(db, username, password, now)
    rehash = None
    with db.read() as session:
        current = session.get(Operator, op_id)
        if current is not None and needs_rehash(current.password_hash):
            rehash = hash_password(password)
    with db.write() as session:
        op = session.get(Operator, op_id)
        if op is None or not op.active:
            raise _wrong()
        op.failed_logins = 0
        op.locked_until = None
        if rehash is not None:
            op.password_hash = rehash
        policy = _load_policy(session)
        status = password_status(
            changed_at=op.password_changed_at,
            now=now,
            max_age_days=policy.max_age_days,
            warn_days=policy.expiry_warning_days,
            pending=ChangeReason(op.must_change) if op.must_change else None,
        )
        actor = actor_of(op)
        if sealed:
            # A database from before the printed names were sealed: seal them now, once.
            seal_unsealed(session, actor=actor)
            seal_unsealed_pricing(session, actor=actor)
        _login_audit(
            session,
            "login",
            actor=actor,
            subject=username,
            change_required=status.change_required,
        )
    findings: tuple[str, ...] = ()
    if sealed:
        # The start of every session at the window and of every CLI command run as an operator:
        # compare the books with their head anchor; the window shows what is found, the log
        # keeps it.
        found = check_heads(db)
        for finding in found:
            log.warning("ledger head anchor at sign-in: %s %s", finding.kind, finding.record)
        findings = tuple(f.message for f in found)
    return SignIn(actor, status, findings)


def authenticate(db: Database, username: str, password: str) -> Actor:
    """`sign_in` for callers that only need the operator (a supervisor's signature, tests)."""
    return sign_in(db, username, password).actor


# --- changing passwords ---------------------------------------------------------------------


def _history(op: Operator) -> list[str]:
    try:
        value = json.loads(op.previous_hashes or "[]")
    except ValueError:
        return []
    return [h for h in value if isinstance(h, str)]


def _check_not_reused(op: Operator, new_password: str) -> None:
    for old in [op.password_hash, *_history(op)[:HISTORY_DEPTH]]:
        if password_matches(old, new_password):
            raise ValidationError(
                "new_password",
                "Mật khẩu mới",
                f"không được trùng mật khẩu hiện tại hay {HISTORY_DEPTH} mật khẩu trước đó",
                rule_en=f"must differ from the current and the previous {HISTORY_DEPTH}",
            )


def _set_password(op: Operator, new_hash: str, now: datetime, owed: ChangeReason | None) -> None:
    op.previous_hashes = json.dumps([op.password_hash, *_history(op)][:HISTORY_DEPTH])
    op.password_hash = new_hash
    op.password_changed_at = now
    op.must_change = owed.value if owed else None
    op.failed_logins = 0
    op.locked_until = None


def change_password(
    db: Database,
    username: str,
    old_password: str,
    new_password: str,
    *,
    now: datetime | None = None,
) -> SignIn:
    """The operator changes their own password: the old one is required (a wrong one counts
    towards the lockout like a failed sign-in). Returns the sign-in, now owing nothing."""
    now = now or now_utc()
    username = username.strip()
    check_password(new_password, username=username, field="new_password", label="Mật khẩu mới")
    op_id = _check_credentials(db, username, old_password, now)
    if new_password == old_password:
        raise ValidationError(
            "new_password",
            "Mật khẩu mới",
            "phải khác mật khẩu hiện tại",
            rule_en="must differ from the current one",
        )
    with db.read() as session:
        op = session.get(Operator, op_id)
        assert op is not None
        _check_not_reused(op, new_password)
    new_hash = hash_password(new_password)
    with db.write() as session:
        op = session.get(Operator, op_id)
        if op is None or not op.active:
            raise _wrong()
        owed = op.must_change
        _set_password(op, new_hash, now, None)
        actor = actor_of(op)
        audit(session, "password.change", actor=actor, subject=username, was_owed=owed)
        policy = _load_policy(session)
    status = password_status(
        changed_at=now,
        now=now,
        max_age_days=policy.max_age_days,
        warn_days=policy.expiry_warning_days,
    )
    return SignIn(actor, status)


def _target(session: Session, username: str) -> Operator:
    op = session.scalar(select(Operator).where(Operator.username == username.strip()))
    if op is None:
        raise NotFoundError(
            f"Không có tài khoản “{username}”.", message_en=f"no operator {username!r}"
        )
    return op


def reset_password(
    db: Database, username: str, new_password: str, *, by: Actor, now: datetime | None = None
) -> OperatorView:
    """An admin sets another operator's password; it must be changed at their next sign-in.
    Also clears a lockout."""
    by.require(Role.ADMIN, action="đặt lại mật khẩu")
    now = now or now_utc()
    check_password(
        new_password, username=username.strip(), field="new_password", label="Mật khẩu mới"
    )
    with db.read() as session:
        _check_not_reused(_target(session, username), new_password)
    new_hash = hash_password(new_password)
    with db.write() as session:
        load_actor(session, by)
        op = _target(session, username)
        _set_password(op, new_hash, now, ChangeReason.RESET)
        audit(session, "password.reset", actor=by, subject=op.username)
        return _view(op)


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Operator)
            .where(Operator.role == Role.ADMIN.value, Operator.active.is_(True))
        )
        or 0
    )


def _last_admin_guard(session: Session, op: Operator, doing: str) -> None:
    if op.active and op.role == Role.ADMIN.value and _active_admins(session) <= 1:
        raise UserFacingError(
            f"Không thể {doing} {op.username}: đây là quản trị viên cuối cùng còn hoạt động. "
            "Hãy cấp quyền quản trị cho người khác trước.",
            message_en="the last active admin cannot be disabled or demoted",
        )


def set_active(db: Database, username: str, active: bool, *, by: Actor) -> OperatorView:
    """Disable (never delete) or re-enable an account."""
    by.require(Role.ADMIN, action="vô hiệu hóa hay kích hoạt tài khoản")
    with db.write() as session:
        load_actor(session, by)
        op = _target(session, username)
        if op.active == active:
            return _view(op)
        if not active:
            _last_admin_guard(session, op, "vô hiệu hóa")
        op.active = active
        if active:
            op.failed_logins = 0
            op.locked_until = None
        seal_operator(session, op, actor=by)
        audit(
            session,
            "operator.enable" if active else "operator.disable",
            actor=by,
            subject=op.username,
        )
        return _view(op)


def set_role(db: Database, username: str, role: Role, *, by: Actor) -> OperatorView:
    by.require(Role.ADMIN, action="đổi vai trò người dùng")
    with db.write() as session:
        load_actor(session, by)
        op = _target(session, username)
        if op.role == role.value:
            return _view(op)
        if role is not Role.ADMIN:
            _last_admin_guard(session, op, "bỏ quyền quản trị của")
        before = op.role
        op.role = role.value
        seal_operator(session, op, actor=by)
        audit(
            session, "operator.role", actor=by, subject=op.username, before=before, after=role.value
        )
        return _view(op)


def unlock(db: Database, username: str, *, by: Actor) -> OperatorView:
    by.require(Role.ADMIN, action="mở khóa tài khoản")
    with db.write() as session:
        load_actor(session, by)
        op = _target(session, username)
        was = op.locked_until
        op.failed_logins = 0
        op.locked_until = None
        audit(session, "operator.unlock", actor=by, subject=op.username, was_locked_until=was)
        return _view(op)


def list_operators(db: Database) -> list[OperatorView]:
    with db.read() as session:
        ops = session.scalars(select(Operator).order_by(Operator.username)).all()
        return [_view(o) for o in ops]


# --- emergency access: the recovery code (docs/ACCOUNTS.md) ---------------------------------

RECOVERY_KEY = "accounts.recovery_hash"
RECOVERY_GROUPS = 5  # 5 groups of 4 = 20 symbols = 100 bits


def _new_recovery_code() -> str:
    import secrets

    # Crockford base 32 (app.domain.codes): read aloud and typed back cleanly.
    return group_symbols(
        encode_crockford(secrets.randbits(20 * RECOVERY_GROUPS), 4 * RECOVERY_GROUPS)
    )


def _normal_code(code: str) -> str:
    cleaned = "".join(code.upper().split()).replace("-", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def issue_recovery_code(db: Database, *, by: Actor) -> str:
    """A new one-time recovery code (shown once, to be printed and kept by the supervisor); only
    its argon2 hash is stored, and it replaces any earlier code."""
    by.require(Role.ADMIN, action="cấp mã khôi phục")
    code = _new_recovery_code()
    stored = hash_password(_normal_code(code))
    with db.write() as session:
        load_actor(session, by)
        replaced = session.get(Setting, RECOVERY_KEY) is not None
        session.merge(Setting(key=RECOVERY_KEY, value=stored))
        audit(session, "recovery.issue", actor=by, replaced=replaced)
    return code


@dataclass(frozen=True)
class Recovered:
    operator: OperatorView
    new_code: str


def recover_admin(
    db: Database, username: str, code: str, new_password: str, *, now: datetime | None = None
) -> Recovered:
    """Emergency access at the counter PC: the recovery code sets a new password for an admin
    account (re-enabled and unlocked if need be). The code is used up; a new one is returned."""
    now = now or now_utc()
    username = username.strip()
    check_password(new_password, username=username, field="new_password", label="Mật khẩu mới")
    with db.read() as session:
        stored = session.scalar(select(Setting.value).where(Setting.key == RECOVERY_KEY))
    if stored is None or not password_matches(stored, _normal_code(code)):
        with db.write() as session:
            audit(session, "recovery.failed", actor=None, subject=username[:100])
        raise UserFacingError(
            "Mã khôi phục không đúng (hoặc quầy chưa có mã khôi phục).",
            message_en="wrong recovery code",
        )
    new_code = _new_recovery_code()
    new_code_hash = hash_password(_normal_code(new_code))
    new_hash = hash_password(new_password)
    with db.write() as session:
        if session.scalar(select(Setting.value).where(Setting.key == RECOVERY_KEY)) != stored:
            raise UserFacingError(
                "Mã khôi phục vừa được dùng hoặc thay; hãy dùng mã mới.",
                message_en="recovery code already used",
            )
        op = _target(session, username)
        if op.role != Role.ADMIN.value:
            raise UserFacingError(
                f"{op.username} không phải quản trị viên; mã khôi phục chỉ dùng cho quản trị viên.",
                message_en="recovery is for admin accounts only",
            )
        _set_password(op, new_hash, now, None)
        op.active = True
        session.merge(Setting(key=RECOVERY_KEY, value=new_code_hash))
        actor = actor_of(op)
        seal_operator(session, op, actor=actor)
        audit(session, "recovery.used", actor=actor, subject=op.username, new_code_issued=True)
        return Recovered(_view(op), new_code)


def has_recovery_code(db: Database) -> bool:
    with db.read() as session:
        return session.get(Setting, RECOVERY_KEY) is not None
