"""Benchmark: central on PostgreSQL with many counters uploading at once, 1, 2 and 4 API workers.

    .venv/bin/python bench/bench_central.py [--counters 200] [--payments 100] [--batch 50]
        [--workers 1,2,4] [--window 20] [--database-url URL]

What it does, in one run:

1. starts a throwaway PostgreSQL server (fsync on: what production pays for a commit) on a
   free loopback port — or uses `--database-url` / QUAYTHU_TEST_DATABASE_URL (a role allowed to
   CREATE DATABASE);
2. seals a business day for each of 2 × N simulated counters (`tests/support/ledgers.py`: own
   counter id, own signing key, own token after enrolment; N × `--payments` BHYT payments, not
   timed) and prepares every upload body beforehand;
3. RAW baseline: the very rows central would store, written by N threads (one psycopg
   connection each, one counter each) as plain `INSERT … ON CONFLICT (id) DO NOTHING`, one
   transaction per batch of `--batch` — what the database itself costs for this load;
4. for each worker count: a fresh database, `quaythu-central serve --workers W` (real processes
   on 127.0.0.1), N counters enrolled through the API (not timed), then
   * BURST: all N counters upload their day at the same moment, each batch after the previous
     one as the sync client does — throughput (records/s) and batch latency p50/p99;
   * PACED: the other N counters start at random moments over `--window` seconds (a morning of
     counters coming on line) — batch latency p50/p99 at that load;
   * READ (07:30 reconciliation): central's Mẫu 01-XN of the business day for all N counters
     (`GET /v1/xn01`, 16 at a time), against a raw `SELECT` of the same rows;
5. prints everything, the ratio of each throughput to the raw baseline, and PASS/FAIL against the
   targets: best burst ≥ 0.3× raw, p99 ≤ 1 s at N counters (paced; the best worker count, all
   shown), throughput growing with workers. In a burst every counter waits behind all the
   others, so its p99 is about N batches ÷ throughput — reported, not a target.

The client runs on the same machine as the server and the database: on a 2-core machine the
three share two cores, so growth with workers is bounded by the cores, not by central.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from app.domain.ledger import SealedRecord, to_wire  # noqa: E402
from tests.support.central import CentralProcess, central_process  # noqa: E402
from tests.support.ledgers import DAY, SimulatedCounter  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402

TARGET_RATIO = 0.3
TARGET_P99 = 1.0


@dataclass
class Load:
    """One simulated counter's day, ready to send."""

    counter: SimulatedCounter
    records: list[SealedRecord]
    bodies: list[bytes]  # the JSON upload bodies, batch by batch


@dataclass(frozen=True)
class Run:
    records: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _prepare(first: int, n: int, payments: int, batch: int) -> list[Load]:
    loads = []
    for number in range(first, first + n):
        counter = SimulatedCounter(number)
        records = counter.day(payments)
        bodies = [
            json.dumps(
                {"records": [to_wire(r) for r in records[i : i + batch]]},
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode("utf-8")
            for i in range(0, len(records), batch)
        ]
        loads.append(Load(counter, records, bodies))
    return loads


def _enroll(central: CentralProcess, url: str, loads: Sequence[Load]) -> None:
    from central import auth
    from central.store import CentralStore

    store = CentralStore(url)
    try:
        codes = [auth.make_enrollment_code(store) for _ in loads]
    finally:
        store.close()

    def one(load: Load, code: str) -> None:
        resp = requests.post(
            central.url + "/v1/enroll", json=load.counter.enroll_request(code), timeout=60
        )
        resp.raise_for_status()
        load.counter.token = resp.json()["api_token"]

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, loads, codes))


def _upload(central: CentralProcess, loads: Sequence[Load], starts: Sequence[float]) -> Run:
    """Each counter (own thread, own connection) waits for its start, then sends its batches
    one after the other; every result must be `accepted`."""
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[str] = []
    barrier = threading.Barrier(len(loads))

    def counter_day(load: Load, start: float) -> None:
        mine = []
        with requests.Session() as session:
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {load.counter.token}",
            }
            barrier.wait(60)
            time.sleep(start)
            for body in load.bodies:
                t0 = time.perf_counter()
                resp = session.post(
                    central.url + "/v1/records", data=body, headers=headers, timeout=120
                )
                mine.append(time.perf_counter() - t0)
                if resp.status_code != 200:
                    failures.append(f"HTTP {resp.status_code}")
                    continue
                bad = [r for r in resp.json()["results"] if r["status"] != "accepted"]
                if bad:
                    failures.append(f"{len(bad)} not accepted: {bad[0]}")
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(loads)) as pool:
        list(pool.map(counter_day, loads, starts))
    seconds = time.perf_counter() - t0
    if failures:
        raise SystemExit(f"FAIL: {len(failures)} failed uploads, first: {failures[0]}")
    return Run(sum(len(load.records) for load in loads), seconds, latencies)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


