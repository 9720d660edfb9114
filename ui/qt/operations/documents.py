"""Documents: a receipt's data, Mẫu 01-XN of a day (read on the database thread; rendering and
writing the file are I/O-pool work in `ui.qt.receipt_view` and `ui.qt.xn01`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ui.qt.operations.payments import REPRINTED
from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.domain.documents import ReceiptData, Xn01Report
    from ui.qt.state import AppState


def receipt(
    parent: QObject, state: AppState, receipt_number: int, *, reprint_number: int = 0
) -> Op[ReceiptData]:
    """A receipt to show or print. With `reprint_number` (already counted by the reprint op) that
    copy; otherwise the service decides: the original the first time, a counted, audited copy
    after that (docs/SECURITY.md)."""

    def load() -> ReceiptData:
        from app.services.documents import issue_receipt, receipt_data

        if reprint_number:
            return receipt_data(state.db, receipt_number, reprint_number=reprint_number)
        return issue_receipt(state.db, receipt_number, by=state.actor)

    op: Op[ReceiptData] = DbOp(parent, load)
    return op if reprint_number else op.changes(state, REPRINTED)


def print_failed(parent: QObject, state: AppState, receipt_number: int, reason: str) -> Op[None]:
    """The printer refused the original: the next rendering may be the original again (audited)."""

    def report() -> None:
        from app.services.documents import report_print_failure

        report_print_failure(state.db, receipt_number, by=state.actor, reason=reason)

    return DbOp(parent, report)


def xn01(parent: QObject, state: AppState, day: date) -> Op[Xn01Report]:
    def load() -> Xn01Report:
        from app.services.documents import daily_summary

        return daily_summary(state.db, day)

    return DbOp(parent, load)
