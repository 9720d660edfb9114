"""Migrations: from empty, upgrade with backup, newer database refused, models agree."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from app.errors import ConfigurationError
from app.storage.db import alembic_config, head_revision, open_database
from app.storage.models import Base


def _fts(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # FTS5's shadow tables are created by SQLite itself, not described by the models.
    return not (type_ == "table" and name is not None and name.startswith("participants_fts"))


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    db = open_database(tmp_path / "a.sqlite3")
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _fts})
        diff = compare_metadata(ctx, Base.metadata)
    db.close()
    assert diff == []


def test_new_database_is_at_head_with_safe_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "new.sqlite3"
    db = open_database(path)
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.close()
    assert list(path.parent.glob("*.backup-*")) == []  # nothing to back up on a new file


def test_upgrade_backs_up_first(tmp_path: Path) -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    first = revisions[-1].revision
    if first == head_revision():
        pytest.skip("only one revision so far: nothing to upgrade from")
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, first)
        conn.exec_driver_sql("INSERT INTO settings(key, value) VALUES ('marker', 'cũ')")
    engine.dispose()

    db = open_database(path)
    db.close()
    backups = list(tmp_path.glob(f"old.backup-{first}-*.sqlite3"))
    assert len(backups) == 1
    con = sqlite3.connect(backups[0])
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (first,)
    assert con.execute("SELECT value FROM settings WHERE key='marker'").fetchone() == ("cũ",)
    con.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    assert con.execute("SELECT value FROM settings WHERE key='marker'").fetchone() == ("cũ",)
    con.close()


def test_database_newer_than_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    open_database(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    with pytest.raises(ConfigurationError, match="phiên bản QuầyThu mới hơn"):
        open_database(path)
    con = sqlite3.connect(path)  # and it was left exactly as it was
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (
        "9999_from_the_future",
    )
    con.close()


def test_backup_before_migration_goes_to_the_chosen_folder(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    cfg = alembic_config()
    usb = tmp_path / "usb"
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_households")
        conn.exec_driver_sql(
            "INSERT INTO settings(key, value) VALUES ('backup.folder', ?)", (str(usb),)
        )
        conn.exec_driver_sql(
            "INSERT INTO operators(username, full_name, role, password_hash, active, created_at,"
            " password_changed_at) VALUES ('quantri', 'Q', 'admin', 'x', 1,"
            " '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')"
        )
    engine.dispose()
    open_database(path).close()
    assert len(list(usb.glob("old.backup-0003_households-*.sqlite3"))) == 1
    con = sqlite3.connect(path)  # 0006_accounts: the account keeps working, nothing owed
    row = con.execute(
        "SELECT must_change, failed_logins, locked_until, previous_hashes FROM operators"
    ).fetchone()
    con.close()
    assert row == (None, 0, None, "[]")
