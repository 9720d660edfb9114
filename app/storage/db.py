"""Opening the counter's SQLite database: pragmas, migrations at start-up, sessions.

Guarantees:
* every connection runs with WAL, `synchronous=FULL` (a recorded payment survives a power cut
  once `record_payment` has returned), foreign keys on and a busy timeout;
* `Database.write()` starts with `BEGIN IMMEDIATE`, so two processes (the window and a scheduled
  `quaythu` command) serialise their writes and gap-free numbers are taken under the write lock;
* the schema is brought to the program's head revision when the database is opened — after a
  file backup when upgrading an existing database; a database newer than the program is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.errors import ConfigurationError

APP_NAME = "QuayThu"
_IMMEDIATE = "quaythu_immediate"


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "quaythu.sqlite3"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "app.storage:migrations")
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def configure_sqlite(engine: Engine, *, busy_timeout_ms: int = 15000) -> None:
    """Pragmas on every new connection, and BEGIN IMMEDIATE for write scopes (see `write`)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        # Straight to the driver: this starts every transaction (record_payment's hot path).
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    configure_sqlite(engine)
    return engine


class SessionScopes:
    """Short transaction scopes over an engine: `read()` and `write()` (shared with central/)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Write scopes run on the same engine (same pool, same events) with the option that makes
        # the "begin" event say BEGIN IMMEDIATE, set once here rather than per transaction.
        self._write_sessions = sessionmaker(
            engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (on SQLite under the write lock); commits on success."""
        with self._write_sessions() as session:
            session.connection()  # BEGIN IMMEDIATE now: the write lock before any read
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


class Database(SessionScopes):
    """The counter's migrated database (see `open_database`)."""

    def __init__(self, path: Path, engine: Engine) -> None:
        super().__init__(engine)
        self.path = path


def _chosen_backup_folder(path: Path) -> Path:
    """The backup folder chosen in Settings (`backup.folder`), else beside the database."""
    con = sqlite3.connect(path)
    try:
        row = con.execute("SELECT value FROM settings WHERE key = 'backup.folder'").fetchone()
    except sqlite3.DatabaseError:
        row = None
    finally:
        con.close()
    folder = Path(row[0]) if row and row[0] else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unplugged USB folder: the copy still goes beside the database
        folder = path.parent
    return folder


def _backup(path: Path, revision: str) -> Path:
    """A copy before migrating, checked with `PRAGMA integrity_check`: a damaged database is not
    migrated (the copy is kept for whoever repairs it)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = _chosen_backup_folder(path)
    target = folder / f"{path.stem}.backup-{revision}-{stamp}{path.suffix}"
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            integrity = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if integrity != "ok":
        raise ConfigurationError(
            f"Cơ sở dữ liệu {path} bị hỏng ({integrity}); không nâng cấp. Bản sao trước khi nâng "
            f"cấp: {target}. Hãy khôi phục bản sao lưu gần nhất (docs/BACKUP.md).",
            message_en=f"database {path} failed integrity_check before migrating",
        )
    return target


def open_database(path: Path | None = None) -> Database:
    """Open (creating if needed) and migrate the database at `path` (default: user data folder)."""
    path = Path(path) if path is not None else default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path)
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        known = {rev.revision for rev in script.walk_revisions()}
        if current is not None and current not in known:
            engine.dispose()
            raise ConfigurationError(
                f"Cơ sở dữ liệu {path} được tạo bởi phiên bản QuầyThu mới hơn chương trình này "
                f"(phiên bản dữ liệu {current}). Hãy cài phiên bản QuầyThu mới hơn; "
                "không mở để tránh làm hỏng dữ liệu.",
                message_en=f"database {path} is newer than this program (revision {current})",
            )
        if current is not None:
            _backup(path, current)
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return Database(path, engine)
