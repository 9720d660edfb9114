"""A throwaway PostgreSQL server for tests and benchmarks, or the one a URL names.

`QUAYTHU_TEST_DATABASE_URL` (e.g. `postgresql://user:pw@host:5432/postgres`, a role allowed to
CREATE DATABASE) names a server to use; otherwise `PostgresCluster.start` runs `initdb` and
`pg_ctl` (Debian's PostgreSQL 15, /usr/lib/postgresql/<version>/bin, or whatever `initdb` is
on PATH) in a fresh temporary folder, listening on a free 127.0.0.1 port only (no Unix socket),
trust authentication for that loopback port. Run as root, the server runs as the `postgres`
user (`initdb` refuses root), in a folder that user owns. `stop` shuts it down and removes the
folder. Each caller takes a database of its own (`new_database`), so tests never share rows.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.central import free_port

ENV_URL = "QUAYTHU_TEST_DATABASE_URL"
SUPERUSER = "postgres"


def _bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not versions:
        raise RuntimeError(
            "PostgreSQL server programs not found: install `postgresql` "
            f"(scripts/bootstrap.sh does) or set {ENV_URL}"
        )
    return Path(versions[-1]).parent


def _as_server_user(argv: Sequence[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *argv]
    return list(argv)


@dataclass
class PostgresCluster:
    """A running server: `url` of its maintenance database `postgres`."""

    url: str
    folder: Path | None = None  # set when this process started the server
    bin_dir: Path | None = None
    databases: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, *, durable: bool = False, max_connections: int = 300) -> PostgresCluster:
        """A fresh cluster. `durable=False` (tests) turns fsync off: faster, and nothing in it
        must survive a power cut; benchmarks pass True to measure what production pays."""
        bin_dir = _bin_dir()
        folder = Path(tempfile.mkdtemp(prefix="quaythu-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(folder, user.pw_uid, user.pw_gid)
        data = folder / "data"
        subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            cwd=folder,
        )
        port = free_port()
        settings = [
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            f"max_connections={max_connections}",
        ]
        if not durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
            settings += ["-c", "full_page_writes=off"]
        try:
            subprocess.run(
                _as_server_user(
                    [
                        str(bin_dir / "pg_ctl"),
                        "start",
                        "-w",
                        "-t",
                        "60",
                        "-D",
                        str(data),
                        "-l",
                        str(folder / "server.log"),
                        "-o",
                        " ".join(settings),
                    ]
                ),
                check=True,
                capture_output=True,
                cwd=folder,
            )
        except subprocess.CalledProcessError as exc:
            log = (folder / "server.log").read_text(errors="replace")[-2000:]
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr!r}\n{log}") from exc
        url = f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres"
        return cls(url, folder, bin_dir)

    @classmethod
    def from_environment(cls) -> PostgresCluster | None:
        url = os.environ.get(ENV_URL)
        if not url:
            return None
        from central.store import normalise_url

        return cls(normalise_url(url))

    def new_database(self, prefix: str = "quaythu_test") -> str:
        """A new empty database on this server; returns its URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._libpq(self.url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        base, _, _ = self.url.rpartition("/")
        return f"{base}/{name}"

    @staticmethod
    def _libpq(url: str) -> str:
        return url.replace("postgresql+psycopg://", "postgresql://", 1)

    def stop(self) -> None:
        if self.folder is None or self.bin_dir is None:
            self._drop_databases()
            return
        subprocess.run(
            _as_server_user(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "stop",
                    "-m",
                    "fast",
                    "-D",
                    str(self.folder / "data"),
                ]
            ),
            capture_output=True,
            cwd=self.folder,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _drop_databases(self) -> None:
        import psycopg

        with psycopg.connect(self._libpq(self.url), autocommit=True) as conn:
            for name in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.clear()


@contextmanager
def postgres_cluster(*, durable: bool = False) -> Iterator[PostgresCluster]:
    """The server `QUAYTHU_TEST_DATABASE_URL` names, or a throwaway one, for a `with` block."""
    cluster = PostgresCluster.from_environment() or PostgresCluster.start(durable=durable)
    try:
        yield cluster
    finally:
        cluster.stop()


_shared: PostgresCluster | None = None


def session_cluster(config: object) -> PostgresCluster:
    """One server for the whole pytest session, whichever conftest asks first; stopped when the
    session ends (`config` is pytest's `Config`)."""
    global _shared
    if _shared is None:
        cluster = PostgresCluster.from_environment() or PostgresCluster.start()
        _shared = cluster

        def _stop() -> None:
            global _shared
            _shared = None
            cluster.stop()

        config.add_cleanup(_stop)  # type: ignore[attr-defined]
    return _shared
