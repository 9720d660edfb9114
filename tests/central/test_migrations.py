"""Central's schema is Alembic's, on SQLite and on PostgreSQL: a new database is migrated to
head at start-up, the migrations build exactly what the models describe, they go down and up
again, workers starting together migrate once, a database made before migrations is adopted
and a newer one is refused."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app.errors import ConfigurationError
from central.models import CentralBase
from central.store import CentralStore, alembic_config, head_revision, normalise_url

TABLES = {
    "alembic_version",
    "counters",
    "enrollment_codes",
    "flags",
    "participant_changes",
    "participants",
    "rate_tables",
    "records",
}


def test_a_new_database_is_migrated_to_head_at_start(central_url: str) -> None:
    store = CentralStore(central_url)
    try:
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
            assert set(inspect(conn).get_table_names()) == TABLES
        assert store.readiness() is None
    finally:
        store.close()


def test_the_migrations_build_what_the_models_describe(central_url: str) -> None:
    store = CentralStore(central_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, CentralBase.metadata)
        assert diff == [], (
            "central's models and migrations differ: run "
            f"`python -m central.migrations.regenerate` (docs/CENTRAL.md): {diff}"
        )
    finally:
        store.close()


def test_the_migrations_go_down_and_up_again(central_url: str) -> None:
    store = CentralStore(central_url)
    try:
        cfg = alembic_config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        assert store.readiness() == f"schema at None, program needs {head_revision()}"
    finally:
        store.close()
    again = CentralStore(central_url)  # start-up brings it back to head
    try:
        assert again.readiness() is None
    finally:
        again.close()


def test_workers_starting_together_migrate_once(central_url: str) -> None:
    errors: list[BaseException] = []
    stores: list[CentralStore] = []
    lock = threading.Lock()

    def start() -> None:
        try:
            store = CentralStore(central_url)
            with lock:
                stores.append(store)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert len(stores) == 4
        assert all(s.readiness() is None for s in stores)
    finally:
        for s in stores:
            s.close()


def test_a_database_made_before_migrations_is_adopted(central_url: str) -> None:
    engine = create_engine(normalise_url(central_url))
    CentralBase.metadata.create_all(engine)  # what the reference server did before
    engine.dispose()
    store = CentralStore(central_url)
    try:
        assert store.readiness() is None
    finally:
        store.close()


def test_a_newer_database_is_refused(central_url: str) -> None:
    CentralStore(central_url).close()
    engine = create_engine(normalise_url(central_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'c9999'"))
    engine.dispose()
    with pytest.raises(ConfigurationError) as info:
        CentralStore(central_url)
    assert "c9999" in info.value.message and "mới hơn" in info.value.message
