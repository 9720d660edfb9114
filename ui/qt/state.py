"""What the open window knows: the database, who is signed in, the counter, its settings.

`AppState` is the composition root's bag of shared things, passed to every screen. It also holds
the seams tests replace: `printer_for_receipt` (which QPrinter a receipt goes to; tests
print to a PDF file), `ask_save_path` (the save dialog; tests return a temp path) and
`sync_config` (None: the production `sync.config.SyncConfig()`; tests shorten its timings).
`sync` is the window's `ui.qt.sync_bridge.SyncBridge` (set by the main window).

Signals: `changed(OpChanges)` — the database changed; emitted only by `notify`, which ops call
when they succeed (`ui/qt/changes.py`). `actor_changed`, `counter_changed` and
`settings_changed` carry the new value when the window's own copy of it is replaced.

Only the GUI thread changes it; ops capture what they need when they are built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from app.services.common import Actor
    from app.services.counter import CounterView
    from app.services.settings import CounterSettings
    from app.storage.db import Database
    from sync.config import SyncConfig
    from ui.qt.changes import OpChanges
    from ui.qt.sync_bridge import SyncBridge


def _ask_save_path(parent: QWidget, title: str, suggested: str, name_filter: str) -> Path | None:
    chosen, _ = QFileDialog.getSaveFileName(parent, title, suggested, name_filter)
    return Path(chosen) if chosen else None


class AppState(QObject):
    actor_changed = Signal(object)  # Actor | None
    counter_changed = Signal(object)  # CounterView
    settings_changed = Signal(object)  # CounterSettings
    changed = Signal(object)  # OpChanges

    def __init__(self, db_path: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self._db: Database | None = None
        self.actor: Actor | None = None
        self.counter: CounterView | None = None
        self._settings: CounterSettings | None = None
        # Seams (see module docs). printer_for_receipt returns None → ask with QPrintDialog.
        self.printer_for_receipt: Callable[[QWidget], QPrinter | None] = _configured_printer(self)
        self.ask_save_path: Callable[[QWidget, str, str, str], Path | None] = _ask_save_path
        self.sync_config: SyncConfig | None = None
        self.sync: SyncBridge | None = None
        self.extra: dict[str, Any] = {}

    @property
    def db(self) -> Database:
        if self._db is None:
            from app.errors import UserFacingError

            raise UserFacingError(
                "Cơ sở dữ liệu chưa mở được; xem thông báo lỗi khi khởi động.",
                message_en="database is not open",
            )
        return self._db

    @property
    def db_ready(self) -> bool:
        return self._db is not None

    def set_db(self, db: Database) -> None:
        """Called on the database thread right after opening, so later ops find it at once."""
        self._db = db

    @property
    def settings(self) -> CounterSettings:
        if self._settings is None:
            from app.services.settings import DEFAULTS

            return DEFAULTS
        return self._settings

    def notify(self, changes: OpChanges) -> None:
        """The one place that announces what an op changed (see `ui.qt.ops.Op.changes`)."""
        self.changed.emit(changes)

    def set_settings(self, settings: CounterSettings) -> None:
        self._settings = settings
        self.settings_changed.emit(settings)

    def set_counter(self, counter: CounterView) -> None:
        self.counter = counter
        self.counter_changed.emit(counter)

    def set_actor(self, actor: Actor | None) -> None:
        self.actor = actor
        self.actor_changed.emit(actor)

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise RuntimeError("no operator signed in")
        return self.actor


def _configured_printer(state: AppState) -> Callable[[QWidget], QPrinter | None]:
    def make(_parent: QWidget) -> QPrinter | None:
        name = state.settings.printer_name
        if not name:
            return None
        from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

        info = QPrinterInfo.printerInfo(name)
        if info.isNull():
            return None  # configured printer is gone: fall back to the dialog
        return QPrinter(info, QPrinter.PrinterMode.HighResolution)

    return make
