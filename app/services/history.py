"""A participant's history: "am I paid up?" — paid periods per scheme, support months used, cards.

Months already covered (docs/RULES.md R1) are this counter's own payments that are not voided,
plus the periods the central system reports as paid (`central_paid_periods`, filled by
`record_central_paid_periods`). The BHYT card windows are replayed from the payments in the
order they were made, with the same continuity rule the quote uses, so a receipt and the
history always agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from app.domain.clock import business_date, now_utc
from app.domain.codes import format_code
from app.domain.periods import MonthSpan, gaps, merge_spans, next_unpaid
from app.domain.quote import CardWindow, bhyt_card_window
from app.domain.types import Scheme
from app.errors import NotFoundError, ValidationError
from app.services.common import Actor
from app.services.pricing_state import PAID_PERIODS, period_sets
from app.services.queries import audit, current_table
from app.services.sealing import ledger_key, provide_key
from app.storage.db import Database
from app.storage.driver import as_date, driver
from app.storage.models import CentralPaidPeriod, Participant, Payment, Void

_PAYMENTS = cast(Table, Payment.__table__)
_VOIDS = cast(Table, Void.__table__)
_NOT_VOIDED_FROM = _PAYMENTS.outerjoin(_VOIDS, _VOIDS.c.payment_id == _PAYMENTS.c.id)


# Own non-voided periods and central's in one round trip through the driver: this runs inside
# every record_payment (app.storage.driver).
_PAID_PERIODS_SQL = (
    "SELECT p.period_from, p.period_to FROM payments p LEFT JOIN voids v ON v.payment_id = p.id"
    " WHERE p.participant_id = :pid AND p.scheme = :scheme AND v.id IS NULL"
    " UNION ALL SELECT period_from, period_to FROM central_paid_periods"
    " WHERE participant_id = :pid AND scheme = :scheme"
)


def paid_spans(session: Session, participant_id: str, scheme: Scheme) -> tuple[MonthSpan, ...]:
    """Months already covered for `scheme`: own non-voided payments and central's, merged."""
    rows = driver(session).execute(
        _PAID_PERIODS_SQL, {"pid": participant_id, "scheme": scheme.value}
    )
    return merge_spans(MonthSpan.of(date.fromisoformat(a), date.fromisoformat(b)) for a, b in rows)


@dataclass(frozen=True)
class CardRecord:
    """One BHYT payment's card window (receipt None: the card end known before any payment)."""

    receipt_number: int | None
    window: CardWindow


_BHYT_PAYMENTS_SQL = (
    "SELECT p.business_date, p.months, p.period_from, p.receipt_number FROM payments p"
    " LEFT JOIN voids v ON v.payment_id = p.id"
    f" WHERE p.participant_id = ? AND p.scheme = '{Scheme.BHYT_HGD.value}' AND v.id IS NULL"
    " ORDER BY p.ledger_seq"
)


def bhyt_cards(
    session: Session, participant_id: str, card_end_before: date | None
) -> tuple[CardRecord, ...]:
    """The participant's BHYT cards in payment order, replaying the continuity rule."""
    previous = card_end_before
    out: list[CardRecord] = []
    for paid_text, months, from_text, receipt in driver(session).execute(
        _BHYT_PAYMENTS_SQL, (participant_id,)
    ):
        paid_on, period_from = date.fromisoformat(paid_text), date.fromisoformat(from_text)
        window = bhyt_card_window(paid_on, previous, months, period_from)
        out.append(CardRecord(receipt, window))
        previous = window.end if previous is None else max(previous, window.end)
    return tuple(out)


_CENTRAL_CARD_END_SQL = (
    "SELECT max(period_to) FROM central_paid_periods"
    f" WHERE participant_id = ? AND scheme = '{Scheme.BHYT_HGD.value}'"
)


def last_bhyt_card_end(
    session: Session, participant_id: str, card_end_before: date | None
) -> date | None:
    """The latest day any known BHYT card of the participant is valid (None: never had one)."""
    ends = [c.window.end for c in bhyt_cards(session, participant_id, card_end_before)]
    central = as_date(
        driver(session).execute(_CENTRAL_CARD_END_SQL, (participant_id,)).fetchone()[0]
    )
    known = [d for d in (*ends, card_end_before, central) if d is not None]
    return max(known, default=None)


