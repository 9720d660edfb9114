"""The password lifecycle on a real SQLite file: policy, change, reset, expiry, lockout (across a
reopen), disable/enable, roles and the last admin, the audit trail (docs/ACCOUNTS.md)."""

from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.clock import now_utc
from app.domain.passwords import ChangeReason, check_password, is_common
from app.domain.types import Role
from app.errors import PermissionDenied, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.operators import (
    AccountPolicy,
    change_password,
    create_operator,
    list_operators,
    load_policy,
    reset_password,
    save_policy,
    set_active,
    set_role,
    sign_in,
    unlock,
)
from app.storage.db import Database, open_database
from app.storage.models import AuditEvent
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME, CASHIER

NEW = "lua-thom-bac-ninh"


def actions(db: Database) -> list[tuple[str, str]]:
    with db.read() as s:
        return [
            (e.action, e.subject) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("12345678", "ít nhất 10"),
        ("thungan1", "ít nhất 10"),
        ("1234567890", "phổ biến"),
        ("qwertyuiop", "phổ biến"),
        ("PASSWORD123", "phổ biến"),
        ("thungan1", "ít nhất 10"),
        ("Thungan1-2026", "tên đăng nhập"),
        ("ThuNgan1xx", "tên đăng nhập"),
    ],
)
def test_policy_refuses_with_the_rule_named(password: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule) as caught:
        check_password(password, username="thungan1")
    assert caught.value.field == "password"


def test_policy_part_of_a_long_user_name_and_the_list() -> None:
    with pytest.raises(ValidationError, match="tên đăng nhập"):
        check_password("nguyenthihang", username="nguyenthihang.2026")
    check_password("song-cau-2026", username="thungan1")  # fine
    assert is_common("password") and is_common("Dragon") and not is_common(NEW)


def test_first_password_must_be_changed_then_history(db: Database, admin: Actor) -> None:
    create_operator(
        db,
        username="thungan1",
        full_name="Ngân",
        role=Role.CASHIER,
        password="cau-vong-01-a",
        by=admin,
    )
    first = sign_in(db, "thungan1", "cau-vong-01-a")
    assert first.change_required is ChangeReason.FIRST
    with pytest.raises(UserFacingError, match="Sai tên đăng nhập"):
        change_password(db, "thungan1", "sai-mat-khau-x", NEW)
    with pytest.raises(ValidationError, match="phổ biến"):
        change_password(db, "thungan1", "cau-vong-01-a", "1234567890")
    done = change_password(db, "thungan1", "cau-vong-01-a", NEW)
    assert done.change_required is None
    assert sign_in(db, "thungan1", NEW).change_required is None
    with pytest.raises(UserFacingError, match="Sai tên"):
        sign_in(db, "thungan1", "cau-vong-01-a")  # the old one no longer works
    # not the current one nor the 3 before it
    seq = [NEW, "hai-hai-hai-2", "ba-ba-ba-ba-3", "bon-bon-bon-4"]
    for old, new in itertools.pairwise(seq):
        change_password(db, "thungan1", old, new)
    for reused in (NEW, "hai-hai-hai-2", "ba-ba-ba-ba-3", "bon-bon-bon-4"):
        with pytest.raises(ValidationError, match=r"(trùng|khác) mật khẩu"):
            change_password(db, "thungan1", "bon-bon-bon-4", reused)
    change_password(db, "thungan1", "bon-bon-bon-4", "nam-nam-nam-5")
    change_password(db, "thungan1", "nam-nam-nam-5", "cau-vong-01-a")  # 5 back: allowed again
    assert ("password.change", "thungan1") in actions(db)


def test_admin_set_up_password_owes_nothing(db: Database, admin: Actor) -> None:
    assert sign_in(db, ADMIN_USERNAME, ADMIN_PASSWORD).change_required is None


def test_reset_forces_a_change_and_needs_admin(db: Database, admin: Actor, cashier: Actor) -> None:
    with pytest.raises(PermissionDenied):
        reset_password(db, ADMIN_USERNAME, "khong-duoc-dau", by=cashier)
    reset_password(db, CASHIER.username, "mat-khau-tam-7", by=admin)
    assert sign_in(db, CASHIER.username, "mat-khau-tam-7").change_required is ChangeReason.RESET
    assert ("password.reset", CASHIER.username) in actions(db)


def test_expiry_warning_and_forced_change(db: Database, admin: Actor) -> None:
    now = now_utc()
    early = sign_in(db, ADMIN_USERNAME, ADMIN_PASSWORD, now=now + timedelta(days=100))
    assert early.change_required is None and not early.password.warn
    warned = sign_in(db, ADMIN_USERNAME, ADMIN_PASSWORD, now=now + timedelta(days=170))
    assert warned.change_required is None and warned.password.warn
    assert "hết hạn sau 9 ngày" in warned.password.warning
    expired = sign_in(db, ADMIN_USERNAME, ADMIN_PASSWORD, now=now + timedelta(days=181))
    assert expired.change_required is ChangeReason.EXPIRED
    # a shorter maximum age applies at once; the setting cannot be turned off or over 180
    save_policy(db, AccountPolicy(max_age_days=30), by=admin)
    later = sign_in(db, ADMIN_USERNAME, ADMIN_PASSWORD, now=now + timedelta(days=31))
    assert later.change_required is ChangeReason.EXPIRED
    for bad in (0, 181, 365):
        with pytest.raises(ValidationError, match="từ 1 đến 180"):
            save_policy(db, AccountPolicy(max_age_days=bad), by=admin)


