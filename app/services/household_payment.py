"""Several members of one BHYT household paid in one cash transaction (docs/RULES.md R5).

A collection point files one receipt (biên lai) per participant, so a household paying together
gets one payment — one receipt number, one Mã xác nhận — per member, all recorded in ONE write
transaction (all or nothing) by `record_in_session`, exactly as `record_payment` records one:
the signing key and the anchor are read before `BEGIN IMMEDIATE`, the head anchor is stored
after the commit.

The cash is handed over once. What the cashier filed as "tiền khách đưa / tiền trả lại" is the
group's, so it is not printed on any member's receipt (each payment's `tendered` stays None and
its receipt shows only what that member paid). The group itself is a keyed audit entry
(`payment.household`, sealed and chained like every audit entry, so `verify` covers it): the
group's request id, the receipts and their codes in order, the total, the cash tendered and the
change. The window and the CLI show the group's total, tendered and change from that record.

Member order: the members are recorded in the order given, each at its own instant (paid_at + i
microseconds) so the order each one is priced at is the order the household keeps for the year
(`household_member_order` ranks by first payment instant).

Idempotent: member i's payment uses the request id `<group id>#<i>`; the same group id sent again
(double click, retry after a timeout) returns the payments already recorded and the group record
and never records a second time. A reused id with different content is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app.domain.clock import now_utc
from app.domain.money import format_vnd
from app.domain.types import Scheme
from app.errors import UserFacingError, ValidationError
from app.notify.outbox import NotifyContact
from app.services.common import Actor
from app.services.payments import PaymentRequest, PaymentView, record_in_session
from app.services.sealing import append_audit, ledger_key, note_heads, provide_key, read_heads
from app.storage.db import Database
from app.storage.models import AuditEvent, HouseholdMember, Payment

MAX_GROUP_ID = 60  # member ids add "#<n>" and must stay within the 64 of a request id
MAX_MEMBERS = 20
AUDIT_ACTION = "payment.household"

_AUDIT = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True)
class MemberItem:
    """One member's part of the group: who and how many months (the rest is worked out)."""

    participant_id: str
    months: int
    start_month: date | None = None  # default: the card rule (runs on, or 30 days after)
    expected_amount: int | None = None  # what the cashier saw for this member
    notify: NotifyContact | None = None


@dataclass(frozen=True)
class HouseholdPaymentRequest:
    client_request_id: str  # made once per confirm dialog, like a single payment's
    items: tuple[MemberItem, ...]
    tendered: int | None = None  # cash handed over for the whole group
    expected_total: int | None = None  # the total the cashier saw and confirmed


@dataclass(frozen=True)
class HouseholdPaymentView:
    client_request_id: str
    household_id: str
    payments: tuple[PaymentView, ...]  # in the order given: one receipt per member
    total: int
    tendered: int | None

    @property
    def change_due(self) -> int | None:
        return None if self.tendered is None else self.tendered - self.total


def member_request_id(group_id: str, index: int) -> str:
    return f"{group_id}#{index + 1}"


def _member_request(req: HouseholdPaymentRequest, i: int, item: MemberItem) -> PaymentRequest:
    return PaymentRequest(
        client_request_id=member_request_id(req.client_request_id, i),
        participant_id=item.participant_id,
        scheme=Scheme.BHYT_HGD,
        months=item.months,
        start_month=item.start_month,
        expected_amount=item.expected_amount,
        notify=item.notify,
    )


def _check_shape(req: HouseholdPaymentRequest) -> None:
    if not req.client_request_id or len(req.client_request_id) > MAX_GROUP_ID:
        raise ValidationError(
            "client_request_id",
            "Mã yêu cầu",
            f"phải có, tối đa {MAX_GROUP_ID} ký tự",
            rule_en=f"1-{MAX_GROUP_ID} chars",
        )
    if not req.items:
        raise ValidationError(
            "items", "Thành viên", "chọn ít nhất một thành viên để thu", rule_en="at least one"
        )
    if len(req.items) > MAX_MEMBERS:
        raise ValidationError(
            "items",
            "Thành viên",
            f"tối đa {MAX_MEMBERS} người một lần thu",
            rule_en=f"at most {MAX_MEMBERS}",
        )
    ids = [i.participant_id for i in req.items]
    if len(set(ids)) != len(ids):
        raise ValidationError(
            "items",
            "Thành viên",
            "mỗi người chỉ được chọn một lần trong một lần thu",
            rule_en="a member appears twice",
        )
    if req.tendered is not None and (type(req.tendered) is not int or req.tendered < 0):
        raise ValidationError(
            "tendered", "Tiền khách đưa", "phải là số tiền không âm", rule_en="non-negative"
        )


