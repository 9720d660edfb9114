"""The central database: SQLite by default (a file path), PostgreSQL by database URL.

SQLite runs in WAL mode with `synchronous=FULL` (an acknowledged batch survives a power cut) and
write transactions start with `BEGIN IMMEDIATE`, so concurrent uploads — say a retried batch
arriving while the first attempt is still being stored — queue behind each other instead of
interleaving. On PostgreSQL the same ordering comes from `SELECT … FOR UPDATE` on the counter row
(see `central.ingest.storage.lock_counter`).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from app.storage.db import SessionScopes, configure_sqlite
from central.models import CentralBase


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


class CentralStore(SessionScopes):
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
            )
            configure_sqlite(engine, busy_timeout_ms=30000)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        CentralBase.metadata.create_all(engine)
        super().__init__(engine)

    @classmethod
    def at_path(cls, path: Path) -> CentralStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(path))
