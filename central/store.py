"""The central database: SQLite by default (a file path), PostgreSQL by database URL.

SQLite runs in WAL mode with `synchronous=FULL` (an acknowledged batch survives a power cut) and
write transactions start with `BEGIN IMMEDIATE`, so concurrent uploads — say a retried batch
arriving while the first attempt is still being stored — queue behind each other instead of
interleaving. On PostgreSQL the same ordering comes from `SELECT … FOR UPDATE` on the counter row
(see `central.ingest.storage.lock_counter_by_token`).

The store also carries the master keys (`central.masterkey`): counters' signing keys are sealed
under them, and a key found in plain text (a database from before) is sealed at start-up.
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import make_url

from app.storage.db import SessionScopes, configure_sqlite
from central.masterkey import MasterKeys
from central.models import CentralCounter, CentralMeta
from central.schema import SchemaError, current_revision, head_revision, migrate

DEFAULT_NAME = "QuầyThu central"
# PostgreSQL connections per API worker: kept open, and more at a peak (closed after use).
# PostgreSQL's max_connections must cover (POOL_SIZE + POOL_OVERFLOW) × workers × API hosts.
POOL_SIZE = 10
POOL_OVERFLOW = 10


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def default_key_file(url: str) -> Path | None:
    """`<database>.master-key` next to a SQLite file; None for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).with_name(Path(parsed.database).name + ".master-key")


def _secure_delete(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Overwritten and deleted content is zeroed on disk, not left in free space."""
    dbapi_connection.execute("PRAGMA secure_delete=ON")


class CentralStore(SessionScopes):
    def __init__(
        self, url: str, *, keys: MasterKeys | None = None, name: str = "", prepare: bool = True
    ) -> None:
        """`prepare`: migrate the schema and seal plain keys first (once per deployment start:
        `serve` does it before its workers start, and they pass False)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.keys = keys or MasterKeys.from_environment(default_file=default_key_file(url))
        if self.is_sqlite:
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
            )
            configure_sqlite(engine, busy_timeout_ms=30000)
            event.listen(engine, "connect", _secure_delete)
        else:
            # Enough connections for the worker's uploads in flight (`central.api`) and its
            # reads: a connection beyond the pool is opened and closed per request, and a new
            # PostgreSQL backend costs the server more CPU than the batch it serves.
            engine = create_engine(
                url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
            )
        super().__init__(engine)
        try:
            if prepare:
                migrate(engine)
                self._seal_plain_keys()
            self.instance_id = self._instance_id()
        except BaseException:
            engine.dispose()
            raise
        self.name = name or DEFAULT_NAME

    def ready(self) -> bool:
        """The database answers and is at the schema this program expects."""
        try:
            return current_revision(self.engine) == head_revision()
        except Exception:  # any database failure means "not ready", never a 500
            return False

    def _instance_id(self) -> str:
        with self.read() as s:
            row = s.get(CentralMeta, "instance_id")
            if row is None:
                raise SchemaError("cơ sở dữ liệu trung tâm chưa được nâng cấp (thiếu instance_id)")
            return row.value

    def _seal_plain_keys(self) -> None:
        sealed = 0
        with self.write() as s:
            for c in s.scalars(select(CentralCounter)):
                if not MasterKeys.is_sealed(c.signing_key):
                    c.signing_key = self.keys.seal(c.id, base64.b64decode(c.signing_key))
                    sealed += 1
        if sealed and self.is_sqlite:
            # The plain text must not linger in free pages or the WAL: rewrite the file.
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            finally:
                raw.close()

    @classmethod
    def at_path(cls, path: Path, *, keys: MasterKeys | None = None) -> CentralStore:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(path), keys=keys)
