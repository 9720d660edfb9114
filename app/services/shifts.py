"""Shifts and the cash drawer: open with a float, drop to the safe, close with a count
(docs/SHIFTS.md).

Every event is a signed ledger record of kind "shift" (`app.domain.ledger.ShiftBody`), sealed
like a payment and queued to the sync outbox in the same transaction; the `shifts` table is a
view of those records that `verify` recomputes. A payment or void belongs to the shift whose
opening and closing records surround it in the chain; one shift is open per counter at a time
and only its owner takes payments in it (`app.services.shift_guard`).

Guarantees:
- opening refuses while a shift is open; the float is a count by denomination or a total;
- a drop/pick-up needs a reason and a supervisor, and never takes more than the drawer holds;
- a close needs a reason for any difference, a supervisor (not the shift's owner) for a
  difference above the threshold setting, and a supervisor to close another cashier's shift;
  it signs the expected cash, the difference, the shift's receipts, how many of its payments
  were not yet synced, and the hash over its records;
- each Z report print is counted: the first is the original, later ones are copies (BẢN SAO).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.domain.canonical import parse_utc_iso
from app.domain.cash import (
    MAX_CASH,
    SMALLEST,
    check_counts,
    count_total,
    format_counts,
    parse_counts,
)
from app.domain.clock import business_date, now_utc
from app.domain.ledger import ShiftBody, ShiftEvent, seal
from app.domain.money import format_vnd
from app.domain.shifts import CashMove, Tally, ZReportData, records_hash, tally
from app.domain.text import check_text
from app.domain.types import Role, Scheme
from app.errors import NotFoundError, PermissionDenied, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.ledger_records import stored_body
from app.services.payments import _append, _chain_head
from app.services.queries import audit, load_actor, require_counter
from app.services.sealing import ledger_key, provide_key
from app.storage.db import Database
from app.storage.models import Operator, Setting, Shift, ShiftPrint

MIN_REASON = 5
THRESHOLD_KEY = "shift.difference_threshold"
DEFAULT_THRESHOLD = 50_000  # đ: a difference above it needs a supervisor


@dataclass(frozen=True)
class ShiftSummary:
    """A shift as the window, the CLI and the Z report show it (amounts in đồng)."""

    id: str
    open_seq: int
    close_seq: int | None
    operator_id: int
    cashier: str  # username
    cashier_name: str
    opened_at: datetime
    closed_at: datetime | None
    float_amount: int
    float_counts: Mapping[int, int]
    payments: int
    payment_total: int
    by_scheme: Mapping[str, tuple[int, int]]  # scheme → (count, amount)
    voids: int
    void_total: int
    moves: tuple[CashMove, ...]
    drops: int
    pickups: int
    expected: int  # open: now; closed: as signed at the close
    first_receipt: int | None
    last_receipt: int | None
    unsynced_now: int  # the shift's payments not yet accepted by central, now
    counted: int | None = None
    counted_counts: Mapping[int, int] | None = None
    difference: int | None = None
    reason: str | None = None
    closed_by: str | None = None
    supervisor: str | None = None
    unsynced_at_close: int | None = None
    records_hash: str | None = None

    @property
    def is_open(self) -> bool:
        return self.close_seq is None


# --- reading -----------------------------------------------------------------------------------

_OPEN = select(Shift).where(Shift.close_seq.is_(None))
_STRETCH = text(
    "SELECT seq, kind, hash, body FROM ledger WHERE seq >= :lo AND seq <= :hi ORDER BY seq"
)
_HEAD = text("SELECT coalesce(max(seq), 0) FROM ledger")
_UNSYNCED = text(
    "SELECT count(*) FROM outbox WHERE kind = 'payment' AND state != 'synced' "
    "AND ledger_seq >= :lo AND ledger_seq <= :hi"
)


def _voided_amounts(
    session: Session, bodies: list[tuple[int, str, dict[str, Any]]]
) -> dict[str, int]:
    ids = [str(b.get("payment_id")) for _, kind, b in bodies if kind == "void"]
    if not ids:
        return {}
    rows = session.execute(
        text("SELECT id, amount FROM payments WHERE id IN (SELECT value FROM json_each(:ids))"),
        {"ids": json.dumps(ids)},
    )
    return {r.id: r.amount for r in rows}


def _stretch(session: Session, lo: int, hi: int) -> tuple[Tally, list[str]]:
    """The tally of ledger records lo..hi and their link hashes."""
    bodies: list[tuple[int, str, dict[str, Any]]] = []
    hashes: list[str] = []
    for row in session.execute(_STRETCH, {"lo": lo, "hi": hi}):
        hashes.append(row.hash)
        body = stored_body(row.body) if row.body is not None else None
        if body is not None:
            bodies.append((row.seq, row.kind, body))
    return tally(bodies, _voided_amounts(session, bodies)), hashes


def _summary(session: Session, shift: Shift) -> ShiftSummary:
    hi = (shift.close_seq - 1) if shift.close_seq else int(session.scalar(_HEAD) or 0)
    t, _ = _stretch(session, shift.open_seq, hi)
    name = session.scalar(select(Operator.full_name).where(Operator.id == shift.operator_id))
    unsynced = int(session.scalar(_UNSYNCED, {"lo": shift.open_seq, "hi": hi}) or 0)
    return ShiftSummary(
        id=shift.id,
        open_seq=shift.open_seq,
        close_seq=shift.close_seq,
        operator_id=shift.operator_id,
        cashier=shift.cashier,
        cashier_name=name or shift.cashier,
        opened_at=shift.opened_at,
        closed_at=shift.closed_at,
        float_amount=shift.float_amount,
        float_counts=parse_counts(shift.float_counts),
        payments=t.payments,
        payment_total=t.payment_total,
        by_scheme=dict(t.by_scheme),
        voids=t.voids,
        void_total=t.void_total,
        moves=tuple(t.moves),
        drops=t.drops,
        pickups=t.pickups,
        expected=t.expected if shift.expected is None else shift.expected,
        first_receipt=t.first_receipt,
        last_receipt=t.last_receipt,
        unsynced_now=unsynced,
        counted=shift.counted,
        counted_counts=None if shift.counted_counts is None else parse_counts(shift.counted_counts),
        difference=shift.difference,
        reason=shift.reason,
        closed_by=shift.closed_by,
        supervisor=shift.supervisor,
        unsynced_at_close=shift.unsynced,
        records_hash=shift.records_hash,
    )


def current_shift(db: Database) -> ShiftSummary | None:
    """The counter's open shift with its expected cash now, or None."""
    with db.read() as session:
        shift = session.scalar(_OPEN)
        return None if shift is None else _summary(session, shift)


