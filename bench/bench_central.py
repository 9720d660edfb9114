"""Central at the scale of a province: many counters uploading their day at once, on PostgreSQL.

    .venv/bin/python bench/bench_central.py [--counters 200] [--payments 100] [--batch 50]
        [--workers 1,2,4] [--clients 32]

For each worker count: a fresh database on a PostgreSQL 15 server (a throwaway durable cluster,
or `QUAYTHU_TEST_DATABASE_URL`), `quaythu-central serve --workers N` on 127.0.0.1, N simulated
counters (each its own key, enrolment code and token; tests/central/simcounters.py) each
uploading a day of real sealed payments in batches through the real HTTP API, `--clients`
uploads in flight at a time. Printed: records/s, p50/p99 batch latency, and the ratio to a raw
baseline measured in the same run on the same server — plain `INSERT … ON CONFLICT DO NOTHING`
of the same rows into the same table with psycopg, same batches, same concurrency. Then the
07:30 read side: every counter fetches its Mẫu 01-XN for the day.

Fair to both: the batches (JSON bodies) and the raw rows are prepared before the clock starts;
the API is driven by a lean client (`http.client`, one keep-alive connection per client thread),
the raw insert by one psycopg connection per client thread. Every answer is checked (each record
`accepted`), and afterwards every record must be stored exactly once (rows and distinct
(counter, seq) counted) — for the raw baseline too.

Goals (issue 17): ≥ 0.3× the raw baseline, p99 ≤ 1 s at 200 counters, throughput growing with
workers. The machine's core count bounds the last one: see the printed `os.cpu_count()`, and
the CPU each part used per batch of the run (API server and its workers, PostgreSQL, this
benchmark's client threads; from /proc): when their sum per second of run time reaches the
core count, more workers cannot help.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from central.masterkey import ENV_KEY, MasterKeys, new_key_text  # noqa: E402
from central.store import CentralStore  # noqa: E402
from sync.protocol import PATH_RECORDS, PATH_XN01, WireRecord  # noqa: E402
from tests.central.postgres import PostgresServer  # noqa: E402
from tests.central.simcounters import SimCounter  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, its reaped children and its live descendants,
    from /proc — how much of the machine a server used, whatever else ran meanwhile."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(v) for v in fields[11:15]) / _TICK  # utime, stime, cutime, cstime
    return own + sum(_live_cpu(int(c)) for c in children)


def _live_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:13]) / _TICK + sum(_live_cpu(int(c)) for c in children)


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Cpu:
    """CPU seconds spent during a run by the API server, PostgreSQL and this benchmark's own
    client threads."""

    api: float = 0.0
    db: float = 0.0
    client: float = 0.0

    def per_batch(self, batches: int, seconds: float) -> str:
        """CPU per batch of each part, and the cores each kept busy on average during the run
        (what is left of `os.cpu_count()` went to everything else on the machine)."""
        parts = (self.api, self.db, self.client)
        ms = [1000 * v / max(1, batches) for v in parts]
        cores = [v / seconds for v in parts]
        return (
            f"CPU per batch: API {ms[0]:5.1f} ms, PostgreSQL {ms[1]:5.1f} ms, "
            f"client {ms[2]:5.1f} ms; cores busy {cores[0]:.2f} + {cores[1]:.2f} + "
            f"{cores[2]:.2f} = {sum(cores):.2f}"
        )


@dataclass
class Run:
    label: str
    records: int
    seconds: float
    latencies: list[float]
    cpu: Cpu = field(default_factory=Cpu)

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(url: str, key: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "central.cli", "serve", "--database-url", url),
            *("--port", str(port), "--workers", str(workers)),
        ],
        cwd=ROOT,
        env={**os.environ, ENV_KEY: key, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/v1/ready", timeout=1).status_code == 200:
                return proc, base
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("central did not start")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _counters(n: int, payments: int) -> list[SimCounter]:
    out = [SimCounter(i) for i in range(n)]
    for c in out:
        c.make_day(payments)
    return out


class Http:
    """One keep-alive HTTP/1.1 connection per client thread (`http.client`: a lean client, so
    the benchmark's own threads take as little of the shared cores as the raw baseline's
    psycopg connections do). A dropped connection or a 503 is retried as a counter would."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        for attempt in range(30):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body, headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                time.sleep(min(0.05 * 2**attempt, 1.0))
                continue
            if resp.status in (429, 502, 503):
                time.sleep(min(0.05 * 2**attempt, 1.0))
                continue
            return resp.status, data
        raise RuntimeError(f"{method} {path}: no answer after 30 attempts")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _stored_records(pg: PostgresServer, url: str) -> tuple[int, int]:
    """Rows of `records`, and distinct (counter, seq) among them: every record stored once."""
    with psycopg.connect(pg.libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (counter_id, seq)) FROM records"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


