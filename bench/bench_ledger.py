"""Ledger benchmarks (issue: the ledger core). Run: .venv/bin/python bench/bench_ledger.py

(a) record_payment — the whole use case: quote, gap-free number, HMAC code, chain link, outbox,
    audit, one BEGIN IMMEDIATE transaction with synchronous=FULL — against the raw baseline
    measured in the same run: one sqlite3 INSERT + COMMIT of a single row with the same pragmas
    in the same folder. Prints both medians and the ratio (target ≤ 5×).
(b) participant search over 1,000,000 generated Vietnamese names: diacritic-free prefix queries
    through search_participants (FTS5), p50/p95 (target p95 ≤ 5 ms), beside the same FTS5 MATCH
    issued through raw sqlite3 in the same run.

Options: --payments N (default 300), --names N (default 1,000,000), --queries N (default 500).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring

from app.domain.text import fold_key
from app.domain.types import PaymentMethod, Scheme, Sex, SupportCategory
from app.services.participants import ParticipantInput, create_participant, search_participants
from app.services.payments import PaymentRequest, record_payment
from app.storage.db import open_database
from tests.support.counters import init_test_counter
from tests.support.keyrings import MemoryKeyring
from tests.support.names import GIVEN, MIDDLE, SURNAMES


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1] * 1000


def bench_record(folder: Path, n: int) -> tuple[float, float]:
    keyring.set_keyring(MemoryKeyring())
    db = open_database(folder / "ledger.sqlite3")
    admin = init_test_counter(db, counter_code="BENCH")
    # A counter serves many people; each pays a few times. 100 payers, round robin.
    payers = [
        create_participant(
            db,
            ParticipantInput(
                full_name=f"Nguyễn Thị Hằng {chr(65 + k % 26)}",
                date_of_birth=date(1985, 3, 14),
                sex=Sex.FEMALE,
                cccd=f"019185{k:06d}",
            ),
            by=admin,
        )
        for k in range(100)
    ]
    ours: list[float] = []
    for i in range(n):
        payer, turn = payers[i % len(payers)], i // len(payers)
        req = PaymentRequest(
            client_request_id=str(uuid.uuid4()),
            participant_id=payer.id,
            scheme=Scheme.BHXH_TN,
            income=2_200_000,
            support_category=SupportCategory.OTHER,
            method=PaymentMethod.MONTHLY,
            start_month=date(2027 + turn // 12, turn % 12 + 1, 1),
        )
        # Each payer pays month by month, within the month (the period rules refuse months
        # paid twice, months past and months too far ahead).
        paid_at = datetime(2027 + turn // 12, turn % 12 + 1, 15, 3, 0, tzinfo=UTC)
        t0 = time.perf_counter()
        record_payment(db, req, by=admin, now=paid_at)
        ours.append(time.perf_counter() - t0)
    db.close()

    raw = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        raw.execute(f"PRAGMA {pragma}")
    raw.execute("CREATE TABLE p (id TEXT PRIMARY KEY, amount INTEGER, code TEXT, at TEXT)")
    base: list[float] = []
    for i in range(n):
        t0 = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(
            "INSERT INTO p VALUES (?, ?, ?, ?)",
            (str(uuid.uuid4()), 264_000, f"CODE{i}", datetime.now(UTC).isoformat()),
        )
        raw.execute("COMMIT")
        base.append(time.perf_counter() - t0)
    raw.close()
    return median_ms(ours), median_ms(base)


def build_names(folder: Path, count: int) -> Path:
    """A counter database with `count` generated participants, inserted in bulk."""
    keyring.set_keyring(MemoryKeyring())
    path = folder / "names.sqlite3"
    open_database(path).close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    rng = random.Random(20261122)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    con.execute("BEGIN")
    batch = []
    for i in range(count):
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        if rng.random() < 0.3:
            name = name.replace(" ", f" {rng.choice(MIDDLE)} ", 1)
        batch.append(
            (str(uuid.UUID(int=rng.getrandbits(128))), f"{i:010d}", name, fold_key(name), now, now)
        )
        if len(batch) == 50_000:
            con.executemany(
                "INSERT INTO participants (id, ma_so_bhxh, full_name, name_key, address, phone,"
                " email, prior_support_months, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, '', '', '', 0, ?, ?)",
                batch,
            )
            batch.clear()
    if batch:
        con.executemany(
            "INSERT INTO participants (id, ma_so_bhxh, full_name, name_key, address, phone,"
            " email, prior_support_months, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, '', '', '', 0, ?, ?)",
            batch,
        )
    con.execute("COMMIT")
    con.execute("INSERT INTO participants_fts(participants_fts) VALUES ('optimize')")
    con.close()
    return path


def queries(n: int) -> list[str]:
    rng = random.Random(7)
    out = []
    for _ in range(n):
        full = fold_key(f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}")
        words = full.split()
        k = rng.randint(1, len(words))
        q = words[:k]
        q[-1] = q[-1][: rng.randint(1, len(q[-1]))]  # the last word is being typed
        out.append(" ".join(q))
    return out


def bench_search(path: Path, n_queries: int) -> tuple[float, float, float, float]:
    db = open_database(path)
    qs = queries(n_queries)
    for q in qs[:20]:  # warm the page cache, as a counter that has been open a while would be
        search_participants(db, q)
    ours = []
    for q in qs:
        t0 = time.perf_counter()
        search_participants(db, q, limit=20)
        ours.append(time.perf_counter() - t0)
    db.close()
    raw = sqlite3.connect(path)
    base = []
    for q in qs:
        match = " ".join(f'"{w}"*' for w in q.split())
        t0 = time.perf_counter()
        raw.execute(
            "SELECT p.* FROM participants_fts f JOIN participants p ON p.num = f.rowid "
            "WHERE participants_fts MATCH ? LIMIT 20",
            (match,),
        ).fetchall()
        base.append(time.perf_counter() - t0)
    raw.close()
    return median_ms(ours), p95_ms(ours), median_ms(base), p95_ms(base)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--payments", type=int, default=300)
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        folder = Path(tmp)
        ours, base = bench_record(folder, a.payments)
        ratio = ours / base
        ok &= ratio <= 5
        print(
            f"(a) record_payment median {ours:.2f} ms | raw sqlite3 insert+commit median "
            f"{base:.2f} ms | ratio {ratio:.2f}x (target <= 5x) "
            f"{'PASS' if ratio <= 5 else 'FAIL'}"
        )
        t0 = time.perf_counter()
        path = build_names(folder, a.names)
        print(f"    built {a.names:,} participants in {time.perf_counter() - t0:.1f} s")
        q50, q95, r50, r95 = bench_search(path, a.queries)
        ok &= q95 <= 5
        print(
            f"(b) search {a.queries} prefix queries over {a.names:,} names: p50 {q50:.2f} ms, "
            f"p95 {q95:.2f} ms (target <= 5 ms) {'PASS' if q95 <= 5 else 'FAIL'} | raw FTS5 "
            f"p50 {r50:.2f} ms, p95 {r95:.2f} ms | p95 ratio {q95 / r95:.2f}x"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