def get_shift(db: Database, shift_id: str | None = None) -> ShiftSummary:
    """A shift by id (a unique prefix will do), or — without one — the latest shift."""
    with db.read() as session:
        if shift_id:
            found = session.scalars(select(Shift).where(Shift.id.startswith(shift_id))).all()
            if len(found) != 1:
                raise NotFoundError(f"Không tìm thấy ca {shift_id}.")
            return _summary(session, found[0])
        latest = session.scalar(select(Shift).order_by(Shift.open_seq.desc()).limit(1))
        if latest is None:
            raise NotFoundError("Quầy chưa có ca thu tiền nào.")
        return _summary(session, latest)


def difference_threshold(db: Database) -> int:
    """The difference (đ, either way) above which closing needs a supervisor."""
    with db.read() as session:
        return _threshold(session)


def _threshold(session: Session) -> int:
    raw = session.scalar(select(Setting.value).where(Setting.key == THRESHOLD_KEY))
    try:
        value = int(raw) if raw is not None else DEFAULT_THRESHOLD
    except ValueError:
        return DEFAULT_THRESHOLD
    return value if value >= 0 else DEFAULT_THRESHOLD


def set_difference_threshold(db: Database, amount: int, *, by: Actor) -> None:
    by.require(Role.ADMIN, action="đổi ngưỡng chênh lệch tiền đóng ca")
    if type(amount) is not int or not 0 <= amount <= MAX_CASH:
        raise ValidationError(
            "threshold",
            "Ngưỡng chênh lệch cần giám sát",
            "phải là số tiền nguyên từ 0 đ",
            rule_en="non-negative whole đồng",
        )
    with db.write() as session:
        load_actor(session, by)
        row = session.get(Setting, THRESHOLD_KEY)
        before = _threshold(session)
        if row is None:
            session.add(Setting(key=THRESHOLD_KEY, value=str(amount)))
        else:
            row.value = str(amount)
        audit(
            session, "settings.change", actor=by, subject=THRESHOLD_KEY, before=before, after=amount
        )