def test_lockout_persists_across_a_restart_and_admin_unlocks(
    db_path: Path, db: Database, admin: Actor, cashier: Actor
) -> None:
    for _ in range(4):
        with pytest.raises(UserFacingError, match=r"^Sai tên đăng nhập hoặc mật khẩu\.$"):
            sign_in(db, CASHIER.username, "sai-mat-khau-x")
    with pytest.raises(UserFacingError, match=r"tạm khóa.*15 phút"):
        sign_in(db, CASHIER.username, "sai-mat-khau-x")
    db.close()
    reopened = open_database(db_path)  # a restart does not reset it
    try:
        with pytest.raises(UserFacingError, match=r"tạm khóa.*Thử lại sau 1[45] phút"):
            sign_in(reopened, CASHIER.username, CASHIER.password)  # even the right password
        later = now_utc() + timedelta(minutes=16)
        assert sign_in(reopened, CASHIER.username, CASHIER.password, now=later).actor.username
        for _ in range(5):
            with pytest.raises(UserFacingError):
                sign_in(reopened, CASHIER.username, "sai-mat-khau-x")
        view = next(v for v in list_operators(reopened) if v.username == CASHIER.username)
        assert "Tạm khóa" in view.status_label
        unlock(reopened, CASHIER.username, by=admin)
        assert sign_in(reopened, CASHIER.username, CASHIER.password).actor.role is Role.CASHIER
        acts = [a for a, _ in actions(reopened)]
        assert "login.locked" in acts and "operator.unlock" in acts
    finally:
        reopened.close()


def test_lockout_settings_are_used(db: Database, admin: Actor, cashier: Actor) -> None:
    save_policy(db, AccountPolicy(lockout_threshold=3, lockout_minutes=60), by=admin)
    assert load_policy(db).lockout_threshold == 3
    for _ in range(2):
        with pytest.raises(UserFacingError, match="Sai"):
            sign_in(db, CASHIER.username, "sai-mat-khau-x")
    with pytest.raises(UserFacingError, match="60 phút"):
        sign_in(db, CASHIER.username, "sai-mat-khau-x")


def test_unknown_user_costs_a_verify(db: Database, admin: Actor) -> None:
    def timed(user: str) -> float:
        t0 = time.perf_counter()
        with pytest.raises(UserFacingError, match="Sai tên đăng nhập hoặc mật khẩu") as c:
            sign_in(db, user, "sai-mat-khau-x")
        assert c.value.message == "Sai tên đăng nhập hoặc mật khẩu."  # the same words
        return time.perf_counter() - t0

    timed("khong-co-ai")  # warm the dummy hash
    known = min(timed(ADMIN_USERNAME) for _ in range(3))
    unknown = min(timed("khong-co-ai") for _ in range(3))
    assert unknown > known * 0.5  # an argon2 verify each, not an early return
    unlock(db, ADMIN_USERNAME, by=admin)


def test_disable_enable_and_the_last_admin(
    db: Database, admin: Actor, cashier: Actor, supervisor: Actor
) -> None:
    with pytest.raises(UserFacingError, match="quản trị viên cuối cùng"):
        set_active(db, ADMIN_USERNAME, False, by=admin)
    with pytest.raises(UserFacingError, match="quản trị viên cuối cùng"):
        set_role(db, ADMIN_USERNAME, Role.SUPERVISOR, by=admin)
    set_active(db, CASHIER.username, False, by=admin)
    with pytest.raises(UserFacingError, match="Sai tên đăng nhập"):
        sign_in(db, CASHIER.username, CASHIER.password)
    with pytest.raises(PermissionDenied, match="không còn hoạt động"):
        reset_password(
            db,
            ADMIN_USERNAME,
            "khong-the-dau-9",
            by=Actor(cashier.id, cashier.username, cashier.full_name, Role.ADMIN),
        )
    names = [v.username for v in list_operators(db)]
    assert CASHIER.username in names  # never deleted
    set_active(db, CASHIER.username, True, by=admin)
    assert sign_in(db, CASHIER.username, CASHIER.password).actor.id == cashier.id
    # a second admin makes the first one demotable
    set_role(db, "giamsat", Role.ADMIN, by=admin)
    set_role(db, ADMIN_USERNAME, Role.SUPERVISOR, by=admin)
    with pytest.raises(PermissionDenied):
        set_role(
            db,
            "giamsat",
            Role.CASHIER,
            by=Actor(admin.id, admin.username, admin.full_name, Role.SUPERVISOR),
        )
    with db.read() as s:
        role_event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "operator.role")
        ).first()
        assert role_event is not None
        assert json.loads(role_event.details)["after"] == "admin"
    acts = [a for a, _ in actions(db)]
    assert {"operator.disable", "operator.enable", "operator.role"} <= set(acts)
