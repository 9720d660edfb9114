"""The reference central server as its own process (`python -m central.cli serve`) on a free
loopback port, for benchmarks and scripts that need a real one outside pytest's process."""

from __future__ import annotations

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
    db_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def central_process(db_path: Path, *, timeout: float = 30.0) -> Iterator[CentralProcess]:
    """Start central on `db_path`, wait until /v1/health answers, stop it on the way out."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "central.cli", "serve", "--db", str(db_path), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("central server did not start") from None
                time.sleep(0.1)
        yield CentralProcess(proc, port, db_path)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