# --- writing -----------------------------------------------------------------------------------


def _cash(counts: Mapping[int, int] | None, total: int | None, label: str) -> tuple[int, str]:
    """(amount, counts text) from a count by denomination or a total (exactly one)."""
    if (counts is None) == (total is None):
        raise ValidationError(
            "counts", label, "nhập theo mệnh giá hoặc tổng số tiền", rule_en="counts or total"
        )
    if counts is not None:
        checked = check_counts(counts, label=f"{label}: số tờ")
        return count_total(checked), format_counts(checked)
    if type(total) is not int or not 0 <= total <= MAX_CASH:
        raise ValidationError(
            "total", label, "phải là số tiền nguyên, không âm", rule_en="whole đồng, >= 0"
        )
    return total, ""


def _reason(reason: str | None, label: str) -> str:
    text_ = " ".join(check_text(reason or "", "reason", label).split())
    if len(text_) < MIN_REASON:
        raise ValidationError(
            "reason",
            label,
            f"bắt buộc, ghi rõ ít nhất {MIN_REASON} ký tự",
            rule_en=f"required, at least {MIN_REASON} characters",
        )
    return text_


def _seal_event(
    session: Session,
    key: bytes,
    *,
    shift_id: str | None,
    event: ShiftEvent,
    by: Actor,
    at: datetime,
    amount: int,
    counts: str,
    **more: Any,
) -> tuple[str, int]:
    """Seal one shift event at the head of the chain and queue it for sync; (id, seq)."""
    counter = require_counter(session)
    last_seq, prev_hash = _chain_head(session)
    record_id = str(uuid.uuid4())
    body = ShiftBody(
        id=record_id,
        counter_id=counter.counter_id,
        shift_id=shift_id or record_id,
        event=event,
        at=at,
        business_date=business_date(at),
        operator_id=by.id,
        operator=by.username,
        amount=amount,
        counts=counts,
        **more,
    )
    record = seal(key, last_seq + 1, "shift", body.canonical(), prev_hash)
    _append(session, record, record_id, at)
    return record_id, record.seq


def _open_shift_row(session: Session) -> Shift:
    shift = session.scalar(_OPEN)
    if shift is None:
        raise UserFacingError(
            "Quầy không có ca nào đang mở.", message_en="no open shift on this counter"
        )
    return shift


def open_shift(
    db: Database,
    *,
    by: Actor,
    counts: Mapping[int, int] | None = None,
    total: int | None = None,
    now: datetime | None = None,
) -> ShiftSummary:
    """Open `by`'s shift with its float, by denomination (`counts`) or as a `total`."""
    amount, counts_text = _cash(counts, total, "Tiền đầu ca")
    counter_id, key = ledger_key(db)
    with db.write() as session:
        provide_key(session, counter_id, key)
        load_actor(session, by)
        held = session.scalar(_OPEN)
        if held is not None:
            raise UserFacingError(
                f"Quầy đang có ca mở của {held.cashier} (từ bản ghi số {held.open_seq}). Mỗi "
                "quầy chỉ một ca mở: đóng ca đó trước (giao ca), rồi mở ca mới.",
                message_en="a shift is already open on this counter",
            )
        at = now or now_utc()
        record_id, seq = _seal_event(
            session,
            key,
            shift_id=None,
            event="open",
            by=by,
            at=at,
            amount=amount,
            counts=counts_text,
        )
        session.add(
            Shift(
                id=record_id,
                open_seq=seq,
                operator_id=by.id,
                cashier=by.username,
                opened_at=at,
                float_amount=amount,
                float_counts=counts_text,
            )
        )
        session.flush()
        audit(session, "shift.open", actor=by, subject=record_id, at=at, float=amount)
        return _summary(session, session.get_one(Shift, record_id))


def _require_supervisor(supervisor: Actor, action: str) -> None:
    supervisor.require(Role.SUPERVISOR, Role.ADMIN, action=action)


