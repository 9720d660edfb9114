"""Email through a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS and implicit TLS with
login, Vietnamese plain text + HTML, the receipt PDF attached and read back with pdftotext."""

from __future__ import annotations

import email
import email.policy
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from app.notify.delivery import deliver_due
from app.notify.outbox import FAILED, RETRYING, SENT, UNKNOWN, NotifyContact
from app.notify.settings import NotifySettings, load_notify_settings, save_notify_settings
from app.secrets import load_smtp_password, store_smtp_password
from app.services.common import Actor
from app.services.participants import ParticipantView
from app.services.payments import PaymentView, record_payment, void_payment
from app.storage.db import Database
from app.storage.models import Notification, Setting
from sync.notify_email import SmtpSender
from sync.notify_worker import build_senders
from tests.notify.smtpserver import PASSWORD, USER, SmtpServer
from tests.services.test_payments import PAID_AT, bhxh_request

T0 = PAID_AT + timedelta(seconds=5)


@pytest.fixture(params=["starttls", "ssl"])
def smtp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path, implicit_tls=request.param == "ssl")
    server.security = request.param  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def mail_on(db: Database, admin: Actor, smtp: SmtpServer) -> NotifySettings:
    store_smtp_password(PASSWORD)
    new = replace(
        load_notify_settings(db),
        email_enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security=smtp.security,  # type: ignore[attr-defined]
        smtp_username=USER,
        sender_email="bienlai@diemthu-donghy.vn",
        sender_name="Điểm thu Bưu điện xã Đồng Hỷ",
    )
    return save_notify_settings(db, new, by=admin)


def _deliver(db: Database, settings: NotifySettings, smtp: SmtpServer, at=T0):  # type: ignore[no-untyped-def]
    sender = SmtpSender(db, settings, load_smtp_password(), ssl_context=smtp.client_context())
    return deliver_due(db, {"email": sender}, now=at)


def _pay(db: Database, cashier: Actor, payer: ParticipantView, address: str) -> PaymentView:
    # no start month: a second payment continues the first (a month is never paid twice)
    req = bhxh_request(payer, start_month=None, notify=NotifyContact(email=address))
    return record_payment(db, req, by=cashier, now=PAID_AT)


def _pdf_text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_payment_email_with_receipt_pdf(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    mail_on: NotifySettings,
    smtp: SmtpServer,
) -> None:
    view = _pay(db, cashier, payer, "le.dao@example.vn")
    report = _deliver(db, mail_on, smtp)
    assert report.sent == 1, report.errors
    [raw] = smtp.mailbox.messages
    assert smtp.mailbox.envelopes == [("bienlai@diemthu-donghy.vn", ["le.dao@example.vn"])]
    msg = _parse(raw)
    assert (
        msg["Subject"] == f"Xác nhận nộp tiền BHXH tự nguyện – Mã xác nhận {view.confirmation_code}"
    )
    assert msg["From"] == "Điểm thu Bưu điện xã Đồng Hỷ <bienlai@diemthu-donghy.vn>"
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for text in (plain, html):
        assert "Lê Thị Mỹ Đào" in text and "0123456789" in text
        assert view.confirmation_code in text
        assert "3.168.000 đ" in text and "Ba triệu một trăm sáu mươi tám nghìn đồng" in text
        assert "BHXH tự nguyện" in text and "VssID" in text and "baohiemxahoi.gov.vn" in text
    assert "- Số tháng đóng: 12" in plain and "10:15 ngày 22/11/2026" in plain
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "bien-lai-0000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf_text = _pdf_text(attachment.get_content())
    assert view.confirmation_code in pdf_text and "Lê Thị Mỹ Đào" in pdf_text
    assert "3.168.000" in pdf_text
    with db.read() as s:
        m = s.scalars(select(Notification)).one()
    assert m.state == SENT and m.provider_message_id == f"<{m.client_message_id}@diemthu-donghy.vn>"
    assert msg["Message-ID"] == m.provider_message_id


def test_void_email_says_cancelled_with_reason(
    db: Database,
    cashier: Actor,
    supervisor: Actor,
    payer: ParticipantView,
    mail_on: NotifySettings,
    smtp: SmtpServer,
) -> None:
    view = _pay(db, cashier, payer, "le.dao@example.vn")
    void_payment(
        db,
        receipt_number=view.receipt_number,
        reason="Thu nhầm số tháng",
        supervisor=supervisor,
        now=PAID_AT + timedelta(minutes=30),
    )
    assert _deliver(db, mail_on, smtp, T0 + timedelta(hours=1)).sent == 2
    cancelled = _parse(smtp.mailbox.messages[1])
    assert cancelled["Subject"].startswith("Thông báo HỦY biên lai số 0000001")
    plain = cancelled.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "ĐÃ BỊ HỦY" in plain and "Thu nhầm số tháng" in plain and "Trần Đức Giám" in plain
    [attachment] = list(cancelled.iter_attachments())
    assert "ĐÃ HỦY" in _pdf_text(attachment.get_content())


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_recipient_refused_is_permanent_and_4xx_is_retried(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    mail_on: NotifySettings,
    smtp: SmtpServer,
) -> None:
    _pay(db, cashier, payer, "ai.do@khongton.test")
    _pay(db, cashier, payer, "day@daybox.test")
    report = _deliver(db, mail_on, smtp)
    assert (report.failed, report.retrying) == (1, 1)
    with db.read() as s:
        states = {m.address: (m.state, m.last_error) for m in s.scalars(select(Notification))}
    assert states["ai.do@khongton.test"][0] == FAILED and "550" in states["ai.do@khongton.test"][1]
    assert states["day@daybox.test"][0] == RETRYING
    assert smtp.mailbox.messages == []


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_wrong_password_retries_and_dropped_answer_is_unknown(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    mail_on: NotifySettings,
    smtp: SmtpServer,
) -> None:
    _pay(db, cashier, payer, "le.dao@example.vn")
    sender = SmtpSender(db, mail_on, "sai-mat-khau", ssl_context=smtp.client_context())
    assert deliver_due(db, {"email": sender}, now=T0).retrying == 1
    with db.read() as s:
        assert "mật khẩu SMTP" in (s.scalars(select(Notification)).one().last_error or "")

    smtp.mailbox.drop_data = True  # the server takes the message but the answer never comes
    with db.write() as s:
        s.scalars(select(Notification)).one().next_attempt_at = T0
    report = _deliver(db, mail_on, smtp)
    assert report.unknown == 1
    assert len(smtp.mailbox.messages) == 1
    assert _deliver(db, mail_on, smtp, T0 + timedelta(days=1)).claimed == 0  # not re-sent blindly
    with db.read() as s:
        assert s.scalars(select(Notification)).one().state == UNKNOWN


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_senders_built_from_settings_and_keyring_only(
    db: Database, mail_on: NotifySettings, smtp: SmtpServer
) -> None:
    senders = build_senders(db)
    assert set(senders) == {"email"}
    with db.read() as s:
        stored = " ".join(v for (v,) in s.execute(select(Setting.value)))
    assert PASSWORD not in stored
