"""Taking a payment, voiding one, reprinting a receipt — the ledger's use cases.

`record_payment` guarantees, in ONE write transaction under SQLite's write lock:
the payment row, its gap-free per-counter receipt number, its Mã xác nhận (HMAC under the
counter's key — read from the keyring, and cached, before the transaction opens), its chain
link, a sync-outbox entry and an audit event — all or nothing. With `synchronous=FULL`, once
it returns the payment survives a crash or power cut. The same `client_request_id` sent twice
(double click, retry after a timeout) returns the first payment and never records a second one.

Voids are new chained records signed under the same key, made only by a supervisor with a reason;
nothing in the ledger is ever updated or deleted (the database refuses it too). Reprints are
counted in their own table.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from app.domain.canonical import canonical_bytes
from app.domain.chain import GENESIS, Heads
from app.domain.clock import business_date, now_utc
from app.domain.codes import format_code
from app.domain.ledger import (
    PaymentBody,
    PaymentBodyV2,
    SealedRecord,
    VoidBody,
    VoidBodyV2,
    seal,
)
from app.domain.money import format_vnd
from app.domain.periods import (
    MonthSpan,
    check_bhxh_period,
    check_bhyt_period,
    default_bhxh_start,
    gaps,
    month_index,
    month_start,
    rate_change_notes,
)
from app.domain.quote import (
    Quote,
    bhyt_card_start,
    bhyt_card_window,
    quote_bhxh_tn,
    quote_bhyt_hgd,
)
from app.domain.rates import RateTable
from app.domain.text import check_text
from app.domain.types import PaymentMethod, Role, Scheme, SupportCategory
from app.errors import NotFoundError, UserFacingError, ValidationError
from app.notify.outbox import (
    NotifyContact,
    prepare_contact,
    queue_payment_notices,
    queue_void_notices,
)
from app.services.common import Actor
from app.services.history import last_bhyt_card_end, paid_spans
from app.services.households import household_member_order
from app.services.queries import (
    audit,
    check_actor,
    current_table,
    load_actor,
    payment_by_number,
    require_counter,
    table_for_version,
)
from app.services.sealing import audit_row, ledger_key, note_heads, provide_key
from app.services.shift_guard import (
    OPEN_SHIFT_OWNER,
    payment_refusal,
    require_open_shift_for_void,
)
from app.storage.db import Database
from app.storage.driver import as_date, driver, insert_row
from app.storage.models import (
    LedgerEntry,
    Payment,
    Reprint,
    Void,
)

MIN_VOID_REASON = 5

# The hot path (record_payment) writes through the driver (app.storage.driver); Core tables
# and the ORM classes serve everything else.
_LEDGER = cast(Table, LedgerEntry.__table__)
_PAYMENTS = cast(Table, Payment.__table__)


@dataclass(frozen=True)
class PaymentRequest:
    """What the cashier asks for. `client_request_id` is made once per confirm dialog."""

    client_request_id: str
    participant_id: str
    scheme: Scheme
    months: int | None = None
    method: PaymentMethod | None = None  # BHXH tự nguyện
    income: int | None = None  # BHXH tự nguyện
    support_category: SupportCategory | None = None  # BHXH tự nguyện
    member_order: int | None = None  # BHYT hộ gia đình
    start_month: date | None = None  # default: continues the participant's last period
    tendered: int | None = None  # cash handed over, if the cashier entered it
    expected_amount: int | None = None  # the amount the cashier saw and confirmed
    notify: NotifyContact | None = None  # addresses typed at the confirm step (SMS/email)


@dataclass(frozen=True)
class PaymentView:
    id: str
    receipt_number: int
    series: str
    ledger_seq: int
    confirmation_code: str  # grouped, "7KQ2-9XMD-4TR6"
    participant_id: str
    payer_name: str
    ma_so_bhxh: str | None
    cccd: str | None
    scheme: Scheme
    method: PaymentMethod | None
    months: int
    period_from: date
    period_to: date
    income: int | None
    support_category: SupportCategory | None
    member_order: int | None
    gross_per_month: int
    support_per_month: int
    total_support: int
    amount: int
    tendered: int | None
    rate_version: str
    paid_at: datetime
    business_date: date
    cashier: str
    voided: bool
    void_reason: str | None
    reprints: int
    # BHYT hộ gia đình: the card bought, when known (set by record_payment from its quote; for a
    # stored payment, app.services.history.bhyt_card_for_receipt replays it).
    card_from: date | None = None
    card_to: date | None = None

    @property
    def change_due(self) -> int | None:
        return None if self.tendered is None else self.tendered - self.amount


def _view(session: Session, p: Payment) -> PaymentView:
    void = session.scalar(select(Void).where(Void.payment_id == p.id))
    reprints = session.scalar(
        select(func.count()).select_from(Reprint).where(Reprint.payment_id == p.id)
    )
    return _make_view(p, void, reprints or 0)


def _make_view(p: Payment | SimpleNamespace, void: Void | None, reprints: int) -> PaymentView:
    return PaymentView(
        id=p.id,
        receipt_number=p.receipt_number,
        series=p.series,
        ledger_seq=p.ledger_seq,
        confirmation_code=format_code(p.confirmation_code),
        participant_id=p.participant_id,
        payer_name=p.payer_name,
        ma_so_bhxh=p.ma_so_bhxh,
        cccd=p.cccd,
        scheme=Scheme(p.scheme),
        method=PaymentMethod(p.method) if p.method else None,
        months=p.months,
        period_from=p.period_from,
        period_to=p.period_to,
        income=p.income,
        support_category=SupportCategory(p.support_category) if p.support_category else None,
        member_order=p.member_order,
        gross_per_month=p.gross_per_month,
        support_per_month=p.support_per_month,
        total_support=p.total_support,
        amount=p.amount,
        tendered=p.tendered,
        rate_version=p.rate_version,
        paid_at=p.paid_at,
        business_date=p.business_date,
        cashier=p.cashier,
        voided=void is not None,
        void_reason=void.reason if void else None,
        reprints=reprints,
    )


_BODY_FIELDS = tuple(f.name for f in fields(PaymentBody))  # all are columns of `payments`
_BODY_V2_FIELDS = tuple(f.name for f in fields(PaymentBodyV2))  # so are these


def payment_body(p: Payment | Mapping[str, Any]) -> PaymentBody:
    """The format-1 body of a payment, from its row (how format-1 records are verified)."""
    if isinstance(p, Mapping):
        return PaymentBody(**{name: p[name] for name in _BODY_FIELDS})
    return PaymentBody(**{name: getattr(p, name) for name in _BODY_FIELDS})


def payment_body_v2(row: Mapping[str, Any]) -> PaymentBodyV2:
    """The format-2 body of a payment about to be written (`seal` adds seq and prev_hash)."""
    return PaymentBodyV2(**{name: row[name] for name in _BODY_V2_FIELDS})


def void_body(v: Void, p: Payment) -> VoidBody:
    """The format-1 body of a void, from its row and the payment's (format-1 records)."""
    return VoidBody(
        id=v.id,
        counter_id=v.counter_id,
        payment_id=p.id,
        payment_receipt_number=p.receipt_number,
        payment_code=p.confirmation_code,
        reason=v.reason,
        supervisor=v.supervisor,
        voided_at=v.voided_at,
        business_date=v.business_date,
    )


