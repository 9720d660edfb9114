"""Households and history: a participant's household with member orders and cards, create /
add / move, several members paid in one cash transaction, the "am I paid up?" history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.services.history import ParticipantHistory
    from app.services.household_payment import (
        HouseholdPaymentRequest,
        HouseholdPaymentView,
        MemberQuote,
    )
    from app.services.households import HouseholdView, MemberOrder
    from app.services.participants import ParticipantInput, ParticipantView
    from ui.qt.state import AppState

CHANGED = OpChanges(participants=True)
RECORDED = OpChanges(payments=True, sync=True)


@dataclass(frozen=True)
class HouseholdState:
    """What the household screen shows for one participant."""

    participant_id: str
    household: HouseholdView | None
    orders: dict[str, MemberOrder]  # member → order for a BHYT payment made now


@dataclass(frozen=True)
class HouseholdPlan:
    """The registration form's household choice: none, a new household headed by the new
    participant, or joining the household of a member given by mã số BHXH / CCCD."""

    kind: str  # "none" | "new" | "join"
    ref: str = ""
    relation: str = ""


def _state_of(state: AppState, participant_id: str) -> HouseholdState:
    from app.services.households import household_of, member_orders

    h = household_of(state.db, participant_id)
    return HouseholdState(participant_id, h, member_orders(state.db, h.id) if h else {})


def load(parent: QObject, state: AppState, participant_id: str) -> Op[HouseholdState]:
    return DbOp(parent, lambda: _state_of(state, participant_id))


def create(parent: QObject, state: AppState, head_id: str, address: str) -> Op[HouseholdState]:
    actor = state.require_actor()

    def write() -> HouseholdState:
        from app.services.households import create_household

        create_household(state.db, head_participant_id=head_id, address=address, by=actor)
        return _state_of(state, head_id)

    return DbOp(parent, write).changes(state, CHANGED)


def add(
    parent: QObject, state: AppState, household_id: str, ref: str, relation: str, viewer: str
) -> Op[tuple[HouseholdState, ParticipantView, bool]]:
    """Add (or move here) the participant with mã số BHXH / CCCD `ref`; the result says whether
    they were moved from another household."""
    actor = state.require_actor()

    def write() -> tuple[HouseholdState, ParticipantView, bool]:
        from app.errors import ValidationError
        from app.services.households import add_member, household_of
        from app.services.participants import find_by_identifier

        found = find_by_identifier(state.db, ref.strip()) if ref.strip() else None
        if found is None:
            raise ValidationError(
                "member_ref",
                "Mã số BHXH/CCCD",
                f"không tìm thấy người tham gia “{ref.strip()[:20]}”; hãy đăng ký trước",
                rule_en="no participant with that code",
            )
        moved = household_of(state.db, found.id) is not None
        add_member(state.db, household_id, found.id, relation=relation, by=actor)
        return _state_of(state, viewer), found, moved

    return DbOp(parent, write).changes(state, CHANGED)


def register(
    parent: QObject, state: AppState, data: ParticipantInput, plan: HouseholdPlan
) -> Op[ParticipantView]:
    """Register a participant and, as chosen on the form, put them in a household. The
    household to join is found before the participant is created, so a wrong code saves
    nothing."""
    actor = state.require_actor()

    def write() -> ParticipantView:
        from app.services.households import add_member, create_household, resolve_household
        from app.services.participants import create_participant

        target = resolve_household(state.db, plan.ref) if plan.kind == "join" else None
        view = create_participant(state.db, data, by=actor)
        if plan.kind == "new":
            create_household(state.db, head_participant_id=view.id, address=data.address, by=actor)
        elif target is not None:
            add_member(state.db, target.id, view.id, relation=plan.relation, by=actor)
        return view

    return DbOp(parent, write).changes(state, CHANGED)


def preview_group(
    parent: QObject, state: AppState, req: HouseholdPaymentRequest
) -> Op[tuple[MemberQuote, ...]]:
    actor = state.require_actor()

    def quote() -> tuple[MemberQuote, ...]:
        from app.services.household_payment import preview_household_quotes

        return preview_household_quotes(state.db, req, by=actor)

    return DbOp(parent, quote)


def record_group(
    parent: QObject, state: AppState, req: HouseholdPaymentRequest
) -> Op[HouseholdPaymentView]:
    actor = state.require_actor()

    def write() -> HouseholdPaymentView:
        from app.services.household_payment import record_household_payment

        return record_household_payment(state.db, req, by=actor)

    return DbOp(parent, write).changes(state, RECORDED)


def history(parent: QObject, state: AppState, participant_id: str) -> Op[ParticipantHistory]:
    def load_history() -> ParticipantHistory:
        from app.services.history import participant_history

        return participant_history(state.db, participant_id, receipts=8)

    return DbOp(parent, load_history)