class Clients:
    """An `Http` connection per client thread, all closed at the end."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.local = threading.local()
        self.all: list[Http] = []

    def mine(self) -> Http:
        client: Http | None = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = Http(self.base)
            self.all.append(client)
        return client

    def close(self) -> None:
        for client in self.all:
            client.close()


def _upload_all(
    pg: PostgresServer,
    url: str,
    proc: subprocess.Popen[bytes],
    clients: Clients,
    counters: list[SimCounter],
    workers: int,
    args: argparse.Namespace,
) -> Run:
    # Encoded before the clock starts: a real counter's CPU is not central's, and this
    # machine's two cores are shared by the client threads (the raw baseline's rows are
    # prepared beforehand too).
    jobs = [
        (
            b,
            json.dumps({"records": b}, ensure_ascii=False).encode("utf-8"),
            {"Authorization": f"Bearer {c.token}", "Content-Type": "application/json"},
        )
        for c in counters
        for b in c.batches(args.batch)
    ]
    # interleave: every counter's first batch, then every counter's second, …
    jobs.sort(key=lambda job: job[0][0]["seq"])

    def one(job: tuple[list[WireRecord], bytes, dict[str, str]]) -> float:
        batch, payload, headers = job
        t = time.perf_counter()
        status, data = clients.mine().request("POST", PATH_RECORDS, payload, headers)
        seconds = time.perf_counter() - t
        if status != 200:
            raise RuntimeError(f"batch refused: HTTP {status}")
        results = json.loads(data)["results"]
        if len(results) != len(batch) or any(r["status"] != "accepted" for r in results):
            raise RuntimeError(f"batch not accepted whole: {results[:2]}")
        return seconds

    cpu_before = (tree_cpu(proc.pid), tree_cpu(pg.postmaster_pid()), self_cpu())
    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        latencies = list(pool.map(one, jobs))
    seconds = time.perf_counter() - started
    cpu_after = (tree_cpu(proc.pid), tree_cpu(pg.postmaster_pid()), self_cpu())
    records = sum(len(b) for b, _, _ in jobs)
    stored = _stored_records(pg, url)
    if stored != (records, records):
        raise RuntimeError(f"{records} records sent, {stored} stored (rows, distinct)")
    return Run(
        f"API, {workers} worker(s)",
        records,
        seconds,
        latencies,
        Cpu(*(a - b for a, b in zip(cpu_after, cpu_before, strict=True))),
    )


def _read_all(
    clients: Clients, counters: list[SimCounter], workers: int, args: argparse.Namespace
) -> Run:
    """The 07:30 read side: every counter's Mẫu 01-XN for the day."""
    day = counters[0].records[0]["body"]["business_date"]
    query = urllib.parse.urlencode({"date": str(day)})

    def read(c: SimCounter) -> float:
        t = time.perf_counter()
        status, data = clients.mine().request(
            "GET", f"{PATH_XN01}?{query}", None, {"Authorization": f"Bearer {c.token}"}
        )
        seconds = time.perf_counter() - t
        if status != 200 or json.loads(data)["count"] != args.payments:
            raise RuntimeError(f"01-XN wrong: HTTP {status}")
        return seconds

    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        reads = list(pool.map(read, counters))
    return Run(
        f"01-XN read, {workers} worker(s)", len(counters), time.perf_counter() - started, reads
    )


def run_api(
    pg: PostgresServer, counters: list[SimCounter], workers: int, args: argparse.Namespace
) -> tuple[Run, Run]:
    url = pg.create_database()
    key = new_key_text()
    proc, base = _serve(url, key, workers)
    store = CentralStore(url, keys=MasterKeys.from_environment({ENV_KEY: key}), prepare=False)
    clients = Clients(base)
    try:
        session = requests.Session()
        for c in counters:
            c.enroll(base, store, session)
        upload_run = _upload_all(pg, url, proc, clients, counters, workers, args)
        return upload_run, _read_all(clients, counters, workers, args)
    finally:
        clients.close()
        store.close()
        _stop(proc)
        pg.drop_database(url)