def void_body_v2(v: Void, p: Payment) -> VoidBodyV2:
    return VoidBodyV2(
        **vars(void_body(v, p)),
        supervisor_id=v.supervisor_id,
        requested_by_id=v.requested_by_id,
    )


# --- quoting -----------------------------------------------------------------------------------


# Support months used by the participant's non-voided payments (runs on every payment).
_SUPPORT_MONTHS_USED_SQL = (
    "SELECT coalesce(sum(p.support_months), 0) FROM payments p"
    " LEFT JOIN voids v ON v.payment_id = p.id WHERE p.participant_id = ? AND v.id IS NULL"
)


def _support_months_used(session: Session, payer: Payer) -> int:
    used = driver(session).execute(_SUPPORT_MONTHS_USED_SQL, (payer.id,)).fetchone()[0]
    return payer.prior_support_months + int(used or 0)


def _quote(
    session: Session,
    participant: Payer,
    req: PaymentRequest,
    paid_at: datetime,
    table: RateTable | None = None,
) -> Quote:
    # Prices the request, then applies the period rules (app.domain.periods, docs/RULES.md):
    # months already covered, deadlines, lump sums, past and far-future periods, BHYT card
    # continuity and the household member order. Refusals are ValidationErrors naming the rule.
    table = table or current_table(session)
    paid_on = business_date(paid_at)
    if req.scheme is Scheme.BHXH_TN:
        if req.income is None:
            raise ValidationError(
                "income", "Mức thu nhập lựa chọn", "chưa nhập", rule_en="required"
            )
        category = req.support_category or (
            SupportCategory(participant.support_category)
            if participant.support_category
            else SupportCategory.OTHER
        )
        method = req.method or PaymentMethod.YEARLY
        paid = paid_spans(session, participant.id, Scheme.BHXH_TN)
        notes: list[str] = []
        start = req.start_month
        if start is None:
            plan = default_bhxh_start(table, method, paid, paid_on)
            start = plan.start
            if plan.note:
                notes.append(plan.note)
        quote = quote_bhxh_tn(
            table,
            income=req.income,
            category=category,
            method=method,
            months=req.months,
            start_month=start,
            paid_on=paid_on,
            support_months_used=_support_months_used(session, participant),
        )
        check_bhxh_period(
            table,
            method=method,
            start_month=quote.period_from,
            months=quote.months,
            paid_on=paid_on,
            paid=paid,
        )
        if req.start_month is not None:
            skipped = gaps((*paid, MonthSpan.starting(quote.period_from, 1)), quote.period_from)
            if skipped and skipped[-1].last == month_start(month_index(quote.period_from) - 1):
                notes.append(
                    f"Gián đoạn: chưa đóng các tháng {skipped[-1].text} "
                    f"({skipped[-1].months} tháng) trước kỳ này."
                )
        notes += rate_change_notes(table, Scheme.BHXH_TN, paid_on, quote.period_to)
        return replace(quote, notes=(*quote.notes, *notes))
    if req.months is None:
        raise ValidationError("months", "Số tháng", "chưa chọn (3, 6 hoặc 12)", rule_en="required")
    order = household_member_order(session, participant.id, paid_at)
    notes = [f"Thứ tự thành viên: {order.reason}."]
    member = order.order
    if req.member_order is not None and req.member_order != order.order:
        if order.household_id is not None:
            raise ValidationError(
                "member_order",
                "Thành viên thứ",
                f"được tính từ hộ gia đình, không nhập tay: người này là {order.reason}",
                rule_en=f"comes from the household: {order.order}",
            )
        # Override path for a participant in no household yet (typed; recorded in the audit
        # event of the payment through the quote's notes).
        member = req.member_order
        notes = [
            f"Thứ tự thành viên nhập tay: {member} (chưa có hộ gia đình trong phần mềm; "
            "ghi vào nhật ký kiểm tra)."
        ]
    previous = last_bhyt_card_end(session, participant.id, participant.bhyt_card_end)
    months = req.months
    _require_months(months)
    typed = req.start_month.replace(day=1) if req.start_month else None
    card = bhyt_card_window(paid_on, previous, months, typed)
    start = typed or card.start
    quote = quote_bhyt_hgd(
        table, member_order=member, months=months, start_month=start, paid_on=paid_on
    )
    check_bhyt_period(
        start_month=quote.period_from,
        months=quote.months,
        card_start=bhyt_card_start(paid_on, previous),
        card_rule=card.rule,
        paid=paid_spans(session, participant.id, Scheme.BHYT_HGD),
    )
    notes.append(
        f"Thẻ BHYT có giá trị từ {card.start:%d/%m/%Y} đến {card.end:%d/%m/%Y}: {card.rule}."
    )
    notes += rate_change_notes(table, Scheme.BHYT_HGD, paid_on, quote.period_to)
    breakdown = (
        *quote.breakdown,
        ("Thẻ BHYT có giá trị", f"{card.start:%d/%m/%Y} – {card.end:%d/%m/%Y}"),
    )
    return replace(
        quote, breakdown=breakdown, notes=tuple(notes), card_from=card.start, card_to=card.end
    )


