"""Reconciliation of the local Mẫu 01-XN with central's: stored, listable, exportable."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from app.domain.codes import compute_code, normalise_code
from app.services.payments import void_payment
from app.services.reconcile import (
    CentralRow,
    export_reconciliation_csv,
    list_reconciliations,
    next_reconcile_time,
    reconcile_day,
    reconciliation_due,
)
from sync.engine import Syncer
from sync.reconciliation import reconcile_with_central
from tests.sync.conftest import FAST, Counter

DAY = date(2026, 11, 21)
AT = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def test_matches_after_sync_and_reports_what_central_lacks(counter: Counter) -> None:
    counter.pay(2, now=AT)
    Syncer(counter.db, config=FAST).run("test")
    [late] = counter.pay(1, now=AT + timedelta(hours=1))  # recorded, not yet synced
    run = reconcile_with_central(counter.db, DAY, config=FAST)
    assert not run.ok
    assert [(i.kind, i.receipt_number) for i in run.issues] == [("missing_at_central", 3)]
    assert (run.local_count, run.central_count) == (3, 2)
    Syncer(counter.db, config=FAST).run("test")
    again = reconcile_with_central(counter.db, DAY, config=FAST)
    assert again.ok and again.local_total == again.central_total
    assert [r.id for r in list_reconciliations(counter.db, day=DAY)] == [again.id, run.id]
    assert late.receipt_number == 3


def test_every_kind_of_difference(counter: Counter, tmp_path: Path) -> None:
    a, b, c, d = counter.pay(4, now=AT)
    void_payment(
        counter.db, receipt_number=4, reason="Thu trùng hai lần", supervisor=counter.supervisor
    )
    rows = [
        CentralRow(a.confirmation_code, 1, a.amount, a.paid_at + timedelta(minutes=9), False),
        CentralRow(b.confirmation_code, 2, b.amount + 1000, b.paid_at, False),
        CentralRow(c.confirmation_code, 3, c.amount, c.paid_at + timedelta(minutes=11), False),
        CentralRow(d.confirmation_code, 4, d.amount, d.paid_at, False),  # void not at central
        CentralRow(compute_code(b"k" * 32, {"x": 1}), 99, 500_000, AT, False, "Người Lạ"),
    ]
    run = reconcile_day(counter.db, DAY, rows, tolerance=timedelta(minutes=10))
    kinds = {(i.kind, i.receipt_number) for i in run.issues}
    assert kinds == {
        ("amount_differs", 2),
        ("time_differs", 3),
        ("void_differs", 4),
        ("missing_locally", 99),
    }  # 9 minutes apart is within the tolerance
    assert run.status == "mismatch"
    out = export_reconciliation_csv(counter.db, run.id, tmp_path / "doi-chieu.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert table[0][:3] == ["Ngày đối chiếu", "Loại chênh lệch", "Mã xác nhận"]
    assert len(table) == 1 + 4
    assert any(row[1] == "Số tiền khác nhau" and row[4] == str(b.amount) for row in table)
    assert normalise_code(table[1][2])


def test_due_each_morning_after_the_configured_time(counter: Counter) -> None:
    before = datetime(2026, 11, 22, 0, 29, tzinfo=UTC)  # 07:29 local
    after = datetime(2026, 11, 22, 0, 31, tzinfo=UTC)  # 07:31 local
    assert reconciliation_due(counter.db, before) is None
    assert reconciliation_due(counter.db, after) == DAY
    assert next_reconcile_time(before).astimezone(UTC) == datetime(2026, 11, 22, 0, 30, tzinfo=UTC)
    reconcile_day(counter.db, DAY, [])
    assert reconciliation_due(counter.db, after) is None


def test_sync_pass_reconciles_yesterday_when_due(counter: Counter) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    counter.pay(2, now=yesterday)
    report = Syncer(counter.db, config=replace(FAST, reconcile_at=time(0, 0))).run("test")
    assert report.reconciled_day is not None and report.reconciliation_ok is True
    assert list_reconciliations(counter.db)[0].trigger == "scheduled"
    # done once per day
    assert (
        Syncer(counter.db, config=replace(FAST, reconcile_at=time(0, 0))).run("t").reconciled_day
        is None
    )
