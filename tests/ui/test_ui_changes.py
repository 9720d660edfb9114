"""Screens learn what changed from the op (`AppState.changed(OpChanges)`), not from each other.

The window runs against the real reference central server with an enrolled counter (fixtures
of tests/sync/conftest.py); the scheduler runs on its thread with `FAST` timings, which never
sync after a change — so the pending count can only move through the recount an op's changes
ask for.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.domain.types import Scheme
from app.services.payments import PaymentRequest
from tests.sync import conftest as sync_fixtures
from tests.sync.conftest import Counter
from tests.ui.conftest import CASHIER_PASSWORD, wait_ops
from tests.ui.test_ui_sync import signed_in, synced_and_idle, wait_status
from ui.qt.changes import OpChanges
from ui.qt.operations import payments
from ui.qt.operations.payments import RECORDED, REPRINTED

central = sync_fixtures.central
counter = sync_fixtures.counter
cheap_password_hashing = sync_fixtures.cheap_password_hashing


def bhyt_request(counter: Counter) -> PaymentRequest:
    return PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=counter.payer.id,
        scheme=Scheme.BHYT_HGD,
        member_order=1,
        months=3,  # no start month: the card runs on from the payer's last one
    )


def status_column(page: Any, row: int) -> str:
    return str(page.model.data(page.model.index(row, 9), Qt.ItemDataRole.DisplayRole))


def count_recounts(monkeypatch: pytest.MonkeyPatch, window: Any) -> list[int]:
    """Count the scheduler's recounts of the outbox (each still runs for real)."""
    scheduler = window.sync.scheduler
    assert scheduler is not None, "the counter is enrolled: the window runs a scheduler"
    calls: list[int] = []
    real = scheduler.notify_local_change

    def recount() -> None:
        calls.append(1)
        real()

    monkeypatch.setattr(scheduler, "notify_local_change", recount)
    return calls


def test_a_payment_op_refreshes_today_and_the_sync_count(
    qtbot: Any, make_window: Any, counter: Counter
) -> None:
    window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    synced_and_idle(qtbot, window)
    today = window.work.show_screen("today")
    wait_ops(qtbot)
    assert today.model.rowCount() == 0
    announced: list[OpChanges] = []
    window.state.changed.connect(announced.append)

    # The op alone, with no screen around it to refresh anything by hand.
    recorded: list[Any] = []
    payments.record(window, window.state, bhyt_request(counter)).success(recorded.append).run()
    wait_ops(qtbot)

    assert announced == [RECORDED]
    qtbot.waitUntil(lambda: today.model.rowCount() == 1, timeout=10_000)
    assert today.model.rows[0].receipt_number == recorded[0].receipt_number
    status = wait_status(qtbot, window, lambda s: s.pending == 1)
    assert status.state == "idle"  # counted, not synced
    assert "Chờ gửi: 1" in window.sync_indicator.text()


def test_a_reprint_refreshes_today_without_a_sync_recount(
    qtbot: Any,
    make_window: Any,
    counter: Counter,
    printed: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [paid] = counter.pay(1)
    window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    synced_and_idle(qtbot, window)
    today = window.work.show_screen("today")
    wait_ops(qtbot)
    assert today.select_receipt(paid.receipt_number)
    recounts = count_recounts(monkeypatch, window)
    announced: list[OpChanges] = []
    window.state.changed.connect(announced.append)

    dialog = today.reprint_selected()
    assert dialog is not None
    qtbot.waitUntil(lambda: "Đã gửi biên lai" in dialog.status_text(), timeout=15_000)
    wait_ops(qtbot)

    assert announced == [REPRINTED]
    qtbot.waitUntil(lambda: status_column(today, 0) == "In lại 1 lần", timeout=10_000)
    assert printed and recounts == []

    # The same spy sees the recount a payment asks for.
    dialog.reject()
    payments.record(window, window.state, bhyt_request(counter)).run()
    wait_ops(qtbot)
    assert announced == [REPRINTED, RECORDED]
    assert recounts == [1]
    wait_status(qtbot, window, lambda s: s.pending == 1)
