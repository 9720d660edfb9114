"""Central test fixtures: the PostgreSQL server of the session (tests/central/postgres.py)."""

from tests.sync.conftest import pg_server  # noqa: F401  (fixture)
