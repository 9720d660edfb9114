"""Emergency access: the one-time recovery code printed at set-up brings back a lost last-admin
password at the counter PC; used once, replaced, audited (docs/ACCOUNTS.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import UserFacingError
from app.services.common import Actor
from app.services.operators import (
    RECOVERY_KEY,
    issue_recovery_code,
    recover_admin,
    set_active,
    sign_in,
)
from app.storage.db import Database
from app.storage.models import AuditEvent, Setting
from tests.support.counters import ADMIN_USERNAME, CASHIER

NEW = "lua-thom-bac-ninh"


def test_recovery_code_is_single_use_and_only_its_hash_is_kept(
    db: Database, admin: Actor, cashier: Actor
) -> None:
    code = issue_recovery_code(db, by=admin)
    assert len(code) == 24 and code.count("-") == 4
    with db.read() as s:
        stored = s.scalar(select(Setting.value).where(Setting.key == RECOVERY_KEY))
    assert stored is not None and stored.startswith("$argon2") and code not in stored
    with pytest.raises(UserFacingError, match="không đúng"):
        recover_admin(db, ADMIN_USERNAME, "AAAA-BBBB-CCCC-DDDD-EEEE", NEW)
    with pytest.raises(UserFacingError, match="chỉ dùng cho quản trị viên"):
        recover_admin(db, CASHIER.username, code, NEW)
    done = recover_admin(db, ADMIN_USERNAME, code.lower().replace("-", " "), NEW)
    assert sign_in(db, ADMIN_USERNAME, NEW).change_required is None
    assert done.new_code != code
    with pytest.raises(UserFacingError, match="không đúng"):
        recover_admin(db, ADMIN_USERNAME, code, "mot-mat-khau-khac")  # used up
    recover_admin(db, ADMIN_USERNAME, done.new_code, "mot-mat-khau-khac")
    with db.read() as s:
        acts = [e.action for e in s.scalars(select(AuditEvent))]
    assert acts.count("recovery.used") == 2 and "recovery.failed" in acts


def test_recovery_re_enables_a_disabled_admin(db: Database, admin: Actor) -> None:
    code = issue_recovery_code(db, by=admin)
    from app.domain.types import Role
    from app.services.operators import create_operator, set_role

    create_operator(
        db,
        username="quantri2",
        full_name="Quản Trị Hai",
        role=Role.CASHIER,
        password="tam-thoi-hai-2",
        by=admin,
    )
    set_role(db, "quantri2", Role.ADMIN, by=admin)
    set_active(db, ADMIN_USERNAME, False, by=admin)
    recover_admin(db, ADMIN_USERNAME, code, NEW)
    assert sign_in(db, ADMIN_USERNAME, NEW).actor.username == ADMIN_USERNAME
