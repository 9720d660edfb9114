"""Delivery through a real HTTP gateway on 127.0.0.1: success, 5xx, 429, 4xx, timeouts, lost
answers, refused connections, the daily cap, stale claims, resend."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.domain.types import Scheme
from app.errors import UserFacingError
from app.notify.delivery import DeliveryPolicy, deliver_due
from app.notify.outbox import (
    FAILED,
    QUEUED,
    RETRYING,
    SENDING,
    SENT,
    UNKNOWN,
    list_notifications,
    notify_status,
    resend_notification,
    retry_now,
)
from app.notify.settings import NotifySettings
from app.secrets import load_sms_secret
from app.services.common import Actor
from app.services.participants import ParticipantView
from app.services.payments import PaymentView, record_payment
from app.storage.db import Database
from app.storage.models import AuditEvent, Notification
from sync.notify_sms import HttpSmsSender, retry_after_seconds
from tests.notify.conftest import SMS_TOKEN, enable
from tests.notify.gateway import FakeGateway
from tests.services.test_payments import PAID_AT, bhxh_request

T0 = PAID_AT + timedelta(seconds=5)
POLICY = DeliveryPolicy(base_delay=30, max_delay=3600, max_attempts_per_day=8, max_attempts=30)


def _sender(settings: NotifySettings) -> HttpSmsSender:
    assert settings.gateway is not None
    return HttpSmsSender(settings.gateway, load_sms_secret())


def _one(db: Database) -> Notification:
    with db.read() as s:
        return s.scalars(select(Notification).order_by(Notification.id.desc())).first()  # type: ignore[return-value]


def _pay(db: Database, cashier: Actor, payer: ParticipantView) -> PaymentView:
    # BHYT, 3 months, no start month: a payer's later payments run on from the last card, so a
    # test can pay several times on the same day without paying a month twice (docs/RULES.md).
    req = bhxh_request(
        payer, scheme=Scheme.BHYT_HGD, months=3, start_month=None, method=None, income=None,
        support_category=None, member_order=1,
    )  # fmt: skip
    return record_payment(db, req, by=cashier, now=PAID_AT)


def _deliver(db: Database, settings: NotifySettings, at: datetime, policy: DeliveryPolicy = POLICY):
    sender = _sender(settings)
    try:
        return deliver_due(db, {"sms": sender}, now=at, policy=policy, rng=random.Random(7))
    finally:
        sender.close()


def test_sent_with_bearer_token_body_template_and_provider_id(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    view = _pay(db, cashier, payer)
    report = _deliver(db, sms_on, T0)
    assert (report.claimed, report.sent) == (1, 1)
    [req] = gateway.state.requests
    assert req.headers["Authorization"] == f"Bearer {SMS_TOKEN}"
    m = _one(db)
    assert req.body == {
        "brandname": "DIEMTHU-TEST",
        "to": "84912345678",
        "content": m.body,
        "request_id": m.client_message_id,
    }
    assert view.confirmation_code in req.body["content"]
    assert (m.state, m.attempts, m.provider_message_id, m.sent_at) == (SENT, 1, "GW000001", T0)
    assert _deliver(db, sms_on, T0 + timedelta(hours=1)).claimed == 0  # never twice
    assert len(gateway.state.delivered) == 1


def test_5xx_is_retried_after_full_jitter_backoff(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    _pay(db, cashier, payer)
    gateway.state.script.extend(["500", "503"])
    assert _deliver(db, sms_on, T0).retrying == 1
    m = _one(db)
    assert m.state == RETRYING and "HTTP 500" in (m.last_error or "")
    first_delay = (m.next_attempt_at - T0).total_seconds()  # type: ignore[operator]
    assert 1 <= first_delay <= 30  # attempt 1: uniform(0, 30 s), at least 1 s
    assert _deliver(db, sms_on, T0).claimed == 0  # not due yet
    later = m.next_attempt_at
    assert _deliver(db, sms_on, later).retrying == 1  # type: ignore[arg-type]
    m = _one(db)
    assert 1 <= (m.next_attempt_at - later).total_seconds() <= 60  # type: ignore[operator]
    assert _deliver(db, sms_on, m.next_attempt_at).sent == 1  # type: ignore[arg-type]
    assert _one(db).attempts == 3 and len(gateway.state.delivered) == 1


def test_429_retry_after_is_honoured(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    _pay(db, cashier, payer)
    gateway.state.script.append("429:120")
    _deliver(db, sms_on, T0)
    m = _one(db)
    assert m.state == RETRYING and m.next_attempt_at == T0 + timedelta(seconds=120)
    assert "429" in (m.last_error or "")
    assert _deliver(db, sms_on, T0 + timedelta(seconds=119)).claimed == 0
    assert _deliver(db, sms_on, T0 + timedelta(seconds=120)).sent == 1


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert retry_after_seconds("Tue, 01 Dec 2026 03:01:30 GMT", now) == 90
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("soon") is None


@pytest.mark.parametrize(("action", "reason"), [("400", "HTTP 400"), ("json-fail", "code=12")])
def test_4xx_and_gateway_refusal_are_permanent(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
    action: str,
    reason: str,
) -> None:
    _pay(db, cashier, payer)
    gateway.state.script.append(action)
    assert _deliver(db, sms_on, T0).failed == 1
    m = _one(db)
    assert m.state == FAILED and reason in (m.last_error or "")
    assert _deliver(db, sms_on, T0 + timedelta(days=1)).claimed == 0


def test_timeout_with_client_id_retries_with_the_same_id_and_delivers_once(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    _pay(db, cashier, payer)
    gateway.state.script.append("timeout:3")  # the gateway delivers, but answers after 3 s > 2 s
    report = _deliver(db, sms_on, T0)
    assert report.retrying == 1 and "quá thời gian chờ" in report.errors[0]
    m = _one(db)
    first_id = m.client_message_id
    assert _deliver(db, sms_on, m.next_attempt_at).sent == 1  # type: ignore[arg-type]
    ids = [r.body["request_id"] for r in gateway.state.requests]
    assert ids == [first_id, first_id]
    assert len(gateway.state.delivered) == 1  # the gateway dropped the duplicate
    assert _one(db).provider_message_id == "GW000001"


def test_lost_answer_without_client_id_is_not_resent_blindly(
    db: Database,
    admin: Actor,
    cashier: Actor,
    payer: ParticipantView,
    gateway: FakeGateway,
) -> None:
    settings = enable(db, admin, gateway.url, idempotent=False)
    _pay(db, cashier, payer)
    gateway.state.script.append("lost")
    assert _deliver(db, settings, T0).unknown == 1
    m = _one(db)
    assert m.state == UNKNOWN and "không tự gửi lại" in (m.last_error or "")
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "notify.unknown")).one()
    assert event.subject == str(m.id)
    assert _deliver(db, settings, T0 + timedelta(days=2)).claimed == 0
    assert len(gateway.state.requests) == 1
    assert notify_status(db).counts[UNKNOWN] == 1

    # The cashier checks with the payer and resends: audited, a new client message id.
    again = resend_notification(db, m.id, by=cashier, now=T0 + timedelta(minutes=5))
    assert again.state == QUEUED and again.resends == 1
    assert _deliver(db, settings, T0 + timedelta(minutes=5)).sent == 1
    with db.read() as s:
        resend = s.scalars(select(AuditEvent).where(AuditEvent.action == "notify.resend")).one()
    details = json.loads(resend.details)
    assert details["previous_state"] == UNKNOWN and resend.operator_id == cashier.id
    # A sent message may be resent on request; a queued one refuses (it will go out anyway).
    resend_notification(db, m.id, by=cashier, now=T0 + timedelta(minutes=6))
    with pytest.raises(UserFacingError, match="Chờ gửi"):
        resend_notification(db, m.id, by=cashier)


def test_connection_refused_is_retried_not_unknown(
    db: Database, admin: Actor, cashier: Actor, payer: ParticipantView, gateway: FakeGateway
) -> None:
    settings = enable(db, admin, gateway.url, idempotent=False)
    gateway.close()  # nothing listens any more
    _pay(db, cashier, payer)
    report = _deliver(db, settings, T0)
    assert report.retrying == 1 and report.unknown == 0
    assert "Không kết nối được" in (_one(db).last_error or "")


def test_daily_cap_then_next_day_then_permanent_after_max_attempts(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    _pay(db, cashier, payer)
    gateway.state.default = "503"
    policy = DeliveryPolicy(base_delay=1, max_delay=1, max_attempts_per_day=2, max_attempts=3)
    at = T0
    for _ in range(2):
        assert _deliver(db, sms_on, at, policy).claimed == 1
        at = _one(db).next_attempt_at  # type: ignore[assignment]
    report = _deliver(db, sms_on, at, policy)
    assert (report.claimed, report.deferred) == (0, 1)
    m = _one(db)
    # 10:15 in Hà Nội on 22/11 → waits for 00:00 on 23/11 local = 17:00 UTC on 22/11.
    assert m.next_attempt_at == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
    third = _deliver(db, sms_on, m.next_attempt_at, policy)  # type: ignore[arg-type]
    assert (third.claimed, third.failed) == (1, 1)  # the last allowed attempt failed too
    m = _one(db)
    assert m.state == FAILED and m.attempts == 3 and m.last_error.startswith("Đã thử 3 lần")  # type: ignore[union-attr]
    assert len(gateway.state.requests) == 3


def test_claimed_message_is_not_taken_by_a_second_deliverer_and_stale_claims_recover(
    db: Database, admin: Actor, cashier: Actor, payer: ParticipantView, gateway: FakeGateway
) -> None:
    settings = enable(db, admin, gateway.url, idempotent=True)
    _pay(db, cashier, payer)
    _pay(db, cashier, payer)  # a second payment of the same payer
    with db.write() as s:  # a deliverer claimed both, then died
        s.execute(update(Notification).values(state=SENDING, last_attempt_at=T0, attempts=1))
    assert _deliver(db, settings, T0 + timedelta(minutes=5)).claimed == 0  # still its claim
    report = _deliver(db, settings, T0 + timedelta(minutes=16))
    assert report.recovered == 2 and report.sent == 2  # same client ids: safe to send

    settings = enable(db, admin, gateway.url, idempotent=False)
    _pay(db, cashier, payer)
    _pay(db, cashier, payer)
    with db.write() as s:  # again claimed by a deliverer that died, now without client ids
        s.execute(
            update(Notification)
            .where(Notification.state == QUEUED)
            .values(state=SENDING, last_attempt_at=T0)
        )
    report = _deliver(db, settings, T0 + timedelta(minutes=16))
    assert report.recovered == 2 and report.sent == 0
    assert [m.state for m in list_notifications(db)] == [SENT, SENT, UNKNOWN, UNKNOWN]
    assert len(gateway.state.delivered) == 2


def test_retry_now_wakes_waiting_messages(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    _pay(db, cashier, payer)
    gateway.state.script.append("429:3600")
    _deliver(db, sms_on, T0)
    assert retry_now(db, by=cashier, now=T0 + timedelta(seconds=10)) == 1
    assert _deliver(db, sms_on, T0 + timedelta(seconds=10)).sent == 1


def test_void_of_an_old_payment_is_found_below_the_delivered_ones(
    db: Database,
    cashier: Actor,
    supervisor: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    old = _pay(db, cashier, payer)
    _pay(db, cashier, payer)
    assert _deliver(db, sms_on, T0).sent == 2  # the low-water mark moves past both
    from app.services.payments import void_payment

    void_payment(
        db,
        receipt_number=old.receipt_number,
        reason="Khách đổi ý",
        supervisor=supervisor,
        now=T0 + timedelta(minutes=1),
    )
    assert _deliver(db, sms_on, T0 + timedelta(minutes=2)).sent == 1
    assert "DA BI HUY" in gateway.state.delivered[-1]["content"]
    assert [(m.receipt_number, m.kind) for m in list_notifications(db)] == [
        (1, "payment"),
        (1, "void"),
        (2, "payment"),
    ]


def test_an_interrupted_run_writes_what_it_learnt(
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
    gateway: FakeGateway,
) -> None:
    for _ in range(3):
        _pay(db, cashier, payer)
    real = _sender(sms_on)

    class StopsAtSecond:  # the real sender, until the window closes during the second message
        channel = "sms"
        idempotent = True
        calls = 0

        def send(self, message):  # type: ignore[no-untyped-def]
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return real.send(message)

    with pytest.raises(KeyboardInterrupt):
        deliver_due(db, {"sms": StopsAtSecond()}, now=T0, policy=POLICY)
    real.close()
    assert [m.state for m in list_notifications(db)] == [SENT, SENDING, RETRYING]
    assert len(gateway.state.delivered) == 1
