"""BHYT households (hộ gia đình): create one, add or move members, see who holds a card until when.

A household is a head and members, each a participant; a participant belongs to at most one
household at a time. The member order a BHYT payment is priced at comes from here
(`household_member_order`), worked out from the household and the fiscal year — never typed.
Every change is an audit event, and writes the households it changed as they now are
(`app.services.pricing_state.seal_household`): `verify` compares them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from app.domain.canonical import parse_utc_iso
from app.domain.clock import business_date, now_utc
from app.domain.households import fiscal_year, member_order
from app.domain.types import Scheme
from app.errors import NotFoundError, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.history import bhyt_cards, last_bhyt_card_end
from app.services.pricing_state import seal_household
from app.services.queries import audit, load_actor
from app.storage.db import Database
from app.storage.driver import driver
from app.storage.models import Household, HouseholdMember, Participant, Payment, Void

_PAYMENTS = cast(Table, Payment.__table__)
_VOIDS = cast(Table, Void.__table__)
_MEMBERS = cast(Table, HouseholdMember.__table__)


@dataclass(frozen=True)
class MemberView:
    participant_id: str
    full_name: str
    ma_so_bhxh: str | None
    relation: str
    is_head: bool
    card_end: date | None  # the last day a known BHYT card is valid (None: none known)
    # the first day of the unbroken run of cards that ends on card_end, when this counter sold
    # them (None: not known here — a card recorded before, or reported by central)
    card_from: date | None = None

    def holds_card(self, on: date) -> bool:
        """Valid on `on`: not ended, and (when known) already started."""
        return (
            self.card_end is not None
            and self.card_end >= on
            and (self.card_from is None or self.card_from <= on)
        )


@dataclass(frozen=True)
class HouseholdView:
    id: str
    head_participant_id: str
    address: str
    members: tuple[MemberView, ...]  # head first, then by joining time


def _participant(session: Session, participant_id: str) -> Participant:
    p = session.scalar(select(Participant).where(Participant.id == participant_id))
    if p is None:
        raise NotFoundError(f"Không tìm thấy người tham gia {participant_id}.")
    return p


def _household(session: Session, household_id: str) -> Household:
    h = session.get(Household, household_id)
    if h is None:
        raise NotFoundError(f"Không tìm thấy hộ gia đình {household_id}.")
    return h


def _view(session: Session, h: Household) -> HouseholdView:
    rows = session.execute(
        select(HouseholdMember, Participant)
        .join(Participant, Participant.id == HouseholdMember.participant_id)
        .where(HouseholdMember.household_id == h.id)
        .order_by(HouseholdMember.joined_at, Participant.num)
    ).all()
    members = [
        MemberView(
            participant_id=p.id,
            full_name=p.full_name,
            ma_so_bhxh=p.ma_so_bhxh,
            relation=m.relation,
            is_head=p.id == h.head_participant_id,
            card_end=(end := last_bhyt_card_end(session, p.id, p.bhyt_card_end)),
            card_from=_card_run_start(session, p, end),
        )
        for m, p in rows
    ]
    members.sort(key=lambda v: not v.is_head)  # stable: the head first, the rest as joined
    return HouseholdView(h.id, h.head_participant_id, h.address, tuple(members))


def _card_run_start(session: Session, p: Participant, end: date | None) -> date | None:
    """The first day of the unbroken run of this counter's cards that ends on `end`."""
    cards = [c.window for c in bhyt_cards(session, p.id, p.bhyt_card_end)]
    if end is None or not cards or max(w.end for w in cards) != end:
        return None
    start = end
    for w in sorted(cards, key=lambda w: w.end, reverse=True):
        if w.end >= start - timedelta(days=1):
            start = min(start, w.start)
    return start


def _join(
    session: Session, household_id: str, participant_id: str, relation: str, at: datetime
) -> str | None:
    """Put the participant in the household; returns the household they left, if any."""
    current = session.get(HouseholdMember, participant_id)
    if current is None:
        session.add(
            HouseholdMember(
                participant_id=participant_id,
                household_id=household_id,
                relation=relation,
                joined_at=at,
            )
        )
        return None
    left = current.household_id
    current.household_id, current.relation, current.joined_at = household_id, relation, at
    return left


def create_household(
    db: Database, *, head_participant_id: str, address: str = "", by: Actor
) -> HouseholdView:
    """A new household with its head as the first member. The head must not be in another
    household (move them out first: a person belongs to one household at a time)."""
    at = now_utc()
    with db.write() as session:
        load_actor(session, by)
        head = _participant(session, head_participant_id)
        if session.get(HouseholdMember, head.id) is not None:
            raise ValidationError(
                "head_participant_id",
                "Chủ hộ",
                f"{head.full_name} đã thuộc một hộ gia đình khác; hãy chuyển người này ra trước",
                rule_en="already a member of another household",
            )
        h = Household(
            id=str(uuid.uuid4()),
            head_participant_id=head.id,
            address=" ".join(address.split()) or head.address,
            created_at=at,
            updated_at=at,
        )
        session.add(h)
        session.flush()
        _join(session, h.id, head.id, "Chủ hộ", at)
        audit(session, "household.create", actor=by, subject=h.id, head=head.id)
        seal_household(session, h.id, actor=by)
        return _view(session, h)


