"""Many counters uploading at once to central on PostgreSQL with several API worker processes
(`quaythu-central serve --workers 3`, real processes on 127.0.0.1): every batch sent twice in
parallel, batches out of order, enrolment codes raced, and API workers killed with SIGKILL while
requests are in flight. Afterwards every record is stored exactly once, every chain verifies,
gaps are resolved, nothing was refused and no request got a 5xx."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from app.domain.chain import GENESIS
from app.domain.ledger import WireRecord, from_wire
from central import auth
from central.models import CentralCounter, Flag, LedgerRecord
from central.store import CentralStore
from tests.support.central import CentralProcess, central_process
from tests.support.ledgers import SimulatedCounter, wire_batches
from tests.support.postgres import PostgresCluster

COUNTERS = 16
RECORDS = 60
BATCH = 15
WORKERS = 3


@pytest.fixture
def pg_url(postgres: PostgresCluster) -> str:
    return postgres.new_database()


@pytest.fixture
def server(pg_url: str) -> Iterator[CentralProcess]:
    with central_process(database_url=pg_url, workers=WORKERS) as process:
        yield process


class Log:
    """Every answer the clients got, under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.results: list[dict[str, object]] = []
        self.retries = 0


def post(
    session: requests.Session, url: str, token: str, body: dict[str, object], log: Log
) -> requests.Response:
    """POST, retried when the connection breaks (a worker killed under the request)."""
    for _ in range(20):
        try:
            resp = session.post(
                url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            with log.lock:
                log.retries += 1
            time.sleep(0.05)
            continue
        with log.lock:
            log.statuses[resp.status_code] += 1
        return resp
    raise AssertionError("no answer after 20 tries")


def upload_day(
    server: CentralProcess, counter: SimulatedCounter, records: list[WireRecord], log: Log
) -> None:
    """The counter's batches out of order, each sent twice at the same moment."""
    batches = wire_batches([from_wire(r) for r in records], BATCH)
    random.Random(counter.number).shuffle(batches)
    for batch in batches:
        barrier = threading.Barrier(2)

        def send(batch: list[WireRecord] = batch, barrier: threading.Barrier = barrier) -> None:
            with requests.Session() as session:
                barrier.wait(10)
                resp = post(
                    session, server.url + "/v1/records", counter.token, {"records": batch}, log
                )
                if resp.status_code == 200:
                    with log.lock:
                        log.results.extend(resp.json()["results"])

        twins = [threading.Thread(target=send) for _ in range(2)]
        for t in twins:
            t.start()
        for t in twins:
            t.join(60)


def enroll_all(
    server: CentralProcess, store: CentralStore, counters: list[SimulatedCounter]
) -> None:
    """Every counter enrols with its own code; each code is also raced by a second request
    (another counter trying the same code at the same moment): exactly one wins."""
    codes = [auth.make_enrollment_code(store, label=c.counter_code) for c in counters]
    thieves = [SimulatedCounter(10_000 + c.number) for c in counters]
    answers: dict[str, int] = {}

    def attempt(who: SimulatedCounter, code: str) -> None:
        resp = requests.post(server.url + "/v1/enroll", json=who.enroll_request(code), timeout=30)
        answers[who.ledger_counter_id] = resp.status_code
        if resp.status_code == 200:
            who.token = resp.json()["api_token"]

    with ThreadPoolExecutor(16) as pool:
        pairs = [
            (who, code)
            for c, t, code in zip(counters, thieves, codes, strict=True)
            for who in (c, t)
        ]
        list(pool.map(attempt, *zip(*pairs, strict=True)))
    for c, thief in zip(counters, thieves, strict=True):
        assert sorted([answers[c.ledger_counter_id], answers[thief.ledger_counter_id]]) == [
            200,
            401,
        ], "an enrolment code was used twice"
        if not c.token:  # the thief won the race: this counter gets a fresh code
            resp = requests.post(
                server.url + "/v1/enroll",
                json=c.enroll_request(auth.make_enrollment_code(store)),
                timeout=30,
            )
            assert resp.status_code == 200
            c.token = resp.json()["api_token"]


@pytest.mark.timeout(150)
def test_many_counters_at_once_with_workers_killed(server: CentralProcess, pg_url: str) -> None:
    store = CentralStore(pg_url)
    try:
        counters = [SimulatedCounter(n) for n in range(1, COUNTERS + 1)]
        enroll_all(server, store, counters)
        days = {c.ledger_counter_id: c.day(RECORDS) for c in counters}
        log = Log()
        first_workers = server.worker_pids()
        assert len(first_workers) == WORKERS

        def killer() -> None:
            for victim in first_workers[:2]:  # two of the three, one after the other
                time.sleep(0.8)
                os.kill(victim, signal.SIGKILL)

        kill = threading.Thread(target=killer)
        with ThreadPoolExecutor(COUNTERS) as pool:
            kill.start()
            futures = [
                pool.submit(
                    upload_day,
                    server,
                    c,
                    [r for b in wire_batches(days[c.ledger_counter_id], RECORDS) for r in b],
                    log,
                )
                for c in counters
            ]
            for f in futures:
                f.result(timeout=120)
        kill.join(10)

        assert set(log.statuses) == {200}, f"answers other than 200: {log.statuses}"
        assert log.retries > 0, "no request was cut by a killed worker: the test proved nothing"
        assert {r["status"] for r in log.results} <= {"accepted", "duplicate"}
        accepted = Counter(r["id"] for r in log.results if r["status"] == "accepted")
        assert max(accepted.values()) == 1, "a record was accepted twice"
        assert requests.get(server.url + "/readyz", timeout=5).status_code == 200

        with store.read() as s:
            for c in counters:
                expected = days[c.ledger_counter_id]
                row = s.scalars(
                    select(CentralCounter).where(
                        CentralCounter.ledger_counter_id == c.ledger_counter_id
                    )
                ).one()
                stored = s.execute(
                    select(
                        LedgerRecord.seq, LedgerRecord.id, LedgerRecord.prev_hash, LedgerRecord.hash
                    )
                    .where(LedgerRecord.counter_id == row.id)
                    .order_by(LedgerRecord.seq)
                ).all()
                assert [(r.seq, r.id, r.hash) for r in stored] == [
                    (e.seq, e.body["id"], e.hash) for e in expected
                ], f"{c.counter_code}: central's copy differs from the counter's day"
                prev = GENESIS
                for r in stored:  # the chain verifies link by link
                    assert r.prev_hash == prev
                    prev = r.hash
                assert (row.head_seq, row.head_hash) == (RECORDS, expected[-1].hash)
                flags = s.execute(
                    select(Flag.kind, Flag.resolved_at).where(Flag.counter_id == row.id)
                ).all()
                assert all(f.kind == "gap" and f.resolved_at is not None for f in flags), flags
            total = s.scalars(select(LedgerRecord.id)).all()
            assert len(total) == len(set(total)) == COUNTERS * RECORDS
    finally:
        store.close()
