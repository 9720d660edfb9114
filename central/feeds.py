"""What central serves back: published rate tables, the participant changes feed, its own
Mẫu 01-XN per counter and day, the payer lookup by Mã xác nhận + mã số BHXH, and the periods
other counters recorded for the people a counter knows (so its overlap rule sees them)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from app.domain.codes import normalise_code
from app.domain.rates import RateTable
from app.errors import UserFacingError
from central.auth import CounterAuth
from central.clock import now_text
from central.errors import CentralError as BadRequest
from central.errors import NotFound, TooLarge
from central.models import (
    CentralCounter,
    CentralParticipant,
    LedgerRecord,
    ParticipantChangeRow,
    PublishedRateTable,
)
from central.store import CentralStore
from sync.protocol import (
    MAX_CHANGES_PAGE,
    MAX_PAID_PERIODS_PEOPLE,
    CentralXn01Row,
    LookupResponse,
    PaidPeriod,
    PaidPeriodsResponse,
    ParticipantChange,
    ParticipantChangesResponse,
    PersonRef,
    RatesResponse,
    RateTableItem,
    Xn01Response,
)


def publish_rates(store: CentralStore, text: str) -> tuple[str, bool]:
    """Publish a rate table (validated); returns (version, newly published)."""
    table = RateTable.from_json(text)  # raises UserFacingError naming the bad entry
    body = table.to_json()
    with store.write() as s:
        existing = s.scalar(
            select(PublishedRateTable).where(PublishedRateTable.version == table.version)
        )
        if existing is not None:
            if RateTable.from_json(existing.body) != table:
                raise UserFacingError(
                    f"Bảng mức đóng phiên bản {table.version} đã được phát hành với nội dung "
                    "khác; phiên bản mới phải có số hiệu mới.",
                    message_en=f"rate table {table.version} already published differently",
                )
            return table.version, False
        s.add(PublishedRateTable(version=table.version, body=body, published_at=now_text()))
        return table.version, True


def rates_since(store: CentralStore, since: str | None) -> RatesResponse:
    with store.read() as s:
        after = 0
        if since:
            known = s.scalar(
                select(PublishedRateTable.seq).where(PublishedRateTable.version == since)
            )
            after = known or 0
        rows = s.scalars(
            select(PublishedRateTable)
            .where(PublishedRateTable.seq > after)
            .order_by(PublishedRateTable.seq)
        ).all()
        latest = s.scalar(
            select(PublishedRateTable.version).order_by(PublishedRateTable.seq.desc()).limit(1)
        )
        tables: list[RateTableItem] = [
            {"version": r.version, "published_at": r.published_at, "body": r.body} for r in rows
        ]
        return {"tables": tables, "latest": latest}


def participant_changes(
    store: CentralStore, auth: CounterAuth, cursor: int, limit: int
) -> ParticipantChangesResponse:
    limit = max(1, min(limit, MAX_CHANGES_PAGE))
    with store.read() as s:
        rows = s.scalars(
            select(ParticipantChangeRow)
            .where(
                ParticipantChangeRow.counter_id == auth.id,
                # the column is a 32-bit integer (PostgreSQL refuses a larger bound): no stored
                # cursor lies beyond it, so a larger one asks for nothing
                ParticipantChangeRow.cursor > min(cursor, 2**31 - 1),
            )
            .order_by(ParticipantChangeRow.cursor)
            .limit(limit + 1)
        ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        changes: list[ParticipantChange] = [
            {
                "cursor": r.cursor,
                "participant_id": r.participant_id,
                "change": "assigned",
                "ma_so_bhxh": r.ma_so_bhxh,
                "changed_at": r.changed_at,
            }
            for r in rows
        ]
        return {
            "changes": changes,
            "next_cursor": rows[-1].cursor if rows else cursor,
            "more": more,
        }


_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Payment:
    """What 01-XN and the lookup read from a stored payment body, type-checked: central reads
    whatever it holds without failing (rows stored before content checks existed included)."""

    receipt_number: int
    participant_id: str
    payer_name: str
    ma_so_bhxh: str | None
    scheme: str
    months: int
    period_from: str
    period_to: str
    amount: int
    paid_at: str
    cashier: str


_TEXT_FIELDS = ("participant_id", "payer_name", "scheme", "period_from", "period_to", "paid_at")
_INT_FIELDS = ("receipt_number", "months", "amount")


def _read_payment(record_id: str, body_text: str) -> _Payment | None:
    try:
        b = json.loads(body_text)
    except ValueError:
        b = None
    ok = (
        isinstance(b, dict)
        and all(isinstance(b.get(f), str) for f in _TEXT_FIELDS)
        and all(type(b.get(f)) is int and abs(b[f]) < 2**63 for f in _INT_FIELDS)
        and isinstance(b.get("ma_so_bhxh"), str | None)
        and isinstance(b.get("cashier", ""), str)
    )
    if not ok:
        _log.warning("stored payment %s is unreadable; left out", record_id)
        return None
    assert isinstance(b, dict)
    return _Payment(
        receipt_number=b["receipt_number"],
        participant_id=b["participant_id"],
        payer_name=b["payer_name"],
        ma_so_bhxh=b.get("ma_so_bhxh"),
        scheme=b["scheme"],
        months=b["months"],
        period_from=b["period_from"],
        period_to=b["period_to"],
        amount=b["amount"],
        paid_at=b["paid_at"],
        cashier=b.get("cashier", ""),
    )


def _assigned_codes(
    s: Session, counter_id: str, participant_ids: list[str]
) -> dict[str, str | None]:
    """Mã số BHXH central assigned or learned for participants of one counter."""
    out: dict[str, str | None] = {}
    for start in range(0, len(participant_ids), 500):
        for row in s.execute(
            select(CentralParticipant.participant_id, CentralParticipant.ma_so_bhxh).where(
                CentralParticipant.counter_id == counter_id,
                CentralParticipant.participant_id.in_(participant_ids[start : start + 500]),
            )
        ):
            out[row.participant_id] = row.ma_so_bhxh
    return out


def _voided(s: Session, counter_id: str, payment_ids: list[str]) -> set[str]:
    """The payments among `payment_ids` that a void *of the same counter* cancels."""
    voided: set[str] = set()
    for start in range(0, len(payment_ids), 500):
        voided.update(
            pid
            for pid in s.scalars(
                select(LedgerRecord.payment_id).where(
                    LedgerRecord.counter_id == counter_id,
                    LedgerRecord.kind == "void",
                    LedgerRecord.payment_id.in_(payment_ids[start : start + 500]),
                )
            )
            if pid is not None
        )
    return voided


def _xn01_row(
    r: Row[str, str, str, str], b: _Payment, assigned: str | None, voided: bool
) -> CentralXn01Row:
    return {
        "payment_id": r.id,
        "receipt_number": b.receipt_number,
        "confirmation_code": r.code,
        "full_name": b.payer_name,
        "ma_so_bhxh": b.ma_so_bhxh or assigned,
        "scheme": b.scheme,
        "months": b.months,
        "period_from": b.period_from,
        "period_to": b.period_to,
        "amount": b.amount,
        "paid_at": b.paid_at,
        "cashier": b.cashier,
        "voided": voided,
        "received_at": r.received_at,
    }


def xn01(store: CentralStore, auth: CounterAuth, day: date) -> Xn01Response:
    """Central's Mẫu 01-XN for the calling counter only: its payments and its own voids."""
    with store.read() as s:
        rows = s.execute(
            select(LedgerRecord.id, LedgerRecord.body, LedgerRecord.received_at, LedgerRecord.code)
            .where(
                LedgerRecord.counter_id == auth.id,
                LedgerRecord.kind == "payment",
                LedgerRecord.business_date == day.isoformat(),
            )
            .order_by(LedgerRecord.receipt_number)
        ).all()
        readable = [(r, b) for r in rows if (b := _read_payment(r.id, r.body)) is not None]
        voided = _voided(s, auth.id, [r.id for r, _ in readable])
        assigned = _assigned_codes(s, auth.id, list({b.participant_id for _, b in readable}))
        out = [_xn01_row(r, b, assigned.get(b.participant_id), r.id in voided) for r, b in readable]
        valid = [row for row in out if not row["voided"]]
        return {
            "counter_id": auth.id,
            "business_date": day.isoformat(),
            "rows": out,
            "count": len(valid),
            "total": sum(row["amount"] for row in valid),
        }


