"""The counter itself: opening its database, the first set-up, settings, the rate table's age."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.services.common import Actor
    from app.services.counter import CounterView
    from app.services.rates import RateNotice, RateStatus
    from app.services.settings import CounterSettings
    from ui.qt.state import AppState

SET_UP = OpChanges(settings=True, operators=True)
SAVED = OpChanges(settings=True)


@dataclass(frozen=True)
class Opened:
    """What the window needs once the database is open."""

    initialised: bool
    counter: CounterView | None  # None until the set-up wizard has run
    settings: CounterSettings


def open_database(parent: QObject, state: AppState, path: Path) -> Op[Opened]:
    """Open (and migrate) the database on the database thread and hand it to `state` there, so
    the ops queued behind this one find it at once."""

    def open_db() -> Opened:
        # Importing SQLAlchemy and Alembic and checking the migrations is ~0.5 s of Python
        # that holds the GIL in long stretches; a shorter switch interval meanwhile lets the
        # GUI thread in promptly, so the login screen stays responsive while this runs.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, 0.0005))
        try:
            from app.services.counter import get_counter, is_initialised
            from app.services.settings import load_settings
            from app.storage.db import open_database as open_counter_db

            db = open_counter_db(path)
        finally:
            sys.setswitchinterval(interval)
        state.set_db(db)
        initialised = is_initialised(db)
        return Opened(initialised, get_counter(db) if initialised else None, load_settings(db))

    return DbOp(parent, open_db)


@dataclass(frozen=True)
class CounterSetUp:
    """The set-up wizard's answers (`app.services.counter.init_counter`)."""

    organisation: str
    collection_point: str
    counter_code: str
    receipt_series: str | None
    admin_username: str
    admin_full_name: str
    admin_password: str
    central_url: str | None


def set_up(
    parent: QObject, state: AppState, answers: CounterSetUp
) -> Op[tuple[CounterView, Actor]]:
    """The first start: the counter, its signing key and its first administrator."""

    def init() -> tuple[CounterView, Actor]:
        from app.services.counter import init_counter

        return init_counter(
            state.db,
            organisation=answers.organisation,
            collection_point=answers.collection_point,
            counter_code=answers.counter_code,
            receipt_series=answers.receipt_series,
            admin_username=answers.admin_username,
            admin_full_name=answers.admin_full_name,
            admin_password=answers.admin_password,
            central_url=answers.central_url,
        )

    return DbOp(parent, init).changes(state, SET_UP)


def save_settings(
    parent: QObject,
    state: AppState,
    settings: CounterSettings,
    *,
    organisation: str,
    collection_point: str,
) -> Op[tuple[CounterSettings, CounterView]]:
    """Store the settings and the counter's details; the result is both as stored."""
    actor = state.require_actor()

    def store() -> tuple[CounterSettings, CounterView]:
        from app.services.counter import update_counter_details
        from app.services.settings import save_settings as save

        saved = save(state.db, settings, by=actor)
        counter = update_counter_details(
            state.db, organisation=organisation, collection_point=collection_point, by=actor
        )
        return saved, counter

    return DbOp(parent, store).changes(state, SAVED)


def reload_counter(parent: QObject, state: AppState) -> Op[CounterView]:
    def load() -> CounterView:
        from app.services.counter import get_counter

        return get_counter(state.db)

    return DbOp(parent, load)


def rate_status(parent: QObject, state: AppState) -> Op[RateStatus]:
    """Whether the rate table in force is old enough to warn about."""

    def check() -> RateStatus:
        from app.domain.clock import today
        from app.services.rates import current_rate_table
        from app.services.rates import rate_status as status

        return status(current_rate_table(state.db), today())

    return DbOp(parent, check)


def rate_notice(parent: QObject, state: AppState) -> Op[RateNotice]:
    """What the status bar says about the rate table (nothing unless a newer one is due)."""

    def check() -> RateNotice:
        from app.domain.clock import today
        from app.services.rates import rate_notice as notice

        return notice(state.db, today())

    return DbOp(parent, check)


def acknowledge_rates(parent: QObject, state: AppState, version: str) -> Op[None]:
    actor = state.require_actor()

    def store() -> None:
        from app.services.rates import acknowledge_rate_notice

        acknowledge_rate_notice(state.db, version, by=actor)

    return DbOp(parent, store).changes(state, SAVED)
