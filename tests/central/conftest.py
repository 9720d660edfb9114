"""Central's own tests run against both engines: a SQLite file and a real PostgreSQL server
(a throwaway cluster for the session, or QUAYTHU_TEST_DATABASE_URL; tests/support/postgres.py).
Each test gets an empty database of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from central.store import sqlite_url
from tests.support.postgres import PostgresCluster, session_cluster

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> PostgresCluster:
    return session_cluster(request.config)


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def central_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty central database on the engine under test."""
    if engine_name == "sqlite":
        return sqlite_url(tmp_path / "central.sqlite3")
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()
