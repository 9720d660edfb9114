"""The window and background sync, against the real reference central server on 127.0.0.1.

The central server, enrolled counters and helpers come from tests/sync/conftest.py (one server
for the session, one counter per test; `cheap_password_hashing` keeps argon2 out of the way).
The scheduler runs for real on its own thread with the short test timings (`FAST`: no sync
after a change, 5-minute interval, quick retries and probes), so the tests decide when a sync
happens: at login, or with "Đồng bộ ngay".
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from sqlalchemy import text

from app.domain.clock import LOCAL_TZ, business_date, now_utc
from app.domain.codes import format_code
from app.domain.types import Scheme
from app.services.common import Actor
from app.storage.db import Database
from sync.events import SyncStatus
from tests.conftest import ADMIN_PASSWORD
from tests.sync import conftest as sync_fixtures
from tests.sync.conftest import FAST, CentralServer, Counter, central_payments, make_counter
from tests.ui.conftest import (
    CASHIER_PASSWORD,
    SUPERVISOR_PASSWORD,
    activate,
    login,
    press,
    type_text,
    wait_ops,
)
from ui.qt.operations.payments import RECORDED
from ui.qt.state import AppState
from ui.qt.sync_bridge import COALESCE_MS, SyncBridge

SYNC_TIMEOUT = 20_000

# The sync tests' fixtures, used here by name: the session's central server, an enrolled
# counter on this test's database, cheap argon2 for the operators make_counter creates.
central = sync_fixtures.central
counter = sync_fixtures.counter
cheap_password_hashing = sync_fixtures.cheap_password_hashing


def signed_in(qtbot: Any, make_window: Any, username: str, password: str) -> Any:
    window = make_window()
    window.state.sync_config = FAST
    login(qtbot, window, username, password)
    return window


def wait_status(qtbot: Any, window: Any, check: Any, timeout: int = SYNC_TIMEOUT) -> SyncStatus:
    """Wait until the status bar shows a status for which `check(status)` holds."""

    def shown() -> bool:
        status = window.sync_indicator.status
        return status is not None and bool(check(status))

    qtbot.waitUntil(shown, timeout=timeout)
    status: SyncStatus = window.sync_indicator.status
    return status


def synced_and_idle(qtbot: Any, window: Any, pending: int = 0) -> SyncStatus:
    return wait_status(
        qtbot,
        window,
        lambda s: s.state == "idle" and s.online is True and s.pending == pending,
    )


def take_payment_in_window(qtbot: Any, window: Any, ma_so: str) -> Any:
    """Find the payer by mã số BHXH, BHYT hộ gia đình 3 months, confirm: the real widgets."""
    page = window.work.show_screen("payment")
    page.new_payment()
    qtbot.keyClicks(page.search, ma_so)
    press(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    page.scheme.setCurrentIndex(page.scheme.findData(Scheme.BHYT_HGD))
    page.bhyt_months.setCurrentIndex(page.bhyt_months.findData(3))
    qtbot.waitUntil(page.quote_is_current, timeout=10_000)
    dialog = page.take_payment()
    assert dialog is not None
    dialog.confirm()
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)
    return page.last_payment


def answer(qtbot: Any, window: Any, button_text: str) -> str:
    """Answer the unsynced-payments question; returns its text."""
    qtbot.waitUntil(lambda: window.unsynced_dialog is not None, timeout=10_000)
    box = window.unsynced_dialog
    text = f"{box.text()} {box.informativeText()}"
    [button] = [b for b in box.buttons() if b.text() == button_text]
    button.click()
    qtbot.waitUntil(lambda: window.unsynced_dialog is None)
    return str(text)


def tamper_amount(db_path: Path, receipt_number: int, amount: int) -> None:
    """Change a stored payment behind the application's back (central must refuse it)."""
    con = sqlite3.connect(db_path)
    try:
        con.execute("DROP TRIGGER payments_no_update")
        con.execute("DROP TRIGGER ledger_no_update")
        con.execute(
            "UPDATE payments SET amount = ? WHERE receipt_number = ?", (amount, receipt_number)
        )
        # A format-2 record travels as the body sealed in its ledger row: edit that too.
        con.execute(
            "UPDATE ledger SET body = json_set(body, '$.amount', ?) WHERE seq = "
            "(SELECT ledger_seq FROM payments WHERE receipt_number = ?)",
            (amount, receipt_number),
        )
        con.commit()
    finally:
        con.close()


