"""Backups from the window: the day's backup after sign-in, and the folder chosen in Settings.

The copy and its verify read the database file through their own SQLite connections and write
files, so they run on the I/O pool (like enrolment): a large copy never holds up a payment on the
database thread; the one short write (the result) waits for SQLite's lock like any writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ui.qt.changes import OpChanges
from ui.qt.ops import DbOp, IoOp, Op

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from app.services.backup import BackupResult, BackupStatus
    from ui.qt.state import AppState

SETTINGS = OpChanges(settings=True)


def daily(parent: QObject, state: AppState) -> Op[BackupResult]:
    def run() -> BackupResult:
        from app.services.backup import run_daily_backup

        return run_daily_backup(state.db)

    return IoOp(parent, run)


def status(parent: QObject, state: AppState) -> Op[BackupStatus]:
    def run() -> BackupStatus:
        from app.services.backup import backup_status

        return backup_status(state.db)

    return DbOp(parent, run)


def choose_folder(parent: QObject, state: AppState, folder: str) -> Op[Path]:
    actor = state.require_actor()

    def run() -> Path:
        from app.services.backup import set_backup_folder

        return set_backup_folder(state.db, Path(folder), by=actor)

    return IoOp(parent, run).changes(state, SETTINGS)
