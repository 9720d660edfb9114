"""Ledger benchmarks (issue: the ledger core). Run: .venv/bin/python bench/bench_ledger.py

(a) record_payment — the whole use case: quote, gap-free number, code, full MAC, chain link,
    outbox, keyed audit entry, one BEGIN IMMEDIATE transaction with synchronous=FULL, then the
    head anchor in the keyring — against two raw baselines measured in the same run with the
    same pragmas in the same folder, interleaved payment by payment (the three see the same disk
    and the same load):
    (a1) one sqlite3 INSERT + COMMIT of a single row (the durability floor; ratio printed);
    (a2) one raw sqlite3 BEGIN IMMEDIATE … COMMIT writing the very rows record_payment wrote
         (ledger, payment, outbox, audit entry) into the same schema, then the same anchor
         write to the same keyring backend (target ≤ 3×).
(v) verify over --verify-records ledger records (default 100,000; written in bulk as
    record_payment writes them), beside a raw sqlite3 read of the same rows.
(b) participant search over 1,000,000 generated Vietnamese names: diacritic-free prefix queries
    through search_participants (FTS5), p50/p95 (target p95 ≤ 5 ms), beside the same FTS5 MATCH
    issued through raw sqlite3 in the same run.

Options: --payments N (default 300), --names N (default 1,000,000), --queries N (default 500),
--verify-records N (default 100,000). A quick run: --payments 100 --names 20000
--verify-records 5000.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring
from sqlalchemy import insert, select

from app.domain.canonical import canonical_bytes
from app.domain.ledger import seal
from app.domain.text import fold_key
from app.domain.types import PaymentMethod, Scheme, Sex, SupportCategory
from app.services.participants import ParticipantInput, create_participant, search_participants
from app.services.payments import PaymentRequest, payment_body_v2, record_payment
from app.services.sealing import AUDIT_HEAD, audit_row, ledger_key, read_heads, write_anchor
from app.services.verify import verify_ledger
from app.storage.db import open_database
from app.storage.models import Base
from tests.support.counters import init_test_counter, open_test_shift
from tests.support.keyrings import MemoryKeyring
from tests.support.names import GIVEN, MIDDLE, SURNAMES


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1] * 1000


_RECORD_TABLES = (("ledger", "seq"), ("payments", "ledger_seq"), ("outbox", "ledger_seq"))


def _connect_raw(path: Path) -> sqlite3.Connection:
    raw = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=15000"):
        raw.execute(f"PRAGMA {pragma}")
    return raw


def _written(src: sqlite3.Connection, seq: int) -> list[tuple[str, tuple[object, ...]]]:
    """The rows record_payment wrote for the record `seq`: ledger, payment, outbox, audit."""
    rows = [
        (table, src.execute(f"SELECT * FROM {table} WHERE {col} = ?", (seq,)).fetchone())
        for table, col in _RECORD_TABLES
    ]
    audit = src.execute(
        "SELECT * FROM audit_events WHERE action = 'payment.record' AND subject = ?",
        (rows[1][1][0],),
    ).fetchone()
    return [*rows, ("audit_events", audit)]


def _replay(
    raw: sqlite3.Connection, ring: Any, rows: list[tuple[str, tuple[object, ...]]]
) -> tuple[float, float]:
    """(a2): one raw BEGIN IMMEDIATE … COMMIT writing `rows`, then the anchor write.
    (wall time, this process's CPU time)."""
    t0, c0 = time.perf_counter(), time.process_time()
    raw.execute("BEGIN IMMEDIATE")
    for table, row in rows:
        raw.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    raw.execute("COMMIT")
    ring.set_password("QuayThu", "ledger-anchor:bench", f"QTA1|{rows[0][1][0]}|{'0' * 64}")
    return time.perf_counter() - t0, time.process_time() - c0


def _one_row(raw: sqlite3.Connection, i: int) -> float:
    """(a1): one raw INSERT + COMMIT of a single row."""
    t0 = time.perf_counter()
    raw.execute("BEGIN IMMEDIATE")
    raw.execute(
        "INSERT INTO p VALUES (?, ?, ?, ?)",
        (str(uuid.uuid4()), 264_000, f"CODE{i}", datetime.now(UTC).isoformat()),
    )
    raw.execute("COMMIT")
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Record:
    """(a): medians in ms."""

    ours: float
    one_row: float  # (a1)
    same_rows: float  # (a2)
    ours_cpu: float
    same_rows_cpu: float


def bench_record(folder: Path, n: int) -> Record:
    """(a): record_payment, (a1) and (a2) interleaved payment by payment, so that the three see
    the same disk and the same load (the machine may be shared). Medians in ms."""
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
    open_test_shift(db, admin)  # record 1: payments need an open shift (docs/SHIFTS.md)
    template = folder / "same-rows.sqlite3"
    copy = sqlite3.connect(folder / "ledger.sqlite3", isolation_level=None)
    copy.execute(f"VACUUM INTO '{template}'")  # the database as it is before the payments
    copy.close()
    src = sqlite3.connect(folder / "ledger.sqlite3")  # reads back what record_payment wrote
    same = _connect_raw(template)  # (a2): the same rows, replayed into the same schema
    one = _connect_raw(folder / "raw.sqlite3")  # (a1): one row
    one.execute("CREATE TABLE p (id TEXT PRIMARY KEY, amount INTEGER, code TEXT, at TEXT)")
    ring = keyring.get_keyring()
    ours: list[float] = []
    base: list[float] = []
    replayed: list[float] = []
    cpu: list[float] = []  # this process's CPU time: what is left when fsync costs nothing
    raw_cpu: list[float] = []
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
        t0, c0 = time.perf_counter(), time.process_time()
        view = record_payment(db, req, by=admin, now=paid_at)
        ours.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        wall, replay_cpu = _replay(same, ring, _written(src, view.ledger_seq))
        replayed.append(wall)
        raw_cpu.append(replay_cpu)
        base.append(_one_row(one, i))
    for con in (src, same, one):
        con.close()
    db.close()
    return Record(
        median_ms(ours), median_ms(base), median_ms(replayed), median_ms(cpu), median_ms(raw_cpu)
    )


def build_ledger(folder: Path, n: int) -> Path:
    """A counter database with `n` format-2 payments written in bulk, row for row as
    record_payment writes them (sealed, chained, with keyed audit entries), and its anchor."""
    keyring.set_keyring(MemoryKeyring())
    path = folder / "verify.sqlite3"
    db = open_database(path)
    admin = init_test_counter(db, counter_code="BENCHV")
    payer = create_participant(
        db,
        ParticipantInput(
            full_name="Nguyễn Thị Hằng",
            date_of_birth=date(1985, 3, 14),
            sex=Sex.FEMALE,
            cccd="019185000001",
        ),
        by=admin,
    )
    open_test_shift(db, admin)  # record 1 (docs/SHIFTS.md)
    first = record_payment(
        db,
        PaymentRequest(
            client_request_id=str(uuid.uuid4()),
            participant_id=payer.id,
            scheme=Scheme.BHYT_HGD,
            member_order=1,
            months=3,
        ),
        by=admin,
    )
    counter_id, key = ledger_key(db)
    tables = {t: Base.metadata.tables[t] for t in ("ledger", "payments", "outbox", "audit_events")}
    with db.write() as session:
        conn = session.connection()
        template = dict(
            conn.execute(
                select(tables["payments"]).where(
                    tables["payments"].c.ledger_seq == first.ledger_seq
                )
            )
            .one()
            ._mapping
        )
        head = conn.execute(AUDIT_HEAD).one()
        audit_head: tuple[int | None, str | None] = (head.seq, head.mac)
        prev = conn.execute(
            select(tables["ledger"].c.hash).where(tables["ledger"].c.seq == first.ledger_seq)
        ).scalar_one()
        batch: dict[str, list[dict[str, object]]] = {t: [] for t in tables}
        last = n + first.ledger_seq - 1  # n payments after the shift's opening record
        for seq in range(first.ledger_seq + 1, last + 1):
            row = {
                **template,
                "id": str(uuid.uuid4()),
                "ledger_seq": seq,
                "receipt_number": seq - first.ledger_seq + 1,
                "client_request_id": str(uuid.uuid4()),
            }
            record = seal(key, seq, "payment", payment_body_v2(row).canonical(), prev)
            row["confirmation_code"] = record.code
            batch["ledger"].append(
                {
                    "seq": seq,
                    "kind": "payment",
                    "record_id": row["id"],
                    "code": record.code,
                    "prev_hash": prev,
                    "hash": record.hash,
                    "recorded_at": first.paid_at,
                    "body": canonical_bytes(record.body).decode(),
                    "mac": record.mac,
                }
            )
            batch["payments"].append(row)
            batch["outbox"].append(
                {
                    "ledger_seq": seq,
                    "record_id": row["id"],
                    "kind": "payment",
                    "state": "synced",
                    "attempts": 1,
                    "created_at": first.paid_at,
                }
            )
            entry = audit_row(
                key,
                audit_head,
                at=first.paid_at,
                operator_id=admin.id,
                action="payment.record",
                subject=row["id"],
                details=json.dumps({"receipt_number": seq}),
            )
            batch["audit_events"].append(entry)
            audit_head, prev = (entry["seq"], entry["mac"]), record.hash
            if len(batch["ledger"]) == 5_000 or seq == last:
                for name, rows in batch.items():
                    conn.execute(insert(tables[name]), rows)
                    rows.clear()
    with db.read() as session:
        write_anchor(counter_id, key, read_heads(session))
    db.close()
    return path


def bench_verify(path: Path) -> tuple[int, float, float]:
    """(v): verify_ledger's time, and a raw sqlite3 read of the rows it reads."""
    db = open_database(path)
    t0 = time.perf_counter()
    report = verify_ledger(db)
    ours = time.perf_counter() - t0
    db.close()
    assert report.ok, report.problems[:5]
    raw = sqlite3.connect(path)
    t0 = time.perf_counter()
    for table in ("ledger", "payments", "voids", "audit_events"):
        raw.execute(f"SELECT * FROM {table}").fetchall()
    base = time.perf_counter() - t0
    raw.close()
    return report.checked, ours, base


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
    ap.add_argument("--verify-records", type=int, default=100_000)
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        folder = Path(tmp)
        rec = bench_record(folder, a.payments)
        ours, base, same = rec.ours, rec.one_row, rec.same_rows
        ratio, same_ratio = ours / base, ours / same
        ok &= same_ratio <= 3
        print(
            f"(a) record_payment median {ours:.2f} ms\n"
            f"    (a1) raw sqlite3 one-row insert+commit median {base:.2f} ms | "
            f"ratio {ratio:.2f}x (the durability floor)\n"
            f"    (a2) raw sqlite3 transaction of the same rows + anchor median {same:.2f} ms | "
            f"ratio {same_ratio:.2f}x (target <= 3x) {'PASS' if same_ratio <= 3 else 'FAIL'}\n"
            f"    CPU time of this process (what is left when fsync costs nothing): "
            f"record_payment {rec.ours_cpu:.2f} ms, (a2) {rec.same_rows_cpu:.2f} ms"
        )
        t0 = time.perf_counter()
        vpath = build_ledger(folder, a.verify_records)
        print(f"    built {a.verify_records:,} ledger records in {time.perf_counter() - t0:.1f} s")
        checked, vtime, vraw = bench_verify(vpath)
        print(
            f"(v) verify {checked:,} records (+ as many audit entries): {vtime:.2f} s "
            f"({vtime / checked * 1e6:.0f} µs/record) | raw sqlite3 read of the same tables "
            f"{vraw:.2f} s | ratio {vtime / vraw:.1f}x"
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