# --- the tests -----------------------------------------------------------------------------------


def test_payment_taken_in_window_reaches_central_with_sync_now(
    qtbot: Any, make_window: Any, counter: Counter
) -> None:
    counter.pay(2)  # taken before the window opened: the sync at login sends them
    window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    indicator = window.sync_indicator
    synced_and_idle(qtbot, window)
    assert len(central_payments(counter)) == 2
    assert indicator.text().startswith("Trực tuyến · Chờ gửi: 0 · Từ chối: 0 · Lần cuối: ")
    assert indicator.dot.property("tone") == "ok" and indicator.sync_button.isVisible()

    payment = take_payment_in_window(qtbot, window, counter.payer.ma_so_bhxh)
    # notify_local_change: the count moves without a sync (FAST never syncs after a change).
    wait_status(qtbot, window, lambda s: s.pending == 1)
    assert "Chờ gửi: 1" in indicator.text()
    assert payment.id not in central_payments(counter)

    qtbot.mouseClick(indicator.sync_button, Qt.MouseButton.LeftButton)
    synced_and_idle(qtbot, window)
    assert "Chờ gửi: 0" in indicator.text()
    amount, code, _hash = central_payments(counter)[payment.id]
    assert (amount, format_code(code)) == (payment.amount, payment.confirmation_code)

    # The Đồng bộ screen (F6) shows the log: started, batches, finished.
    activate(qtbot, window)
    qtbot.keyClick(window.work.pages["payment"].search, Qt.Key.Key_F6)
    page = window.work.pages["sync"]
    assert window.work.current_key() == "sync"
    log = page.log_texts()
    assert log[0].startswith("Đồng bộ xong (theo yêu cầu): trung tâm nhận 1")
    assert any(t.startswith("Lô 1: gửi 1 — trung tâm nhận 1") for t in log)
    assert any(t.startswith("Bắt đầu đồng bộ (theo yêu cầu)") for t in log)
    assert any(t.startswith("Đồng bộ xong (định kỳ): trung tâm nhận 2") for t in log)


def test_offline_window_stays_responsive_and_closing_warns_with_the_count(
    qtbot: Any, make_window: Any, db: Database, admin: Actor, tmp_path: Path
) -> None:
    server = CentralServer(tmp_path / "own-central.sqlite3")
    try:
        c = make_counter(db, admin, server)
        window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
        synced_and_idle(qtbot, window)
    finally:
        server.stop()  # central goes away: connection refused from now on

    c.pay(2)
    window.state.notify(RECORDED)  # what a payment op announces when it has recorded one
    wait_status(qtbot, window, lambda s: s.pending == 2)

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    page = window.work.pages["payment"]
    qtbot.mouseClick(window.sync_indicator.sync_button, Qt.MouseButton.LeftButton)
    # While the sync retries and fails on its thread, the window takes typing.
    type_text(page.search, "Nguyễn")
    status = wait_status(qtbot, window, lambda s: s.online is False)
    type_text(page.search, " Văn")
    qtbot.wait(300)  # the offline probe keeps failing every 0.2 s meanwhile
    timer.stop()
    assert page.search.text() == "Nguyễn Văn"
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20 and max(gaps) < 0.25, f"GUI thread stalled {max(gaps):.3f} s"
    assert status.online is False and status.pending == 2
    indicator = window.sync_indicator
    assert indicator.state_button.text().startswith("Ngoại tuyến")  # also while retrying
    assert indicator.dot.property("tone") == "bad"
    assert "Chờ gửi: 2" in indicator.text()
    assert "Lỗi gần nhất:" in indicator.state_button.toolTip()

    # Ending the shift asks first; "Ở lại" keeps the cashier signed in.
    window.work.logout_action.trigger()
    text = answer(qtbot, window, "Ở lại")
    assert "Còn 2 khoản thu chưa gửi lên hệ thống trung tâm." in text
    assert window.stack.currentWidget() is window.work

    # Closing asks too (the count read on the database thread); cancel, then close anyway.
    window.close()
    assert "Còn 2 khoản thu chưa gửi" in answer(qtbot, window, "Ở lại")
    assert window.isVisible()
    window.close()
    answer(qtbot, window, "Vẫn đóng chương trình")
    qtbot.waitUntil(lambda: not window.isVisible())
    assert window.sync.wait_stopped(10)  # the scheduler stopped with the window


