"""Shifts and the cash drawer (docs/SHIFTS.md): the open shift, open, drop/pick-up and close
(a supervisor authenticated in the same op, like a void), the Z report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, IoOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.domain.shifts import ZReportData
    from app.services.common import Actor
    from app.services.shifts import ShiftSummary
    from ui.qt.state import AppState

# A shift event is a new ledger record waiting to be sent; the drawer's cash is shown with the
# payments, so screens that show payments refresh too.
SHIFT_RECORDED = OpChanges(payments=True, sync=True)


def current(parent: QObject, state: AppState) -> Op[ShiftSummary | None]:
    def load() -> ShiftSummary | None:
        from app.services.shifts import current_shift

        return current_shift(state.db)

    return DbOp(parent, load)


def last_count(parent: QObject, state: AppState) -> Op[Mapping[int, int] | None]:
    """The count the latest closed shift ended with: the next float's suggestion (handover)."""

    def load() -> Mapping[int, int] | None:
        from app.errors import NotFoundError
        from app.services.shifts import get_shift

        try:
            shift = get_shift(state.db)
        except NotFoundError:
            return None
        return None if shift.is_open else shift.counted_counts

    return DbOp(parent, load)


def _signer(state: AppState, supervisor: str, password: str) -> Actor | None:
    from app.services.operators import authenticate

    return authenticate(state.db, supervisor, password) if supervisor else None


def open_(
    parent: QObject, state: AppState, counts: Mapping[int, int] | None, total: int | None
) -> Op[ShiftSummary]:
    actor = state.require_actor()

    def write() -> ShiftSummary:
        from app.services.shifts import open_shift

        return open_shift(state.db, by=actor, counts=counts, total=total)

    return DbOp(parent, write).changes(state, SHIFT_RECORDED)


def move(
    parent: QObject,
    state: AppState,
    event: str,
    amount: int,
    reason: str,
    *,
    supervisor: str,
    password: str,
) -> Op[ShiftSummary]:
    actor = state.require_actor()

    def write() -> ShiftSummary:
        from app.errors import ValidationError
        from app.services.shifts import cash_move

        signer = _signer(state, supervisor, password)
        if signer is None:
            raise ValidationError(
                "supervisor", "Giám sát viên", "bắt buộc: nhập tên và mật khẩu", rule_en="required"
            )
        return cash_move(
            state.db,
            event="drop" if event == "drop" else "pickup",
            amount=amount,
            reason=reason,
            supervisor=signer,
            by=actor,
        )

    return DbOp(parent, write).changes(state, SHIFT_RECORDED)


def close(
    parent: QObject,
    state: AppState,
    counts: Mapping[int, int],
    reason: str,
    *,
    supervisor: str,
    password: str,
) -> Op[ShiftSummary]:
    actor = state.require_actor()

    def write() -> ShiftSummary:
        from app.services.shifts import close_shift

        signer = _signer(state, supervisor, password)
        return close_shift(
            state.db, by=actor, counts=counts, reason=reason or None, supervisor=signer
        )

    return DbOp(parent, write).changes(state, SHIFT_RECORDED)


def zreport(parent: QObject, state: AppState, shift_id: str) -> Op[ZReportData]:
    """Count a print of the Z report and read what it prints (first: original, then copies)."""
    actor = state.require_actor()

    def load() -> ZReportData:
        from app.services.shifts import print_zreport

        return print_zreport(state.db, shift_id, by=actor)

    return DbOp(parent, load)


def render(parent: QObject, data: ZReportData, a4: bool) -> Op[bytes]:
    def make() -> bytes:
        from printing.zreport import ZReportLayout, render_zreport

        return render_zreport(data, ZReportLayout.A4 if a4 else ZReportLayout.ROLL_80MM)

    return IoOp(parent, make)
