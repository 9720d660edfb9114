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
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402
import requests  # noqa: E402

from tests.support.keyrings import MemoryKeyring  # noqa: E402

_NAMES = ("An", "Bình", "Chi", "Dũng", "Hà", "Hằng", "Lan", "Minh", "Nam", "Đào")
TARGET_RATE = 3000.0
TARGET_RATIO = 0.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_central(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "central.cli", "serve", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
            return proc
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise SystemExit("central did not start") from None
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("central did not start in time")


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


def seed_payments(db: Any, admin: Any, n: int) -> float:
    """Record `n` BHYT payments for 100 payers through record_payment; returns seconds taken."""
    from app.domain.types import Scheme
    from app.services.participants import ParticipantInput, create_participant
    from app.services.payments import PaymentRequest, record_payment

    payers = [
        create_participant(
            db,
            ParticipantInput(
                full_name=f"Người Nộp {_NAMES[i % 10]} {_NAMES[i // 10]}",
                ma_so_bhxh=f"79{i:08d}",
            ),
            by=admin,
        )
        for i in range(100)
    ]
    t0 = time.perf_counter()
    for i in range(n):
        record_payment(
            db,
            PaymentRequest(
                client_request_id=str(uuid.uuid4()),
                participant_id=payers[i % len(payers)].id,
                scheme=Scheme.BHYT_HGD,
                member_order=1 + i % 5,
                months=3,
                start_month=date(2027, 1, 1),
            ),
            by=admin,
        )
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    keyring.set_keyring(MemoryKeyring())

    from argon2 import PasswordHasher

    from app.domain.ledger import to_wire
    from app.services import operators
    from app.services.counter import get_counter, init_counter
    from app.services.outbox import pending_batch
    from app.storage.db import open_database
    from central import auth
    from central.store import CentralStore
    from sync.config import SyncConfig
    from sync.connection import client_for_counter
    from sync.engine import Syncer
    from sync.enroll import enroll_counter

    operators._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    port = _free_port()
    central_db = tmp / "central.sqlite3"
    central = _start_central(central_db, port)
    try:
        db = open_database(tmp / "counter.sqlite3")
        counter, admin = init_counter(
            db,
            organisation="Bưu điện tỉnh Thái Nguyên",
            collection_point="Điểm thu Đồng Hỷ",
            counter_code="BENCH-01",
            admin_username="quantri",
            admin_full_name="Quản Trị",
            admin_password="bench-password",
        )
        n = args.payments
        gen_s = seed_payments(db, admin, n)
        print(
            f"recorded {n} payments with record_payment in {gen_s:.1f} s "
            f"({n / gen_s:,.0f}/s; setup, not part of the figures below)"
        )

        store = CentralStore.at_path(central_db)
        me = get_counter(db)
        code = auth.make_enrollment_code(
            store,
            organisation=me.organisation,
            collection_point=me.collection_point,
            counter_code=me.counter_code,
            label="bench",
        )
        store.close()
        enroll_counter(db, f"http://127.0.0.1:{port}", code)
        config = SyncConfig(batch_size=args.batch)

        # RAW: the same JSON, prepared beforehand, POSTed back to back.
        records = pending_batch(db, n).records
        bodies = [
            json.dumps(
                {"records": [to_wire(r.record) for r in records[i : i + args.batch]]},
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode("utf-8")
            for i in range(0, len(records), args.batch)
        ]
        client = client_for_counter(db, config=config)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {client._token}",
        }
        raw_session = requests.Session()
        responses = []
        t0 = time.perf_counter()
        for body in bodies:
            resp = raw_session.post(
                f"http://127.0.0.1:{port}/v1/records", data=body, headers=headers, timeout=60
            )
            resp.raise_for_status()
            responses.append(resp)
        raw_s = time.perf_counter() - t0
        accepted = sum(
            1 for resp in responses for r in resp.json()["results"] if r["status"] == "accepted"
        )
        if accepted != n:
            print(f"FAIL: the raw baseline stored {accepted} of {n}")
            return 1

        _reset_central_copy(central_db, counter.counter_id)

        # SYNC: the real client, same server, same records.
        syncer = Syncer(db, config=config, purpose="bench")
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
            return 1

        raw_rate = n / raw_s
        sync_rate = n / sync_s
        ratio = sync_rate / raw_rate
        ok_rate = sync_rate >= TARGET_RATE
        ok_ratio = ratio >= TARGET_RATIO
        print()
        print(f"payments                      {n:>10,}   (batches of {args.batch})")
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
    finally:
        central.terminate()
        try:
            central.wait(10)
        except subprocess.TimeoutExpired:
            central.kill()
        if os.environ.get("BENCH_KEEP") is None:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
