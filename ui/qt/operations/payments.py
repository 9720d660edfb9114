"""Payments: quote, record, void (signed by a supervisor), reprint, today's list."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from app.domain.clock import today
from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.domain.quote import Quote
    from app.domain.rates import RateTable
    from app.services.payments import PaymentRequest, PaymentView
    from ui.qt.state import AppState

RECORDED = OpChanges(payments=True, sync=True)  # a new ledger record waits to be sent
REPRINTED = OpChanges(payments=True)  # only the copy count: nothing new to send


def current_rates(parent: QObject, state: AppState) -> Op[tuple[RateTable, date]]:
    """The rate table in force and today's business day (the form's bounds come from both)."""

    def load() -> tuple[RateTable, date]:
        from app.services.rates import current_rate_table

        return current_rate_table(state.db), today()

    return DbOp(parent, load)


def preview(parent: QObject, state: AppState, request: PaymentRequest) -> Op[Quote]:
    def quote() -> Quote:
        from app.services.payments import preview_payment

        return preview_payment(state.db, request)

    return DbOp(parent, quote)


def record(parent: QObject, state: AppState, request: PaymentRequest) -> Op[PaymentView]:
    actor = state.require_actor()

    def write() -> PaymentView:
        from app.services.payments import record_payment

        return record_payment(state.db, request, by=actor)

    return DbOp(parent, write).changes(state, RECORDED)


def void(
    parent: QObject,
    state: AppState,
    receipt_number: int,
    reason: str,
    *,
    supervisor: str,
    password: str,
) -> Op[PaymentView]:
    """Authenticate the supervisor and void, in one op; the signed-in cashier asked for it."""
    cashier = state.require_actor()

    def sign_and_void() -> PaymentView:
        from app.services.operators import authenticate
        from app.services.payments import void_payment

        signer = authenticate(state.db, supervisor, password)
        return void_payment(
            state.db,
            receipt_number=receipt_number,
            reason=reason,
            supervisor=signer,
            requested_by=cashier,
        )

    return DbOp(parent, sign_and_void).changes(state, RECORDED)


def reprint(parent: QObject, state: AppState, receipt_number: int) -> Op[int]:
    """Count a copy; the op's result is its number (1 for the first)."""
    actor = state.require_actor()

    def count() -> int:
        from app.services.payments import record_reprint

        return record_reprint(state.db, receipt_number, by=actor)

    return DbOp(parent, count).changes(state, REPRINTED)


def todays(parent: QObject, state: AppState) -> Op[tuple[date, list[PaymentView]]]:
    """Today's payments, each cashier named by full name as on the receipt and in 01-XN."""

    def load() -> tuple[date, list[PaymentView]]:
        from dataclasses import replace

        from app.services.operators import list_operators
        from app.services.payments import list_payments

        day = today()
        names = {op.username: op.full_name for op in list_operators(state.db)}
        rows = list_payments(state.db, day)
        return day, [replace(p, cashier=names.get(p.cashier, p.cashier)) for p in rows]

    return DbOp(parent, load)
