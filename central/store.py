"""The central database: SQLite by default (a file path), PostgreSQL by database URL.

SQLite runs in WAL mode with `synchronous=FULL` (an acknowledged batch survives a power cut) and
write transactions start with `BEGIN IMMEDIATE`, so concurrent uploads — say a retried batch
arriving while the first attempt is still being stored — queue behind each other instead of
interleaving. On PostgreSQL (READ COMMITTED) the same ordering comes from `SELECT … FOR UPDATE`
on the counter row (see `central.ingest.storage.lock_counter`): uploads of one counter queue,
uploads of different counters run side by side, and every statement after the lock sees what
the previous upload committed. Several API processes may share one PostgreSQL database.

The schema is brought to the program's head revision (Alembic, `central/migrations`) when the
store opens; on PostgreSQL under an advisory lock, so API workers starting together migrate once.
A database newer than the program is refused. `docs/CENTRAL.md` has the operator's view.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text

from app.errors import ConfigurationError
from app.storage.db import _IMMEDIATE, SessionScopes, configure_sqlite

ENV_DATABASE_URL = "QUAYTHU_CENTRAL_DATABASE_URL"
# pg_advisory_xact_lock key of the schema migration ("QTMIGR" in ASCII)
_MIGRATION_LOCK = 0x51544D494752
# Per API process: connections kept open, and extra ones allowed under load. A request waits
# up to POOL_TIMEOUT seconds for a connection rather than fail.
ENV_POOL_SIZE = "QUAYTHU_CENTRAL_POOL_SIZE"
ENV_POOL_OVERFLOW = "QUAYTHU_CENTRAL_POOL_OVERFLOW"
POOL_TIMEOUT = 60


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def normalise_url(url: str) -> str:
    """`postgresql://…` and `postgres://…` mean the psycopg (3) driver, the one installed."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "central:migrations")
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(conn)
    if current == script.get_current_head():
        return
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise ConfigurationError(
            f"Cơ sở dữ liệu trung tâm ở phiên bản dữ liệu {current}, mới hơn chương trình này; "
            "hãy cài phiên bản mới hơn. Không mở để tránh làm hỏng dữ liệu.",
            message_en=f"central database is newer than this program (revision {current})",
        )
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    if current is None and inspect(conn).has_table("counters"):
        # A database made by the reference server before it had migrations (create_all):
        # its tables are the first revision's.
        base = script.get_base()
        assert isinstance(base, str)
        command.stamp(cfg, base)
    command.upgrade(cfg, "head")


def migrate(engine: Engine) -> None:
    """Bring the schema to head, once even when several processes start together."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn = conn.execution_options(**{_IMMEDIATE: True})  # the write lock, taken first
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            _upgrade(conn)


def _pool_setting(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class CentralStore(SessionScopes):
    def __init__(self, url: str, *, migrate_schema: bool = True) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            engine = create_engine(
                self.url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
            )
            configure_sqlite(engine, busy_timeout_ms=30000)
        else:
            engine = create_engine(
                self.url,
                pool_pre_ping=True,
                pool_size=_pool_setting(ENV_POOL_SIZE, 10),
                max_overflow=_pool_setting(ENV_POOL_OVERFLOW, 10),
                pool_timeout=POOL_TIMEOUT,
            )
        if migrate_schema:
            try:
                migrate(engine)
            except BaseException:
                engine.dispose()
                raise
        super().__init__(engine)

    @classmethod
    def at_path(cls, path: Path) -> CentralStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(path))

    def readiness(self) -> str | None:
        """None when the database answers and its schema is at the program's head; otherwise
        what is wrong (for `/readyz`)."""
        try:
            with self.engine.connect() as conn:
                current = current_revision(conn)
                conn.rollback()
        except Exception as exc:  # the database is down, unreachable, refusing…
            return f"database unavailable: {type(exc).__name__}"
        head = head_revision()
        if current != head:
            return f"schema at {current}, program needs {head}"
        return None