def _household_of_all(session: Session, req: HouseholdPaymentRequest) -> str:
    """The one household every member belongs to (a group payment is one household's)."""
    rows = dict(
        session.execute(
            select(HouseholdMember.participant_id, HouseholdMember.household_id).where(
                HouseholdMember.participant_id.in_([i.participant_id for i in req.items])
            )
        ).all()
    )
    households = {rows.get(i.participant_id) for i in req.items}
    if None in households:
        raise ValidationError(
            "items",
            "Thành viên",
            "mọi người trong một lần thu chung phải thuộc một hộ gia đình đã lập; "
            "hãy thêm người này vào hộ trước",
            rule_en="every member must belong to a household",
        )
    if len(households) != 1:
        raise ValidationError(
            "items",
            "Thành viên",
            "mọi người trong một lần thu chung phải cùng một hộ gia đình",
            rule_en="members of different households",
        )
    return str(households.pop())


def _earlier(session: Session, req: HouseholdPaymentRequest) -> int:
    """How many of the group's member payments are already recorded (a retry)."""
    ids = [member_request_id(req.client_request_id, i) for i in range(len(req.items))]
    return len(session.scalars(select(Payment.id).where(Payment.client_request_id.in_(ids))).all())


def _group_record(session: Session, group_id: str) -> dict[str, object] | None:
    row = session.execute(
        select(_AUDIT.c.details)
        .where((_AUDIT.c.action == AUDIT_ACTION) & (_AUDIT.c.subject == group_id))
        .limit(1)
    ).first()
    return None if row is None else cast(dict[str, object], json.loads(row[0]))


def _record_all(
    session: Session, key: bytes, req: HouseholdPaymentRequest, by: Actor, paid_at: datetime
) -> list[PaymentView]:
    # Each member at its own instant, in the order given (see the module docstring).
    return [
        record_in_session(
            session,
            key,
            _member_request(req, i, item),
            by=by,
            paid_at=paid_at + timedelta(microseconds=i),
        )
        for i, item in enumerate(req.items)
    ]


def record_household_payment(
    db: Database, req: HouseholdPaymentRequest, *, by: Actor, now: datetime | None = None
) -> HouseholdPaymentView:
    """Record every member's payment and the group record in one write transaction."""
    _check_shape(req)
    paid_at = now or now_utc()
    counter_id, key = ledger_key(db)  # before BEGIN IMMEDIATE: never the keyring under the lock
    with db.write() as session:
        provide_key(session, counter_id, key)
        done = _earlier(session, req)
        if done:
            return _retry(session, key, req, by, paid_at, done)
        household_id = _household_of_all(session, req)
        views = _record_all(session, key, req, by, paid_at)
        total = sum(v.amount for v in views)
        _check_total(req, total)
        if req.tendered is not None and req.tendered < total:
            raise ValidationError(
                "tendered",
                "Tiền khách đưa",
                f"ít hơn tổng số tiền phải thu của cả hộ ({format_vnd(total)})",
                rule_en="less than the group's total",
            )
        append_audit(
            session,
            AUDIT_ACTION,
            operator_id=by.id,
            subject=req.client_request_id,
            at=paid_at,
            details={
                "household_id": household_id,
                "receipts": [v.receipt_number for v in views],
                "codes": [v.confirmation_code for v in views],
                "member_orders": [v.member_order for v in views],
                "total": total,
                "tendered": req.tendered,
                "change": None if req.tendered is None else req.tendered - total,
            },
        )
        note_heads(session, read_heads(session))  # the group record is the new audit head
        return HouseholdPaymentView(
            req.client_request_id, household_id, tuple(views), total, req.tendered
        )


