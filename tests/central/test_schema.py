"""Central's schema comes from its Alembic migrations, run at start-up, on SQLite and on a real
PostgreSQL server: the migrated schema is exactly the models', a v0.1 database (made by
create_all, no alembic_version) is stamped and upgraded keeping its rows, and a newer database
is refused."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from central.masterkey import MasterKeys
from central.models import CentralBase
from central.schema import SchemaError, current_revision, head_revision
from central.store import CentralStore, sqlite_url
from tests.central.postgres import PostgresServer

KEYS = MasterKeys(os.urandom(32))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "central.sqlite3")
        return
    pg: PostgresServer = request.getfixturevalue("pg_server")
    url = pg.create_database()
    yield url
    pg.drop_database(url)


def test_start_up_migrates_to_exactly_the_models(empty_url: str) -> None:
    store = CentralStore(empty_url, keys=KEYS)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": not sqlite, "compare_server_default": False}
            )
            assert compare_metadata(ctx, CentralBase.metadata) == []
        # migrating again (the next start) changes nothing
        CentralStore(empty_url, keys=KEYS).close()
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()


def test_a_v01_database_is_stamped_and_upgraded_keeping_its_rows(empty_url: str) -> None:
    from alembic import command

    from central.schema import alembic_config

    engine = create_engine(empty_url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("DROP TABLE alembic_version"))  # as v0.1's create_all left it
        conn.execute(
            text(
                "INSERT INTO enrollment_codes (code_hash, label, created_at, expires_at) "
                "VALUES ('h', 'cũ', '2026-01-01T00:00:00.000000Z', '2026-01-04T00:00:00.000000Z')"
            )
        )
    engine.dispose()
    store = CentralStore(empty_url, keys=KEYS)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.read() as s:
            row = s.execute(
                text("SELECT label, counter_code FROM enrollment_codes WHERE code_hash = 'h'")
            ).one()
        # an old code survives but is bound to no counter, so it enrols none
        assert tuple(row) == ("cũ", "")
        assert store.instance_id
    finally:
        store.close()


def test_a_newer_database_is_refused(empty_url: str) -> None:
    CentralStore(empty_url, keys=KEYS).close()
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaError, match="mới hơn"):
        CentralStore(empty_url, keys=KEYS)