def cash_move(
    db: Database,
    *,
    event: ShiftEvent,
    amount: int,
    reason: str,
    supervisor: Actor,
    by: Actor,
    now: datetime | None = None,
) -> ShiftSummary:
    """Drop cash from the drawer to the safe (`event="drop"`) or pick cash up from it
    (`"pickup"`), with a reason and a supervisor who authenticated."""
    if event not in ("drop", "pickup"):
        raise ValueError(event)
    label = "Nộp tiền về két" if event == "drop" else "Nhận tiền từ két"
    _require_supervisor(supervisor, f"duyệt {label.lower()}")
    if type(amount) is not int or not 1 <= amount <= MAX_CASH:
        raise ValidationError(
            "amount", f"{label}: số tiền", "phải là số tiền nguyên dương", rule_en="positive"
        )
    why = _reason(reason, f"{label}: lý do")
    counter_id, key = ledger_key(db)
    with db.write() as session:
        provide_key(session, counter_id, key)
        load_actor(session, by)
        load_actor(session, supervisor)
        shift = _open_shift_row(session)
        if event == "drop":
            expected = _summary(session, shift).expected
            if amount > expected:
                raise ValidationError(
                    "amount",
                    f"{label}: số tiền",
                    f"lớn hơn tiền trong ngăn kéo theo sổ ({format_vnd(expected)})",
                    rule_en="more than the drawer holds",
                )
        at = now or now_utc()
        _seal_event(
            session,
            key,
            shift_id=shift.id,
            event=event,
            by=by,
            at=at,
            amount=amount,
            counts="",
            reason=why,
            supervisor_id=supervisor.id,
            supervisor=supervisor.username,
        )
        audit(
            session,
            f"shift.{event}",
            actor=by,
            subject=shift.id,
            at=at,
            amount=amount,
            reason=why,
            supervisor=supervisor.username,
        )
        return _summary(session, shift)


def close_shift(
    db: Database,
    *,
    by: Actor,
    counts: Mapping[int, int],
    reason: str | None = None,
    supervisor: Actor | None = None,
    now: datetime | None = None,
) -> ShiftSummary:
    """Close the open shift with the cash counted by denomination. See the module docstring
    for what needs a reason and what needs a supervisor."""
    counted, counts_text = _cash(counts, None, "Tiền đếm cuối ca")
    if supervisor is not None:
        _require_supervisor(supervisor, "xác nhận đóng ca")
    counter_id, key = ledger_key(db)
    with db.write() as session:
        provide_key(session, counter_id, key)
        load_actor(session, by)
        if supervisor is not None:
            load_actor(session, supervisor)
        shift = _open_shift_row(session)
        if shift.operator_id != by.id and supervisor is None:
            raise PermissionDenied(
                f"Ca này của {shift.cashier}; đóng ca của người khác cần giám sát ký xác nhận.",
                message_en="closing another cashier's shift needs a supervisor",
            )
        if supervisor is not None and supervisor.id == shift.operator_id:
            raise PermissionDenied(
                "Người xác nhận phải là giám sát khác với người giữ ca.",
                message_en="the supervisor may not be the shift's owner",
            )
        head, _ = _chain_head(session)
        t, hashes = _stretch(session, shift.open_seq, head)
        difference = counted - t.expected
        why = (
            _reason(reason, "Lý do chênh lệch")
            if abs(difference) >= SMALLEST  # below 100 đ: not countable in cash
            else " ".join(check_text(reason or "", "reason", "Ghi chú đóng ca").split()) or None
        )
        threshold = _threshold(session)
        if abs(difference) > threshold and supervisor is None:
            raise UserFacingError(
                f"Chênh lệch {format_vnd(difference)} vượt ngưỡng {format_vnd(threshold)}: cần "
                "giám sát xác nhận khi đóng ca.",
                message_en="difference above the threshold needs a supervisor",
            )
        unsynced = int(session.scalar(_UNSYNCED, {"lo": shift.open_seq, "hi": head}) or 0)
        at = now or now_utc()
        digest = records_hash(hashes)
        _, seq = _seal_event(
            session,
            key,
            shift_id=shift.id,
            event="close",
            by=by,
            at=at,
            amount=counted,
            counts=counts_text,
            reason=why,
            supervisor_id=supervisor.id if supervisor else None,
            supervisor=supervisor.username if supervisor else None,
            expected=t.expected,
            difference=difference,
            payments=t.payments,
            first_receipt=t.first_receipt,
            last_receipt=t.last_receipt,
            unsynced=unsynced,
            records_hash=digest,
        )
        shift.close_seq = seq
        shift.closed_at = at
        shift.closed_by_id = by.id
        shift.closed_by = by.username
        shift.counted = counted
        shift.counted_counts = counts_text
        shift.expected = t.expected
        shift.difference = difference
        shift.reason = why
        shift.supervisor_id = supervisor.id if supervisor else None
        shift.supervisor = supervisor.username if supervisor else None
        shift.payments = t.payments
        shift.first_receipt = t.first_receipt
        shift.last_receipt = t.last_receipt
        shift.unsynced = unsynced
        shift.records_hash = digest
        session.flush()
        audit(
            session,
            "shift.close",
            actor=by,
            subject=shift.id,
            at=at,
            counted=counted,
            expected=t.expected,
            difference=difference,
            unsynced=unsynced,
            supervisor=supervisor.username if supervisor else None,
        )
        return _summary(session, shift)