_NOT_FOUND = "không tìm thấy khoản đóng với mã xác nhận và mã số BHXH này"


def lookup(store: CentralStore, code: str, ma_so_bhxh: str) -> LookupResponse:
    """A payer's check by confirmation code and mã số BHXH (both must match). The code is
    looked up in its canonical form; only the counter that recorded the payment can void it
    here (a void of another counter naming it is not read)."""
    try:
        compact = normalise_code(code)
    except ValueError as exc:
        raise NotFound(_NOT_FOUND) from exc
    with store.read() as s:
        rows = s.execute(
            select(
                LedgerRecord.id,
                LedgerRecord.body,
                LedgerRecord.received_at,
                LedgerRecord.counter_id,
            ).where(LedgerRecord.code == compact, LedgerRecord.kind == "payment")
        ).all()
        for r in rows:
            b = _read_payment(r.id, r.body)
            if b is None:
                continue
            assigned = _assigned_codes(s, r.counter_id, [b.participant_id]).get(b.participant_id)
            if ma_so_bhxh not in {b.ma_so_bhxh, assigned} - {None}:
                continue
            counter = s.get(CentralCounter, r.counter_id)
            return {
                "confirmation_code": compact,
                "full_name": b.payer_name,
                "ma_so_bhxh": ma_so_bhxh,
                "scheme": b.scheme,
                "months": b.months,
                "period_from": b.period_from,
                "period_to": b.period_to,
                "amount": b.amount,
                "paid_at": b.paid_at,
                "collection_point": counter.collection_point if counter else "",
                "status": "voided" if _voided(s, r.counter_id, [r.id]) else "valid",
                "received_at": r.received_at,
            }
    raise NotFound(_NOT_FOUND)


