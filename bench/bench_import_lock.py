"""How long a payment waits behind a large participant import (issue 10, point 10).

Run: .venv/bin/python bench/bench_import_lock.py [--rows 50000]

One thread imports a CSV of N new participants (all or nothing); another records a payment every
20 ms while it runs. Printed: the import's duration, how long the write lock was held (the
bulk write only: parsing, validation and matching run before it), and the payments' worst and
median latency during the import beside the median latency measured in the same run with no
import (the raw baseline), with their ratio. Target: no payment waits more than about a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring

from app.domain.types import Scheme, Sex
from app.services import participants
from app.services.participants import ParticipantInput, create_participant, import_participants_csv
from app.services.payments import PaymentRequest, record_payment
from app.storage.db import open_database
from tests.support.counters import cheap_password_hashing, init_test_counter, open_test_shift
from tests.support.keyrings import MemoryKeyring


def _cccd(i: int) -> str:
    # province 001, 1990s man (sex/century digit 0), year 90, serial i
    return f"001090{i:06d}"


def write_csv(path: Path, rows: int) -> None:
    lines = ["Họ và tên,Ngày sinh,Giới tính,CCCD,Địa chỉ"]
    lines += [
        f"Người Thứ {chr(65 + i % 26)}{chr(65 + i // 26 % 26)},01/01/1990,Nam,"
        f"{_cccd(i)},Thôn {i % 50}"
        for i in range(1, rows + 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())
    with tempfile.TemporaryDirectory(prefix="qt-import-") as tmp, cheap_password_hashing():
        db = open_database(Path(tmp) / "counter.sqlite3")
        admin = init_test_counter(db)
        open_test_shift(db, admin)  # payments need an open shift (docs/SHIFTS.md)
        payer = create_participant(
            db,
            ParticipantInput(
                full_name="Lê Thị Mỹ Đào",
                date_of_birth=date(1985, 3, 14),
                sex=Sex.FEMALE,
                cccd="019185001234",
            ),
            by=admin,
        )

        def pay() -> float:
            req = PaymentRequest(str(uuid.uuid4()), payer.id, Scheme.BHYT_HGD, 12, member_order=1)
            started = time.perf_counter()
            record_payment(db, req, by=admin)
            return time.perf_counter() - started

        baseline = [pay() for _ in range(30)]
        csv_path = Path(tmp) / "ds.csv"
        write_csv(csv_path, args.rows)
        during: list[float] = []
        done = threading.Event()

        def payments() -> None:
            while not done.is_set():
                during.append(pay())
                time.sleep(0.02)

        chunk_seconds: list[float] = []
        write_chunk = participants._write_chunk

        def timed_chunk(*a: Any) -> None:  # how long each chunk holds the write lock
            t = time.perf_counter()
            write_chunk(*a)
            chunk_seconds.append(time.perf_counter() - t)

        participants._write_chunk = timed_chunk  # type: ignore[assignment]
        payer_thread = threading.Thread(target=payments)
        payer_thread.start()
        started = time.perf_counter()
        result = import_participants_csv(db, csv_path, by=admin)
        import_seconds = time.perf_counter() - started
        done.set()
        payer_thread.join()
        db.close()
    assert result.created == args.rows, result.errors[:3]
    base = statistics.median(baseline)
    print(f"import of {args.rows} rows: {import_seconds:.2f} s (all or nothing)")
    print(
        f"write lock held per chunk of {participants.IMPORT_CHUNK}: worst "
        f"{max(chunk_seconds) * 1000:.0f} ms over {len(chunk_seconds)} chunks"
    )
    print(f"payment alone (baseline, same run): median {base * 1000:.1f} ms")
    print(
        f"payments during the import: {len(during)}, median {statistics.median(during) * 1000:.1f}"
        f" ms, worst {max(during) * 1000:.1f} ms — worst/baseline ratio {max(during) / base:.1f}×"
    )


if __name__ == "__main__":
    main()
