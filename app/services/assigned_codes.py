"""Mã số BHXH that central assigned to first-time participants (the participant changes feed),
applied at the counter. Only a participant without a code gets one; nothing settled is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.domain.clock import now_utc
from app.services.queries import audit
from app.services.sync_state import PARTICIPANT_CURSOR, put_sync_value
from app.storage.db import Database
from app.storage.models import Participant


@dataclass(frozen=True)
class AssignedCode:
    participant_id: str
    ma_so_bhxh: str


@dataclass(frozen=True)
class AppliedCodes:
    applied: int
    skipped: tuple[str, ...]  # Vietnamese reasons, one per change not applied


def apply_assigned_codes(
    db: Database, changes: Sequence[AssignedCode], next_cursor: int
) -> AppliedCodes:
    """Fill in mã số BHXH for first-time participants and advance the cursor, atomically.

    Only a participant without a code gets one; a participant who already has a different code,
    or a code already held by someone else here, is left alone and reported (and audited).
    """
    applied = 0
    skipped: list[str] = []
    with db.write() as session:
        for change in changes:
            person = session.scalar(
                select(Participant).where(Participant.id == change.participant_id)
            )
            if person is None:
                skipped.append(f"không có người tham gia {change.participant_id} tại quầy")
                continue
            if person.ma_so_bhxh == change.ma_so_bhxh:
                continue
            holder = session.scalar(
                select(Participant).where(Participant.ma_so_bhxh == change.ma_so_bhxh)
            )
            if person.ma_so_bhxh is not None or holder is not None:
                why = (
                    f"{person.full_name} đã có mã số BHXH {person.ma_so_bhxh}"
                    if person.ma_so_bhxh is not None
                    else f"mã số {change.ma_so_bhxh} đã thuộc về người khác tại quầy"
                )
                skipped.append(why)
                audit(
                    session,
                    "participant.ma_so_conflict",
                    actor=None,
                    subject=person.id,
                    offered=change.ma_so_bhxh,
                    reason=why,
                )
                continue
            person.ma_so_bhxh = change.ma_so_bhxh
            person.updated_at = now_utc()
            applied += 1
            audit(
                session,
                "participant.ma_so_assigned",
                actor=None,
                subject=person.id,
                ma_so_bhxh=change.ma_so_bhxh,
                source="central",
            )
        put_sync_value(session, PARTICIPANT_CURSOR, str(next_cursor))
    return AppliedCodes(applied, tuple(skipped))
