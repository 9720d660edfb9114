"""The notification outbox: queuing in the payment's transaction, status, resend.

Guarantees:
- `queue_payment_notices` / `queue_void_notices` run INSIDE the caller's write transaction (the
  payment's or the void's): the messages exist exactly when the payment (void) does. They never
  talk to the network and add one small read and one insert to the transaction.
- One message at most per payment, per channel, per kind (`payment` / `void`): the message id
  is the idempotency key — `4 × the payment's ledger_seq + slot` (`message_id`) — so the primary
  key makes a second one impossible, whatever retries, double clicks or resends happen. A
  resend re-arms the same row (audited).
- The delivery loop only looks at ids from a low-water mark up (`LOW_WATER_KEY` in `settings`):
  every message below it is final. Queuing a void (an older payment's slot) or a resend lowers
  it in the same transaction, so nothing waiting is ever below it.
- Addresses: the payer's phone/email typed at the confirm step win over the participant's; they
  are stored on the participant only with the payer's consent (`keep_on_participant`), audited.
  A stored phone that is not a Vietnamese mobile number gives a message in state `failed` with
  the reason, so the cashier sees why nothing went out.
- Services here return frozen views, never ORM objects.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from app.domain.canonical import utc_iso
from app.domain.clock import LOCAL_TZ, now_utc
from app.domain.codes import format_code
from app.domain.money import format_number
from app.domain.types import Scheme
from app.errors import NotFoundError, UserFacingError, ValidationError
from app.notify.address import is_mobile, normalise_email, normalise_mobile
from app.notify.sms_text import (
    DEFAULT_PAYMENT_TEMPLATE,
    DEFAULT_VOID_TEMPLATE,
    SmsFacts,
    render_sms,
)
from app.services.common import Actor
from app.services.queries import audit, load_actor
from app.storage.db import Database
from app.storage.models import AuditEvent, Notification, Participant, Payment, Setting

QUEUED: Final = "queued"
SENDING: Final = "sending"
SENT: Final = "sent"
RETRYING: Final = "retrying"
FAILED: Final = "failed"
UNKNOWN: Final = "unknown"
STATES: Final = (QUEUED, SENDING, SENT, RETRYING, FAILED, UNKNOWN)
STATE_LABELS: Final = {
    QUEUED: "Chờ gửi",
    SENDING: "Đang gửi",
    SENT: "Đã gửi",
    RETRYING: "Đang thử lại",
    FAILED: "Không gửi được",
    UNKNOWN: "Chưa rõ đã gửi chưa",
}
SMS: Final = "sms"
EMAIL: Final = "email"
CHANNELS: Final = (SMS, EMAIL)
CHANNEL_LABELS: Final = {SMS: "SMS", EMAIL: "Email"}
PAYMENT: Final = "payment"
VOID: Final = "void"
RESENDABLE: Final = frozenset({SENT, FAILED, UNKNOWN})
FINAL: Final = (SENT, FAILED, UNKNOWN)
_SLOTS: Final = {(SMS, PAYMENT): 0, (EMAIL, PAYMENT): 1, (SMS, VOID): 2, (EMAIL, VOID): 3}
LOW_WATER_KEY: Final = "notify-state.low_water"  # not "notify.": not a setting


def message_id(ledger_seq: int, channel: str, kind: str) -> int:
    """The id (and idempotency key) of a payment's message: 4 × ledger_seq + slot."""
    return 4 * ledger_seq + _SLOTS[(channel, kind)]


def payment_id_range(ledger_seq: int) -> tuple[int, int]:
    """First and last possible message id of one payment (all channels and kinds)."""
    return 4 * ledger_seq, 4 * ledger_seq + 3


# No row yet means "from 0": only a stored mark needs lowering.
_LOWER_WATER = text(
    "UPDATE settings SET value = CAST(min(CAST(value AS INTEGER), :id) AS TEXT) WHERE key = :key"
)


def lower_low_water(conn: Connection, message: int) -> None:
    """Make sure the delivery loop looks at `message` (inside the caller's transaction)."""
    conn.execute(_LOWER_WATER, {"key": LOW_WATER_KEY, "id": message})


