"""The central database: SQLite by default (a file path), PostgreSQL by database URL.

SQLite runs in WAL mode with `synchronous=FULL` (an acknowledged batch survives a power cut) and
write transactions start with `BEGIN IMMEDIATE`, so concurrent uploads — say a retried batch
arriving while the first attempt is still being stored — queue behind each other instead of
interleaving. On PostgreSQL the same ordering comes from `SELECT … FOR UPDATE` on the counter row
(see `central.service.ingest`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from central.models import CentralBase

_IMMEDIATE = "central_immediate"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


class CentralStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
            )
            _sqlite_setup(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        self.engine: Engine = engine
        CentralBase.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def at_path(cls, path: Path) -> CentralStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(path))

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._sessions() as session:
            session.connection(execution_options={_IMMEDIATE: True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