_INSERT = (
    "INSERT INTO records (id, counter_id, seq, kind, body, code, prev_hash, hash, received_at, "
    "business_date, receipt_number, amount, at, participant_id, payment_id) VALUES "
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
)


def _rows(counter_id: str, records: Sequence[SealedRecord]) -> list[tuple[object, ...]]:
    from app.domain.canonical import canonical_bytes

    return [
        (
            r.body["id"],
            counter_id,
            r.seq,
            r.kind,
            canonical_bytes(r.body).decode("utf-8"),
            r.code,
            r.prev_hash,
            r.hash,
            "2026-11-21T01:00:00.000000Z",
            r.body["business_date"],
            r.body["receipt_number"],
            r.body["amount"],
            r.body["paid_at"],
            r.body["participant_id"],
            None,
        )
        for r in records
    ]


def _raw_baseline(url: str, loads: Sequence[Load], batch: int) -> Run:
    """The same rows, same shape of load, straight into PostgreSQL (schema by migration)."""
    from central.store import CentralStore

    CentralStore(url).close()
    ids = {load.counter.ledger_counter_id: f"RAW-{load.counter.number}" for load in loads}
    with psycopg.connect(_libpq(url)) as conn:
        conn.cursor().executemany(
            "INSERT INTO counters (id, ledger_counter_id, counter_code, organisation, "
            "collection_point, receipt_series, signing_key, enrolled_at, head_seq, head_hash) "
            "VALUES (%s, %s, 'RAW', 'RAW', 'RAW', 'RAW', 'k', '2026-11-21', 0, 'h')",
            [(cid, ledger) for ledger, cid in ids.items()],
        )
    prepared = [
        [
            _rows(ids[load.counter.ledger_counter_id], load.records[i : i + batch])
            for i in range(0, len(load.records), batch)
        ]
        for load in loads
    ]
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(loads))

    def counter_day(batches: list[list[tuple[object, ...]]]) -> None:
        mine = []
        with psycopg.connect(_libpq(url)) as conn:
            barrier.wait(60)
            for rows in batches:
                t0 = time.perf_counter()
                with conn.transaction():
                    conn.cursor().executemany(_INSERT, rows)
                mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(loads)) as pool:
        list(pool.map(counter_day, prepared))
    seconds = time.perf_counter() - t0
    return Run(sum(len(load.records) for load in loads), seconds, latencies)