def _require_months(months: object) -> None:
    if type(months) is not int:
        raise ValidationError(
            "months", "Số tháng", "phải là số nguyên", rule_en="must be an integer"
        )


@dataclass(frozen=True)
class Payer:
    """What recording a payment needs to know of the participant."""

    id: str
    full_name: str
    ma_so_bhxh: str | None
    cccd: str | None
    support_category: str | None
    prior_support_months: int
    bhyt_card_end: date | None


_PAYER_SQL = f"SELECT {', '.join(f.name for f in fields(Payer))} FROM participants WHERE id = ?"


def _participant(session: Session, participant_id: str) -> Payer:
    row = driver(session).execute(_PAYER_SQL, (participant_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"Không tìm thấy người tham gia {participant_id}.")
    values = list(row)
    values[-1] = as_date(values[-1])  # bhyt_card_end, the last field
    return Payer(*values)


def preview_payment(db: Database, req: PaymentRequest, *, now: datetime | None = None) -> Quote:
    """The quote the cashier sees before confirming (nothing is written)."""
    with db.read() as session:
        return _quote(session, _participant(session, req.participant_id), req, now or now_utc())


# --- recording ---------------------------------------------------------------------------------


def _chain_head(session: Session) -> tuple[int, str]:
    last = (
        session.connection()
        .execute(select(_LEDGER.c.seq, _LEDGER.c.hash).order_by(_LEDGER.c.seq.desc()).limit(1))
        .first()
    )
    return (0, GENESIS) if last is None else (last.seq, last.hash)


def _append(session: Session, record: SealedRecord, record_id: str, at: datetime) -> None:
    con = driver(session)
    insert_row(
        con,
        "ledger",
        {
            "seq": record.seq,
            "kind": record.kind,
            "record_id": record_id,
            "code": record.code,
            "prev_hash": record.prev_hash,
            "hash": record.hash,
            "recorded_at": at,
            "body": canonical_bytes(record.body).decode("utf-8"),
            "mac": record.mac,
        },
    )
    insert_row(
        con,
        "outbox",
        {
            "ledger_seq": record.seq,
            "record_id": record_id,
            "kind": record.kind,
            "state": "pending",
            "attempts": 0,
            "created_at": at,
        },
    )


# Everything record_payment reads about the counter, in one round trip under the write lock
# (through the driver: app.storage.driver).
_WRITE_CONTEXT = f"""
    SELECT
      (SELECT receipt_number FROM payments WHERE client_request_id = :rid) AS existing_receipt,
      (SELECT participant_id FROM payments WHERE client_request_id = :rid) AS existing_participant,
      (SELECT count(*) FROM operators WHERE id = :op AND username = :user AND active)
        AS actor_ok,
      counter.counter_id, counter.receipt_series,
      (SELECT version FROM rate_tables ORDER BY installed_at DESC LIMIT 1) AS rate_version,
      (SELECT max(receipt_number) FROM payments) AS last_receipt,
      (SELECT seq FROM ledger ORDER BY seq DESC LIMIT 1) AS last_seq,
      (SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1) AS last_hash,
      (SELECT seq FROM audit_events ORDER BY id DESC LIMIT 1) AS audit_seq,
      (SELECT mac FROM audit_events ORDER BY id DESC LIMIT 1) AS audit_mac,
      {OPEN_SHIFT_OWNER}
    FROM counter WHERE counter.id = 1
    """


class _WriteContext(NamedTuple):
    existing_receipt: int | None
    existing_participant: str | None
    actor_ok: int
    counter_id: str
    receipt_series: str
    rate_version: str | None
    last_receipt: int | None
    last_seq: int | None
    last_hash: str | None
    audit_seq: int | None
    audit_mac: str | None
    shift_owner: int | None


# What a retry must repeat exactly: (request field, payment column, Vietnamese label). A field
# the request leaves out (None: "the default") is not compared; one it gives must match.
_SAME_REQUEST = (
    ("participant_id", "participant_id", "người nộp"),
    ("scheme", "scheme", "loại hình"),
    ("months", "months", "số tháng"),
    ("method", "method", "phương thức đóng"),
    ("income", "income", "mức thu nhập"),
    ("support_category", "support_category", "đối tượng hỗ trợ"),
    ("member_order", "member_order", "thứ tự thành viên"),
    ("start_month", "period_from", "tháng bắt đầu"),
    ("tendered", "tendered", "tiền khách đưa"),
    ("expected_amount", "amount", "số tiền"),
)


def check_same_request(earlier: Payment, req: PaymentRequest) -> None:
    """Refuse a reused `client_request_id` whose content differs from the payment it recorded:
    only an identical retry may return the earlier payment."""
    for attr, column, label in _SAME_REQUEST:
        wanted = getattr(req, attr)
        if wanted is None:
            continue
        wanted = getattr(wanted, "value", wanted)  # enums compare by their stored value
        if wanted != getattr(earlier, column):
            raise UserFacingError(
                f"Mã yêu cầu {req.client_request_id} đã dùng cho biên lai số "
                f"{earlier.receipt_number} với {label} khác; không ghi khoản thu này. "
                "Mỗi khoản thu mới cần một mã yêu cầu mới.",
                message_en=f"request id reused with a different {column}",
            )


def record_payment(
    db: Database, req: PaymentRequest, *, by: Actor, now: datetime | None = None
) -> PaymentView:
    # The hot path of the counter: SQLAlchemy Core statements on the session's connection
    # (bench/bench_ledger.py compares it with raw sqlite3 writing the same rows). The key is
    # read before the write lock is taken; the head anchor is stored after the commit.
    if not req.client_request_id or len(req.client_request_id) > 64:
        raise ValidationError(
            "client_request_id", "Mã yêu cầu", "phải có, tối đa 64 ký tự", rule_en="1-64 chars"
        )
    counter_id, key = ledger_key(db)
    with db.write() as session:
        provide_key(session, counter_id, key)
        return record_in_session(session, key, req, by=by, paid_at=now or now_utc())


def record_in_session(
    session: Session, key: bytes, req: PaymentRequest, *, by: Actor, paid_at: datetime
) -> PaymentView:
    """One payment inside a write transaction the caller holds (`record_payment` for one; a
    caller recording several in one transaction calls this once per payment). Reads the head
    again each time, so payments recorded earlier in the same transaction chain on."""
    contact = prepare_contact(req.notify)
    con = driver(session)
    found = con.execute(
        _WRITE_CONTEXT, {"rid": req.client_request_id, "op": by.id, "user": by.username}
    ).fetchone()
    if found is None:
        require_counter(session)  # raises "not initialised"
        raise AssertionError("unreachable")
    ctx = _WriteContext(*found)
    if ctx.existing_receipt is not None:
        # A double click or a retry: the payment was already recorded once.
        earlier = payment_by_number(session, ctx.existing_receipt)
        check_same_request(earlier, req)
        return _view(session, earlier)
    if not ctx.actor_ok:
        check_actor(session, by)  # raises the refusal
    if ctx.shift_owner != by.id:  # only inside this cashier's open shift (docs/SHIFTS.md)
        raise payment_refusal(session, by)
    participant = _participant(session, req.participant_id)
    table = table_for_version(session, ctx.rate_version)
    quote = _quote(session, participant, req, paid_at, table)
    if req.expected_amount is not None and req.expected_amount != quote.total:
        raise UserFacingError(
            f"Số tiền phải thu đã thay đổi ({format_vnd(quote.total)} thay vì "
            f"{format_vnd(req.expected_amount)}), có thể do bảng mức đóng vừa cập nhật. "
            "Hãy xem lại trước khi thu.",
            message_en="the amount changed since it was shown",
        )
    if req.tendered is not None and req.tendered < quote.total:
        raise ValidationError(
            "tendered",
            "Tiền khách đưa",
            "ít hơn số tiền phải thu",
            rule_en="less than the amount due",
        )
    receipt_number = (ctx.last_receipt or 0) + 1
    last_seq, prev_hash = ctx.last_seq or 0, ctx.last_hash or GENESIS
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "ledger_seq": last_seq + 1,
        "receipt_number": receipt_number,
        "series": ctx.receipt_series,
        "client_request_id": req.client_request_id,
        "counter_id": ctx.counter_id,
        "participant_id": participant.id,
        "payer_name": participant.full_name,
        "ma_so_bhxh": participant.ma_so_bhxh,
        "cccd": participant.cccd,
        "scheme": quote.scheme.value,
        "method": quote.method.value if quote.method else None,
        "months": quote.months,
        "period_from": quote.period_from,
        "period_to": quote.period_to,
        "income": quote.income,
        "support_category": quote.support_category.value if quote.support_category else None,
        "member_order": quote.member_order,
        "gross_per_month": quote.gross_per_month,
        "support_per_month": quote.support_per_month,
        "total_gross": quote.total_gross,
        "total_support": quote.total_support,
        "support_months": quote.support_months,
        "amount": quote.total,
        "tendered": req.tendered,
        "rate_version": quote.rate_version,
        "paid_at": paid_at,
        "business_date": business_date(paid_at),
        "operator_id": by.id,
        "cashier": by.username,
    }
    record = seal(key, last_seq + 1, "payment", payment_body_v2(row).canonical(), prev_hash)
    row["confirmation_code"] = record.code
    _append(session, record, row["id"], paid_at)  # the ledger row first: foreign key
    insert_row(con, "payments", row)
    entry = audit_row(
        key,
        (ctx.audit_seq, ctx.audit_mac),
        at=paid_at,
        operator_id=by.id,
        action="payment.record",
        subject=row["id"],
        details=json.dumps(
            {"amount": quote.total, "code": record.code, "receipt_number": receipt_number}
            | ({"notes": list(quote.notes)} if quote.notes else {}),
            sort_keys=True,
        ),
    )
    insert_row(con, "audit_events", entry)
    note_heads(session, Heads(record.seq, record.hash, entry["seq"], entry["mac"]))
    # The payer's SMS/email, queued in this same transaction (docs/NOTIFY.md).
    queue_payment_notices(session.connection(), row, contact, at=paid_at, operator_id=by.id)
    view = _make_view(SimpleNamespace(**row), None, 0)
    if quote.card_from is None:
        return view
    return replace(view, card_from=quote.card_from, card_to=quote.card_to)


