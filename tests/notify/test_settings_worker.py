"""Notify settings and gateway profiles; the background worker on a real gateway."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from sqlalchemy import select

from app.errors import ConfigurationError, PermissionDenied, ValidationError
from app.notify.outbox import SENT, list_notifications
from app.notify.settings import (
    NotifySettings,
    load_notify_settings,
    parse_profile,
    save_notify_settings,
    shipped_profile,
)
from app.services.common import Actor
from app.services.participants import ParticipantView
from app.services.payments import record_payment
from app.storage.db import Database
from app.storage.models import AuditEvent, Setting
from sync.notify_sms import HttpSmsSender
from sync.notify_worker import NotifyWorker, build_senders
from tests.notify.conftest import SMS_TOKEN
from tests.notify.gateway import FakeGateway, profile_json
from tests.services.test_payments import bhxh_request


def test_shipped_profiles_parse_and_build_a_request() -> None:
    json_profile = shipped_profile()
    assert json_profile.idempotent and json_profile.auth == "bearer"
    form = shipped_profile("generic_brandname_form")
    assert not form.idempotent and form.auth == "basic"
    from app.notify.delivery import OutgoingMessage

    msg = OutgoingMessage(1, "p", "payment", "sms", "0912345678", "Ma xac nhan: X", "cid123", 1)
    req = HttpSmsSender(json_profile, "tok").build_request(msg)
    assert json.loads(req["data"]) == {
        "brandname": "DIEMTHU-BHXH",
        "to": "84912345678",
        "content": "Ma xac nhan: X",
        "type": "CSKH",
        "request_id": "cid123",
    }
    assert req["headers"]["Authorization"] == "Bearer tok"
    basic = HttpSmsSender(form, "pw").build_request(msg)
    assert basic["auth"] == ("diemthu01", "pw") and basic["headers"]["Connection"] == "close"
    assert basic["data"] == {"from": "DIEMTHU-BHXH", "phone": "0912345678", "sms": "Ma xac nhan: X"}


def test_text_with_quotes_cannot_break_the_json_body() -> None:
    from app.notify.delivery import OutgoingMessage

    msg = OutgoingMessage(1, "p", "payment", "sms", "0912345678", 'a "b" {c}', "cid", 1)
    req = HttpSmsSender(shipped_profile(), "tok").build_request(msg)
    assert json.loads(req["data"])["content"] == 'a "b" {c}'


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://x.vn/send"}, "gateway.url"),
        ({"url": "http://sms.example.vn/send"}, "gateway.url"),  # plain http off this machine
        ({"method": "DELETE"}, "gateway.method"),
        ({"auth": "digest"}, "gateway.auth"),
        ({"body": {"to": "{phone}"}}, "gateway.body"),  # no {text}
        ({"body": {"to": "{phone}", "m": "{text}", "x": "{secret}"}}, "gateway.body"),
        ({"body_format": "xml"}, "gateway.body_format"),
        ({"colour": "red"}, "gateway"),
        ({"timeout_seconds": 0}, "gateway.timeout_seconds"),
    ],
)
def test_bad_profiles_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    data = {**profile_json("http://127.0.0.1:9/x"), **change}
    with pytest.raises(ValidationError) as info:
        parse_profile(data)
    assert info.value.field == field


def test_settings_round_trip_admin_only_audited_without_secrets(
    db: Database, admin: Actor, cashier: Actor
) -> None:
    new = replace(
        NotifySettings(),
        sms_enabled=True,
        gateway=shipped_profile(),
        sms_template="Ma xac nhan {ma_xac_nhan} ({ten})",
        max_attempts_per_day=5,
    )
    with pytest.raises(PermissionDenied):
        save_notify_settings(db, new, by=cashier)
    saved = save_notify_settings(db, new, by=admin)
    assert load_notify_settings(db) == saved
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "settings.notify")).one()
    assert "notify.sms_template" in json.loads(event.details)["changed"]
    with pytest.raises(ValidationError) as info:
        save_notify_settings(db, replace(new, sms_template="{ten}"), by=admin)
    assert info.value.field == "sms_template"
    with pytest.raises(ValidationError) as info:
        save_notify_settings(db, replace(new, email_enabled=True, smtp_host="mail.vn"), by=admin)
    assert info.value.field == "sender_email"
    with pytest.raises(ValidationError) as info:
        save_notify_settings(db, replace(new, smtp_host="mail.vn", smtp_security="none"), by=admin)
    assert info.value.field == "smtp_security"


def test_unreadable_stored_value_falls_back_to_default(db: Database, admin: Actor) -> None:
    with db.write() as s:
        s.add(Setting(key="notify.gateway", value="{not json"))
        s.add(Setting(key="notify.max_attempts", value="nhiều"))
    loaded = load_notify_settings(db)
    assert loaded.gateway is None and loaded.max_attempts == NotifySettings().max_attempts


def test_missing_sms_secret_is_a_clear_configuration_error(
    db: Database, sms_on: NotifySettings, memory_keyring: object
) -> None:
    import keyring

    from app.secrets import SERVICE, SMS_SECRET

    keyring.delete_password(SERVICE, SMS_SECRET)
    with pytest.raises(ConfigurationError, match="sms-password"):
        build_senders(db)


def test_worker_thread_delivers_after_wake(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    done = threading.Event()
    reports = []

    def on_report(report: object) -> None:
        reports.append(report)
        if getattr(report, "sent", 0):
            done.set()

    worker = NotifyWorker(db, interval=60, on_report=on_report)
    worker.start()
    try:
        record_payment(db, bhxh_request(payer), by=cashier)
        worker.wake()
        assert done.wait(10)
    finally:
        worker.stop()
    [m] = list_notifications(db)
    assert m.state == SENT
    assert gateway.state.requests[0].headers["Authorization"] == f"Bearer {SMS_TOKEN}"