def record_zreport_print(db: Database, shift_id: str, *, by: Actor) -> int:
    """Count a print of a closed shift's Z report; 1 is the original, 2 the first copy …"""
    with db.write() as session:
        load_actor(session, by)
        shift = session.get(Shift, shift_id)
        if shift is None or shift.close_seq is None:
            raise UserFacingError(
                "Chỉ in báo cáo Z cho ca đã đóng.", message_en="Z report only for a closed shift"
            )
        n = (
            session.scalar(
                select(ShiftPrint.number)
                .where(ShiftPrint.shift_id == shift_id)
                .order_by(ShiftPrint.number.desc())
                .limit(1)
            )
            or 0
        ) + 1
        session.add(ShiftPrint(shift_id=shift_id, number=n, operator_id=by.id, at=now_utc()))
        audit(session, "shift.zreport", actor=by, subject=shift_id, number=n)
        return n


# --- the Z report ------------------------------------------------------------------------------


def _named(session: Session, username: str | None) -> str | None:
    if username is None:
        return None
    name = session.scalar(select(Operator.full_name).where(Operator.username == username))
    return f"{name} ({username})" if name else username


def zreport_data(db: Database, shift_id: str, *, copy_number: int = 0) -> ZReportData:
    """What a closed shift's Z report prints; `copy_number` ≥ 1 marks a copy (BẢN SAO)."""
    s = get_shift(db, shift_id)
    if s.is_open or s.closed_at is None or s.counted is None:
        raise UserFacingError(
            "Chỉ in báo cáo Z cho ca đã đóng.", message_en="Z report only for a closed shift"
        )
    with db.read() as session:
        counter = require_counter(session)
        labels = {"drop": "Nộp về két", "pickup": "Nhận từ két"}
        moves = tuple(
            (
                parse_utc_iso(m.at),
                labels[m.event],
                m.amount,
                m.reason,
                _named(session, m.supervisor) or "",
            )
            for m in s.moves
        )
        return ZReportData(
            organisation=counter.organisation,
            collection_point=counter.collection_point,
            counter_code=counter.counter_code,
            shift_id=s.id,
            cashier=f"{s.cashier_name} ({s.cashier})",
            opened_at=s.opened_at,
            closed_at=s.closed_at,
            closed_by=_named(session, s.closed_by) or "",
            float_amount=s.float_amount,
            float_counts=tuple(s.float_counts.items()),
            schemes=tuple(
                (Scheme(scheme).label, count, amount)
                for scheme, (count, amount) in sorted(s.by_scheme.items())
            ),
            payments=s.payments,
            payment_total=s.payment_total,
            voids=s.voids,
            void_total=s.void_total,
            moves=moves,
            expected=s.expected,
            counted=s.counted,
            counted_counts=tuple((s.counted_counts or {}).items()),
            difference=s.difference or 0,
            reason=s.reason,
            supervisor=_named(session, s.supervisor),
            unsynced=s.unsynced_at_close or 0,
            series=counter.receipt_series,
            first_receipt=s.first_receipt,
            last_receipt=s.last_receipt,
            records_hash=s.records_hash or "",
            copy_number=copy_number,
        )


def print_zreport(db: Database, shift_id: str, *, by: Actor) -> ZReportData:
    """Count a print and return what it prints: the first print is the original, every later
    one a copy (BẢN SAO lần n)."""
    n = record_zreport_print(db, get_shift(db, shift_id).id, by=by)
    return zreport_data(db, shift_id, copy_number=n - 1)
