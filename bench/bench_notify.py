"""Notification benchmarks (issue 14). Run: .venv/bin/python bench/bench_notify.py

(a) Queuing cost: record_payment with SMS and email switched on (two messages queued in the same
    transaction, the SMS text rendered) against record_payment in the same run with the queuing
    hook replaced by a no-op — the raw baseline. Payments alternate between the two databases
    (same folder, same pragmas) so disk and clock drift hit both alike. Prints both medians and
    the ratio (target ≤ 1.10, i.e. queuing adds ≤ 10 %).
(b) Delivery throughput: the SMS queued in (a) (1,000 by default) sent by `deliver_due` through
    the HTTP gateway sender to a local gateway on 127.0.0.1; prints messages/s (target ≥ 200)
    beside the same number of bare `requests` POSTs to the same gateway in the same run.

Options: --payments N (default 1,000).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring
import requests

import app.services.payments as payments_module
from app.domain.types import Scheme
from app.notify.delivery import DeliveryPolicy, deliver_due
from app.notify.outbox import SENT, notify_status
from app.notify.settings import load_notify_settings, parse_profile, save_notify_settings
from app.secrets import store_sms_secret
from app.services.counter import init_counter
from app.services.participants import ParticipantInput, create_participant
from app.services.payments import PaymentRequest, record_payment
from app.storage.db import Database, open_database
from sync.notify_sms import HttpSmsSender
from tests.notify.gateway import FakeGateway, profile_json
from tests.support.counters import open_test_shift
from tests.support.keyrings import MemoryKeyring

_LETTERS = "ABCDEGHIKLMNOPQRSTUV"


def _counter(path: Path) -> tuple[Database, Any, list[str]]:
    db = open_database(path)
    _, admin = init_counter(
        db,
        organisation="Bưu điện",
        collection_point="Điểm thu",
        counter_code="BENCH",
        admin_username="bench",
        admin_full_name="Bench",
        admin_password="bench-password",
    )
    payers = [
        create_participant(
            db,
            ParticipantInput(
                full_name=f"Nguyễn Thị Hằng Đào {_LETTERS[i % 20]} {_LETTERS[i // 20]}",
                ma_so_bhxh=f"79{i:08d}",
                phone=f"091{i:07d}",
                email=f"nguoinop{i}@example.vn",
            ),
            by=admin,
        ).id
        for i in range(100)
    ]
    open_test_shift(db, admin)  # payments need an open shift (docs/SHIFTS.md)
    return db, admin, payers


def _request(payer: str, i: int) -> PaymentRequest:
    return PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=payer,
        scheme=Scheme.BHYT_HGD,
        member_order=1 + i % 5,
        months=3,
        start_month=date(2027, 1, 1),
    )


def _no_queue(*args: Any, **kwargs: Any) -> int:
    return 0


def bench_queue(folder: Path, n: int, gateway_url: str) -> tuple[float, float, Database]:
    off_db, off_admin, off_payers = _counter(folder / "off.sqlite3")
    on_db, on_admin, on_payers = _counter(folder / "on.sqlite3")
    store_sms_secret("bench-token")
    save_notify_settings(
        on_db,
        replace(
            load_notify_settings(on_db),
            sms_enabled=True,
            email_enabled=True,
            smtp_host="127.0.0.1",
            smtp_security="none",
            sender_email="bienlai@example.vn",
            gateway=parse_profile(profile_json(gateway_url)),
        ),
        by=on_admin,
    )
    real_hook = payments_module.queue_payment_notices
    off: list[float] = []
    on: list[float] = []
    for i in range(n):
        payments_module.queue_payment_notices = _no_queue  # type: ignore[assignment]
        t0 = time.perf_counter()
        record_payment(off_db, _request(off_payers[i % 100], i), by=off_admin)
        off.append(time.perf_counter() - t0)
        payments_module.queue_payment_notices = real_hook
        t0 = time.perf_counter()
        record_payment(on_db, _request(on_payers[i % 100], i), by=on_admin)
        on.append(time.perf_counter() - t0)
    off_db.close()
    return statistics.median(on) * 1000, statistics.median(off) * 1000, on_db


def bench_send(db: Database, gateway: FakeGateway, n: int) -> tuple[float, float]:
    settings = load_notify_settings(db)
    assert settings.gateway is not None
    sender = HttpSmsSender(settings.gateway, "bench-token")
    policy = DeliveryPolicy(batch_size=100)
    t0 = time.perf_counter()
    report = deliver_due(db, {"sms": sender}, policy=policy)
    ours = time.perf_counter() - t0
    sender.close()
    if report.sent != n or notify_status(db).by_channel["sms"][SENT] != n:
        raise SystemExit(f"expected {n} SMS sent, got {report}")

    session = requests.Session()
    body = {"brandname": "X", "to": "84912345678", "content": "x" * 150}
    t0 = time.perf_counter()
    for i in range(n):
        session.post(gateway.url, json={**body, "request_id": f"raw{i}"}, timeout=5).json()
    raw = time.perf_counter() - t0
    session.close()
    return n / ours, n / raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=1000)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())
    gateway = FakeGateway()
    gateway.state.record = False
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        on_ms, off_ms, db = bench_queue(Path(tmp), args.payments, gateway.url)
        ratio = on_ms / off_ms
        ok &= ratio <= 1.10
        print(
            f"(a) record_payment median: {on_ms:.3f} ms with SMS+email queued, "
            f"{off_ms:.3f} ms with queuing off (baseline, same run) → ratio {ratio:.3f} "
            f"(target ≤ 1.10) {'OK' if ratio <= 1.10 else 'MISSED'}"
        )
        ours, raw = bench_send(db, gateway, args.payments)
        ok &= ours >= 200
        print(
            f"(b) {args.payments} queued SMS through the local gateway: {ours:.0f} messages/s "
            f"(target ≥ 200) {'OK' if ours >= 200 else 'MISSED'}; bare requests POSTs in the "
            f"same run: {raw:.0f}/s → ratio {raw / ours:.2f}× of raw time"
        )
        db.close()
    gateway.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