def _check_total(req: HouseholdPaymentRequest, total: int) -> None:
    if req.expected_total is not None and req.expected_total != total:
        raise UserFacingError(
            f"Tổng số tiền phải thu của hộ đã thay đổi ({format_vnd(total)} thay vì "
            f"{format_vnd(req.expected_total)}). Hãy xem lại trước khi thu.",
            message_en="the group's total changed since it was shown",
        )


def _retry(
    session: Session,
    key: bytes,
    req: HouseholdPaymentRequest,
    by: Actor,
    paid_at: datetime,
    done: int,
) -> HouseholdPaymentView:
    group = _group_record(session, req.client_request_id)
    receipts = group.get("receipts") if group is not None else None
    if done != len(req.items) or not isinstance(receipts, list) or len(receipts) != done:
        raise UserFacingError(
            f"Mã yêu cầu {req.client_request_id} đã dùng cho một lần thu khác; không ghi lần "
            "thu này. Mỗi lần thu mới cần một mã yêu cầu mới.",
            message_en="group request id reused for different content",
        )
    # Every member's payment exists: record_in_session returns each (checking it is the same).
    assert group is not None
    views = _record_all(session, key, req, by, paid_at)
    if group.get("tendered") != req.tendered and req.tendered is not None:
        raise UserFacingError(
            f"Mã yêu cầu {req.client_request_id} đã dùng cho lần thu với tiền khách đưa khác; "
            "không ghi lần thu này.",
            message_en="group request id reused with a different tendered amount",
        )
    tendered = group.get("tendered")
    return HouseholdPaymentView(
        req.client_request_id,
        str(group.get("household_id")),
        tuple(views),
        sum(v.amount for v in views),
        tendered if isinstance(tendered, int) else None,
    )


@dataclass(frozen=True)
class MemberQuote:
    """One member's part as it would be recorded, and the quote's notes (which rule set the
    member order, the card's first day, a known rate change inside the period: R5, R6)."""

    view: PaymentView
    notes: tuple[str, ...]


class _Preview(Exception):
    def __init__(self, quotes: list[MemberQuote]) -> None:
        super().__init__("preview")
        self.quotes = quotes


def _notes(session: Session, payment_id: str) -> tuple[str, ...]:
    row = session.execute(
        select(_AUDIT.c.details).where(
            (_AUDIT.c.action == "payment.record") & (_AUDIT.c.subject == payment_id)
        )
    ).first()
    notes = json.loads(row[0]).get("notes", []) if row is not None else []
    return tuple(str(n) for n in notes)


def preview_household_quotes(
    db: Database, req: HouseholdPaymentRequest, *, by: Actor, now: datetime | None = None
) -> tuple[MemberQuote, ...]:
    """Each member's quote with the order it would be recorded at, and nothing written.

    The members' orders depend on each other (the 2nd to pay this year is the 2nd member), so
    the preview runs the very recording in a write transaction that is then rolled back: the
    quotes are exactly what `record_household_payment` would record at `now`. The views carry
    no receipt that exists (their numbers and codes are discarded)."""
    _check_shape(req)
    paid_at = now or now_utc()
    counter_id, key = ledger_key(db)
    try:
        with db.write() as session:
            provide_key(session, counter_id, key)
            _household_of_all(session, req)
            views = _record_all(session, key, req, by, paid_at)
            raise _Preview([MemberQuote(v, _notes(session, v.id)) for v in views])
    except _Preview as done:
        return tuple(done.quotes)
    raise AssertionError("unreachable")


def preview_household_payment(
    db: Database, req: HouseholdPaymentRequest, *, by: Actor, now: datetime | None = None
) -> tuple[PaymentView, ...]:
    """`preview_household_quotes` without the notes."""
    return tuple(q.view for q in preview_household_quotes(db, req, by=by, now=now))


def household_group(db: Database, group_id: str) -> dict[str, object] | None:
    """The audited group record of a household payment (None: no such group)."""
    with db.read() as session:
        return _group_record(session, group_id)
