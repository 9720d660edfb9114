"""The services behind Settings → Thông báo: template checks per field, secrets to the keyring
(admin only, audited without the value), the shipped profiles listed, and the test sends to a
real gateway and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from sqlalchemy import select

from app.errors import PermissionDenied, ValidationError
from app.notify.delivery import Outcome
from app.notify.settings import (
    load_notify_settings,
    parse_profile,
    save_notify_secrets,
    shipped_profile,
    shipped_profile_names,
    validate_notify_settings,
)
from app.notify.sms_text import (
    DEFAULT_PAYMENT_TEMPLATE,
    SEGMENT,
    check_template,
    preview_sms,
    worst_case_length,
)
from app.secrets import SERVICE, SMS_SECRET, SMTP_SECRET
from app.services.common import Actor
from app.storage.db import Database
from app.storage.models import AuditEvent
from sync.notify_email import SmtpSender
from sync.notify_sms import send_test_sms
from tests.notify.gateway import FakeGateway, profile_json
from tests.notify.smtpserver import PASSWORD, USER, SmtpServer


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


def test_worst_case_length_is_what_check_template_refuses() -> None:
    assert worst_case_length(DEFAULT_PAYMENT_TEMPLATE) <= SEGMENT
    assert check_template(DEFAULT_PAYMENT_TEMPLATE) == DEFAULT_PAYMENT_TEMPLATE
    longer = DEFAULT_PAYMENT_TEMPLATE + " Cam on quy khach!"
    assert worst_case_length(longer) > SEGMENT
    # The sample still fits (the name is shortened): the counter must use the worst case.
    assert preview_sms(longer).length <= SEGMENT
    with pytest.raises(ValidationError) as refused:
        check_template(longer, field="void_sms_template", label="Mẫu tin báo hủy")
    assert refused.value.field == "void_sms_template"
    assert refused.value.message.startswith("Mẫu tin báo hủy: dài ")
    assert "tối đa 160" in refused.value.message


def test_a_bad_placeholder_in_the_void_template_names_the_void_field() -> None:
    bad = replace(
        validate_notify_settings(load_defaults()), void_sms_template="{ten} {ma_xac_nhan} {sai}"
    )
    with pytest.raises(ValidationError) as refused:
        validate_notify_settings(bad)
    assert refused.value.field == "void_sms_template"
    assert refused.value.message.startswith("Mẫu tin báo hủy: không có chỗ điền {sai}")


def load_defaults() -> object:
    from app.notify.settings import DEFAULTS

    return DEFAULTS


def test_shipped_profile_names_list_the_examples() -> None:
    names = shipped_profile_names()
    assert names == ["generic_brandname_form", "generic_brandname_json"]
    assert all(shipped_profile(n).name.startswith("Mẫu:") for n in names)


def test_secrets_go_to_the_keyring_admin_only_audited_without_the_value(
    db: Database, admin: Actor, cashier: Actor
) -> None:
    with pytest.raises(PermissionDenied):
        save_notify_secrets(db, by=cashier, sms_secret="tok-cashier")
    assert keyring.get_password(SERVICE, SMS_SECRET) is None
    assert save_notify_secrets(db, by=admin) == []  # nothing typed: nothing written
    written = save_notify_secrets(db, by=admin, sms_secret="tok-9z", smtp_password="pw-8y")
    assert written == [SMS_SECRET, SMTP_SECRET]
    assert keyring.get_password(SERVICE, SMS_SECRET) == "tok-9z"
    assert keyring.get_password(SERVICE, SMTP_SECRET) == "pw-8y"
    with db.read() as s:
        events = s.execute(
            select(AuditEvent.action, AuditEvent.details).where(
                AuditEvent.action == "settings.notify_secret"
            )
        ).all()
    assert len(events) == 1
    assert SMS_SECRET in events[0].details and "tok-9z" not in events[0].details
    assert load_notify_settings(db).gateway is None  # the settings are not touched


def test_test_sms_reaches_the_gateway_and_reports_refusals() -> None:
    gw = FakeGateway()
    try:
        profile = parse_profile(profile_json(gw.url))
        ok = send_test_sms(profile, "tok", "0912345678", "Thu QuayThu")
        assert ok.outcome is Outcome.SENT and ok.provider_message_id == "GW000001"
        assert gw.state.delivered[0]["to"] == "84912345678"
        assert gw.state.delivered[0]["content"] == "Thu QuayThu"
        assert gw.state.requests[0].headers["Authorization"] == "Bearer tok"
        gw.state.script.append("json-fail")
        refused = send_test_sms(profile, "tok", "0912345678", "Thu QuayThu")
        assert refused.outcome is Outcome.PERMANENT and "code=12" in refused.error
    finally:
        gw.close()


def test_test_email_through_starttls_and_login(smtp: SmtpServer, db: Database) -> None:
    from app.notify.settings import DEFAULTS

    settings = replace(
        DEFAULTS,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="starttls",
        smtp_username=USER,
        sender_email="diemthu@example.vn",
    )
    sender = SmtpSender(db, settings, PASSWORD, ssl_context=smtp.client_context())
    result = sender.send_test("nguoinop@example.vn")
    assert result.outcome is Outcome.SENT
    raw = smtp.mailbox.messages[0]
    assert b"Subject: =?utf-8?" in raw  # Vietnamese subject, encoded
    assert smtp.mailbox.envelopes[0] == ("diemthu@example.vn", ["nguoinop@example.vn"])
    wrong = SmtpSender(db, settings, "sai", ssl_context=smtp.client_context())
    assert wrong.send_test("nguoinop@example.vn").outcome is Outcome.RETRY
    assert len(smtp.mailbox.messages) == 1
