"""Shifts in the window (pytest-qt, real widgets, real database): F9 without a shift offers to
open one, F4 opens and closes, the status bar shows the drawer's cash, F11 drops cash, the close
dialog counts by denomination with a live difference and prints the Z report."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt

from app.domain.types import Scheme
from app.services.common import Actor
from app.services.participants import ParticipantView, create_participant
from app.services.payments import PaymentRequest, record_payment
from app.services.shifts import current_shift, get_shift, open_shift
from app.storage.db import Database
from tests.support.counters import CASHIER, PAYER, add_staff
from tests.ui.conftest import (
    CASHIER_PASSWORD,
    SUPERVISOR_PASSWORD,
    activate,
    login,
    press,
    type_text,
    wait_ops,
)


def _dialog(qtbot: Any, window: Any, kind: str) -> Any:
    from ui.qt import shift

    cls = getattr(shift, kind)
    qtbot.waitUntil(
        lambda: isinstance(window.shifts.dialog, cls) and window.shifts.dialog.isVisible()
    )
    dialog = window.shifts.dialog
    activate(qtbot, dialog)
    return dialog


def test_f9_without_a_shift_offers_to_open_one(
    qtbot: Any, make_window: Any, db: Database, admin: Actor
) -> None:
    clerk = add_staff(db, admin, CASHIER)
    create_participant(db, PAYER, by=clerk)
    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    assert window.shifts.status.full_text() == "Chưa mở ca (F4)"
    page = window.work.pages["payment"]
    qtbot.waitUntil(lambda: page.table is not None)
    qtbot.keyClicks(page.search, "0123456789")
    press(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    qtbot.keyClick(page.search, Qt.Key.Key_F9)
    dialog = _dialog(qtbot, window, "OpenShiftDialog")
    assert page.confirm_dialog is None  # no payment before the shift is open
    dialog.grid.spins[500_000].setValue(1)
    dialog.grid.spins[100_000].setValue(3)
    assert "800.000 đ" in dialog.grid.total_label.text()
    press(dialog.grid.spins[100_000], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    wait_ops(qtbot)
    assert "Tiền trong ngăn kéo: 800.000 đ" in window.shifts.status.full_text()
    shift = current_shift(db)
    assert shift is not None and dict(shift.float_counts) == {500_000: 1, 100_000: 3}
    activate(qtbot, page)
    qtbot.keyClick(page.search, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: page.confirm_dialog is not None, timeout=10_000)


def _pay(db: Database, by: Actor, person: ParticipantView) -> int:
    return record_payment(
        db,
        PaymentRequest(str(uuid.uuid4()), person.id, Scheme.BHYT_HGD, months=3, member_order=1),
        by=by,
    ).amount


def test_drop_then_close_with_a_count_and_the_z_report(
    qtbot: Any,
    make_window: Any,
    db: Database,
    cashier: Actor,
    supervisor: Actor,
    payer: ParticipantView,
) -> None:
    amount = _pay(db, cashier, payer)  # the cashier fixture's float: 1.000.000 đ
    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    expected = 1_000_000 + amount
    assert f"{expected:,} đ".replace(",", ".") in window.shifts.status.full_text()

    # F11: a drop to the safe, signed by the supervisor in the dialog.
    qtbot.keyClick(window.work, Qt.Key.Key_F11)
    drop = _dialog(qtbot, window, "CashMoveDialog")
    drop.amount.setValue(500_000)
    type_text(drop.reason, "nộp két giữa ca")
    type_text(drop.supervisor.name, "giamsat")
    type_text(drop.supervisor.password, SUPERVISOR_PASSWORD)
    press(drop.supervisor.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not drop.isVisible(), timeout=15_000)
    wait_ops(qtbot)
    expected -= 500_000
    assert f"{expected:,} đ".replace(",", ".") in window.shifts.status.full_text()

    # F4: the close dialog; the difference follows the count.
    activate(qtbot, window)
    qtbot.keyClick(window.work, Qt.Key.Key_F4)
    close = _dialog(qtbot, window, "CloseShiftDialog")
    assert "thiếu" in close.difference.text()
    close.grid.spins[500_000].setValue(expected // 500_000)
    short = expected - (expected // 500_000) * 500_000
    assert f"-{short:,} đ".replace(",", ".") in close.difference.text()
    press(close.grid.spins[500_000], Qt.Key.Key_Return)  # no reason given
    qtbot.waitUntil(lambda: "Lý do chênh lệch" in close.error.text(), timeout=10_000)
    type_text(close.reason, "thiếu tiền lẻ trả khách")
    type_text(close.supervisor.name, "giamsat")
    type_text(close.supervisor.password, SUPERVISOR_PASSWORD)
    press(close.supervisor.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not close.isVisible(), timeout=15_000)
    report = _dialog(qtbot, window, "ZReportDialog")
    qtbot.waitUntil(lambda: report.preview.pdf is not None, timeout=15_000)
    wait_ops(qtbot)
    assert report.status.text() == "Báo cáo Z sẵn sàng."
    assert window.shifts.status.full_text() == "Chưa mở ca (F4)"
    closed = get_shift(db)
    assert (closed.counted, closed.difference, closed.supervisor) == (
        expected - short,
        -short,
        "giamsat",
    )


def test_closing_another_cashiers_shift_needs_a_supervisor(
    qtbot: Any, make_window: Any, db: Database, admin: Actor, supervisor: Actor
) -> None:
    clerk = add_staff(db, admin, CASHIER)
    open_shift(db, by=clerk, total=0)
    window = make_window()
    login(qtbot, window, "giamsat", SUPERVISOR_PASSWORD)
    assert "Ca thungan1" in window.shifts.status.full_text()
    qtbot.keyClick(window.work, Qt.Key.Key_F4)
    close = _dialog(qtbot, window, "CloseShiftDialog")
    assert "Ca của người khác" in " ".join(w.text() for w in close.findChildren(type(close.error)))
    press(close.grid.spins[500_000], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "cần giám sát" in close.error.text(), timeout=10_000)
    assert current_shift(db) is not None