def add_member(
    db: Database, household_id: str, participant_id: str, *, relation: str = "", by: Actor
) -> HouseholdView:
    """Add a participant, or move them here from another household (audited as a move).

    The head of another household cannot be moved while that household has other members.
    """
    at = now_utc()
    with db.write() as session:
        load_actor(session, by)
        h = _household(session, household_id)
        p = _participant(session, participant_id)
        current = session.get(HouseholdMember, p.id)
        if current is not None and current.household_id == h.id:
            raise UserFacingError(
                f"{p.full_name} đã là thành viên của hộ gia đình này.",
                message_en="already a member of this household",
            )
        if current is not None:
            old = _household(session, current.household_id)
            others = session.scalar(
                select(func.count())
                .select_from(HouseholdMember)
                .where(
                    (HouseholdMember.household_id == old.id)
                    & (HouseholdMember.participant_id != p.id)
                )
            )
            if old.head_participant_id == p.id and others:
                raise ValidationError(
                    "participant_id",
                    "Thành viên",
                    f"{p.full_name} là chủ hộ của một hộ khác còn {others} thành viên; "
                    "hãy đổi chủ hộ đó trước khi chuyển",
                    rule_en="head of another household that still has members",
                )
        left = _join(session, h.id, p.id, " ".join(relation.split()), at)
        h.updated_at = at
        audit(
            session,
            "household.move" if left else "household.add",
            actor=by,
            subject=h.id,
            participant=p.id,
            moved_from=left,
        )
        if left:
            seal_household(session, left, actor=by)
        seal_household(session, h.id, actor=by)
        return _view(session, h)


def get_household(db: Database, household_id: str) -> HouseholdView:
    with db.read() as session:
        return _view(session, _household(session, household_id))


def household_of(db: Database, participant_id: str) -> HouseholdView | None:
    with db.read() as session:
        m = session.get(HouseholdMember, participant_id)
        return None if m is None else _view(session, _household(session, m.household_id))


def card_holders(db: Database, household_id: str, on: date) -> tuple[MemberView, ...]:
    """The members who hold a valid BHYT card on `on`, with the day it ends."""
    return tuple(m for m in get_household(db, household_id).members if m.holds_card(on))


# --- the member order, for pricing -------------------------------------------------------------


@dataclass(frozen=True)
class MemberOrder:
    order: int
    household_id: str | None  # None: the participant is in no household
    reason: str  # Vietnamese, for the confirm screen
    # True when the member already paid in the fiscal year: the order is theirs for the year.
    # False: the order they would take paid now on their own; paid together with others who
    # have not paid either, they take this order and the ones after it (R5).
    fixed: bool = False


_HOUSEHOLD_OF = "SELECT household_id FROM household_members WHERE participant_id = ?"
# The household's members who made a non-voided BHYT payment in the fiscal year, with the first.
_FIRST_PAID_IN_YEAR = (
    "SELECT p.participant_id, min(p.paid_at) FROM payments p"
    " LEFT JOIN voids v ON v.payment_id = p.id"
    " JOIN household_members m ON m.participant_id = p.participant_id"
    f" WHERE m.household_id = ? AND p.scheme = '{Scheme.BHYT_HGD.value}' AND v.id IS NULL"
    " AND p.business_date >= ? AND p.business_date <= ?"
    " GROUP BY p.participant_id"
)


def household_member_order(session: Session, participant_id: str, paid_at: datetime) -> MemberOrder:
    """The participant's member order for a BHYT payment made at `paid_at` (R5)."""
    # Through the driver, not an ORM load: this runs inside record_payment's write transaction
    # (the hot path; app.storage.driver).
    con = driver(session)
    found = con.execute(_HOUSEHOLD_OF, (participant_id,)).fetchone()
    household_id = None if found is None else found[0]
    year = fiscal_year(business_date(paid_at))
    if household_id is None:
        return MemberOrder(
            1, None, "chưa thuộc hộ gia đình nào trong phần mềm: tính như người thứ nhất"
        )
    rows = con.execute(
        _FIRST_PAID_IN_YEAR,
        (household_id, date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()),
    )
    # min() over UTCDateTime's canonical UTC ISO text, which sorts as time does.
    first_paid: dict[str, datetime] = {pid: parse_utc_iso(at) for pid, at in rows}
    order = member_order(participant_id, first_paid)
    earlier = order - 1
    reason = f"thành viên thứ {order} của hộ trong năm tài chính {year}" + (
        f" ({earlier} thành viên đã đóng trước trong năm)" if earlier else ""
    )
    return MemberOrder(order, household_id, reason, fixed=participant_id in first_paid)


def member_orders(
    db: Database, household_id: str, at: datetime | None = None
) -> dict[str, MemberOrder]:
    """Each current member's order for a BHYT payment made at `at` (default now): their place
    among the household's members by first payment in the fiscal year (R5) — shown, never typed."""
    when = at or now_utc()
    with db.read() as session:
        members = session.scalars(
            select(HouseholdMember.participant_id).where(
                HouseholdMember.household_id == household_id
            )
        ).all()
        return {pid: household_member_order(session, pid, when) for pid in members}


def resolve_household(db: Database, ref: str) -> HouseholdView:
    """A household by its id, or by the mã số BHXH / CCCD of any of its members (for the
    registration form's "join the household of …")."""
    text = ref.strip()
    with db.read() as session:
        h = session.get(Household, text)
        if h is None and text:
            pid = session.scalar(
                select(Participant.id).where(
                    (Participant.ma_so_bhxh == text) | (Participant.cccd == text)
                )
            )
            member = session.get(HouseholdMember, pid) if pid is not None else None
            h = session.get(Household, member.household_id) if member is not None else None
        if h is None:
            raise ValidationError(
                "household_ref",
                "Hộ gia đình",
                f"không tìm thấy hộ có thành viên mang mã số BHXH/CCCD “{text[:20]}”",
                rule_en="no household with a member of that code",
            )
        return _view(session, h)
