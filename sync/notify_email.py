"""Sending the payer's email (plain text + HTML, receipt PDF attached) with `smtplib`.

`SmtpSender(db, settings, password).send(message)` builds the email from the ledger
(`app.services.documents.receipt_data` → `app.notify.email_text`, PDF by
`printing.receipt.render_receipt`), opens one SMTP connection — implicit TLS (`ssl`, usually port
465) or `starttls` (usually 587), plain only to this machine for tests and local relays — logs in
when a user name is set, sends, and says how it went; it never raises for network trouble.

Classification for `app.notify.delivery`: no connection / TLS / login trouble, or an SMTP 4xx →
retry (nothing was accepted); SMTP 5xx for the sender, recipient or content → permanent;
a dropped connection or timeout while the message itself is being handed over → `unknown` (SMTP
has no client message id, so it is not re-sent blindly; the Message-ID header still carries our
client message id so a duplicate can be spotted).
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Final

from sqlalchemy import select

from app.errors import UserFacingError
from app.notify.delivery import Outcome, OutgoingMessage, SendResult
from app.notify.email_text import EmailContent, payment_email, void_email
from app.notify.outbox import VOID
from app.notify.settings import NotifySettings
from app.services.documents import receipt_data
from app.storage.db import Database
from app.storage.models import Payment
from printing.receipt import ReceiptLayout, render_receipt

DEFAULT_TIMEOUT: Final = 30.0


class SmtpSender:
    channel = "email"

    def __init__(
        self,
        db: Database,
        settings: NotifySettings,
        password: str | None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        layout: ReceiptLayout = ReceiptLayout.A5,
    ) -> None:
        self.db = db
        self.settings = settings
        self._password = password or ""
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.timeout = timeout
        self.layout = layout

    @property
    def idempotent(self) -> bool:
        return False

    def compose(self, message: OutgoingMessage) -> tuple[EmailMessage, EmailContent]:
        with self.db.read() as session:
            number = session.scalar(
                select(Payment.receipt_number).where(Payment.id == message.payment_id)
            )
        if number is None:
            raise UserFacingError(f"Không tìm thấy khoản thu {message.payment_id}.")
        data = receipt_data(self.db, number)
        content = void_email(data) if message.kind == VOID else payment_email(data)
        pdf = render_receipt(data, self.layout)
        s = self.settings
        domain = s.sender_email.rsplit("@", 1)[-1] or "quaythu.invalid"
        mail = EmailMessage()
        mail["From"] = formataddr((s.sender_name, s.sender_email))
        mail["To"] = message.address
        mail["Subject"] = content.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = f"<{message.client_message_id}@{domain}>"
        mail.set_content(content.text)
        mail.add_alternative(content.html, subtype="html")
        mail.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=content.attachment_name
        )
        return mail, content

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            return smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=self.timeout, context=self.ssl_context
            )
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
        if s.smtp_security == "starttls":
            smtp.ehlo()
            smtp.starttls(context=self.ssl_context)
            smtp.ehlo()
        return smtp

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            mail, _content = self.compose(message)
        except UserFacingError as exc:
            return SendResult(Outcome.PERMANENT, error=exc.message)
        return self.transmit(mail)

    def compose_test(self, to: str) -> EmailMessage:
        """A short test email (Settings → "Gửi thử"): proves the server, security, login and
        sender work, without a payment."""
        s = self.settings
        domain = s.sender_email.rsplit("@", 1)[-1] or "quaythu.invalid"
        mail = EmailMessage()
        mail["From"] = formataddr((s.sender_name, s.sender_email))
        mail["To"] = to
        mail["Subject"] = "Thư thử từ QuầyThu"
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = f"<test-{uuid.uuid4().hex}@{domain}>"
        mail.set_content(
            f"Đây là thư thử của {s.sender_name}.\n\n"
            "Nếu bạn nhận được thư này, điểm thu đã cấu hình đúng máy chủ thư: người nộp tiền "
            "sẽ nhận mã xác nhận và biên lai qua email.\n"
        )
        return mail

    def send_test(self, to: str) -> SendResult:
        return self.transmit(self.compose_test(to))

    def transmit(self, mail: EmailMessage) -> SendResult:
        """Hand one composed email to the SMTP server and say how it went (never raises)."""
        smtp: smtplib.SMTP | None = None
        handing_over = False
        try:
            smtp = self._connect()
            if self.settings.smtp_username:
                smtp.login(self.settings.smtp_username, self._password)
            handing_over = True
            smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            text = "; ".join(f"{a}: {c} {m!r}" for a, (c, m) in exc.recipients.items())
            if all(400 <= c < 500 for c in codes):
                return SendResult(
                    Outcome.RETRY, error=f"Máy chủ thư tạm từ chối người nhận: {text}"
                )
            return SendResult(Outcome.PERMANENT, error=f"Máy chủ thư từ chối người nhận: {text}")
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult(
                Outcome.RETRY,
                error=f"Đăng nhập máy chủ thư không được ({exc.smtp_code}); kiểm tra tên đăng "
                "nhập và mật khẩu SMTP trong Cài đặt.",
            )
        except smtplib.SMTPResponseException as exc:
            detail = f"{exc.smtp_code} {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                return SendResult(Outcome.RETRY, error=f"Máy chủ thư tạm từ chối: {detail}")
            return SendResult(Outcome.PERMANENT, error=f"Máy chủ thư từ chối thư: {detail}")
        except (smtplib.SMTPException, OSError) as exc:
            if handing_over:
                return SendResult(
                    Outcome.UNKNOWN,
                    error=f"Mất kết nối với máy chủ thư khi đang gửi: {type(exc).__name__}: {exc}",
                )
            return SendResult(
                Outcome.RETRY,
                error=f"Không kết nối được máy chủ thư: {type(exc).__name__}: {exc}",
            )
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        return SendResult(Outcome.SENT, provider_message_id=str(mail["Message-ID"]))
