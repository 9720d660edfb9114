"""Benchmark: sync 10,000 payments to the reference central server on loopback.

    .venv/bin/python bench/bench_sync.py [--payments 10000] [--batch 200]

What it does, in one run:

1. starts `quaythu-central serve` (a separate process, SQLite file, 127.0.0.1, free port);
2. makes a counter database and records N payments with `record_payment` (timed, reported);
3. enrols the counter;
4. RAW baseline: the very JSON batches the client would send (built beforehand, not timed) are
   POSTed to /v1/records with one `requests.Session`, back to back — the server's own cost;
5. central's copy of this counter is emptied (direct SQL on central's file) so the server is in
   the same state again;
6. SYNC: `Syncer.run()` — reads the outbox, rebuilds canonical bodies from the columns, uploads,
   marks every item from its own result in a write transaction, then pulls the feeds;
7. prints payments/s for both, the ratio, and PASS/FAIL against the targets
   (≥ 3,000 payments/s and ≥ 0.5× the raw baseline).

Keyring: an in-memory keyring backend is installed (a benchmark must not write to the OS one).
For a GUI-thread stall measurement run the sync through `sync.scheduler.SyncScheduler` (it runs
on its own thread and reports with callbacks); that part belongs to the GUI benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.harness import SyncBench, sync_bench  # noqa: E402

if TYPE_CHECKING:
    from sync.config import SyncConfig

TARGET_RATE = 3000.0
TARGET_RATIO = 0.5


def _reset_central_copy(central_db: Path, ledger_counter_id: str) -> None:
    con = sqlite3.connect(central_db, timeout=30)
    try:
        (cid,) = con.execute(
            "SELECT id FROM counters WHERE ledger_counter_id = ?", (ledger_counter_id,)
        ).fetchone()
        for table in ("records", "participant_changes", "participants", "flags"):
            con.execute(f"DELETE FROM {table} WHERE counter_id = ?", (cid,))
        con.execute("UPDATE counters SET head_seq = 0, head_hash = ? WHERE id = ?", ("0" * 64, cid))
        con.commit()
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    with sync_bench("bench-sync-", payments=args.payments, counter_code="BENCH-01") as bench:
        return _run(args, bench)


def _run(args: argparse.Namespace, bench: SyncBench) -> int:
    from sync.config import SyncConfig
    from sync.enroll import enroll_counter

    db, n, gen_s = bench.db, args.payments, bench.seed_seconds
    print(
        f"recorded {n} payments with record_payment in {gen_s:.1f} s "
        f"({n / gen_s:,.0f}/s; setup, not part of the figures below)"
    )
    enroll_counter(db, bench.central.url, bench.enrollment_code)
    config = SyncConfig(batch_size=args.batch)
    raw_s = _raw_baseline(bench, config, n, args.batch)
    if raw_s is None:
        return 1
    _reset_central_copy(bench.central.db_path, bench.counter.counter_id)
    sync_s = _timed_sync(bench, config, n)
    if sync_s is None:
        return 1
    return _verdict(n, args.batch, raw_s, sync_s)


def _raw_baseline(bench: SyncBench, config: SyncConfig, n: int, batch: int) -> float | None:
    """RAW: the same JSON, prepared beforehand, POSTed back to back. Seconds, or None."""
    from app.domain.ledger import to_wire
    from app.services.outbox import pending_batch
    from sync.connection import client_for_counter

    records = pending_batch(bench.db, n).records
    bodies = [
        json.dumps(
            {"records": [to_wire(r.record) for r in records[i : i + batch]]},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        for i in range(0, len(records), batch)
    ]
    client = client_for_counter(bench.db, config=config)
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {client._token}",
    }
    raw_session = requests.Session()
    responses = []
    t0 = time.perf_counter()
    for body in bodies:
        resp = raw_session.post(
            f"http://127.0.0.1:{bench.central.port}/v1/records",
            data=body,
            headers=headers,
            timeout=60,
        )
        resp.raise_for_status()
        responses.append(resp)
    raw_s = time.perf_counter() - t0
    accepted = sum(
        1 for resp in responses for r in resp.json()["results"] if r["status"] == "accepted"
    )
    if accepted != n:
        print(f"FAIL: the raw baseline stored {accepted} of {n}")
        return None
    return raw_s


def _timed_sync(bench: SyncBench, config: SyncConfig, n: int) -> float | None:
    """SYNC: the real client, same server, same records. Seconds, or None."""
    from sync.engine import Syncer

    syncer = Syncer(bench.db, config=config, purpose="bench")
    profile = None
    if os.environ.get("BENCH_PROFILE"):  # BENCH_PROFILE=1: where the client's time goes
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t0 = time.perf_counter()
    report = syncer.run("bench")
    sync_s = time.perf_counter() - t0
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    if report.accepted != n or report.pending != 0:
        print(f"FAIL: sync accepted {report.accepted} of {n}, {report.pending} left pending")
        return None
    return sync_s


def _verdict(n: int, batch: int, raw_s: float, sync_s: float) -> int:
    raw_rate = n / raw_s
    sync_rate = n / sync_s
    ratio = sync_rate / raw_rate
    ok_rate = sync_rate >= TARGET_RATE
    ok_ratio = ratio >= TARGET_RATIO
    print()
    print(f"payments                      {n:>10,}   (batches of {batch})")
    print(f"raw bulk POST (same JSON)     {raw_s:>10.2f} s   {raw_rate:>10,.0f} payments/s")
    print(f"Syncer.run (full client)      {sync_s:>10.2f} s   {sync_rate:>10,.0f} payments/s")
    print(
        f"sync rate ≥ {TARGET_RATE:,.0f}/s            {'PASS' if ok_rate else 'FAIL'}"
        f"   ({sync_rate:,.0f}/s)"
    )
    print(
        f"sync / raw ≥ {TARGET_RATIO}×               {'PASS' if ok_ratio else 'FAIL'}"
        f"   ({ratio:.2f}×)"
    )
    return 0 if ok_rate and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
