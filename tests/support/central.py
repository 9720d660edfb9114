"""The reference central server as its own process (`python -m central.cli serve`) on a free
loopback port, for benchmarks and scripts that need a real one outside pytest's process: on a
SQLite file, or on a database URL (PostgreSQL) with several API worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class CentralProcess:
    proc: subprocess.Popen[bytes]
    port: int
    db_path: Path  # the SQLite file (`Path()` when central runs on `database_url`)
    database_url: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The API worker processes uvicorn spawned (Linux; empty with one worker)."""
        pid = self.proc.pid
        out = []
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline:
                out.append(int(child))
        return out


@contextmanager
def central_process(
    db_path: Path | None = None,
    *,
    database_url: str | None = None,
    workers: int = 1,
    timeout: float = 60.0,
) -> Iterator[CentralProcess]:
    """Start central on `db_path` (SQLite) or `database_url`, wait until /readyz answers 200
    (database reachable, schema at head), stop it on the way out."""
    port = free_port()
    where = ["--database-url", database_url] if database_url else ["--db", str(db_path)]
    options = ["--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "central.cli", "serve", *where, *options],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("central server did not start")
            time.sleep(0.1)
        yield CentralProcess(proc, port, db_path or Path(), database_url)
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn's supervisor stops its workers on SIGINT
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
