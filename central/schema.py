"""Central's schema is managed by Alembic (`central/migrations/`), like the counter's, and
migrated at start-up: `quaythu-central serve` (and every `CentralStore` that prepares the
database) upgrades to the newest revision before serving. A database made by v0.1 with
`create_all` (tables, no `alembic_version`) is stamped 0001 and upgraded from there; a
database newer than the program is refused. On PostgreSQL an advisory lock makes concurrent
starts migrate one at a time."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

_LOCK_ID = 0x51C7_2026  # pg_advisory_xact_lock key of central's migrations


class SchemaError(RuntimeError):
    pass


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "central:migrations")
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    cfg = alembic_config()
    known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None and current not in known:
            raise SchemaError(
                f"cơ sở dữ liệu trung tâm ở phiên bản {current}, mới hơn chương trình này; "
                "hãy cài phiên bản mới hơn"
            )
        cfg.attributes["connection"] = conn
        if current is None and inspect(conn).has_table("counters"):
            command.stamp(cfg, "0001")  # made by v0.1's create_all
        command.upgrade(cfg, "head")
