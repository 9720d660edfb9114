"""A throwaway PostgreSQL 15 cluster for tests and benchmarks, on a free loopback port.

`QUAYTHU_TEST_DATABASE_URL` (a SQLAlchemy URL of a server where the user may create databases)
replaces it. Otherwise `initdb` + `pg_ctl` from Debian's `postgresql` package
(/usr/lib/postgresql/15/bin, installed by scripts/bootstrap.sh for the tests) start a cluster
in a temporary folder — as the `postgres` user when run as root, since initdb refuses root —
and `stop` removes it. Nothing is skipped when the binaries are missing: the error says what to
install."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ENV_URL = "QUAYTHU_TEST_DATABASE_URL"
BIN = Path(os.environ.get("QUAYTHU_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    """A server to make databases on: a throwaway cluster, or the one the environment names."""

    def __init__(self, *, durable: bool = False) -> None:
        self.folder: Path | None = None
        given = os.environ.get(ENV_URL)
        if given:
            self.admin_url = given
            return
        for tool in ("initdb", "pg_ctl"):
            if not (BIN / tool).exists():
                raise RuntimeError(
                    f"PostgreSQL server binaries not found in {BIN}: install Debian's "
                    f"`postgresql` package (scripts/bootstrap.sh dev does) or set {ENV_URL}"
                )
        self.folder = Path(tempfile.mkdtemp(prefix="quaythu-pg-"))
        self._as: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run(
            str(BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        )
        self.port = _free_port()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=300"
        )
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            [*self._as, *argv], capture_output=True, text=True, timeout=120, cwd=self.folder
        )
        if done.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {done.stderr or done.stdout}")

    def _libpq(self, url: str) -> str:
        u = make_url(url)
        return u.set(drivername="postgresql").render_as_string(hide_password=False)

    def create_database(self, name: str | None = None) -> str:
        """A fresh empty database; its SQLAlchemy URL."""
        name = name or "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self._libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with psycopg.connect(self._libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def postmaster_pid(self) -> int:
        """The server's main process (0 for a server this object did not start)."""
        if self.folder is None:
            return 0
        try:
            return int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def libpq_url(self, url: str) -> str:
        return self._libpq(url)

    def stop(self) -> None:
        if self.folder is None:
            return
        data = self.folder / "data"
        try:
            self._run(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            time.sleep(0.1)
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