def bhyt_card_for_receipt(db: Database, receipt_number: int) -> CardWindow | None:
    """The card a stored BHYT payment bought (None: not a BHYT payment, or voided)."""
    with db.read() as session:
        row = session.execute(
            select(Payment.participant_id, Participant.bhyt_card_end)
            .join(Participant, Participant.id == Payment.participant_id)
            .where(Payment.receipt_number == receipt_number)
        ).first()
        if row is None:
            raise NotFoundError(f"Không có biên lai số {receipt_number} tại quầy này.")
        for card in bhyt_cards(session, row[0], row[1]):
            if card.receipt_number == receipt_number:
                return card.window
        return None


# --- the history view --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptRef:
    receipt_number: int
    confirmation_code: str  # grouped, "7KQ2-9XMD-4TR6"
    scheme: Scheme
    period_from: date
    period_to: date
    amount: int
    paid_at: datetime
    voided: bool


@dataclass(frozen=True)
class SchemeHistory:
    scheme: Scheme
    paid: tuple[MonthSpan, ...]
    next_unpaid: date | None
    gaps: tuple[MonthSpan, ...]  # unpaid months between the first paid one and this month


@dataclass(frozen=True)
class ParticipantHistory:
    participant_id: str
    full_name: str
    schemes: tuple[SchemeHistory, ...]
    support_months_used: int
    support_months_cap: int
    bhyt_card: CardWindow | None  # the latest card known at this counter
    bhyt_card_end: date | None  # latest end known (own cards, central, or recorded before)
    last_receipts: tuple[ReceiptRef, ...]  # newest first

    def scheme(self, scheme: Scheme) -> SchemeHistory:
        return next(s for s in self.schemes if s.scheme is scheme)


def participant_history(
    db: Database, participant_id: str, *, receipts: int = 5, now: datetime | None = None
) -> ParticipantHistory:
    """Everything the cashier needs to answer "am I paid up?" for one participant."""
    today = business_date(now or now_utc())
    with db.read() as session:
        p = session.scalar(select(Participant).where(Participant.id == participant_id))
        if p is None:
            raise NotFoundError(f"Không tìm thấy người tham gia {participant_id}.")
        schemes = []
        for scheme in Scheme:
            paid = paid_spans(session, p.id, scheme)
            schemes.append(SchemeHistory(scheme, paid, next_unpaid(paid), gaps(paid, today)))
        used = (
            session.connection()
            .execute(
                select(func.coalesce(func.sum(_PAYMENTS.c.support_months), 0))
                .select_from(_NOT_VOIDED_FROM)
                .where((_PAYMENTS.c.participant_id == p.id) & _VOIDS.c.id.is_(None))
            )
            .scalar()
        )
        cap = current_table(session).support_lifetime_months(today)
        cards = bhyt_cards(session, p.id, p.bhyt_card_end)
        rows = session.connection().execute(
            select(
                _PAYMENTS.c.receipt_number,
                _PAYMENTS.c.confirmation_code,
                _PAYMENTS.c.scheme,
                _PAYMENTS.c.period_from,
                _PAYMENTS.c.period_to,
                _PAYMENTS.c.amount,
                _PAYMENTS.c.paid_at,
                _VOIDS.c.id.is_not(None),
            )
            .select_from(_NOT_VOIDED_FROM)
            .where(_PAYMENTS.c.participant_id == p.id)
            .order_by(_PAYMENTS.c.ledger_seq.desc())
            .limit(receipts)
        )
        refs = tuple(
            ReceiptRef(
                r[0],
                format_code(r[1]),
                Scheme(r[2]),
                r[3],
                r[4],
                r[5],
                r[6],
                bool(r[7]),
            )
            for r in rows
        )
        return ParticipantHistory(
            participant_id=p.id,
            full_name=p.full_name,
            schemes=tuple(schemes),
            support_months_used=p.prior_support_months + int(used or 0),
            support_months_cap=cap,
            bhyt_card=cards[-1].window if cards else None,
            bhyt_card_end=last_bhyt_card_end(session, p.id, p.bhyt_card_end),
            last_receipts=refs,
        )


# --- paid periods reported by central ---------------------------------------------------------


@dataclass(frozen=True)
class CentralPeriod:
    """One paid period as the central system reports it."""

    participant_id: str
    scheme: Scheme
    period_from: date
    period_to: date
    source: str = ""


