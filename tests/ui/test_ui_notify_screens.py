"""The window's notice screens, driven through the real widgets (docs/NOTIFY.md):
Settings → Thông báo (gateway, SMS texts with live preview and counter, SMTP, secrets in the
keyring only, test sends to a real gateway and a real SMTP server on 127.0.0.1), the payer's
addresses at the confirm step, and the notice states and "Gửi lại" in Giao dịch hôm nay."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.domain.clock import today
from app.domain.types import Scheme
from app.notify.outbox import list_notifications
from app.notify.settings import load_notify_settings, save_notify_settings
from app.notify.sms_text import SEGMENT, preview_sms
from app.secrets import SERVICE, SMS_SECRET, SMTP_SECRET
from app.services.common import Actor
from app.services.participants import ParticipantView, get_participant
from app.services.payments import PaymentRequest, list_payments
from app.storage.db import Database, open_database
from app.storage.models import AuditEvent
from tests.notify.conftest import enable
from tests.notify.gateway import FakeGateway
from tests.notify.smtpserver import PASSWORD as SMTP_PASSWORD
from tests.notify.smtpserver import USER as SMTP_USER
from tests.notify.smtpserver import SmtpServer
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.ui.conftest import CASHIER_PASSWORD, activate, login, press, type_text, wait_ops
from ui.qt.operations import payments as payment_ops
from ui.qt.today import NOTICE_COLUMN

TOKEN = "tok-GUI-7f3a9c-bi-mat"
SMTP_SECRET_TYPED = "smtp-GUI-8d2e-bi-mat"


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    yield gw
    gw.close()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


def audit_actions(db: Database) -> list[tuple[str, str]]:
    with db.read() as s:
        return [(a, d or "") for a, d in s.execute(select(AuditEvent.action, AuditEvent.details))]


def notify_tab(qtbot: Any, make_window: Any) -> tuple[Any, Any]:
    window = make_window()
    login(qtbot, window, ADMIN_USERNAME, ADMIN_PASSWORD)
    page = window.work.show_screen("settings")
    page.tabs.setCurrentWidget(page.notify_panel)
    wait_ops(qtbot)
    return window, page.notify_panel


def retype(widget: Any, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    type_text(widget, text)


def files_under(*paths: Path) -> list[Path]:
    out = []
    for p in paths:
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(f for f in p.rglob("*") if f.is_file())
    return out


def fill_gateway_and_smtp(qtbot: Any, panel: Any, gateway: FakeGateway) -> None:
    """A shipped example loaded and pointed at the local gateway, a token, SMTP with a user."""
    panel.profile_choice.setCurrentIndex(panel.profile_choice.findData("generic_brandname_json"))
    qtbot.mouseClick(panel.profile_button, Qt.MouseButton.LeftButton)
    assert panel.url.text() == "https://sms.example.vn/api/v1/sms/send"
    assert '"content": "{text}"' in panel.body.toPlainText()
    assert panel.client_id_field.text() == "request_id"
    assert panel.auth.currentData() == "bearer"
    retype(panel.url, gateway.url)
    panel.sms_enabled.setChecked(True)
    type_text(panel.sms_secret, TOKEN)
    panel.email_enabled.setChecked(True)
    retype(panel.smtp_host, "127.0.0.1")
    panel.smtp_port.setValue(2525)
    retype(panel.smtp_username, SMTP_USER)
    type_text(panel.smtp_password, SMTP_SECRET_TYPED)
    retype(panel.sender_email, "diemthu@example.vn")
    retype(panel.sender_name, "Điểm thu Xã Sông Cầu")


def test_sms_template_preview_counter_and_a_refused_save_stores_nothing(
    qtbot: Any, make_window: Any, db: Database, admin: Actor, gateway: FakeGateway
) -> None:
    _window, panel = notify_tab(qtbot, make_window)
    assert panel.sms_secret.placeholderText().startswith("chưa có")
    fill_gateway_and_smtp(qtbot, panel, gateway)

    # Live preview and counter: the sample payment, folded to ASCII, against 160.
    editor = panel.sms_template
    assert "Le Thi My Dao" in editor.preview.text() and "Đ" not in editor.preview.text()
    assert f"/{SEGMENT}" in editor.counter.text() and editor.fits
    long_template = "Kính gửi ông/bà {ten}: " + editor.text() + " Trân trọng cảm ơn quý khách."
    retype(editor.editor, long_template)
    assert not editor.fits
    assert "trường hợp dài nhất" in editor.counter.text()
    assert "KHÔNG lưu được: dài quá 160 ký tự" in editor.counter.text()
    assert "Kinh gui ong/ba" in editor.preview.text()  # folded as it would be sent

    # Saving (Ctrl+S) refuses the too-long template, naming the field and the rule — and
    # stores nothing, not even the secrets typed meanwhile.
    activate(qtbot, panel)
    qtbot.keyClick(panel.smtp_host, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_ops(qtbot)
    error = panel.errors.error_label("sms_template")
    assert error is not None and error.isVisibleTo(panel)
    assert "Mẫu tin nhắn" in error.text() and "tối đa 160" in error.text()
    assert editor.editor.hasFocus()
    assert load_notify_settings(db).gateway is None
    assert keyring.get_password(SERVICE, SMS_SECRET) is None
    assert keyring.get_password(SERVICE, SMTP_SECRET) is None

    # Back within one segment: the counter says so.
    retype(editor.editor, "{ten} da nop {so_tien}d ngay {ngay}. Ma xac nhan: {ma_xac_nhan}")
    assert editor.fits and "vừa một tin" in editor.counter.text()


def test_settings_notify_saved_and_audited_secrets_only_in_the_keyring(
    qtbot: Any,
    make_window: Any,
    db: Database,
    admin: Actor,
    gateway: FakeGateway,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every record of every logger, to look for the secrets
    window, panel = notify_tab(qtbot, make_window)
    fill_gateway_and_smtp(qtbot, panel, gateway)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    wait_ops(qtbot)
    assert panel.save_status.text() == "Đã lưu cài đặt thông báo."

    saved = load_notify_settings(db)
    assert saved.sms_enabled and saved.email_enabled
    assert saved.gateway is not None and saved.gateway.url == gateway.url
    assert saved.gateway.client_message_id_field == "request_id"
    assert (saved.smtp_host, saved.smtp_port, saved.smtp_username) == (
        "127.0.0.1",
        2525,
        SMTP_USER,
    )
    assert saved.sender_name == "Điểm thu Xã Sông Cầu"
    # The secrets: in the keyring, cleared from the form, nowhere in SQLite, config or logs.
    assert keyring.get_password(SERVICE, SMS_SECRET) == TOKEN
    assert keyring.get_password(SERVICE, SMTP_SECRET) == SMTP_SECRET_TYPED
    assert panel.sms_secret.text() == "" and panel.smtp_password.text() == ""
    qtbot.waitUntil(lambda: panel.sms_secret.placeholderText().startswith("đã lưu"))
    window.stop_notify(timeout=15)
    db.close()
    window.state.db.close()
    scanned = files_under(db_path.parent)
    assert any(f.suffix == ".sqlite3" for f in scanned)
    for path in scanned:
        data = path.read_bytes()
        for secret in (TOKEN, SMTP_SECRET_TYPED):
            assert secret.encode() not in data, f"{secret} found in {path}"
    assert caplog.records, "the window logged while saving"
    for record in caplog.records:
        assert TOKEN not in record.getMessage() and SMTP_SECRET_TYPED not in record.getMessage()
    # Audited: what changed, and which keyring entries were written (never their values).
    again = open_database(db_path)
    try:
        actions = audit_actions(again)
    finally:
        again.close()
    assert any(a == "settings.notify" and "gateway" in d for a, d in actions)
    assert any(a == "settings.notify_secret" and SMS_SECRET in d for a, d in actions)


def test_settings_notify_test_sends_run_off_the_gui_thread_and_report(
    qtbot: Any,
    make_window: Any,
    db: Database,
    admin: Actor,
    gateway: FakeGateway,
    smtp: SmtpServer,
) -> None:
    window, panel = notify_tab(qtbot, make_window)
    window.state.extra["smtp_ssl_context"] = smtp.client_context()
    panel.profile_choice.setCurrentIndex(panel.profile_choice.findData("generic_brandname_json"))
    panel.load_profile()
    retype(panel.url, gateway.url)
    type_text(panel.sms_secret, TOKEN)

    # A bad number is refused at the field, before anything is sent.
    type_text(panel.test_phone, "024 3826 1234")
    qtbot.mouseClick(panel.test_sms_button, Qt.MouseButton.LeftButton)
    assert "Số nhận tin thử" in panel.test_sms_status.text()
    assert gateway.state.requests == []

    # A slow gateway: the click returns at once, the window stays usable, the answer comes later.
    gateway.state.script.append("timeout:1")
    retype(panel.test_phone, "0912 345 678")
    qtbot.mouseClick(panel.test_sms_button, Qt.MouseButton.LeftButton)
    assert "Đang gửi thử" in panel.test_sms_status.text()
    assert not panel.test_sms_button.isEnabled()
    wait_ops(qtbot)
    assert panel.test_sms_status.text() == "Đã gửi thử tới 0912345678 (mã tin: GW000001)."
    sent = gateway.state.delivered[0]
    assert sent["to"] == "84912345678"
    assert sent["content"] == preview_sms(panel.sms_template.text()).text
    assert gateway.state.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"

    gateway.state.script.append("400")
    qtbot.mouseClick(panel.test_sms_button, Qt.MouseButton.LeftButton)
    wait_ops(qtbot)
    assert panel.test_sms_status.text().startswith("Gửi thử không được: Cổng SMS từ chối")
    assert "HTTP 400" in panel.test_sms_status.text()

    # Email: STARTTLS and login against a real SMTP server on 127.0.0.1.
    retype(panel.smtp_host, "127.0.0.1")
    panel.smtp_port.setValue(smtp.port)
    panel.smtp_security.setCurrentIndex(panel.smtp_security.findData("starttls"))
    retype(panel.smtp_username, SMTP_USER)
    type_text(panel.smtp_password, SMTP_PASSWORD)
    retype(panel.sender_email, "diemthu@example.vn")
    type_text(panel.test_email, "nguoinop@example.vn")
    press(panel.test_email, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert panel.test_email_status.text().startswith(
        "Đã gửi thử tới nguoinop@example.vn (mã tin: <"
    )
    assert len(smtp.mailbox.messages) == 1
    assert smtp.mailbox.envelopes[0] == ("diemthu@example.vn", ["nguoinop@example.vn"])
    assert b"Subject:" in smtp.mailbox.messages[0]

    # A wrong password: said plainly, nothing stored.
    retype(panel.smtp_password, "sai-mat-khau")
    qtbot.mouseClick(panel.test_email_button, Qt.MouseButton.LeftButton)
    wait_ops(qtbot)
    assert "Đăng nhập máy chủ thư không được" in panel.test_email_status.text()
    assert len(smtp.mailbox.messages) == 1
    # Test sends save nothing.
    assert load_notify_settings(db).gateway is None
    assert keyring.get_password(SERVICE, SMS_SECRET) is None


# --- the confirm step ----------------------------------------------------------------------


def open_confirm(qtbot: Any, make_window: Any) -> tuple[Any, Any, Any]:
    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    page = window.work.pages["payment"]
    qtbot.waitUntil(lambda: page.table is not None)
    return window, page, find_and_confirm(qtbot, page)


def find_and_confirm(qtbot: Any, page: Any) -> Any:
    """Find the usual payer, BHYT hộ gia đình, and open the confirm step."""
    page.search.setFocus()
    qtbot.keyClicks(page.search, "0123456789")
    press(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.participant is not None, timeout=10_000)
    page.scheme.setCurrentIndex(page.scheme.findData(Scheme.BHYT_HGD))
    qtbot.waitUntil(page.quote_is_current, timeout=10_000)
    dialog = page.take_payment()
    activate(qtbot, dialog)
    return dialog


def notify_on(db: Database, admin: Actor, gateway: FakeGateway) -> None:
    settings = enable(db, admin, gateway.url)
    save_notify_settings(
        db,
        replace(
            settings,
            email_enabled=True,
            smtp_host="127.0.0.1",
            smtp_port=9,  # nothing listens: the email waits in the queue
            smtp_security="none",
            sender_email="diemthu@example.vn",
        ),
        by=admin,
    )


def test_confirm_step_sends_to_typed_addresses_and_keeps_them_only_when_ticked(
    qtbot: Any,
    make_window: Any,
    db: Database,
    admin: Actor,
    payer: ParticipantView,
    gateway: FakeGateway,
) -> None:
    notify_on(db, admin, gateway)
    _window, page, dialog = open_confirm(qtbot, make_window)
    # Prefilled from the record; reachable from the cash field with Tab.
    assert dialog.notify_phone.text() == "0912345678" and dialog.notify_email.text() == ""
    assert dialog.tendered.hasFocus()
    press(dialog.tendered, Qt.Key.Key_Tab)
    assert dialog.notify_phone.hasFocus()

    # A landline: refused at the field, naming it and the rule; nothing recorded.
    dialog.notify_phone.selectAll()
    type_text(dialog.notify_phone, "024 3826 1234")
    press(dialog.notify_phone, Qt.Key.Key_Return)
    error = dialog.contact_errors["notify_phone"]
    assert error.isVisibleTo(dialog)
    assert error.text().startswith("Số điện thoại nhận tin: ")
    assert "di động" in error.text()
    assert dialog.notify_phone.hasFocus()
    assert list_payments(db, today()) == []

    # Another number and an email, typed; the payer agrees to keep them (Tab, Space).
    dialog.notify_phone.selectAll()
    type_text(dialog.notify_phone, "+84 98 765 4321")
    press(dialog.notify_phone, Qt.Key.Key_Tab)
    type_text(dialog.notify_email, "Ba.Con@Example.VN")
    press(dialog.notify_email, Qt.Key.Key_Tab)
    assert dialog.keep_contact.hasFocus()
    qtbot.keyClick(dialog.keep_contact, Qt.Key.Key_Space)
    assert dialog.keep_contact.isChecked()
    press(dialog.keep_contact, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)

    messages = {m.channel: m for m in list_notifications(db)}
    assert messages["sms"].address == "0987654321"
    assert messages["email"].address == "Ba.Con@example.vn"
    kept = get_participant(db, payer.id)
    assert (kept.phone, kept.email) == ("0987654321", "Ba.Con@example.vn")
    assert any(a == "participant.contact" for a, _ in audit_actions(db))


def test_confirm_step_untouched_or_not_kept_leaves_the_record_alone(
    qtbot: Any,
    make_window: Any,
    db: Database,
    admin: Actor,
    payer: ParticipantView,
    gateway: FakeGateway,
) -> None:
    notify_on(db, admin, gateway)
    _window, page, dialog = open_confirm(qtbot, make_window)
    # Typical payment: nothing typed → the record's number; the record unchanged.
    press(dialog.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.done, timeout=10_000)
    wait_ops(qtbot)
    assert [(m.channel, m.address) for m in list_notifications(db)] == [("sms", "0912345678")]

    # A second payment to a typed email, not ticked: sent there, not kept.
    page.new_payment()
    dialog2 = find_and_confirm(qtbot, page)
    type_text(dialog2.notify_email, "chau.nop.ho@example.vn")
    dialog2.confirm()
    wait_ops(qtbot)
    assert dialog2.payment is not None
    emails = [m.address for m in list_notifications(db) if m.channel == "email"]
    assert emails == ["chau.nop.ho@example.vn"]
    record = get_participant(db, payer.id)
    assert (record.phone, record.email) == ("0912345678", "")
    assert not any(a == "participant.contact" for a, _ in audit_actions(db))


# --- Giao dịch hôm nay -----------------------------------------------------------------------


def notice_cell(page: Any, row: int = 0) -> str:
    return str(page.model.data(page.model.index(row, NOTICE_COLUMN), Qt.ItemDataRole.DisplayRole))


def test_today_shows_notice_states_as_the_sender_reports_and_resends_audited(
    qtbot: Any,
    make_window: Any,
    db: Database,
    admin: Actor,
    payer: ParticipantView,
    gateway: FakeGateway,
) -> None:
    enable(db, admin, gateway.url)
    gateway.state.script.append("400")  # the provider refuses the first SMS
    window = make_window()
    login(qtbot, window, "thungan1", CASHIER_PASSWORD)
    qtbot.waitUntil(lambda: window._notify is not None, timeout=10_000)
    page = window.work.show_screen("today")
    wait_ops(qtbot)
    assert page.model.rows == []

    request = PaymentRequest(uuid.uuid4().hex, payer.id, Scheme.BHYT_HGD, months=3, member_order=1)
    payment_ops.record(window, window.state, request).run()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=10_000)
    # Nobody presses anything: the sender's report refreshes the state.
    qtbot.waitUntil(lambda: notice_cell(page) == "SMS: Không gửi được", timeout=15_000)
    foreground = page.model.data(page.model.index(0, NOTICE_COLUMN), Qt.ItemDataRole.ForegroundRole)
    assert foreground is not None and foreground.name() == "#9a2a22"
    page.table.setFocus()
    page.table.selectRow(0)
    assert "HTTP 400" in page.notice_line.text()
    assert "SMS tới 0912345678: Không gửi được" in page.notice_line.text()
    assert page.resend_button.isEnabled()

    # Ctrl+G: resend, to a corrected number.
    activate(qtbot, page)
    qtbot.keyClick(page.table, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.resend_dialog is not None)
    dialog = page.resend_dialog
    assert dialog.address.text() == "0912345678"
    dialog.address.selectAll()
    type_text(dialog.address, "0987654321")
    press(dialog.address, Qt.Key.Key_Return)
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: page.resend_dialog is None)
    qtbot.waitUntil(lambda: notice_cell(page) == "SMS: Đã gửi", timeout=15_000)
    assert gateway.state.delivered[-1]["to"] == "84987654321"
    assert "SMS tới 0987654321: Đã gửi" in page.notice_line.text()
    assert page.resend_button.isEnabled()  # a sent message can be sent again if the payer asks
    resends = [d for a, d in audit_actions(db) if a == "notify.resend"]
    assert len(resends) == 1 and "0987654321" in resends[0] and "failed" in resends[0]


def test_without_a_keyring_secrets_are_refused_plainly_and_nothing_is_saved(
    qtbot: Any, make_window: Any, db: Database, admin: Actor, gateway: FakeGateway
) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    _window, panel = notify_tab(qtbot, make_window)
    fill_gateway_and_smtp(qtbot, panel, gateway)
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())  # a machine with no Secret Service and no secrets file
    try:
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
        wait_ops(qtbot)
        assert "Không dùng được kho khóa bí mật" in panel.save_status.text()
        assert panel.save_button.isEnabled()  # the admin can try again
    finally:
        keyring.set_keyring(previous)
    assert load_notify_settings(db).gateway is None  # nothing half-saved
    assert keyring.get_password(SERVICE, SMS_SECRET) is None
    # With the keyring back, the same form saves.
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    wait_ops(qtbot)
    assert panel.save_status.text() == "Đã lưu cài đặt thông báo."
    assert keyring.get_password(SERVICE, SMS_SECRET) == TOKEN
