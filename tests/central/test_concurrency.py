"""Issue 17.3: with several API workers (`quaythu-central serve --workers 3`) on a real
PostgreSQL server, many counters uploading at once — in order, the same batch twice in
parallel, batches out of order, one big batch twice at once — while a worker is killed
mid-run end with every record stored exactly once, every chain linked, no open flag, and no
500 or deadlock. Real processes on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from central.masterkey import ENV_KEY, MasterKeys, new_key_text
from central.models import CentralCounter, Flag, LedgerRecord
from central.store import CentralStore
from tests.central.postgres import PostgresServer
from tests.central.simcounters import Outcome, SimCounter, upload

ROOT = Path(__file__).resolve().parents[2]
COUNTERS = 16
PAYMENTS = 40
BATCH = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def worker_pids(parent: int) -> list[int]:
    """The uvicorn worker processes under the serving process (from /proc)."""
    try:
        text = Path(f"/proc/{parent}/task/{parent}/children").read_text()
    except OSError:
        return []
    out = []
    for pid in map(int, text.split()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            out.append(pid)
    return out


@pytest.fixture
def served(pg_server: PostgresServer) -> object:
    url = pg_server.create_database()
    key = new_key_text()
    port = _free_port()
    env = {**os.environ, ENV_KEY: key, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "central.cli", "serve", "--database-url", url),
            *("--port", str(port), "--workers", "3"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/v1/ready", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)  # never left running after a failed start
            pg_server.drop_database(url)
            raise AssertionError("central did not start")
        time.sleep(0.1)
    store = CentralStore(url, keys=MasterKeys.from_environment({ENV_KEY: key}), prepare=False)
    yield base, store, proc
    store.close()
    _stop(proc)
    pg_server.drop_database(url)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """The serving process and its workers, ended (SIGTERM, then SIGKILL after 20 s)."""
    workers = worker_pids(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait(10)


def _plan(c: SimCounter, base: str) -> list[Outcome]:
    session = requests.Session()
    batches = list(c.batches(BATCH))
    style = c.number % 4
    answers: list[Outcome] = []
    if style == 0:  # in order
        for b in batches:
            answers += upload(session, base, c, b)
    elif style == 1:  # every batch twice at the same moment
        for b in batches:
            with ThreadPoolExecutor(2) as pair:
                for got in pair.map(lambda same: upload(requests.Session(), base, c, same), [b, b]):
                    answers += got
    elif style == 2:  # out of order: newest batch first
        for b in reversed(batches):
            answers += upload(session, base, c, b)
    else:  # the whole day in one batch, twice at once
        with ThreadPoolExecutor(2) as pair:
            for got in pair.map(lambda _: upload(requests.Session(), base, c, c.records), range(2)):
                answers += got
    return answers


def test_many_counters_at_once_with_several_workers_on_postgresql(served: object) -> None:
    base, store, proc = served  # type: ignore[misc]
    counters = [SimCounter(i) for i in range(COUNTERS)]
    setup = requests.Session()
    for c in counters:
        c.enroll(base, store, setup)
        c.make_day(PAYMENTS)

    killed: list[int] = []

    def kill_a_worker() -> None:
        time.sleep(0.8)
        pids = worker_pids(proc.pid)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    with ThreadPoolExecutor(COUNTERS) as pool:
        outcomes = [o for got in pool.map(lambda c: _plan(c, base), counters) for o in got]
    killer.join()
    assert killed, "no worker was found to kill"

    assert outcomes and all(o.status < 500 for o in outcomes), Tally(o.status for o in outcomes)
    accepted = Tally(r["id"] for o in outcomes for r in o.results if r["status"] == "accepted")
    assert max(accepted.values()) == 1  # never accepted twice
    assert {r["status"] for o in outcomes for r in o.results} <= {"accepted", "duplicate"}

    with store.read() as s:
        for c in counters:
            cid = s.scalars(
                select(CentralCounter.id).where(CentralCounter.ledger_counter_id == c.counter_id)
            ).one()
            rows = s.execute(
                select(LedgerRecord.seq, LedgerRecord.prev_hash, LedgerRecord.hash)
                .where(LedgerRecord.counter_id == cid)
                .order_by(LedgerRecord.seq)
            ).all()
            assert [r.seq for r in rows] == list(range(1, PAYMENTS + 1)), c.number
            assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))
            assert [r.hash for r in rows] == [w["hash"] for w in c.records]
            counter = s.get(CentralCounter, cid)
            assert counter is not None and counter.head_seq == PAYMENTS
            open_flags = s.scalar(
                select(func.count())
                .select_from(Flag)
                .where(Flag.counter_id == cid, Flag.resolved_at.is_(None))
            )
            assert open_flags == 0, c.number
    # the killed worker was replaced: central still answers on every worker
    for _ in range(6):
        assert requests.get(base + "/v1/health", timeout=5).status_code == 200