def run_raw(pg: PostgresServer, counters: list[SimCounter], args: argparse.Namespace) -> Run:
    """The same rows into the same table: plain INSERT … ON CONFLICT DO NOTHING, psycopg."""
    url = pg.create_database()
    CentralStore(url, keys=MasterKeys(os.urandom(32))).close()  # the schema, by migration
    libpq = pg.libpq_url(url)
    now = "2026-12-01T00:30:00.000000Z"
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.cursor().executemany(
            "INSERT INTO counters (id, ledger_counter_id, counter_code, organisation, "
            "collection_point, receipt_series, signing_key, enrolled_at, head_seq, head_hash) "
            "VALUES (%s, %s, %s, 'O', 'P', 'SIM', 'x', %s, 0, '0')",
            [(f"QT-{c.number}", c.counter_id, c.code, now) for c in counters],
        )
    sql = (
        "INSERT INTO records (id, counter_id, seq, kind, body, code, prev_hash, hash, "
        "received_at, business_date, receipt_number, amount, at, participant_id, payment_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL) "
        "ON CONFLICT DO NOTHING"
    )

    def rows_of(c: SimCounter, batch: list[WireRecord]) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for w in batch:
            body = w["body"]
            rows.append(
                (
                    body["id"],
                    f"QT-{c.number}",
                    w["seq"],
                    w["kind"],
                    json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                    w["code"],
                    w["prev_hash"],
                    w["hash"],
                    now,
                    body["business_date"],
                    body["receipt_number"],
                    body["amount"],
                    body["paid_at"],
                    body["participant_id"],
                )
            )
        return rows

    # prepared before the clock starts, like the API's encoded batches
    jobs = [(b, rows_of(c, b)) for c in counters for b in c.batches(args.batch)]
    jobs.sort(key=lambda job: job[0][0]["seq"])
    local = threading.local()
    conns: list[psycopg.Connection[Any]] = []

    def one(job: tuple[list[WireRecord], list[tuple[object, ...]]]) -> float:
        _, rows = job
        t = time.perf_counter()
        conn = getattr(local, "conn", None)
        if conn is None:  # one connection per client thread
            conn = local.conn = psycopg.connect(libpq)
            conns.append(conn)
        with conn.transaction():
            conn.cursor().executemany(sql, rows)
        return time.perf_counter() - t

    try:
        cpu_before = (tree_cpu(pg.postmaster_pid()), self_cpu())
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            latencies = list(pool.map(one, jobs))
        seconds = time.perf_counter() - started
        cpu_after = (tree_cpu(pg.postmaster_pid()), self_cpu())
        records = sum(len(b) for b, _ in jobs)
        stored = _stored_records(pg, url)
        if stored != (records, records):
            raise RuntimeError(f"{records} rows sent, {stored} stored (rows, distinct)")
        return Run(
            "raw INSERT … ON CONFLICT",
            records,
            seconds,
            latencies,
            Cpu(0.0, cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]),
        )
    finally:
        for conn in conns:
            conn.close()
        pg.drop_database(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counters", type=int, default=200)
    parser.add_argument("--payments", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    print(
        f"{args.counters} counters × {args.payments} payments, batches of {args.batch}, "
        f"{args.clients} uploads in flight; cpu_count={os.cpu_count()}; load average "
        "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    )
    pg = PostgresServer(durable=True)
    try:
        counters = _counters(args.counters, args.payments)
        raw = run_raw(pg, counters, args)
        batches = len(raw.latencies)
        print(
            f"{raw.label:28} {raw.rate:9,.0f} records/s   p50 {raw.pct(0.5) * 1000:6.0f} ms"
            f"   p99 {raw.pct(0.99) * 1000:6.0f} ms"
        )
        print(f"{'':28} {raw.cpu.per_batch(batches, raw.seconds)}")
        for workers in worker_counts:
            for c in counters:
                c.token = ""
            api, reads = run_api(pg, _counters(args.counters, args.payments), workers, args)
            print(
                f"{api.label:28} {api.rate:9,.0f} records/s   p50 {api.pct(0.5) * 1000:6.0f} ms"
                f"   p99 {api.pct(0.99) * 1000:6.0f} ms   ratio to raw {api.rate / raw.rate:.2f}×"
            )
            print(f"{'':28} {api.cpu.per_batch(batches, api.seconds)}")
            print(
                f"{reads.label:28} {reads.seconds:9.2f} s for {reads.records} counters"
                f"   p50 {reads.pct(0.5) * 1000:6.0f} ms   p99 {reads.pct(0.99) * 1000:6.0f} ms"
                f"   mean {statistics.fmean(reads.latencies) * 1000:.0f} ms"
            )
    finally:
        pg.stop()
        print("load average at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
