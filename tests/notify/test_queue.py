"""Queuing: in the payment's own transaction, one per payment per channel per kind, consent."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.errors import ValidationError
from app.notify.delivery import deliver_due
from app.notify.outbox import (
    FAILED,
    QUEUED,
    NotifyContact,
    list_notifications,
    notifications_for_payments,
    notify_status,
)
from app.notify.settings import NotifySettings, load_notify_settings, save_notify_settings
from app.secrets import load_sms_secret
from app.services.common import Actor
from app.services.participants import (
    ParticipantInput,
    ParticipantView,
    create_participant,
    get_participant,
)
from app.services.payments import record_payment, void_payment
from app.services.verify import verify_ledger
from app.storage.db import Database
from app.storage.models import AuditEvent, Notification, Payment
from sync.notify_sms import HttpSmsSender
from tests.services.test_payments import PAID_AT, bhxh_request


def _deliver(db: Database, settings: NotifySettings) -> None:
    assert settings.gateway is not None
    sender = HttpSmsSender(settings.gateway, load_sms_secret())
    deliver_due(db, {"sms": sender}, now=PAID_AT + timedelta(days=1))
    sender.close()


def _rows(db: Database) -> list[Notification]:
    with db.read() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def test_payment_queues_sms_with_the_facts_in_the_same_transaction(
    db: Database, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    view = record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    [m] = _rows(db)
    assert (m.payment_id, m.kind, m.channel, m.address, m.state) == (
        view.id,
        "payment",
        "sms",
        "0912345678",
        QUEUED,
    )
    assert m.idempotency_key == f"{view.id}:sms:payment"
    assert m.id == 4 * view.ledger_seq  # the id is the idempotency key: slot 0 = payment SMS
    assert m.next_attempt_at == PAID_AT and m.attempts == 0
    assert m.body is None and m.client_message_id is None  # made at the first attempt
    assert notify_status(db).counts[QUEUED] == 1
    _deliver(db, sms_on)
    m = _rows(db)[0]
    assert m.body == (
        "Le Thi My Dao (0123456789) da nop 3.168.000d BHXH tu nguyen 12 thang ngay 22/11/2026. "
        f"Ma xac nhan: {view.confirmation_code}. Tra cuu: VssID, baohiemxahoi.gov.vn"
    )
    assert m.client_message_id is not None and len(m.client_message_id) == 32


def test_same_request_twice_queues_once(
    db: Database, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    req = bhxh_request(payer)
    first = record_payment(db, req, by=cashier, now=PAID_AT)
    again = record_payment(db, req, by=cashier, now=PAID_AT)
    assert first.id == again.id
    assert len(_rows(db)) == 1


def test_nothing_queued_when_channels_are_off(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    assert _rows(db) == []


def test_email_channel_and_typed_addresses_without_consent(
    db: Database, admin: Actor, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    save_notify_settings(
        db,
        replace(sms_on, email_enabled=True, smtp_host="127.0.0.1", sender_email="thu@diemthu.vn"),
        by=admin,
    )
    contact = NotifyContact(phone="+84 386 123 456", email="Con.Gai@Example.VN")
    record_payment(db, bhxh_request(payer, notify=contact), by=cashier, now=PAID_AT)
    rows = _rows(db)
    assert [(m.channel, m.address) for m in rows] == [
        ("sms", "0386123456"),
        ("email", "Con.Gai@example.vn"),
    ]
    kept = get_participant(db, payer.id)
    assert (kept.phone, kept.email) == ("0912345678", "")  # no consent: record untouched


def test_typed_addresses_kept_on_participant_with_consent_audited(
    db: Database, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    contact = NotifyContact(phone="0386123456", keep_on_participant=True)
    record_payment(db, bhxh_request(payer, notify=contact), by=cashier, now=PAID_AT)
    assert get_participant(db, payer.id).phone == "0386123456"
    with db.read() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "participant.contact")
        ).one()
    assert event.subject == payer.id and event.operator_id == cashier.id
    assert json.loads(event.details)["phone"] == ["0912345678", "0386123456"]


def test_payer_declines_sms_this_time(
    db: Database, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    record_payment(db, bhxh_request(payer, notify=NotifyContact(phone="")), by=cashier)
    assert _rows(db) == []


def test_bad_typed_phone_refused_before_anything_is_written(
    db: Database, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    with pytest.raises(ValidationError) as info:
        record_payment(
            db, bhxh_request(payer, notify=NotifyContact(phone="0241234567")), by=cashier
        )
    assert info.value.field == "notify_phone"
    assert "Số điện thoại nhận tin" in info.value.message
    with db.read() as s:
        assert s.scalars(select(Payment)).all() == []


def test_landline_on_record_gives_a_visible_failed_message(
    db: Database, cashier: Actor, sms_on: NotifySettings
) -> None:
    p = create_participant(
        db,
        ParticipantInput(full_name="Vũ Văn Bình", ma_so_bhxh="0123456700", phone="0212345678"),
        by=cashier,
    )
    record_payment(db, bhxh_request(p), by=cashier, now=PAID_AT)
    [m] = _rows(db)
    assert m.state == FAILED and "không phải số di động" in (m.last_error or "")
    assert notify_status(db).needs_attention == 1


def test_queue_failure_rolls_the_payment_back(
    db: Database, db_path: Path, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    con = sqlite3.connect(db_path)
    con.execute(
        "CREATE TRIGGER no_notify BEFORE INSERT ON notifications "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    con.commit()
    con.close()
    with pytest.raises(Exception, match="disk says no"):
        record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    with db.read() as s:
        assert s.scalars(select(Payment)).all() == []
        assert (
            s.scalars(select(AuditEvent).where(AuditEvent.action == "payment.record")).all() == []
        )


def test_void_queues_a_cancellation_to_the_same_addresses(
    db: Database,
    cashier: Actor,
    supervisor: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
) -> None:
    view = record_payment(
        db, bhxh_request(payer, notify=NotifyContact(phone="0386123456")), by=cashier, now=PAID_AT
    )
    void_payment(
        db,
        receipt_number=view.receipt_number,
        reason="Thu nhầm người",
        supervisor=supervisor,
        now=PAID_AT + timedelta(hours=1),
    )
    rows = _rows(db)
    assert [(m.kind, m.address) for m in rows] == [
        ("payment", "0386123456"),
        ("void", "0386123456"),
    ]
    assert rows[1].idempotency_key == f"{view.id}:sms:void" and rows[1].id == rows[0].id + 2
    _deliver(db, sms_on)
    rows = _rows(db)
    assert "DA BI HUY" in (rows[1].body or "") and view.confirmation_code in (rows[1].body or "")
    by_payment = notifications_for_payments(db, [view.id])
    assert [n.kind for n in by_payment[view.id]] == ["payment", "void"]
    assert [n.receipt_number for n in list_notifications(db)] == [1, 1]


def test_stored_template_is_used(
    db: Database, admin: Actor, cashier: Actor, payer: ParticipantView, sms_on: NotifySettings
) -> None:
    save_notify_settings(
        db,
        replace(load_notify_settings(db), sms_template="BHXH: ma xac nhan {ma_xac_nhan}"),
        by=admin,
    )
    view = record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    _deliver(db, sms_on)
    assert _rows(db)[0].body == f"BHXH: ma xac nhan {view.confirmation_code}"


def test_no_address_no_message_and_the_ledger_still_verifies(
    db: Database,
    cashier: Actor,
    supervisor: Actor,
    payer: ParticipantView,
    sms_on: NotifySettings,
) -> None:
    quiet = create_participant(
        db, ParticipantInput(full_name="Hà Văn Lặng", ma_so_bhxh="0123456711"), by=cashier
    )
    record_payment(db, bhxh_request(quiet), by=cashier, now=PAID_AT)
    view = record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    void_payment(
        db,
        receipt_number=view.receipt_number,
        reason="Thu trùng biên lai",
        supervisor=supervisor,
        now=PAID_AT + timedelta(minutes=5),
    )
    assert [(n.receipt_number, n.kind) for n in list_notifications(db)] == [
        (2, "payment"),
        (2, "void"),
    ]
    assert [n.receipt_number for n in list_notifications(db, day=PAID_AT.date())] == [2, 2]
    assert list_notifications(db, day=PAID_AT.date() + timedelta(days=1)) == []
    status = notify_status(db)
    assert status.counts[QUEUED] == 2 and status.by_channel["sms"][QUEUED] == 2
    assert status.by_channel["email"][QUEUED] == 0 and status.oldest_waiting == PAID_AT
    assert verify_ledger(db).ok