def record_central_paid_periods(
    db: Database, periods: Iterable[CentralPeriod], *, by: Actor | None = None
) -> int:
    """Store paid periods reported by central (idempotent: a known period is skipped).

    Meant for the sync pull; returns how many were new. Unknown participants are refused.
    """
    added = 0
    stored: list[CentralPeriod] = []
    at = now_utc()
    with db.write() as session:
        for period in periods:
            if period.period_to < period.period_from:
                raise ValidationError(
                    "period_to",
                    "Đến tháng",
                    "không được trước Từ tháng",
                    rule_en="must not be before period_from",
                )
            known = select(Participant.id).where(Participant.id == period.participant_id)
            if session.scalar(known) is None:
                raise NotFoundError(f"Không tìm thấy người tham gia {period.participant_id}.")
            exists = session.scalar(
                select(CentralPaidPeriod.id).where(
                    (CentralPaidPeriod.participant_id == period.participant_id)
                    & (CentralPaidPeriod.scheme == period.scheme.value)
                    & (CentralPaidPeriod.period_from == period.period_from)
                    & (CentralPaidPeriod.period_to == period.period_to)
                )
            )
            if exists is not None:
                continue
            session.add(
                CentralPaidPeriod(
                    participant_id=period.participant_id,
                    scheme=period.scheme.value,
                    period_from=period.period_from,
                    period_to=period.period_to,
                    source=period.source[:100],
                    received_at=at,
                )
            )
            added += 1
            stored.append(period)
        if added:
            changed = {p.participant_id for p in stored}
            audit(
                session,
                PAID_PERIODS,
                actor=by,
                added=added,
                periods=period_sets(session, changed),
            )
    return added


@dataclass(frozen=True)
class KnownPerson:
    """A participant of this counter as central can be asked about them."""

    participant_id: str
    ma_so_bhxh: str | None
    cccd: str | None


def known_people(db: Database) -> list[KnownPerson]:
    """Participants with a mã số BHXH or a CCCD, in registration order (the sync pull asks
    central about each)."""
    with db.read() as session:
        rows = session.execute(
            select(Participant.id, Participant.ma_so_bhxh, Participant.cccd)
            .where(Participant.ma_so_bhxh.is_not(None) | Participant.cccd.is_not(None))
            .order_by(Participant.num)
        ).all()
    return [KnownPerson(*r) for r in rows]


def replace_central_paid_periods(
    db: Database, participant_ids: Iterable[str], periods: Iterable[CentralPeriod]
) -> tuple[int, int]:
    """Central's answer for `participant_ids` replaces what was stored for them: new periods
    are added, periods central no longer reports (voided at the other counter) are removed.
    Returns (added, removed); audited when anything changed."""
    asked = set(participant_ids)
    wanted = {
        (p.participant_id, p.scheme.value, p.period_from, p.period_to): p
        for p in periods
        if p.participant_id in asked and p.period_from <= p.period_to
    }
    at = now_utc()
    counter_id, key = ledger_key(db)  # the audit entry's key, read before BEGIN IMMEDIATE
    with db.write() as session:
        provide_key(session, counter_id, key)
        stored = {
            (r.participant_id, r.scheme, r.period_from, r.period_to): r
            for chunk in _chunked(sorted(asked))
            for r in session.scalars(
                select(CentralPaidPeriod).where(CentralPaidPeriod.participant_id.in_(chunk))
            )
        }
        gone = [row for k, row in stored.items() if k not in wanted]
        for row in gone:
            session.delete(row)
        fresh = [p for k, p in wanted.items() if k not in stored]
        for p in fresh:
            session.add(
                CentralPaidPeriod(
                    participant_id=p.participant_id,
                    scheme=p.scheme.value,
                    period_from=p.period_from,
                    period_to=p.period_to,
                    source=p.source[:100],
                    received_at=at,
                )
            )
        if fresh or gone:
            changed = {p.participant_id for p in fresh} | {r.participant_id for r in gone}
            audit(
                session,
                PAID_PERIODS,
                actor=None,
                added=len(fresh),
                removed=len(gone),
                participants=sorted(changed),
                # the sets now stored, which verify compares (app.services.pricing_state)
                periods=period_sets(session, changed),
            )
    return len(fresh), len(gone)


def _chunked(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
