"""app.services.settings (written for the window; kept here with the UI tests that use it)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.errors import PermissionDenied, ValidationError
from app.services.common import Actor
from app.services.settings import (
    DEFAULTS,
    CounterSettings,
    ReceiptFormat,
    load_settings,
    save_settings,
)
from app.storage.db import Database
from app.storage.models import AuditEvent, Setting


def test_defaults_when_nothing_is_stored(db: Database, admin: Actor) -> None:
    assert load_settings(db) == DEFAULTS
    assert DEFAULTS.idle_lock_minutes == 10 and DEFAULTS.receipt_format is ReceiptFormat.ROLL_80MM


def test_admin_saves_and_the_change_is_audited(db: Database, admin: Actor) -> None:
    new = CounterSettings(
        printer_name="  XP-80C  ",
        receipt_format=ReceiptFormat.A5,
        auto_print=False,
        idle_lock_minutes=5,
    )
    saved = save_settings(db, new, by=admin)
    assert saved.printer_name == "XP-80C"
    assert load_settings(db) == saved
    with db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "settings.update")
        ).one()
        changed = json.loads(event.details)["changed"]
    assert changed["lock.idle_minutes"] == ["10", "5"]
    assert changed["receipt.format"] == ["roll_80mm", "a5"]
    # Saving the same again changes nothing and audits nothing.
    save_settings(db, saved, by=admin)
    with db.read() as session:
        count = len(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.update")).all()
        )
    assert count == 1


def test_only_admins_may_save(db: Database, admin: Actor) -> None:
    from app.domain.types import Role
    from app.services.operators import authenticate, create_operator

    create_operator(
        db,
        username="thungan9",
        full_name="Thu Ngân",
        role=Role.CASHIER,
        password="hoasen-ngan9-26",
        by=admin,
    )
    cashier = authenticate(db, "thungan9", "hoasen-ngan9-26")
    with pytest.raises(PermissionDenied):
        save_settings(db, DEFAULTS, by=cashier)


@pytest.mark.parametrize("minutes", [0, 241])
def test_idle_minutes_out_of_range(db: Database, admin: Actor, minutes: int) -> None:
    with pytest.raises(ValidationError) as err:
        save_settings(db, CounterSettings(idle_lock_minutes=minutes), by=admin)
    assert err.value.field == "idle_lock_minutes"


def test_unreadable_stored_value_falls_back_to_default(db: Database, admin: Actor) -> None:
    with db.write() as session:
        session.add(Setting(key="lock.idle_minutes", value="mười"))
        session.add(Setting(key="receipt.format", value="a5"))
    settings = load_settings(db)
    assert settings.idle_lock_minutes == DEFAULTS.idle_lock_minutes
    assert settings.receipt_format is ReceiptFormat.A5