def test_rejected_record_is_listed_and_a_supervisor_sends_it_again(
    qtbot: Any, make_window: Any, counter: Counter, db_path: Path
) -> None:
    counter.pay(3)
    tamper_amount(db_path, 2, 10_000)
    window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    status = wait_status(qtbot, window, lambda s: s.state == "idle" and s.rejected == 1)
    assert status.pending == 0
    assert "Từ chối: 1" in window.sync_indicator.text()
    assert window.sync_indicator.rejected_label.property("tone") == "bad"

    qtbot.mouseClick(window.sync_indicator.state_button, Qt.MouseButton.LeftButton)  # opens Đồng bộ
    page = window.work.pages["sync"]
    assert window.work.current_key() == "sync"
    wait_ops(qtbot)
    assert page.tabs.tabText(1).startswith("Bị từ chối (1)")
    table = page.rejected_table
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == "0000002"
    # Central's reason, in Vietnamese (issue 12.9: no "[tampered]" on screen).
    assert table.item(0, 5).text().startswith("Nội dung không khớp mã xác nhận hoặc chữ ký")
    assert "tampered" not in table.item(0, 5).text()
    assert any("từ chối 1" in t for t in page.log_texts())

    # A cashier cannot sign; the supervisor can.
    table.selectRow(0)
    dialog = page.requeue_selected()
    assert dialog is not None
    dialog.supervisor.setText("thungan1")
    dialog.password.setText(CASHIER_PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=10_000)
    assert "không được gửi lại" in dialog.error.text()
    dialog.supervisor.setText("giamsat")
    dialog.password.setText(SUPERVISOR_PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: page.requeue_dialog is None, timeout=10_000)
    wait_ops(qtbot)
    with counter.db.read() as s:
        signed = s.execute(
            text(
                "SELECT o.username FROM audit_events a JOIN operators o ON o.id = a.operator_id "
                "WHERE a.action = 'sync.requeue'"
            )
        ).all()
    assert [row[0] for row in signed] == ["giamsat"]
    # "Gửi lại" syncs at once; central refuses the altered record again and it is parked again.
    qtbot.waitUntil(
        lambda: sum(t.startswith("Đồng bộ xong (theo yêu cầu)") for t in page.log_texts()) == 1,
        timeout=SYNC_TIMEOUT,
    )
    wait_status(qtbot, window, lambda s: s.state == "idle" and s.rejected == 1)


def test_reconciliation_shows_a_payment_central_lacks_and_exports_csv(
    qtbot: Any, make_window: Any, counter: Counter, saved_paths: list[Path]
) -> None:
    window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    synced_and_idle(qtbot, window)
    yesterday = business_date(now_utc()) - timedelta(days=1)
    noon = datetime.combine(yesterday, clock(12, 0), tzinfo=LOCAL_TZ).astimezone(UTC)
    [late] = counter.pay(1, now=noon)  # recorded, not yet sent (no sync until asked)

    page = window.work.show_screen("sync")
    wait_ops(qtbot)
    assert page.selected_day() == yesterday  # yesterday by default
    assert "chưa đối chiếu" in page.run_label.text()
    assert not page.export_button.isEnabled()
    page.tabs.setCurrentIndex(2)
    qtbot.mouseClick(page.reconcile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.run is not None, timeout=SYNC_TIMEOUT)
    assert "Có 1 chênh lệch" in page.run_label.text()
    table = page.issues_table
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == "Trung tâm chưa có"
    assert table.item(0, 1).text() == late.confirmation_code
    assert table.item(0, 2).text() == f"{late.receipt_number:07d}"

    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.last_export is not None, timeout=10_000)
    raw = saved_paths[-1].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Trung tâm chưa có" in raw.decode("utf-8-sig")
    assert late.confirmation_code in raw.decode("utf-8-sig")

    # After a sync the stored result of a new run matches.
    window.sync_now()
    qtbot.waitUntil(
        lambda: any(e.text.startswith("Đồng bộ xong (theo yêu cầu)") for e in window.sync.history),
        timeout=SYNC_TIMEOUT,
    )
    page.reconcile()
    qtbot.waitUntil(lambda: page.run is not None and page.run.ok, timeout=SYNC_TIMEOUT)
    assert table.rowCount() == 0 and "Khớp" in page.run_label.text()