def read_low_water(conn: Connection) -> int:
    value = conn.execute(
        text("SELECT value FROM settings WHERE key = :key"), {"key": LOW_WATER_KEY}
    ).scalar()
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


_NOTIFICATIONS = cast(Table, Notification.__table__)
# The hot path inserts through the driver: record_payment's budget for queuing is 10 % (bench).
_COLUMNS: Final = tuple(c.name for c in _NOTIFICATIONS.columns)
_INSERT_SQL: Final = (
    f"INSERT INTO notifications ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


def _driver(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under `conn`: same connection, same transaction, none of the
    per-statement work of SQLAlchemy — this runs inside every record_payment."""
    return cast(sqlite3.Connection, conn.connection.driver_connection)


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    stamps: dict[datetime, str] = {}

    def stored(value: Any) -> Any:
        if isinstance(value, datetime):  # as UTCDateTime stores it
            if value not in stamps:
                stamps[value] = utc_iso(value)
            return stamps[value]
        if isinstance(value, date):
            return value.isoformat()
        return value

    _driver(conn).executemany(_INSERT_SQL, [tuple(stored(r[c]) for c in _COLUMNS) for r in rows])


_AUDIT = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True)
class NotifyContact:
    """Addresses typed at the confirm step.

    `None` → use the participant's; `""` → the payer does not want this channel this time.
    `keep_on_participant`: the payer agreed to keep the typed addresses on their record.
    """

    phone: str | None = None
    email: str | None = None
    keep_on_participant: bool = False


def prepare_contact(contact: NotifyContact | None) -> NotifyContact | None:
    """Validate and normalise the typed addresses (pure, no database: a refusal inside the
    payment's transaction rolls it back, so nothing is half-saved)."""
    if contact is None:
        return None
    phone, email = contact.phone, contact.email
    if phone:
        phone = normalise_mobile(phone, field="notify_phone", label="Số điện thoại nhận tin")
    if email:
        email = normalise_email(email, field="notify_email", label="Email nhận biên lai")
    return replace(contact, phone=phone, email=email)


# Everything queuing needs, in one round trip inside the payment's transaction (through the
# driver: this runs on every payment).
_QUEUE_CONTEXT: Final = (
    "SELECT"
    " (SELECT value FROM settings WHERE key = 'notify.sms_enabled'),"
    " (SELECT value FROM settings WHERE key = 'notify.email_enabled'),"
    " phone, email FROM participants WHERE id = ?"
)


def _queue_context(conn: Connection, participant_id: str) -> tuple[bool, bool, str, str] | None:
    row = _driver(conn).execute(_QUEUE_CONTEXT, (participant_id,)).fetchone()
    if row is None:
        return None
    return row[0] == "1", row[1] == "1", row[2] or "", row[3] or ""


def _facts(payment: Mapping[str, Any]) -> SmsFacts:
    paid_at: datetime = payment["paid_at"]
    period_from: date = payment["period_from"]
    period_to: date = payment["period_to"]
    return SmsFacts(
        name=payment["payer_name"],
        ma_so_bhxh=payment["ma_so_bhxh"],
        paid_at_local=paid_at.astimezone(LOCAL_TZ),
        amount_text=format_number(payment["amount"]),
        scheme_label=Scheme(payment["scheme"]).label,
        months=payment["months"],
        period_from=f"{period_from:%m/%Y}",
        period_to=f"{period_to:%m/%Y}",
        code=format_code(payment["confirmation_code"]),
        receipt=f"{payment['receipt_number']:07d}",
    )


def _row(
    payment: Mapping[str, Any],
    kind: str,
    channel: str,
    address: str,
    body: str | None,
    at: datetime,
    *,
    state: str = QUEUED,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "id": message_id(payment["ledger_seq"], channel, kind),
        "payment_id": payment["id"],
        "kind": kind,
        "channel": channel,
        "address": address,
        "client_message_id": None,  # made at the first attempt (`prepare_for_sending`)
        "body": body,
        "state": state,
        "attempts": 0,
        "attempt_day": None,
        "day_attempts": 0,
        "next_attempt_at": at if state == QUEUED else None,
        "created_at": at,
        "last_attempt_at": None,
        "sent_at": None,
        "provider_message_id": None,
        "last_error": error,
        "resends": 0,
    }


def _sms_row(payment: Mapping[str, Any], kind: str, phone: str, at: datetime) -> dict[str, Any]:
    if not is_mobile(phone):
        return _row(
            payment,
            kind,
            SMS,
            phone,
            None,
            at,
            state=FAILED,
            error=f"Số {phone} không phải số di động Việt Nam nên không gửi SMS được.",
        )
    # The text is rendered at the first attempt, not here: the payment's transaction only
    # writes the row (bench/bench_notify.py).
    return _row(payment, kind, SMS, normalise_mobile(phone), None, at)


def queue_payment_notices(
    conn: Connection,
    payment: Mapping[str, Any],
    contact: NotifyContact | None,
    *,
    at: datetime,
    operator_id: int | None,
) -> int:
    """Queue the payment's SMS/email inside the caller's transaction; returns how many rows.

    `payment` is the payment's row (column names of `payments`); `contact` was checked by
    `prepare_contact`.
    """
    ctx = _queue_context(conn, payment["participant_id"])
    if ctx is None:
        return 0
    sms_on, email_on, stored_phone, stored_email = ctx
    contact = contact or NotifyContact()
    phone = stored_phone if contact.phone is None else contact.phone
    email = stored_email if contact.email is None else contact.email
    rows = []
    if sms_on and phone:
        rows.append(_sms_row(payment, PAYMENT, phone, at))
    if email_on and email:
        rows.append(_row(payment, PAYMENT, EMAIL, email, None, at))
    if rows:
        _insert(conn, rows)
    if contact.keep_on_participant and (contact.phone or contact.email):
        _keep_contact(
            conn, payment["participant_id"], contact, stored_phone, stored_email, at, operator_id
        )
    return len(rows)


_PARTICIPANTS = cast(Table, Participant.__table__)


def _keep_contact(
    conn: Connection,
    participant_id: str,
    contact: NotifyContact,
    old_phone: str,
    old_email: str,
    at: datetime,
    operator_id: int | None,
) -> None:
    phone = contact.phone or old_phone
    email = contact.email or old_email
    if (phone, email) == (old_phone, old_email):
        return
    conn.execute(
        update(_PARTICIPANTS)
        .where(_PARTICIPANTS.c.id == participant_id)
        .values(phone=phone, email=email, updated_at=at)
    )
    conn.execute(
        insert(_AUDIT),
        {
            "at": at,
            "operator_id": operator_id,
            "action": "participant.contact",
            "subject": participant_id,
            "details": json.dumps(
                {"phone": [old_phone, phone], "email": [old_email, email], "consent": True},
                ensure_ascii=False,
            ),
        },
    )


def queue_void_notices(conn: Connection, payment: Mapping[str, Any], *, at: datetime) -> int:
    """Queue a short cancellation notice to every address the payment's notices went to."""
    ctx = _queue_context(conn, payment["participant_id"])
    if ctx is None:
        return 0
    sms_on, email_on = ctx[0], ctx[1]
    first = message_id(payment["ledger_seq"], SMS, PAYMENT)
    earlier = conn.execute(
        select(_NOTIFICATIONS.c.channel, _NOTIFICATIONS.c.address)
        .where(_NOTIFICATIONS.c.id.between(first, first + 1))
        .order_by(_NOTIFICATIONS.c.id)
    ).all()
    rows = []
    for channel, address in earlier:
        if channel == SMS and sms_on:
            rows.append(_sms_row(payment, VOID, address, at))
        elif channel == EMAIL and email_on:
            rows.append(_row(payment, VOID, EMAIL, address, None, at))
    if rows:
        _insert(conn, rows)
        lower_low_water(conn, min(r["id"] for r in rows))  # an older payment's slots
    return len(rows)


# --- views, status, resend ---------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationView:
    id: int
    payment_id: str
    receipt_number: int
    kind: str
    channel: str
    address: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    provider_message_id: str | None
    last_error: str | None
    resends: int
    body: str | None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class NotifyStatus:
    counts: Mapping[str, int]  # every state, zeros included
    by_channel: Mapping[str, Mapping[str, int]]
    oldest_waiting: datetime | None  # created_at of the oldest queued/retrying message

    @property
    def needs_attention(self) -> int:
        return self.counts[FAILED] + self.counts[UNKNOWN]


def notify_status(db: Database) -> NotifyStatus:
    n = _NOTIFICATIONS.c
    with db.read() as session:
        rows = session.execute(
            select(n.channel, n.state, func.count()).group_by(n.channel, n.state)
        ).all()
        oldest = session.scalar(
            select(func.min(Notification.created_at)).where(
                Notification.state.in_((QUEUED, RETRYING))
            )
        )
    counts = dict.fromkeys(STATES, 0)
    by_channel = {c: dict.fromkeys(STATES, 0) for c in CHANNELS}
    for channel, state, count in rows:
        counts[state] = counts.get(state, 0) + count
        by_channel.setdefault(channel, dict.fromkeys(STATES, 0))[state] = count
    return NotifyStatus(counts=counts, by_channel=by_channel, oldest_waiting=oldest)


def _views(session: Any, where: Any, limit: int | None = None) -> list[NotificationView]:
    q = (
        select(Notification, Payment.receipt_number)
        .join(Payment, Payment.id == Notification.payment_id)
        .where(where)
        .order_by(Notification.id)
    )
    if limit is not None:
        q = q.limit(limit)
    return [
        NotificationView(
            id=m.id,
            payment_id=m.payment_id,
            receipt_number=receipt,
            kind=m.kind,
            channel=m.channel,
            address=m.address,
            state=m.state,
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at,
            created_at=m.created_at,
            last_attempt_at=m.last_attempt_at,
            sent_at=m.sent_at,
            provider_message_id=m.provider_message_id,
            last_error=m.last_error,
            resends=m.resends,
            body=m.body,
        )
        for m, receipt in session.execute(q).all()
    ]


def list_notifications(
    db: Database,
    *,
    states: Iterable[str] | None = None,
    day: date | None = None,
    limit: int | None = 500,
) -> list[NotificationView]:
    """Messages, oldest first; optionally only some states and/or the payments of one business
    day (a void's notice is listed with its payment)."""
    cond: Any = Notification.id.is_not(None)
    if states is not None:
        cond = cond & Notification.state.in_(tuple(states))
    with db.read() as session:
        if day is not None:
            # Messages of the payments of that business day (ids follow the ledger: one range).
            low, high = session.execute(
                select(func.min(Payment.ledger_seq), func.max(Payment.ledger_seq)).where(
                    Payment.business_date == day
                )
            ).one()
            if low is None:
                return []
            cond = cond & Notification.id.between(
                payment_id_range(low)[0], payment_id_range(high)[1]
            )
            cond = cond & (Payment.business_date == day)
        return _views(session, cond, limit)


def notifications_for_payments(
    db: Database, payment_ids: Iterable[str]
) -> dict[str, list[NotificationView]]:
    """The messages of some payments (for the Today screen), by payment id."""
    ids = tuple(payment_ids)
    out: dict[str, list[NotificationView]] = {pid: [] for pid in ids}
    if not ids:
        return out
    with db.read() as session:
        seqs = session.execute(
            select(func.min(Payment.ledger_seq), func.max(Payment.ledger_seq)).where(
                Payment.id.in_(ids)
            )
        ).one()
        if seqs[0] is None:
            return out
        low, high = payment_id_range(seqs[0])[0], payment_id_range(seqs[1])[1]
        cond = Notification.id.between(low, high) & Notification.payment_id.in_(ids)
        for view in _views(session, cond):
            out[view.payment_id].append(view)
    return out


def resend_notification(
    db: Database,
    notification_id: int,
    *,
    by: Actor,
    address: str | None = None,
    now: datetime | None = None,
) -> NotificationView:
    """Send a message again (audited): after a permanent failure, an unknown outcome, or when the
    payer asks for it again. Optionally to a corrected address. The message gets a new client
    message id — the cashier decided that a second copy is wanted."""
    at = now or now_utc()
    with db.write() as session:
        load_actor(session, by)
        m = session.get(Notification, notification_id)
        if m is None:
            raise NotFoundError(
                f"Không có tin nhắn số {notification_id}.",
                message_en=f"no notification {notification_id}",
            )
        if m.state not in RESENDABLE:
            raise UserFacingError(
                f"Tin số {notification_id} đang ở trạng thái “{STATE_LABELS[m.state]}”: nó sẽ tự "
                "được gửi, không cần gửi lại.",
                message_en=f"notification {notification_id} is {m.state}; it will be sent",
            )
        new_address = m.address
        if address:
            if m.channel == SMS:
                new_address = normalise_mobile(address, field="address", label="Số điện thoại")
            else:
                new_address = normalise_email(address, field="address", label="Email")
        elif m.channel == SMS and not is_mobile(m.address):
            raise ValidationError(
                "address",
                "Số điện thoại",
                "số cũ không phải số di động; hãy nhập số đúng để gửi lại",
                rule_en="the stored number is not a mobile number",
            )
        audit(
            session,
            "notify.resend",
            actor=by,
            subject=str(m.id),
            at=at,
            payment_id=m.payment_id,
            channel=m.channel,
            kind=m.kind,
            previous_state=m.state,
            previous_error=m.last_error,
            address=[m.address, new_address],
        )
        m.address = new_address
        m.state = QUEUED
        m.next_attempt_at = at
        m.day_attempts = 0
        m.attempt_day = None
        m.client_message_id = uuid.uuid4().hex
        m.last_error = None
        m.resends += 1
        session.flush()
        lower_low_water(session.connection(), m.id)
        return _views(session, Notification.id == m.id)[0]


_TEMPLATE_KEYS: Final = {PAYMENT: "notify.sms_template", VOID: "notify.void_sms_template"}
_DEFAULT_TEMPLATES: Final = {PAYMENT: DEFAULT_PAYMENT_TEMPLATE, VOID: DEFAULT_VOID_TEMPLATE}


def prepare_for_sending(session: Session, messages: Iterable[Notification]) -> None:
    """At a message's first attempt (inside the claiming transaction): give it its client
    message id and, for an SMS, render its text from the payment with the template in force.
    The text is kept, so a retry or a resend sends exactly what the first attempt did."""
    todo = [m for m in messages if m.client_message_id is None or (m.channel == SMS and not m.body)]
    if not todo:
        return
    templates = {
        kind: session.scalar(select(Setting.value).where(Setting.key == key))
        or _DEFAULT_TEMPLATES[kind]
        for kind, key in _TEMPLATE_KEYS.items()
    }
    columns = cast(Table, Payment.__table__).columns
    payments = {
        row.id: dict(row._mapping)
        for row in session.execute(
            select(*columns).where(Payment.id.in_({m.payment_id for m in todo}))
        )
    }
    for m in todo:
        if m.client_message_id is None:
            m.client_message_id = uuid.uuid4().hex
        if m.channel == SMS and not m.body:
            m.body = render_sms(templates[m.kind], _facts(payments[m.payment_id])).text


def retry_now(db: Database, *, by: Actor, now: datetime | None = None) -> int:
    """Make every waiting message due at once (`quaythu notify retry`); audited. Returns how many.

    Respects the daily cap: a message that used today's attempts stays for tomorrow."""
    at = now or now_utc()
    n = _NOTIFICATIONS.c
    with db.write() as session:
        load_actor(session, by)
        done = session.execute(
            update(_NOTIFICATIONS)
            .where(n.state.in_((QUEUED, RETRYING)) & (n.next_attempt_at > at))
            .values(next_attempt_at=at)
        )
        count = int(getattr(done, "rowcount", 0) or 0)
        audit(session, "notify.retry_now", actor=by, subject="notifications", at=at, count=count)
        return count
