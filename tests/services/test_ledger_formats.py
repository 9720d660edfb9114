"""Format-1 records (written before format 2) keep verifying by their own rules after the
upgrade, and the chain goes on in format 2; the head anchor at start-up and sync."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine

from app.domain.canonical import utc_iso
from app.domain.chain import GENESIS
from app.domain.ledger import PaymentBody, seal
from app.errors import UserFacingError
from app.secrets import forget_signing_keys, make_signing_key, store_signing_key
from app.services.common import Actor
from app.services.operators import authenticate
from app.services.participants import ParticipantView
from app.services.payments import PaymentRequest, get_payment, record_payment
from app.services.sealing import check_heads
from app.services.shifts import open_shift
from app.services.verify import verify_ledger
from app.storage.db import Database, alembic_config, open_database
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME, CASHIER

PAID = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _old_counter(path: Path, n: int) -> tuple[str, list[str]]:
    """A database at revision 0002 holding `n` format-1 payments, as the earlier program wrote
    them (raw rows: the models describe the newer schema)."""
    engine = create_engine(f"sqlite:///{path}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    engine.dispose()
    counter_id, key = str(uuid.uuid4()), make_signing_key()
    store_signing_key(counter_id, key)
    now = utc_iso(PAID)
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO counter VALUES (1, ?, 'TN-DH01', 'Bưu điện', 'Điểm thu', 'TN-DH01', ?,"
        " NULL, NULL)",
        (counter_id, now),
    )
    from argon2 import PasswordHasher

    con.execute(
        "INSERT INTO operators VALUES (1, ?, 'Đặng Văn Quản', 'admin', ?, 1, ?, ?)",
        (ADMIN_USERNAME, PasswordHasher().hash(ADMIN_PASSWORD), now, now),
    )
    pid = str(uuid.uuid4())
    con.execute(
        "INSERT INTO participants (id, ma_so_bhxh, cccd, full_name, name_key, address, phone,"
        " email, prior_support_months, created_at, updated_at)"
        " VALUES (?, '0123456789', NULL, 'Lê Thị Mỹ Đào', 'le thi my dao', '', '', '', 0, ?, ?)",
        (pid, now, now),
    )
    con.execute(
        "INSERT INTO audit_events (at, operator_id, action, subject, details)"
        " VALUES (?, 1, 'counter.init', ?, '{}')",
        (now, counter_id),
    )
    prev, codes = GENESIS, []
    for i in range(1, n + 1):
        body = PaymentBody(
            id=str(uuid.uuid4()),
            counter_id=counter_id,
            series="TN-DH01",
            receipt_number=i,
            participant_id=pid,
            payer_name="Lê Thị Mỹ Đào",
            ma_so_bhxh="0123456789",
            cccd=None,
            scheme="bhyt_hgd",
            method=None,
            months=3,
            period_from=date(2027, 3 * i - 2, 1),
            period_to=date(2027, 3 * i, 28),
            income=None,
            support_category=None,
            member_order=1,
            amount=631_800,
            rate_version="2026-07",
            paid_at=PAID,
            business_date=date(2026, 11, 20),
            cashier=ADMIN_USERNAME,
        )
        record = seal(key, i, "payment", body.canonical(), prev)
        con.execute(
            "INSERT INTO ledger VALUES (?, 'payment', ?, ?, ?, ?, ?)",
            (i, body.id, record.code, prev, record.hash, now),
        )
        con.execute(
            "INSERT INTO payments VALUES (?, ?, ?, 'TN-DH01', ?, ?, ?, 'Lê Thị Mỹ Đào',"
            " '0123456789', NULL, 'bhyt_hgd', NULL, 3, ?, ?, NULL, NULL, 1, 210600, 0,"
            " 631800, 0, 0, 631800, NULL, '2026-07', ?, '2026-11-20', 1, ?, ?)",
            (
                body.id,
                i,
                i,
                str(uuid.uuid4()),
                counter_id,
                pid,
                body.period_from.isoformat(),
                body.period_to.isoformat(),
                now,
                ADMIN_USERNAME,
                record.code,
            ),
        )
        prev = record.hash
        codes.append(record.code)
    con.commit()
    con.close()
    forget_signing_keys()
    return pid, codes


def test_format_1_records_verify_after_the_upgrade_and_the_chain_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    pid, codes = _old_counter(path, 3)
    db = open_database(path)
    try:
        report = verify_ledger(db)
        assert report.ok, report.problems
        assert report.checked == 3 and report.audit_checked == 0
        admin = authenticate(db, ADMIN_USERNAME, ADMIN_PASSWORD)
        open_shift(db, by=admin, total=0)  # record 4, format 2 (docs/SHIFTS.md)
        view = record_payment(
            db,
            PaymentRequest(
                client_request_id=str(uuid.uuid4()),
                participant_id=pid,
                scheme=get_payment(db, 1).scheme,
                member_order=1,
                months=3,
            ),
            by=admin,
        )
        assert view.ledger_seq == 5 and view.receipt_number == 4
        report = verify_ledger(db)
        assert report.ok, report.problems
        # The keyed trail begins: the printed names sealed at the first sign-in (the counter's
        # and the one operator's: app.services.masterdata), the mark that households and
        # central's periods are sealed (none here: app.services.pricing_state), the login, the
        # shift and the payment.
        assert report.audit_checked == 6
        assert get_payment(db, 2).confirmation_code.replace("-", "") == codes[1]
        con = sqlite3.connect(path)
        con.execute("DROP TRIGGER payments_no_update")
        con.execute("UPDATE payments SET amount = 1000 WHERE receipt_number = 2")
        con.commit()
        con.close()
        report = verify_ledger(db)
        assert [(f.kind, f.record) for f in report.findings] == [("record_invalid", 2)]
    finally:
        db.close()


def test_start_up_check_finds_a_truncated_ledger_and_advances_a_consistent_one(
    db: Database,
    db_path: Path,
    cashier: Actor,
    payer: ParticipantView,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for _ in range(3):  # records 2–4: record 1 opened the cashier's shift
        record_payment(db, _request(payer), by=cashier)
    assert check_heads(db) == []
    con = sqlite3.connect(db_path)
    for t in ("ledger", "payments"):
        con.execute(f"DROP TRIGGER {t}_no_delete")
    con.execute("DELETE FROM outbox WHERE ledger_seq = 4")
    con.execute("DELETE FROM payments WHERE ledger_seq = 4")
    con.execute("DELETE FROM ledger WHERE seq = 4")
    con.commit()
    con.close()
    [finding] = [f for f in check_heads(db) if f.kind == "ledger_truncated"]
    assert (finding.record, finding.record_to) == (4, 4)
    assert "số 4" in finding.message
    with caplog.at_level(logging.WARNING, logger="app.services.operators"):
        authenticate(db, CASHIER.username, CASHIER.password)
    assert "ledger_truncated 4" in caplog.text


def test_start_up_check_advances_an_anchor_left_behind_by_a_crash(
    db: Database, cashier: Actor, payer: ParticipantView, memory_keyring: Any
) -> None:
    record_payment(db, _request(payer), by=cashier)
    name = next(k for k in memory_keyring.entries if k[1].startswith("ledger-anchor:"))
    behind = memory_keyring.entries[name]
    record_payment(db, _request(payer), by=cashier)
    memory_keyring.entries[name] = behind  # as if the process died between commit and anchor
    assert check_heads(db) == []
    assert memory_keyring.entries[name] != behind
    assert memory_keyring.entries[name].startswith("QTA1|3|")  # record 1 opened the shift


def _request(payer: ParticipantView) -> PaymentRequest:
    from app.domain.types import Scheme

    return PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=payer.id,
        scheme=Scheme.BHYT_HGD,
        member_order=1,
        months=3,
    )


def test_failed_login_before_the_counter_exists_is_written_unsealed(tmp_path: Path) -> None:
    db = open_database(tmp_path / "empty.sqlite3")
    try:
        with pytest.raises(UserFacingError):
            authenticate(db, "ai-do", "mat-khau-bat-ky")
        con = sqlite3.connect(tmp_path / "empty.sqlite3")
        assert con.execute("SELECT action, seq, mac FROM audit_events").fetchall() == [
            ("login.failed", None, None)
        ]
        con.close()
    finally:
        db.close()