def test_admin_enrols_a_standalone_counter_from_the_window(
    qtbot: Any, make_window: Any, db: Database, admin: Actor, central: CentralServer
) -> None:
    c = make_counter(db, admin, central, enroll=False)
    c.pay(2)
    window = signed_in(qtbot, make_window, "quantri", ADMIN_PASSWORD)
    wait_status(qtbot, window, lambda s: s.state == "not_enrolled")
    indicator = window.sync_indicator
    assert indicator.text() == "Làm việc độc lập"
    assert not indicator.sync_button.isVisibleTo(window)
    assert window.sync.enrolled is False and not window.sync.running

    page = window.work.show_screen("sync")
    assert page.enroll_button.isVisibleTo(window)
    dialog = page.open_enroll()
    assert dialog is not None
    dialog.server.setText("ftp://trung-tam")
    dialog.code.setText("x")
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    server_error = dialog.errors.error_label("server")
    assert server_error is not None and "https://" in server_error.text()

    code = sync_fixtures.enrollment_code(central.store, c.db, label="ui-test")
    dialog.server.setText(central.url)
    dialog.code.setText(code)
    dialog.submit()
    qtbot.waitUntil(lambda: page.enroll_dialog is None, timeout=SYNC_TIMEOUT)
    synced_and_idle(qtbot, window)
    assert window.sync.enrolled is True
    assert len(central_payments(c)) == 2
    qtbot.waitUntil(lambda: window.state.counter.central_url == central.url)


def test_bridge_coalesces_bursts_into_few_refreshes(qtbot: Any) -> None:
    """A burst from the sync thread (1,000 count changes, 100 log lines) reaches the GUI thread
    as a couple of coalesced refreshes, in order, with the newest counts; nothing is delivered
    when nothing happened."""
    state = AppState(None)
    bridge = SyncBridge(state)
    statuses: list[tuple[SyncStatus, bool]] = []
    logged: list[str] = []
    bridge.status_changed.connect(
        lambda s: statuses.append((s, threading.current_thread() is threading.main_thread()))
    )
    bridge.log_added.connect(lambda entries: logged.extend(e.text for e in entries))
    base = SyncStatus("syncing", True, 1000, 0, None, None, None)

    def burst() -> None:
        bridge.post(status=base)
        for i in range(1000):
            bridge.post(backlog=(999 - i, i % 3))
            if i % 10 == 0:
                bridge.post(log=("info", f"lô {i // 10 + 1}"))
        bridge.post(status=replace(base, state="idle", pending=0, rejected=0))

    bridge.start_delivery()
    worker = threading.Thread(target=burst)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(statuses) and statuses[-1][0].state == "idle", timeout=5_000)
    qtbot.wait(50)
    assert bridge.deliveries <= 3, bridge.deliveries
    assert all(on_gui for _s, on_gui in statuses)
    assert logged == [f"lô {n}" for n in range(1, 101)]
    assert list(e.text for e in bridge.history) == logged
    assert statuses[-1][0].pending == 0 and bridge.status == statuses[-1][0]
    quiet = bridge.deliveries
    qtbot.wait(600)  # two timer periods with nothing new
    assert bridge.deliveries == quiet and len(statuses) <= 3
    bridge.shutdown()


def test_the_architecture_doc_states_the_coalescing_interval() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    assert f"`COALESCE_MS` = {COALESCE_MS} ms" in doc
