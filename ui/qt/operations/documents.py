"""Documents: a receipt's data, Mẫu 01-XN of a day (read on the database thread; rendering and
writing the file are I/O-pool work in `ui.qt.receipt_view` and `ui.qt.xn01`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.domain.documents import ReceiptData, Xn01Report
    from ui.qt.state import AppState


def receipt(
    parent: QObject, state: AppState, receipt_number: int, *, reprint_number: int = 0
) -> Op[ReceiptData]:
    def load() -> ReceiptData:
        from app.services.documents import receipt_data

        return receipt_data(state.db, receipt_number, reprint_number=reprint_number)

    return DbOp(parent, load)


def xn01(parent: QObject, state: AppState, day: date) -> Op[Xn01Report]:
    def load() -> Xn01Report:
        from app.services.documents import daily_summary

        return daily_summary(state.db, day)

    return DbOp(parent, load)
