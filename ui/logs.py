"""One logging set-up for the window and the command line.

Both send the `quaythu` loggers to the same file, `quaythu.log` in the user log folder
(platformdirs `user_log_dir("QuayThu")`, or $QUAYTHU_LOG_DIR), rotated at 1 MB to
`quaythu.log.1` … `quaythu.log.5`. Every line carries the process id, so the window's lines and
a scheduled `quaythu sync`'s lines can be told apart. Secrets are never logged.

Why a handler of our own rather than `logging.handlers.RotatingFileHandler`: the window and a
scheduled `quaythu sync`/`report` run at the same time and write the same file. The standard
handler keeps the file open and renames it when it is full; on Windows a file another process
holds open cannot be renamed, so the rollover fails in one process or the other, and two
processes rotating on their own would overwrite each other's backups. Per-process files would
avoid that, but would split one morning's story across many files (a sync every 15 minutes is
a hundred processes a day) and need a clean-up of their own. So `SharedRotatingFileHandler`
keeps no file open between records: for each record it takes an OS lock on a side file
(`quaythu.log.lock`, never renamed; `msvcrt.locking` on Windows, `flock` elsewhere), rotates if
the record would pass the size limit, appends the line and closes the file. While the lock is
held no other QuầyThu process has the log open, so the rename succeeds on Windows too, and the
lines of all processes interleave whole, in time order. A rename that still fails (a viewer
holding the file) only postpones the rotation; a lock that cannot be had within the OS's wait
(about 10 s on Windows) still writes the line, without rotating. The cost is an open and a close
per record: tens of microseconds, and we log a few lines per operation, not per row.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOG_FILE_NAME = "quaythu.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s [%(threadName)s] %(message)s"
LOGGER_NAME = "quaythu"

_handler: logging.Handler | None = None
_path: Path | None = None


def log_dir() -> Path:
    override = os.environ.get("QUAYTHU_LOG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("QuayThu", appauthor=False))


def log_path() -> Path:
    """The log file in use (or the one `setup_logging` would use)."""
    return _path or log_dir() / LOG_FILE_NAME


def _lock(fd: int) -> bool:
    """Block until this process holds the lock on `fd` (False if the OS gave up waiting)."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class SharedRotatingFileHandler(logging.Handler):
    """A size-rotated log file that several processes may write at once (see module docs)."""

    def __init__(
        self, path: Path, *, max_bytes: int = MAX_BYTES, backup_count: int = BACKUP_COUNT
    ) -> None:
        super().__init__()
        self.path = path
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self._lock_path = path.with_name(path.name + ".lock")
        self._lock_fd: int | None = None

    def _lock_file(self) -> int:
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._lock_fd

    def _should_roll(self, incoming: int) -> bool:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return False
        return self.max_bytes > 0 and size > 0 and size + incoming > self.max_bytes

    def _roll(self) -> None:
        try:
            for i in range(self.backup_count - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{i}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
            if self.backup_count > 0:
                os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
            else:
                self.path.unlink()
        except OSError:
            pass  # someone holds the file: keep appending, try again on the next record

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record) + "\n"
            fd = self._lock_file()
            locked = _lock(fd)
            try:
                if locked and self._should_roll(len(text.encode("utf-8"))):
                    self._roll()
                with open(self.path, "a", encoding="utf-8") as stream:
                    stream.write(text)
            finally:
                if locked:
                    _unlock(fd)
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self.acquire()
        try:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
        finally:
            self.release()
        super().close()


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the `quaythu` loggers to the shared rotating log file; returns its path.

    Idempotent; called again after $QUAYTHU_LOG_DIR changed, it moves to the new folder. When
    the folder cannot be created, warnings and errors go to stderr instead (never INFO lines:
    a `--json` caller reads stderr).
    """
    global _handler, _path
    path = log_dir() / LOG_FILE_NAME
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    if _handler is not None and _path == path:
        return path
    stop_logging()
    handler: logging.Handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = SharedRotatingFileHandler(path)
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    _handler, _path = handler, path
    return path


def stop_logging() -> None:
    """Detach and close the handler `setup_logging` installed (tests; a clean shutdown)."""
    global _handler, _path
    if _handler is not None:
        logging.getLogger(LOGGER_NAME).removeHandler(_handler)
        _handler.close()
    _handler, _path = None, None