# --- paid periods of the people a counter knows ------------------------------------------------

_MA_SO = re.compile(r"^\d{10}$")
_CCCD = re.compile(r"^\d{12}$")


def _checked_people(people: Sequence[PersonRef]) -> tuple[set[str], set[str]]:
    if len(people) > MAX_PAID_PERIODS_PEOPLE:
        raise TooLarge(f"tối đa {MAX_PAID_PERIODS_PEOPLE} người mỗi lần hỏi")
    codes: set[str] = set()
    cccds: set[str] = set()
    for p in people:
        code, cccd = p.get("ma_so_bhxh"), p.get("cccd")
        if code is None and cccd is None:
            raise BadRequest("people: mỗi người cần mã số BHXH hoặc CCCD")
        if code is not None:
            if not isinstance(code, str) or not _MA_SO.match(code):
                raise BadRequest("people.ma_so_bhxh: phải gồm đúng 10 chữ số")
            codes.add(code)
        if cccd is not None:
            if not isinstance(cccd, str) or not _CCCD.match(cccd):
                raise BadRequest("people.cccd: phải gồm đúng 12 chữ số")
            cccds.add(cccd)
    return codes, cccds


def _chunks(values: Sequence[str]) -> list[list[str]]:
    return [list(values[i : i + 100]) for i in range(0, len(values), 100)]


def paid_periods(
    store: CentralStore, auth: CounterAuth, people: Sequence[PersonRef]
) -> PaidPeriodsResponse:
    """The periods other counters recorded, not voided, for the people the calling counter
    names by mã số BHXH (typed at the counter, or assigned here) or CCCD.

    Scope: an enrolled counter's token is required, and only periods (scheme, months, the
    collection point) are answered — no names, amounts or codes — for identifiers the counter
    already holds. The caller's own records are left out: its own ledger has them, voids
    included, before they reach central."""
    codes, cccds = _checked_people(people)
    with store.read() as s:
        pids: set[str] = set()
        for chunk in _chunks(sorted(codes)):
            pids.update(
                s.scalars(
                    select(CentralParticipant.participant_id).where(
                        CentralParticipant.ma_so_bhxh.in_(chunk)
                    )
                )
            )
        mine = LedgerRecord.counter_id != auth.id
        payments = (LedgerRecord.kind == "payment") & mine
        rows: dict[str, Row[str, str, str, str | None]] = {}
        columns = (
            LedgerRecord.id,
            LedgerRecord.body,
            LedgerRecord.counter_id,
            LedgerRecord.participant_id,
        )
        for pid_chunk in _chunks(sorted(pids)):
            for r in s.execute(
                select(*columns).where(payments, LedgerRecord.participant_id.in_(pid_chunk))
            ):
                rows[r.id] = r
        for cccd_chunk in _chunks(sorted(cccds)):
            # The canonical body holds `"cccd":"<12 digits>"` exactly (app.domain.canonical).
            matches = [LedgerRecord.body.contains(f'"cccd":"{c}"') for c in cccd_chunk]
            for r in s.execute(select(*columns).where(payments, or_(*matches))):
                rows[r.id] = r
        return {"periods": _periods(s, rows, codes, cccds)}


def _periods(
    s: Session,
    rows: dict[str, Row[str, str, str, str | None]],
    codes: set[str],
    cccds: set[str],
) -> list[PaidPeriod]:
    by_counter: dict[str, list[str]] = {}
    for r in rows.values():
        by_counter.setdefault(r.counter_id, []).append(r.id)
    voided: set[str] = set()
    points: dict[str, str] = {}
    assigned: dict[str, str | None] = {}
    for counter_id, ids in by_counter.items():
        voided |= _voided(s, counter_id, ids)
        counter = s.get(CentralCounter, counter_id)
        points[counter_id] = counter.collection_point if counter else ""
        pids = [p for p in {rows[i].participant_id for i in ids} if p is not None]
        assigned |= _assigned_codes(s, counter_id, pids)
    out: list[PaidPeriod] = []
    seen: set[tuple[str | None, str | None, str, str, str]] = set()
    for r in rows.values():
        b = _read_payment(r.id, r.body) if r.id not in voided else None
        if b is None:
            continue
        body_cccd = json.loads(r.body).get("cccd")
        code = next((c for c in (b.ma_so_bhxh, assigned.get(b.participant_id)) if c in codes), None)
        cccd = body_cccd if isinstance(body_cccd, str) and body_cccd in cccds else None
        if code is None and cccd is None:
            continue  # a substring match that is not the field, or a stale participant row
        key = (code, cccd, b.scheme, b.period_from, b.period_to)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "ma_so_bhxh": code,
                "cccd": cccd,
                "scheme": b.scheme,
                "period_from": b.period_from,
                "period_to": b.period_to,
                "collection_point": points[r.counter_id],
            }
        )
    return out
