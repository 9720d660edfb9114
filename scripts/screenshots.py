"""Drive the real window into each screen and save PNGs into docs/screenshots/.

Run under a virtual X server at the counter's usual resolution:

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshots.py

SHOTS=12-settings,02b-wizard-printer (names without .png) writes only those screens.

Uses a throw-away database in a temp folder and an in-memory keyring, so it touches nothing of
a real counter. The data are made up (names, CCCD numbers, codes).

The counter is enrolled with a reference central server started for the run (`python -m
central.cli serve` on a free loopback port, its own temp database). Yesterday's records set up
what the Đồng bộ screen shows: one payment altered behind the program's back (central refuses
it: a parked record) and one that missed the evening's sync, so this morning's reconciliation
lists both as "Trung tâm chưa có". The window syncs only when asked (no sync after a change),
so the status bar shows the payment taken in the window as waiting until "Đồng bộ ngay".
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"

import keyring  # noqa: E402

from tests.support.central import central_process  # noqa: E402
from tests.support.counters import (  # noqa: E402
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    CASHIER,
    SUPERVISOR,
    add_staff,
    init_test_counter,
)
from tests.support.keyrings import MemoryKeyring  # noqa: E402
from tests.support.qt import type_text  # noqa: E402

keyring.set_keyring(MemoryKeyring())

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from ui.qt import ops  # noqa: E402
from ui.qt.app import make_application, start  # noqa: E402

if TYPE_CHECKING:
    from ui.qt.main_window import MainWindow, WorkArea


def wait_until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("screen did not reach the expected state")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(seconds: float = 0.3) -> None:
    wait_until(lambda: ops.pending_count() == 0)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def save(widget: QWidget, name: str) -> Path:
    """Save `widget` as docs/screenshots/<name>.png (with SHOTS=a,b only those names)."""
    settle()
    path = OUT / f"{name}.png"
    only = os.environ.get("SHOTS")
    if only and name not in only.split(","):
        return path
    widget.grab().save(str(path))
    print(f"{path.relative_to(ROOT)}  {widget.width()}×{widget.height()}")
    return path


def seed(db_path: Path) -> dict[str, int]:
    """A counter with staff, participants, yesterday's and this morning's payments.

    Returns receipt numbers the screens pick: "first" (today's first BHYT payment),
    "altered" and "late" (yesterday's, see the module docs).
    """
    from app.domain.clock import LOCAL_TZ, business_date, now_utc
    from app.domain.types import PaymentMethod, Scheme, Sex, SupportCategory
    from app.services.participants import ParticipantInput, create_participant
    from app.services.payments import PaymentRequest, record_payment, record_reprint, void_payment
    from app.services.shifts import close_shift, current_shift, open_shift
    from app.storage.db import open_database

    db = open_database(db_path)
    admin = init_test_counter(db, admin_password=ADMIN_PASSWORD)
    cashier = add_staff(db, admin, CASHIER)
    supervisor = add_staff(db, admin, SUPERVISOR)
    people = [
        ("Lê Thị Mỹ Đào", date(1985, 3, 14), Sex.FEMALE, "019185001234", "0123456789"),
        ("Hoàng Văn Thắng", date(1978, 11, 2), Sex.MALE, "019078004321", "1923456780"),
        ("Phạm Thị Ngọc Ánh", date(1992, 6, 25), Sex.FEMALE, "019192007777", None),
        ("Nông Văn Dũng", date(1969, 1, 9), Sex.MALE, "019069002468", "1911122233"),
        ("Vũ Thị Thu Hương", date(2001, 8, 30), Sex.FEMALE, "019301005555", "1933344455"),
    ]
    views = [
        create_participant(
            db,
            ParticipantInput(
                full_name=name,
                date_of_birth=dob,
                sex=sex,
                cccd=cccd,
                ma_so_bhxh=code,
                address="Xã Đồng Hỷ, tỉnh Thái Nguyên",
                phone="0912345678",
            ),
            by=cashier,
        )
        for name, dob, sex, cccd, code in people
    ]

    def bhxh(
        who: int,
        income: int,
        method: PaymentMethod,
        cat: SupportCategory,
        now: datetime | None = None,
    ) -> int:
        req = PaymentRequest(
            uuid.uuid4().hex,
            views[who].id,
            Scheme.BHXH_TN,
            method=method,
            income=income,
            support_category=cat,
        )
        return record_payment(db, req, by=cashier, now=now).receipt_number

    def bhyt(who: int, order: int, months: int, now: datetime | None = None) -> int:
        req = PaymentRequest(
            uuid.uuid4().hex, views[who].id, Scheme.BHYT_HGD, months=months, member_order=order
        )
        return record_payment(db, req, by=cashier, now=now).receipt_number

    yesterday = business_date(now_utc()) - timedelta(days=1)

    def at(hour: int, minute: int) -> datetime:
        return datetime.combine(yesterday, clock(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)

    # Yesterday's shift, opened with a float and closed with an exact count (docs/SHIFTS.md).
    float_counts = {100_000: 5, 50_000: 6, 20_000: 10, 10_000: 10}
    open_shift(db, by=cashier, counts=float_counts, now=at(7, 30))
    bhyt(0, 1, 12, now=at(8, 5))
    altered = bhxh(1, 1_600_000, PaymentMethod.QUARTERLY, SupportCategory.OTHER, now=at(9, 40))
    bhyt(4, 1, 6, now=at(14, 12))
    late = bhyt(2, 1, 3, now=at(16, 55))
    expected = current_shift(db).expected  # type: ignore[union-attr]
    close_shift(db, by=cashier, counts=notes_for(expected), now=at(17, 20))
    open_shift(db, by=cashier, counts=float_counts)  # this morning's shift
    bhxh(1, 2_000_000, PaymentMethod.HALF_YEAR, SupportCategory.OTHER)
    first = bhyt(3, 1, 12)
    bhyt(3, 2, 12)
    wrong = bhxh(4, 1_500_000, PaymentMethod.QUARTERLY, SupportCategory.NEAR_POOR)
    bhxh(2, 1_800_000, PaymentMethod.YEARLY, SupportCategory.ETHNIC_MINORITY)
    record_reprint(db, first, by=cashier)
    void_payment(
        db,
        receipt_number=wrong,
        reason="Thu nhầm phương thức đóng, người nộp yêu cầu hủy",
        supervisor=supervisor,
        requested_by=cashier,
    )
    db.close()
    return {"first": first, "altered": altered, "late": late}


def notes_for(amount: int) -> dict[int, int]:
    """The fewest notes that make `amount` (a drawer counted exactly)."""
    from app.domain.cash import DENOMINATIONS

    counts: dict[int, int] = {}
    for d in DENOMINATIONS:
        counts[d], amount = divmod(amount, d)
    return {d: n for d, n in counts.items() if n}


def enrol_and_sync(db_path: Path, url: str, central_db: Path, receipts: dict[str, int]) -> None:
    """Enrol; yesterday's sync sends everything but two records; this morning's reconciliation
    finds both missing at central (see the module docs)."""
    from app.domain.clock import business_date, now_utc
    from app.services.counter import get_counter
    from app.storage.db import open_database
    from central import auth
    from central.store import CentralStore
    from sync.config import SyncConfig
    from sync.engine import Syncer
    from sync.enroll import enroll_counter
    from sync.reconciliation import reconcile_with_central

    con = sqlite3.connect(db_path)
    try:  # behind the program's back: an amount changed, a record held out of the evening sync
        con.execute("DROP TRIGGER payments_no_update")
        con.execute(
            "UPDATE payments SET amount = amount - 100000 WHERE receipt_number = ?",
            (receipts["altered"],),
        )
        con.execute(
            "UPDATE outbox SET state = 'held' WHERE ledger_seq = "
            "(SELECT ledger_seq FROM payments WHERE receipt_number = ?)",
            (receipts["late"],),
        )
        con.commit()
    finally:
        con.close()
    db = open_database(db_path)
    me = get_counter(db)
    store = CentralStore.at_path(central_db)
    code = auth.make_enrollment_code(
        store,
        organisation=me.organisation,
        collection_point=me.collection_point,
        counter_code=me.counter_code,
        label="screenshots",
    )
    store.close()
    enroll_counter(db, url, code)
    Syncer(db, config=SyncConfig(reconcile_at=None)).run("timer")
    with db.write() as session:
        from sqlalchemy import text

        session.execute(text("UPDATE outbox SET state = 'pending' WHERE state = 'held'"))
    yesterday = business_date(now_utc()) - timedelta(days=1)
    reconcile_with_central(db, yesterday, trigger="scheduled")
    db.close()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    app = make_application(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="quaythu-shots-") as tmp:
        tmp_path = Path(tmp)

        # 1. First run: the setup wizard.
        fresh = start(tmp_path / "fresh.sqlite3")
        wait_until(lambda: fresh.wizard is not None)
        wizard = fresh.wizard
        type_text(wizard.organisation, "Bưu điện tỉnh Thái Nguyên")
        type_text(wizard.collection_point, "Điểm thu Bưu điện xã Đồng Hỷ")
        type_text(wizard.counter_code, "TN-DH01")
        save(fresh, "01-wizard")
        wizard.next()
        type_text(wizard.admin_username, "quantri")
        type_text(wizard.admin_full_name, "Đặng Văn Quản")
        wizard.admin_password.setText("ngan")
        wizard.admin_password2.setText("ngan")
        wizard.next()
        save(fresh, "02-wizard-admin-error")
        wizard.admin_password.setText(ADMIN_PASSWORD)
        wizard.admin_password2.setText(ADMIN_PASSWORD)
        wizard.next()
        save(fresh, "02b-wizard-printer")
        fresh.close()
        settle()
        fresh.state.db.close()

        # 2. A counter in use, enrolled with central.
        db_path = tmp_path / "counter.sqlite3"
        receipts = seed(db_path)
        with central_process(tmp_path / "central.sqlite3") as central:
            enrol_and_sync(db_path, central.url, central.db_path, receipts)
            counter_in_use(db_path, receipts)
    ops.shutdown()
    app.quit()
    return 0


def counter_in_use(db_path: Path, receipts: dict[str, int]) -> None:
    """Sign in, take a payment, visit every working screen, then the sync screens."""
    from sync.config import SyncConfig

    window = start(db_path)
    window.state.sync_config = SyncConfig(sync_after_change=None, reconcile_at=None)
    wait_until(lambda: window.state.db_ready and window.state.counter is not None)
    page = sign_in_as_cashier(window)
    take_payment(window, page)
    registration(page)
    today_and_void(window, receipts)
    work_area(window).show_screen("xn01")
    settle()
    save(window, "11-xn01")
    sync_screens(window)
    household_screens(window)
    shift_screens(window)
    admin_screens(window)
    window.close()
    settle()
    window.sync.wait_stopped()
    window.state.db.close()


def work_area(window: MainWindow) -> WorkArea:
    """The working screens (there once someone has signed in)."""
    assert window.work is not None
    return window.work


def sign_in_as_cashier(window: MainWindow) -> Any:
    """The login page, then the cashier signed in; returns the payment page."""
    window.login.username.setText(CASHIER.username)
    window.login.password.setFocus()
    save(window, "03-login")

    window.login.password.setText(CASHIER.password)
    window.login.attempt()
    wait_until(lambda: window.work is not None and window.stack.currentWidget() is window.work)
    page: Any = work_area(window).pages["payment"]
    wait_until(lambda: page.table is not None)
    return page


def take_payment(window: MainWindow, page: Any) -> None:
    """A payer searched for, the quote, the confirm step, the code and the receipt."""
    type_text(page.search, "le thi my")
    page.run_search(pick=False)
    settle()
    page.search.setFocus()
    save(window, "04-payment-search")
    page.results.setCurrentRow(0)
    page.pick_current_result()
    page.income.setValue(1_500_000)
    wait_until(page.quote_is_current)
    save(window, "05-payment-quote")

    dialog = page.take_payment()
    assert dialog is not None
    type_text(dialog.tendered, "3.200.000")
    save(dialog, "06-confirm")
    dialog.confirm()
    wait_until(lambda: page.pages.currentWidget() is page.done)
    wait_until(lambda: page.preview.pdf is not None)
    save(window, "07-code-and-receipt")


def registration(page: Any) -> None:
    """The registration dialog catching a CCCD already on file."""
    page.new_payment()
    reg = page.open_registration()
    type_text(reg.full_name, "Phạm Thị Ngọc Ánh")
    reg.date_of_birth.setText("25/06/1992")
    reg.sex.setCurrentIndex(1)
    reg.cccd.setText("019192007777")
    reg.cccd.editingFinished.emit()
    save(reg, "08-registration-cccd-check")
    reg.reject()


def today_and_void(window: MainWindow, receipts: dict[str, int]) -> None:
    """Today's payments, and a void refused for a wrong supervisor password."""
    today = work_area(window).show_screen("today")
    settle()
    today.select_receipt(receipts["first"])
    save(window, "09-today")
    void = today.void_selected()
    type_text(void.reason, "Thu nhầm loại hình tham gia")
    void.supervisor.setText(SUPERVISOR.username)
    void.password.setText("sai-mat-khau")
    void.submit()
    settle()
    save(void, "10-void-signature")
    void.reject()


def sync_screens(window: MainWindow) -> None:
    """3. Sync: the payment taken above waits; the status bar says so, closing asks first;
    then synced, the log, the refused record and the reconciliation."""
    bridge = window.sync
    wait_until(lambda: bridge.status is not None and bridge.status.pending == 1)
    save(window.statusBar(), "14-sync-indicator")
    window.close()  # closing with a payment not yet at central asks first
    wait_until(lambda: window.unsynced_dialog is not None)
    box = window.unsynced_dialog
    assert box is not None
    save(box, "18-close-unsynced")
    [stay] = [b for b in box.buttons() if b.text() == "Ở lại"]
    stay.click()
    wait_until(lambda: window.unsynced_dialog is None)

    sync_page = work_area(window).show_screen("sync")
    window.sync_now()
    wait_until(
        lambda: (
            bridge.status is not None
            and bridge.status.state == "idle"
            and bridge.status.pending == 0
            and sum(e.text.startswith("Đồng bộ xong") for e in bridge.history) >= 2
        )
    )
    bridge.flush_now()
    save(window, "15-sync-log")
    sync_page.tabs.setCurrentIndex(1)
    sync_page.refresh_rejected()
    settle()
    sync_page.rejected_table.selectRow(0)
    save(window, "16-sync-rejected")
    sync_page.tabs.setCurrentIndex(2)
    settle()
    sync_page.issues_table.selectRow(0)
    save(window, "17-sync-reconciliation")


def household_screens(window: MainWindow) -> None:
    """4. The history (Ctrl+I) and household (Ctrl+H) screens: Lê Thị Mỹ Đào's payments, then her
    household made and two members paid in one cash transaction; a household chosen at
    registration. After the sync screens, which count the payments waiting."""
    from app.domain.types import Sex
    from app.services.participants import ParticipantInput, create_participant

    actor = window.state.require_actor()
    for name, born, cccd in (
        ("Lê Văn Hùng", date(1983, 4, 2), "019083006543"),
        ("Lê Gia Bảo", date(2012, 9, 15), "019212008888"),
    ):
        create_participant(
            window.state.db,
            ParticipantInput(
                full_name=name,
                date_of_birth=born,
                sex=Sex.MALE,
                cccd=cccd,
                address="Xã Đồng Hỷ, tỉnh Thái Nguyên",
            ),
            by=actor,
        )
    page: Any = work_area(window).show_screen("payment")
    page.new_payment()
    type_text(page.search, "0123456789")
    page.run_search(pick=True)
    wait_until(lambda: page.participant is not None)
    history = page.open_history()
    wait_until(lambda: history.history is not None)
    save(history, "19-history")
    history.reject()

    dialog = page.open_household()
    wait_until(lambda: dialog.info is not None)
    dialog.create_household()
    wait_until(lambda: dialog.info.household is not None)
    for cccd, relation in (("019083006543", "Chồng"), ("019212008888", "Con")):
        type_text(dialog.member_ref, cccd)
        type_text(dialog.relation, relation)
        dialog.add_member()
        wait_until(lambda: not dialog.busy)
    members = dialog.info.household.members
    dialog.tick(members[1].participant_id, months=12)
    dialog.tick(members[2].participant_id, months=6)
    wait_until(lambda: dialog.quotes_are_current() and len(dialog.quotes) == 2)
    type_text(dialog.tendered, "2.000.000")
    dialog._show_change()
    save(dialog, "20-household")
    dialog.take_payment()  # F9: the confirmation is asked
    dialog.take_payment()  # F9 again: recorded
    wait_until(lambda: dialog.group_result is not None)
    save(dialog, "21-household-paid")
    dialog.reject()

    page.new_payment()
    reg = page.open_registration()
    type_text(reg.full_name, "Lê Thị Hoa")
    reg.date_of_birth.setText("03/01/2015")
    reg.sex.setCurrentIndex(2)
    reg.cccd.setText("019315009999")
    reg.household_mode.setCurrentIndex(reg.household_mode.findData("join"))
    reg.household_ref.setText("0123456789")
    type_text(reg.household_relation, "Con")
    save(reg, "22-registration-household")
    reg.reject()
    bridge = window.sync
    window.sync_now()  # the group's payments go to central: signing out asks nothing
    wait_until(lambda: bridge.status is not None and bridge.status.pending == 0)


def shift_screens(window: MainWindow) -> None:
    """The cashier closes this morning's shift: the count by denomination with its difference
    (a supervisor signs above the threshold), the Z report, then the next shift's float."""
    from ui.qt.shift import CloseShiftDialog, OpenShiftDialog, ZReportDialog

    controller = window.shifts
    controller.refresh()
    settle()
    controller.close_dialog()
    wait_until(lambda: isinstance(controller.dialog, CloseShiftDialog))
    close: Any = controller.dialog
    counts = notes_for(close.shift.expected - 20_000)  # a 20.000 đ note short
    close.grid.set_counts(counts)
    type_text(close.reason, "Thiếu 20.000 đ, chưa rõ nguyên nhân, đã báo giám sát")
    type_text(close.supervisor.name, SUPERVISOR.username)
    close.supervisor.password.setText(SUPERVISOR.password)
    save(close, "24-shift-count")
    close.submit()
    wait_until(lambda: isinstance(controller.dialog, ZReportDialog))
    report: Any = controller.dialog
    wait_until(lambda: report.preview.pdf is not None)
    save(report, "25-shift-close")
    report.reject()
    settle()
    controller.open_dialog()
    wait_until(lambda: isinstance(controller.dialog, OpenShiftDialog))
    save(controller.dialog, "23-shift-open")  # type: ignore[arg-type]
    controller.dialog.reject()  # type: ignore[union-attr]
    settle()
    window.sync_now()  # the close record reaches central: signing out asks nothing
    bridge = window.sync
    wait_until(lambda: bridge.status is not None and bridge.status.pending == 0)


def admin_screens(window: MainWindow) -> None:
    """Signed out, the administrator signed in: settings, then the locked window."""
    window.logout()  # nothing waits now: no question, signed out once the count says so
    wait_until(lambda: window.state.actor is None)
    window.login.username.setText(ADMIN_USERNAME)
    window.login.password.setText(ADMIN_PASSWORD)
    window.login.attempt()
    wait_until(lambda: window.stack.currentWidget() is window.work)
    work_area(window).show_screen("settings")
    settle()
    save(window, "12-settings")
    notify_screens(window)

    window.lock()
    save(window, "13-locked")


def notify_screens(window: MainWindow) -> None:
    """Payer notices (docs/NOTIFY.md), the administrator signed in: Settings → Thông báo with a
    shipped profile pointed at a gateway on 127.0.0.1 and a test SMS; a template too long to
    save; the confirm step refusing a landline; Today with a notice the provider refused, and
    the resend dialog."""
    from tests.notify.gateway import FakeGateway

    gateway = FakeGateway()
    try:
        notify_settings_shots(window, gateway)
        notify_payment_shots(window, gateway)
    finally:
        gateway.close()


def notify_settings_shots(window: MainWindow, gateway: Any) -> None:
    """Settings → Thông báo: saved with a test SMS sent; a template too long to save."""
    settings: Any = work_area(window).show_screen("settings")
    panel = settings.notify_panel
    settings.tabs.setCurrentWidget(panel)
    settle()
    panel.profile_choice.setCurrentIndex(panel.profile_choice.findData("generic_brandname_json"))
    panel.load_profile()
    panel.url.setText(gateway.url)
    panel.sms_enabled.setChecked(True)
    panel.sms_secret.setText("token-cua-nha-cung-cap")
    panel.save()
    settle()
    type_text(panel.test_phone, "0912 345 678")
    panel.send_test_sms()
    wait_until(lambda: panel.test_sms_button.isEnabled())
    save(window, "26-settings-notify")
    saved_template = panel.sms_template.text()
    editor = panel.sms_template.editor
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    type_text(panel.sms_template.editor, " Trân trọng cảm ơn quý khách!")
    panel.save()
    settle()
    save(window, "27-settings-notify-too-long")
    panel.sms_template.set_text(saved_template)


def notify_payment_shots(window: MainWindow, gateway: Any) -> None:
    """The confirm step refusing a landline; Today with a refused SMS; the resend dialog."""
    from app.domain.types import Scheme
    from app.services.shifts import open_shift

    gateway.state.script.append("400")  # the provider refuses the next SMS
    # The administrator takes this payment: in their own shift (docs/SHIFTS.md).
    open_shift(window.state.db, by=window.state.require_actor(), counts={500_000: 2})
    window.shifts.refresh()
    settle()
    page: Any = work_area(window).show_screen("payment")
    page.new_payment()
    type_text(page.search, "hoang van thang")
    page.run_search(pick=False)
    settle()
    page.results.setCurrentRow(0)
    page.pick_current_result()
    page.scheme.setCurrentIndex(page.scheme.findData(Scheme.BHYT_HGD))
    wait_until(page.quote_is_current)
    dialog = page.take_payment()
    assert dialog is not None
    dialog.notify_phone.selectAll()
    type_text(dialog.notify_phone, "024 3826 1234")
    dialog.confirm()
    save(dialog, "28-confirm-notify")
    dialog.notify_phone.selectAll()
    type_text(dialog.notify_phone, "0987 654 321")
    dialog.keep_contact.setChecked(True)
    dialog.confirm()
    wait_until(lambda: page.pages.currentWidget() is page.done)
    receipt = page.last_payment.receipt_number

    today: Any = work_area(window).show_screen("today")
    settle()
    today.select_receipt(receipt)
    wait_until(lambda: "Không gửi được" in today.notice_line.text())
    save(window, "29-today-notices")
    resend = today.resend_selected()
    assert resend is not None
    save(resend, "30-resend-notice")
    resend.reject()


if __name__ == "__main__":
    raise SystemExit(main())
