"""Backups with SQLite's online backup API on real files: verified copies, once a business day,
30 daily + 12 monthly kept, and a restore that finds every payment (docs/BACKUP.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.errors import UserFacingError
from app.services.backup import (
    KEEP_DAILY,
    KEEP_MONTHLY,
    backup_status,
    make_backup,
    prune,
    restore,
    run_daily_backup,
    verify_backup,
)
from app.services.common import Actor
from app.storage.db import Database, open_database
from tests.support.counters import init_test_counter, seed_payments


def payment_ids(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {row[0] for row in con.execute("SELECT id FROM payments")}
    finally:
        con.close()


def test_restore_finds_every_payment_and_keeps_the_current_file_aside(
    tmp_path: Path, db_path: Path, db: Database, cashier: Actor
) -> None:
    seed_payments(db, cashier, 20)
    before = payment_ids(db_path)
    result = make_backup(db, folder=tmp_path / "usb")
    assert result.ok and result.payments == 20, result.message
    assert Path(result.path).parent == tmp_path / "usb"
    assert payment_ids(Path(result.path)) == before
    status = backup_status(db)
    assert status.last is not None and status.last.ok and "tốt" in status.last.status_text
    db.close()
    done = restore(Path(result.path), db_path)
    assert done.payments == 20 and done.kept_aside is not None
    assert payment_ids(db_path) == before  # every payment is back
    assert payment_ids(Path(done.kept_aside)) == before  # and the old file is still there
    reopened = open_database(db_path)
    try:
        from app.services.verify import verify_ledger

        assert verify_ledger(reopened).ok
    finally:
        reopened.close()


def test_restore_refuses_a_tampered_copy_or_another_counters(
    tmp_path: Path, db_path: Path, db: Database, cashier: Actor
) -> None:
    seed_payments(db, cashier, 3)
    good = Path(make_backup(db, folder=tmp_path / "bk").path)
    tampered = tmp_path / "tampered.sqlite3"
    tampered.write_bytes(good.read_bytes())
    con = sqlite3.connect(tampered)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE payments SET amount = amount - 1000 WHERE receipt_number = 2")
    con.commit()
    con.close()
    assert not verify_backup(tampered).ok
    db.close()
    with pytest.raises(UserFacingError, match="không đạt kiểm tra"):
        restore(tampered, db_path)
    other_path = tmp_path / "other.sqlite3"
    other = open_database(other_path)
    init_test_counter(other, counter_code="TN-KHAC")
    other_copy = Path(make_backup(other, folder=tmp_path / "other-bk").path)
    other.close()
    with pytest.raises(UserFacingError, match="quầy TN-KHAC"):
        restore(other_copy, db_path)
    assert len(payment_ids(db_path)) == 3  # untouched


def test_daily_backup_once_a_business_day(tmp_path: Path, db: Database, admin: Actor) -> None:
    first = run_daily_backup(db)
    assert first.ok and not first.skipped and first.kind == "daily"
    assert Path(first.path).parent == db.path.parent / "backups"  # default: beside the data
    again = run_daily_backup(db)
    assert again.skipped and again.path == first.path


def test_keeps_30_daily_and_12_monthly(tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    folder.mkdir()
    names = []
    for month in range(1, 13):  # 2025: one copy on the 5th and the 20th of each month
        names += [f"2025{month:02d}05-170000", f"2025{month:02d}20-170000"]
    for day in range(1, 32):  # December 2025 daily, twice a day
        names += [f"202512{day:02d}-080000", f"202512{day:02d}-170000"]
    for month in range(1, 4):  # and a few in 2026
        names.append(f"2026{month:02d}10-170000")
    for stamp in names:
        (folder / f"quaythu-TN-DH01-{stamp}-daily.sqlite3").write_bytes(b"")
    (folder / "quaythu-TN-KHAC-20250101-170000-daily.sqlite3").write_bytes(b"")  # not ours
    (folder / "notes.txt").write_text("giữ")
    prune(folder, "TN-DH01")
    kept = sorted(p.name[16:31] for p in folder.glob("quaythu-TN-DH01-*"))
    days = {k[:8] for k in kept}
    months = {k[:6] for k in kept}
    assert len(days) <= KEEP_DAILY + KEEP_MONTHLY and len(months) == KEEP_MONTHLY
    assert "20260310-170000" in kept and "20251231-170000" in kept
    assert "20251231-080000" not in kept  # one copy a day: the newest
    newest_days = sorted({n[:8] for n in names}, reverse=True)[:KEEP_DAILY]
    assert set(newest_days) <= days
    assert (folder / "notes.txt").exists()
    assert (folder / "quaythu-TN-KHAC-20250101-170000-daily.sqlite3").exists()
