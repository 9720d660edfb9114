"""Errors reach people in their words; bugs reach the log with their traceback.

- `UserFacingError` (and its subclasses) carry a Vietnamese message that is shown as is.
- Anything else is a bug or an environment failure: it is logged with its traceback to a
  rotating log file in the user log folder (platformdirs `user_log_dir("QuayThu")`, or
  $QUAYTHU_LOG_DIR) and shown as a short generic message naming the log file.

`show_error(widget, exc)` shows the message next to where it happened: the nearest ancestor
that has a `show_message(text, kind)` method (the main window's message bar, a dialog's error
line), else a non-blocking message box. It never blocks the event loop.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from app.errors import UserFacingError
from ui.logs import log_path
from ui.logs import setup_logging as setup_logging  # the one set-up, shared with the CLI

log = logging.getLogger("quaythu.ui")


def is_user_facing(exc: BaseException) -> bool:
    return isinstance(exc, UserFacingError)


def log_if_unexpected(exc: BaseException) -> None:
    """Log a non-user-facing exception with its traceback (user-facing ones at INFO)."""
    if is_user_facing(exc):
        log.info("user-facing error: %s", getattr(exc, "message_en", None) or exc)
        return
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))


def message_for(exc: BaseException) -> str:
    """The Vietnamese text to show for `exc`."""
    if isinstance(exc, UserFacingError):
        return exc.message
    return (
        f"Đã xảy ra lỗi không mong muốn ({type(exc).__name__}). Thao tác chưa hoàn tất. "
        f"Chi tiết đã được ghi vào nhật ký: {log_path()}"
    )


def notify(widget: QObject | None, text: str, kind: str = "info") -> bool:
    """Show `text` in the nearest ancestor's message area; False when there is none."""
    target = widget
    while target is not None:
        sink = getattr(target, "show_message", None)
        if callable(sink):
            sink(text, kind)
            return True
        target = target.parent()
    return False


def show_error(widget: QObject | None, exc: BaseException) -> None:
    """Show `exc` near `widget` without blocking (see module docs)."""
    text = message_for(exc)
    kind = "error" if is_user_facing(exc) else "bug"
    if notify(widget, text, kind):
        return
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "QuầyThu",
        text,
        QMessageBox.StandardButton.Ok,
        widget if isinstance(widget, QWidget) else None,
    )
    from PySide6.QtCore import Qt

    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def install_excepthook() -> None:
    """Log and show exceptions that escape Qt callbacks instead of only printing them."""
    previous = sys.excepthook
    if getattr(previous, "quaythu", False):
        return  # already installed

    def hook(etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("uncaught exception", exc_info=(etype, value, tb))
        try:
            from PySide6.QtWidgets import QApplication

            active = QApplication.activeWindow()
            show_error(active, value)
        except Exception:  # pragma: no cover - last resort
            previous(etype, value, tb)

    hook.quaythu = True  # type: ignore[attr-defined]
    sys.excepthook = hook