def _read_side(central: CentralProcess, url: str, loads: Sequence[Load]) -> tuple[Run, float]:
    """Central's 01-XN of the day for every counter (16 requests at a time), and the raw
    SELECT of the same rows on one connection; returns (API run, raw seconds)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(load: Load) -> int:
        t0 = time.perf_counter()
        resp = requests.get(
            central.url + "/v1/xn01",
            params={"date": DAY.isoformat()},
            headers={"Authorization": f"Bearer {load.counter.token}"},
            timeout=60,
        )
        resp.raise_for_status()
        with lock:
            latencies.append(time.perf_counter() - t0)
        count: int = resp.json()["count"]
        return count

    t0 = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        counts = list(pool.map(one, loads))
    seconds = time.perf_counter() - t0
    if counts != [len(load.records) for load in loads]:
        raise SystemExit("FAIL: a 01-XN does not list the counter's whole day")
    with psycopg.connect(_libpq(url)) as conn:
        cids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM counters WHERE ledger_counter_id = ANY(%s)",
                ([load.counter.ledger_counter_id for load in loads],),
            )
        ]
        t0 = time.perf_counter()
        for cid in cids:
            conn.execute(
                "SELECT id, body, received_at, code FROM records WHERE counter_id = %s "
                "AND kind = 'payment' AND business_date = %s ORDER BY receipt_number",
                (cid, DAY.isoformat()),
            ).fetchall()
        raw_seconds = time.perf_counter() - t0
    return Run(sum(counts), seconds, latencies), raw_seconds


def _line(label: str, run: Run, raw: Run | None = None) -> str:
    ratio = f"   {run.rate / raw.rate:5.2f}× raw" if raw else ""
    return (
        f"{label:<26}{run.rate:>9,.0f} rec/s  p50 {run.pct(0.5) * 1000:>6.0f} ms"
        f"  p99 {run.pct(0.99) * 1000:>6.0f} ms  ({run.seconds:.1f} s){ratio}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--counters", type=int, default=200)
    parser.add_argument("--payments", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--window", type=float, default=20.0, help="paced run: seconds")
    parser.add_argument("--database-url", default=os.environ.get("QUAYTHU_TEST_DATABASE_URL"))
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]

    n = args.counters
    print(f"sealing {2 * n} counter days of {args.payments} payments (setup) …", flush=True)
    burst_loads = _prepare(1, n, args.payments, args.batch)
    paced_loads = _prepare(n + 1, n, args.payments, args.batch)
    cluster = (
        PostgresCluster(args.database_url)
        if args.database_url
        else PostgresCluster.start(durable=True, max_connections=2 * n + 100)
    )
    try:
        return _bench(args, cluster, workers, burst_loads, paced_loads)
    finally:
        cluster.stop()


def _bench(
    args: argparse.Namespace,
    cluster: PostgresCluster,
    workers: list[int],
    burst_loads: list[Load],
    paced_loads: list[Load],
) -> int:
    n = args.counters
    raw = _raw_baseline(cluster.new_database("bench_raw"), burst_loads, args.batch)
    print(f"\n{n} counters × {args.payments} payments, batches of {args.batch}, PostgreSQL")
    print(_line("raw INSERT … ON CONFLICT", raw))
    results: dict[int, tuple[Run, Run, Run, float]] = {}
    rng = random.Random(17)
    starts = [rng.uniform(0, args.window) for _ in paced_loads]
    for w in workers:
        url = cluster.new_database(f"bench_w{w}")
        with central_process(database_url=url, workers=w, timeout=120) as central:
            _enroll(central, url, [*burst_loads, *paced_loads])
            burst = _upload(central, burst_loads, [0.0] * n)
            paced = _upload(central, paced_loads, starts)
            read, read_raw = _read_side(central, url, burst_loads)
        results[w] = (burst, paced, read, read_raw)
        print(_line(f"API {w} worker(s), burst", burst, raw))
        print(_line(f"API {w} worker(s), paced", paced))
        print(
            f"{'  01-XN for ' + str(n) + ' counters':<26}{read.seconds:>9.2f} s"
            f"        p50 {read.pct(0.5) * 1000:>6.0f} ms  p99 {read.pct(0.99) * 1000:>6.0f} ms"
            f"   raw SELECT {read_raw:.2f} s",
            flush=True,
        )
    return _verdict(args, raw, results)


def _verdict(
    args: argparse.Namespace, raw: Run, results: dict[int, tuple[Run, Run, Run, float]]
) -> int:
    best = max(results.values(), key=lambda r: r[0].rate)
    ratio = best[0].rate / raw.rate
    p99s = {w: r[1].pct(0.99) for w, r in results.items()}
    best_w = min(p99s, key=lambda w: p99s[w])
    p99 = p99s[best_w]
    rates = [results[w][0].rate for w in sorted(results)]
    grows = all(b > a for a, b in itertools.pairwise(rates))
    checks = [
        (f"best burst / raw ≥ {TARGET_RATIO}×", ratio >= TARGET_RATIO, f"{ratio:.2f}×"),
        (
            f"paced p99 ≤ {TARGET_P99:.0f} s ({args.counters} counters)",
            p99 <= TARGET_P99,
            f"{p99 * 1000:.0f} ms with {best_w} worker(s); "
            + ", ".join(f"{w}: {v * 1000:.0f} ms" for w, v in sorted(p99s.items())),
        ),
        (
            "throughput grows with workers",
            grows,
            " → ".join(f"{r:,.0f}" for r in rates) + f" rec/s on {os.cpu_count()} cores",
        ),
    ]
    print()
    for label, ok, value in checks:
        print(f"{label:<40}{'PASS' if ok else 'FAIL'}   ({value})")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
