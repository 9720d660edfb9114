"""Participants: search, find by CCCD (a chip card's QR), register or correct."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.services.participants import ParticipantInput, ParticipantView, SearchResult
    from ui.qt.state import AppState

SAVED = OpChanges(participants=True)


def search(parent: QObject, state: AppState, query: str, *, limit: int = 20) -> Op[SearchResult]:
    """Ranked, best match first; the result says when more matched than are shown."""

    def find() -> SearchResult:
        from app.services.participants import find_participants

        return find_participants(state.db, query, limit=limit)

    return DbOp(parent, find)


def with_cccd(parent: QObject, state: AppState, cccd: str) -> Op[list[ParticipantView]]:
    """The participants whose CCCD is exactly `cccd` (none, or the one registered)."""

    def find() -> list[ParticipantView]:
        from app.services.participants import search_participants

        return [p for p in search_participants(state.db, cccd) if p.cccd == cccd]

    return DbOp(parent, find)


def save(
    parent: QObject, state: AppState, data: ParticipantInput, *, existing_id: str | None
) -> Op[ParticipantView]:
    """Register (`existing_id` None) or correct a participant's details."""
    actor = state.require_actor()

    def store() -> ParticipantView:
        from app.services.participants import create_participant, update_participant

        if existing_id is None:
            return create_participant(state.db, data, by=actor)
        return update_participant(state.db, existing_id, data, by=actor)

    return DbOp(parent, store).changes(state, SAVED)
