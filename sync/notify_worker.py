"""Running notification delivery in the background: senders from settings, a plain thread.

`build_senders(db)` reads the notify settings and the secrets (keyring — before any write
transaction, see app/secrets.py) and returns the senders of the enabled channels.
`NotifyWorker(db)` is a daemon thread that calls `app.notify.delivery.deliver_due` every
`interval` seconds and at once after `wake()` (the window calls it after recording a payment). It
never raises into its caller: a failed pass is reported to `on_error` and tried again next time.
No Qt: a front end bridges `on_report` / `on_error` to its own signals.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Mapping

from app.notify.delivery import DeliveryPolicy, DeliveryReport, Sender, deliver_due
from app.notify.settings import NotifySettings, load_notify_settings
from app.secrets import load_sms_secret, load_smtp_password
from app.storage.db import Database
from sync.notify_email import SmtpSender
from sync.notify_sms import HttpSmsSender

log = logging.getLogger(__name__)


def policy_from(settings: NotifySettings, **overrides: float) -> DeliveryPolicy:
    base = DeliveryPolicy(
        max_attempts_per_day=settings.max_attempts_per_day, max_attempts=settings.max_attempts
    )
    return DeliveryPolicy(**{**base.__dict__, **overrides})


def build_senders(
    db: Database,
    settings: NotifySettings | None = None,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, Sender]:
    settings = settings or load_notify_settings(db)
    senders: dict[str, Sender] = {}
    if settings.sms_enabled and settings.gateway is not None:
        secret = load_sms_secret() if settings.gateway.auth != "none" else None
        senders["sms"] = HttpSmsSender(settings.gateway, secret)
    if settings.email_enabled and settings.smtp_host:
        password = load_smtp_password() if settings.smtp_username else None
        senders["email"] = SmtpSender(db, settings, password, ssl_context=ssl_context)
    return senders


class NotifyWorker:
    """Delivers due notifications on its own thread (`quaythu-notify`)."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float = 30.0,
        on_report: Callable[[DeliveryReport], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        senders_factory: Callable[[], Mapping[str, Sender]] | None = None,
    ) -> None:
        self.db = db
        self.interval = interval
        self.on_report = on_report
        self.on_error = on_error
        self._factory = senders_factory or (lambda: build_senders(db))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="quaythu-notify", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> DeliveryReport:
        settings = load_notify_settings(self.db)
        senders = self._factory()
        try:
            return deliver_due(self.db, senders, policy=policy_from(settings))
        finally:
            for sender in senders.values():
                close = getattr(sender, "close", None)
                if close is not None:
                    close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.run_once()
                if self.on_report is not None:
                    self.on_report(report)
            except Exception as exc:  # keep the thread alive; the next pass tries again
                log.exception("notification delivery pass failed")
                if self.on_error is not None:
                    self.on_error(exc)
            self._wake.wait(self.interval)
            self._wake.clear()
