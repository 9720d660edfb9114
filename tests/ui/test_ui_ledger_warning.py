"""Issue 9.3 at the window: the books are compared with their head anchor at sign-in, and a
shorter chain (the newest payment deleted with sqlite3) is shown to the person signing in."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from app.domain.types import Scheme
from app.services.common import Actor
from app.services.participants import ParticipantView
from app.services.payments import PaymentRequest, record_payment
from app.storage.db import Database
from tests.ui.conftest import CASHIER_PASSWORD, login


def _pay(db: Database, cashier: Actor, payer: ParticipantView) -> None:
    record_payment(
        db,
        PaymentRequest(
            client_request_id=str(uuid.uuid4()),
            participant_id=payer.id,
            scheme=Scheme.BHYT_HGD,
            member_order=1,
            months=3,
        ),
        by=cashier,
    )


def test_deleted_newest_payment_is_shown_at_sign_in(
    qtbot: Any,
    make_window: Any,
    db: Database,
    db_path: Path,
    cashier: Actor,
    payer: ParticipantView,
) -> None:
    for _ in range(3):
        _pay(db, cashier, payer)
    con = sqlite3.connect(db_path)  # an attacker with the file but not the keyring
    for table in ("ledger", "payments"):
        con.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    con.execute("DELETE FROM payments WHERE receipt_number = 3")
    con.execute("DELETE FROM ledger WHERE seq = (SELECT max(seq) FROM ledger)")
    con.commit()
    con.close()

    window = make_window()
    login(qtbot, window, cashier.username, CASHIER_PASSWORD)
    qtbot.waitUntil(
        lambda: "SỔ THU CÓ DẤU HIỆU BỊ SỬA" in window.work.message_bar.label.text(),
        timeout=10_000,
    )
    # receipt 3 was record 4: record 1 opened the cashier's shift (docs/SHIFTS.md)
    assert "số 4" in window.work.message_bar.label.text()


def test_untouched_books_sign_in_quietly(
    qtbot: Any, make_window: Any, db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    _pay(db, cashier, payer)
    window = make_window()
    login(qtbot, window, cashier.username, CASHIER_PASSWORD)
    assert "SỔ THU" not in window.work.message_bar.label.text()