def void_payment(
    db: Database,
    *,
    receipt_number: int,
    reason: str,
    supervisor: Actor,
    requested_by: Actor | None = None,
    now: datetime | None = None,
) -> PaymentView:
    """Cancel a payment with a new signed record. The supervisor must have authenticated."""
    supervisor.require(Role.SUPERVISOR, Role.ADMIN, action="hủy khoản thu")
    reason = " ".join(check_text(reason, "reason", "Lý do hủy").split())
    if len(reason) < MIN_VOID_REASON:
        raise ValidationError(
            "reason",
            "Lý do hủy",
            f"bắt buộc, ghi rõ ít nhất {MIN_VOID_REASON} ký tự",
            rule_en=f"required, at least {MIN_VOID_REASON} characters",
        )
    counter_id, key = ledger_key(db)
    with db.write() as session:
        provide_key(session, counter_id, key)
        load_actor(session, supervisor)
        counter = require_counter(session)
        payment = payment_by_number(session, receipt_number)
        if session.scalar(select(Void).where(Void.payment_id == payment.id)) is not None:
            raise UserFacingError(
                f"Biên lai số {receipt_number} đã bị hủy trước đó.",
                message_en="already voided",
            )
        if counter.counter_id != counter_id:
            raise AssertionError("the counter's id changed under a running program")
        require_open_shift_for_void(session, receipt_number)  # the refund's drawer
        at = now or now_utc()
        last_seq, prev_hash = _chain_head(session)
        void = Void(
            id=str(uuid.uuid4()),
            ledger_seq=last_seq + 1,
            payment_id=payment.id,
            counter_id=counter.counter_id,
            reason=reason,
            supervisor_id=supervisor.id,
            supervisor=supervisor.username,
            requested_by_id=requested_by.id if requested_by else None,
            voided_at=at,
            business_date=business_date(at),
            signature="",
        )
        record = seal(key, last_seq + 1, "void", void_body_v2(void, payment).canonical(), prev_hash)
        void.signature = record.code
        _append(session, record, void.id, at)
        session.flush()
        session.add(void)
        audit(
            session,
            "payment.void",
            actor=supervisor,
            subject=payment.id,
            at=at,
            receipt_number=receipt_number,
            reason=reason,
            requested_by=requested_by.username if requested_by else None,
        )
        session.flush()
        payment_row = {c.name: getattr(payment, c.name) for c in _PAYMENTS.columns}
        queue_void_notices(session.connection(), payment_row, at=at)
        return _view(session, payment)


def record_reprint(db: Database, receipt_number: int, *, by: Actor) -> int:
    """Count a reprint; returns its number (1 for the first copy)."""
    with db.write() as session:
        load_actor(session, by)
        payment = payment_by_number(session, receipt_number)
        n = (
            session.scalar(
                select(func.count()).select_from(Reprint).where(Reprint.payment_id == payment.id)
            )
            or 0
        ) + 1
        session.add(Reprint(payment_id=payment.id, number=n, operator_id=by.id, at=now_utc()))
        audit(session, "receipt.reprint", actor=by, subject=payment.id, number=n)
        return n


def get_payment(db: Database, receipt_number: int) -> PaymentView:
    with db.read() as session:
        return _view(session, payment_by_number(session, receipt_number))


def list_payments(db: Database, day: date) -> list[PaymentView]:
    """Payments of one business day, in receipt order, voided ones included and marked."""
    with db.read() as session:
        require_counter(session)
        rows = session.scalars(
            select(Payment).where(Payment.business_date == day).order_by(Payment.receipt_number)
        ).all()
        return [_view(session, p) for p in rows]
