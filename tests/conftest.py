"""Shared fixtures: headless Qt, an in-memory keyring, a real SQLite file per test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app.services.common import Actor
from app.storage.db import Database, open_database
from tests.support.keyrings import MemoryKeyring

ADMIN_PASSWORD = "quantri-2026"


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
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
    from app.services.counter import init_counter

    _, actor = init_counter(
        db,
        organisation="Bưu điện tỉnh Thái Nguyên",
        collection_point="Điểm thu Bưu điện xã Đồng Hỷ",
        counter_code="TN-DH01",
        admin_username="quantri",
        admin_full_name="Đặng Văn Quản",
        admin_password=ADMIN_PASSWORD,
    )
    return actor
