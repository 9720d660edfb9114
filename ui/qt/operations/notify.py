"""Payer notices (docs/NOTIFY.md): their settings and secrets, test sends, Today's states, resend.

Settings and resends are database ops; the keyring and the network (test sends, whether a secret
is stored) run on the I/O pool, never on the GUI thread or the database worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, IoOp, Op

if TYPE_CHECKING:
    import ssl

    from PySide6.QtCore import QObject

    from app.notify.delivery import SendResult
    from app.notify.outbox import NotificationView
    from app.notify.settings import GatewayProfile, NotifySettings
    from ui.qt.state import AppState

NOTICES = OpChanges(notify=True)
SAVED = OpChanges(settings=True)


@dataclass(frozen=True)
class SecretsPresent:
    sms: bool
    smtp: bool


def load_settings(parent: QObject, state: AppState) -> Op[NotifySettings]:
    def load() -> NotifySettings:
        from app.notify.settings import load_notify_settings

        return load_notify_settings(state.db)

    return DbOp(parent, load)


def secrets_present(parent: QObject) -> Op[SecretsPresent]:
    """Whether the keyring holds the SMS secret and the SMTP password (never their values)."""

    def look() -> SecretsPresent:
        from app.secrets import load_sms_secret, load_smtp_password

        return SecretsPresent(sms=bool(load_sms_secret()), smtp=bool(load_smtp_password()))

    return IoOp(parent, look)


def save(
    parent: QObject,
    state: AppState,
    new: NotifySettings,
    *,
    sms_secret: str = "",
    smtp_password: str = "",
) -> Op[NotifySettings]:
    """Validate everything, then the secrets to the keyring (before any write transaction), then
    the settings; both audited. Bad input stores nothing."""
    actor = state.require_actor()

    def write() -> NotifySettings:
        from app.notify.settings import (
            save_notify_secrets,
            save_notify_settings,
            validate_notify_settings,
        )

        validate_notify_settings(new)
        save_notify_secrets(state.db, by=actor, sms_secret=sms_secret, smtp_password=smtp_password)
        return save_notify_settings(state.db, new, by=actor)

    return DbOp(parent, write).changes(state, SAVED)


def test_sms(
    parent: QObject,
    state: AppState,
    profile: GatewayProfile,
    secret: str,
    phone: str,
    text: str,
) -> Op[SendResult]:
    """Send one test SMS with the form's (maybe unsaved) gateway; the typed secret, or the
    keyring's when none was typed."""
    actor = state.require_actor()

    def send() -> SendResult:
        from app.domain.types import Role
        from app.secrets import load_sms_secret

        actor.require(Role.ADMIN, action="gửi thử tin nhắn")
        from sync.notify_sms import send_test_sms

        key = secret or (load_sms_secret() if profile.auth != "none" else None)
        return send_test_sms(profile, key, phone, text)

    return IoOp(parent, send)


def test_email(
    parent: QObject,
    state: AppState,
    settings: NotifySettings,
    password: str,
    to: str,
) -> Op[SendResult]:
    """Send a short test email with the form's (maybe unsaved) SMTP settings."""
    actor = state.require_actor()
    context: ssl.SSLContext | None = state.extra.get("smtp_ssl_context")  # tests: their CA

    def send() -> SendResult:
        from app.domain.types import Role
        from app.secrets import load_smtp_password

        actor.require(Role.ADMIN, action="gửi thử email")
        from sync.notify_email import SmtpSender

        key = password or (load_smtp_password() if settings.smtp_username else None)
        return SmtpSender(state.db, settings, key, ssl_context=context).send_test(to)

    return IoOp(parent, send)


def for_payments(
    parent: QObject, state: AppState, payment_ids: Iterable[str]
) -> Op[dict[str, list[NotificationView]]]:
    ids = tuple(payment_ids)

    def load() -> dict[str, list[NotificationView]]:
        from app.notify.outbox import notifications_for_payments

        return notifications_for_payments(state.db, ids)

    return DbOp(parent, load)


def resend(
    parent: QObject, state: AppState, notification_id: int, address: str | None
) -> Op[NotificationView]:
    """Queue one message again (audited `notify.resend`); the sender is woken at once."""
    actor = state.require_actor()

    def write() -> NotificationView:
        from app.notify.outbox import resend_notification

        return resend_notification(state.db, notification_id, by=actor, address=address or None)

    return DbOp(parent, write).changes(state, NOTICES)
