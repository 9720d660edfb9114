"""Delivering queued notifications: `deliver_due(db, senders, now=…)`, called by a scheduler.

No Qt and no network code here: a `Sender` (sync/notify_sms.py, sync/notify_email.py) sends one
message and says how it went (`SendResult`); this module decides what happens next.

Guarantees:
- **Claimed before sending.** A message is moved to `sending` (attempts + 1) in a committed
  write transaction before its sender is called, so two deliverers (the window's worker and a
  scheduled `quaythu notify retry`) never send the same message.
- **Never twice blindly.** When the answer is lost (timeout after the request went out, a
  dropped connection) and the sender passes our client message id to the gateway
  (`Sender.idempotent`), the message is retried with the SAME id and the gateway drops the
  duplicate. Without a client message id it is NOT re-sent: it goes to `unknown` (audited) and
  the cashier decides (`resend_notification`). A deliverer that died mid-send leaves `sending`
  rows behind; after `stale_after` seconds the next run treats them the same way.
- **Backoff.** Transient failures (connection refused, timeouts before sending, 5xx, 429, SMTP
  4xx) are retried after a full-jitter delay: uniform(0, min(max_delay, base × 2^(n−1))), at
  least one second; a 429's Retry-After is honoured (never earlier than it asks).
- **Daily cap.** At most `max_attempts_per_day` attempts per message per business day
  (Asia/Ho_Chi_Minh); past it the message waits for the next day. After `max_attempts` attempts
  in all it fails permanently, with the last error as the reason.
- **Permanent failures** (4xx other than 408/429, a gateway that says "rejected", SMTP 5xx, an
  unusable address) go to `failed` with the reason and are never retried by themselves.
- Only messages from the low-water mark up are looked at (see `app.notify.outbox`); the mark
  moves up at the end of each run, so a run costs what is waiting, not the whole history.
- Results are written in batches (one transaction per `batch_size` messages), so a thousand
  messages cost tens of fsyncs, not thousands.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.clock import LOCAL_TZ, business_date, now_utc
from app.notify.outbox import (
    FAILED,
    FINAL,
    LOW_WATER_KEY,
    QUEUED,
    RETRYING,
    SENDING,
    SENT,
    UNKNOWN,
    prepare_for_sending,
    read_low_water,
)
from app.services.queries import audit
from app.storage.db import Database
from app.storage.models import Notification, Setting


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # nothing was delivered, or the gateway asks to try later
    PERMANENT = "permanent"  # will never work as it is (bad address, rejected by the provider)
    UNKNOWN = "unknown"  # the request went out but the answer was lost


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    error: str = ""
    retry_after: float | None = None  # seconds the gateway asked us to wait (429)


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    payment_id: str
    kind: str  # "payment" | "void"
    channel: str  # "sms" | "email"
    address: str
    body: str | None  # the SMS text; None for email (built by the sender)
    client_message_id: str
    attempt: int


class Sender(Protocol):
    """Sends one message of one channel. Must not raise for network trouble: say it in the
    result. `idempotent`: the gateway is given `client_message_id` and drops duplicates."""

    channel: str

    @property
    def idempotent(self) -> bool: ...

    def send(self, message: OutgoingMessage) -> SendResult: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    base_delay: float = 30.0
    max_delay: float = 3600.0
    max_attempts_per_day: int = 8
    max_attempts: int = 30
    batch_size: int = 50
    stale_after: float = 900.0  # a `sending` row older than this belongs to a dead deliverer


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    deferred: int = 0  # daily cap reached: waits for tomorrow
    recovered: int = 0  # stale `sending` rows found from an interrupted run
    errors: list[str] = field(default_factory=list)


def full_jitter(attempt: int, policy: DeliveryPolicy, rng: random.Random) -> float:
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** max(0, attempt - 1))
    return max(1.0, rng.uniform(0, ceiling))


def _next_local_midnight(at: datetime) -> datetime:
    local = at.astimezone(LOCAL_TZ)
    tomorrow = (local + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=LOCAL_TZ).astimezone(
        at.tzinfo
    )


def _mark_unknown(
    session: Session, m: Notification, now: datetime, message: str, reason: str | None
) -> None:
    """The outcome cannot be known and a blind retry could send twice: the cashier decides
    (resend), so it waits — audited."""
    m.state, m.next_attempt_at, m.last_error = UNKNOWN, None, message
    audit(
        session,
        "notify.unknown",
        actor=None,
        subject=str(m.id),
        at=now,
        payment_id=m.payment_id,
        channel=m.channel,
        reason=reason,
    )


def _recover_stale(
    db: Database,
    senders: Mapping[str, Sender],
    now: datetime,
    policy: DeliveryPolicy,
    report: DeliveryReport,
) -> None:
    cutoff = now - timedelta(seconds=policy.stale_after)
    with db.write() as session:
        low = read_low_water(session.connection())
        stale = session.scalars(
            select(Notification).where(
                (Notification.id >= low)
                & (Notification.state == SENDING)
                & (Notification.last_attempt_at < cutoff)
                & Notification.channel.in_(tuple(senders))
            )
        ).all()
        for m in stale:
            report.recovered += 1
            reason = "Lần gửi trước bị ngắt giữa chừng (chương trình dừng khi đang gửi)."
            if senders[m.channel].idempotent:
                m.state, m.next_attempt_at, m.last_error = RETRYING, now, reason
            else:
                _mark_unknown(session, m, now, reason, reason)


def _claim(
    db: Database,
    channels: tuple[str, ...],
    now: datetime,
    due_before: datetime,
    policy: DeliveryPolicy,
    limit: int,
    report: DeliveryReport,
) -> tuple[list[OutgoingMessage], int]:
    """Claim up to `limit` messages due at `due_before`; returns them and how many due rows were
    looked at (some only pushed to tomorrow by the daily cap, or failed for good)."""
    today = business_date(now)
    claimed: list[OutgoingMessage] = []
    prepare: list[Notification] = []
    with db.write() as session:
        low = read_low_water(session.connection())
        due = session.scalars(
            select(Notification)
            .where(
                (Notification.id >= low)
                & Notification.state.in_((QUEUED, RETRYING))
                & (Notification.next_attempt_at <= due_before)
                & Notification.channel.in_(channels)
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        ).all()
        for m in due:
            used_today = m.day_attempts if m.attempt_day == today else 0
            if used_today >= policy.max_attempts_per_day:
                m.next_attempt_at = _next_local_midnight(now)
                report.deferred += 1
                continue
            if m.attempts >= policy.max_attempts:
                m.state, m.next_attempt_at = FAILED, None
                m.last_error = f"Đã thử {m.attempts} lần không được. {m.last_error or ''}".strip()
                report.failed += 1
                continue
            m.state = SENDING
            m.attempts += 1
            m.attempt_day, m.day_attempts = today, used_today + 1
            m.last_attempt_at = now
            prepare.append(m)
        prepare_for_sending(session, prepare)
        for m in prepare:
            assert m.client_message_id is not None
            claimed.append(
                OutgoingMessage(
                    id=m.id,
                    payment_id=m.payment_id,
                    kind=m.kind,
                    channel=m.channel,
                    address=m.address,
                    body=m.body,
                    client_message_id=m.client_message_id,
                    attempt=m.attempts,
                )
            )
    report.claimed += len(claimed)
    return claimed, len(due)


def _record(
    db: Database,
    results: list[tuple[OutgoingMessage, SendResult, bool]],
    now: datetime,
    policy: DeliveryPolicy,
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    with db.write() as session:
        rows = {
            m.id: m
            for m in session.scalars(
                select(Notification).where(Notification.id.in_([msg.id for msg, _, _ in results]))
            )
        }
        for msg, result, idempotent in results:
            m = rows.get(msg.id)
            if m is None or m.state != SENDING:
                continue  # taken over by a stale-run recovery meanwhile: its decision stands
            outcome = result.outcome
            if outcome is Outcome.UNKNOWN and idempotent:
                outcome = Outcome.RETRY  # same client message id: the gateway drops a duplicate
            if outcome is Outcome.SENT:
                m.state, m.sent_at, m.next_attempt_at = SENT, now, None
                m.provider_message_id = result.provider_message_id
                m.last_error = None
                report.sent += 1
            elif outcome is Outcome.RETRY:
                if m.attempts >= policy.max_attempts:
                    m.state, m.next_attempt_at = FAILED, None
                    m.last_error = f"Đã thử {m.attempts} lần không được. {result.error}".strip()
                    report.failed += 1
                    continue
                delay = full_jitter(m.attempts, policy, rng)
                if result.retry_after is not None:
                    delay = max(1.0, result.retry_after)
                m.state = RETRYING
                m.next_attempt_at = now + timedelta(seconds=delay)
                m.last_error = result.error
                report.retrying += 1
            elif outcome is Outcome.PERMANENT:
                m.state, m.next_attempt_at, m.last_error = FAILED, None, result.error
                report.failed += 1
            else:
                message = (
                    "Không nhận được trả lời sau khi đã gửi yêu cầu; cổng không có mã chống gửi "
                    f"trùng nên không tự gửi lại. {result.error}"
                ).strip()
                _mark_unknown(session, m, now, message, result.error)
                report.unknown += 1
            if result.error:
                report.errors.append(f"#{m.id} {m.channel}: {result.error}")


def _advance_low_water(db: Database) -> None:
    """Move the mark up to the oldest message that is not final yet (one write, under the lock,
    so a void or resend lowering it meanwhile is never lost)."""
    with db.write() as session:
        low = read_low_water(session.connection())
        oldest = session.scalar(
            select(func.min(Notification.id)).where(
                (Notification.id >= low) & Notification.state.not_in(FINAL)
            )
        )
        if oldest is None:
            top = session.scalar(select(func.max(Notification.id)))
            oldest = low if top is None else max(low, top + 1)
        if oldest != low:
            session.merge(Setting(key=LOW_WATER_KEY, value=str(oldest)))


_NOT_ATTEMPTED = SendResult(
    Outcome.RETRY, error="Chưa gửi: lượt gửi bị dừng giữa chừng.", retry_after=0
)


def deliver_due(
    db: Database,
    senders: Mapping[str, Sender],
    *,
    now: datetime | None = None,
    policy: DeliveryPolicy | None = None,
    rng: random.Random | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """Send every due message of the channels in `senders` (at most `limit`); returns a report.

    `now` fixes the clock for the whole run (tests, catch-up); by default each batch reads it.
    Only messages due when the run starts are taken, so a message that fails and is rescheduled
    a second later is not tried again within the same run.
    """
    policy = policy or DeliveryPolicy()
    rng = rng or random.Random()
    report = DeliveryReport()
    channels = tuple(senders)
    if not channels:
        return report
    started = now or now_utc()
    _recover_stale(db, senders, started, policy, report)
    remaining = limit
    while remaining is None or remaining > 0:
        at = now or now_utc()
        batch = policy.batch_size if remaining is None else min(policy.batch_size, remaining)
        claimed, looked_at = _claim(db, channels, at, started, policy, batch, report)
        if not looked_at:
            break
        results: list[tuple[OutgoingMessage, SendResult, bool]] = []
        try:
            for msg in claimed:
                sender = senders[msg.channel]
                try:
                    result = sender.send(msg)
                except Exception as exc:  # a sender bug: never lose the message over it
                    result = SendResult(Outcome.UNKNOWN, error=f"{type(exc).__name__}: {exc}")
                results.append((msg, result, sender.idempotent))
        finally:
            # Even if the run is interrupted (KeyboardInterrupt, shutdown), what was learnt is
            # written down; messages not yet handed to a sender go back to the queue. The one in
            # flight at that moment stays `sending` for the stale-run recovery to judge.
            untouched = claimed[len(results) + 1 :]
            results += [(m, _NOT_ATTEMPTED, True) for m in untouched]
            if results:
                _record(db, results, now or now_utc(), policy, rng, report)
        if remaining is not None:
            remaining -= len(claimed)
    _advance_low_water(db)
    return report
