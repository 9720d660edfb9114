"""Shared fixtures: headless Qt, an in-memory keyring, a real SQLite file per test, and the
counter's people (made up once in tests/support/counters.py)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app.services.common import Actor
from app.services.participants import ParticipantView, create_participant
from app.storage.db import Database, open_database
from tests.support.counters import ADMIN_PASSWORD as ADMIN_PASSWORD  # tests sign in with it
from tests.support.counters import (
    CASHIER,
    PAYER,
    SUPERVISOR,
    add_staff,
    init_test_counter,
    open_test_shift,
)
from tests.support.keyrings import MemoryKeyring


@pytest.fixture(autouse=True)
def memory_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    # The no-keyring fallback file is chosen only by a test that means to (tests/services/
    # test_secrets_file.py); a real one in this user's folder must never be picked up here.
    monkeypatch.setenv("QUAYTHU_SECRETS_FILE", str(tmp_path / "no-secrets-file" / "secrets.json"))
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "counter.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture
def admin(db: Database) -> Actor:
    return init_test_counter(db)


@pytest.fixture
def cashier(db: Database, admin: Actor) -> Actor:
    """The cashier, signed in, with the counter's shift open (docs/SHIFTS.md)."""
    actor = add_staff(db, admin, CASHIER)
    open_test_shift(db, actor)
    return actor


@pytest.fixture
def supervisor(db: Database, admin: Actor) -> Actor:
    return add_staff(db, admin, SUPERVISOR)


@pytest.fixture
def payer(db: Database, cashier: Actor) -> ParticipantView:
    return create_participant(db, PAYER, by=cashier)
