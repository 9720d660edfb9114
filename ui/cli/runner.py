"""The `quaythu` parser, built from the area modules, and `main`: run one command, map what it
raised to an exit code, log one line per run (command, outcome, duration)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from app.errors import UserFacingError, ValidationError
from ui.cli.backup import register as backup_commands
from ui.cli.base import (
    EXIT_BUG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Area,
    CliExit,
    Commands,
    Handler,
    close_databases,
    dump_json,
    wants_json,
)
from ui.cli.counter import register as counter_commands
from ui.cli.daily import register as daily_commands
from ui.cli.households import register as household_commands
from ui.cli.notify import register as notify_commands
from ui.cli.operators import register as operator_commands
from ui.cli.participants import register as participant_commands
from ui.cli.payments import register as payment_commands
from ui.cli.reports import register as report_commands
from ui.cli.shift import register as shift_commands
from ui.cli.sync import register as sync_commands

log = logging.getLogger("quaythu.cli")

# The sub-commands, in `quaythu --help` order. A new area: a module with `register(commands)`
# (see ui/cli/base.py), imported and listed here.
AREAS: tuple[Area, ...] = (
    counter_commands,
    payment_commands,
    household_commands,
    shift_commands,
    report_commands,
    participant_commands,
    operator_commands,
    sync_commands,
    notify_commands,
    daily_commands,
    backup_commands,
)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="database file (default: the user data folder)",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    auth = argparse.ArgumentParser(add_help=False)
    auth.add_argument(
        "--user",
        default=argparse.SUPPRESS,
        help="operator user name (or $QUAYTHU_USER); password from $QUAYTHU_PASSWORD or a prompt",
    )
    parser = argparse.ArgumentParser(
        prog="quaythu",
        parents=[common],
        description="QuầyThu — thu BHXH tự nguyện, BHYT hộ gia đình tại quầy. "
        "Không có lệnh con: mở cửa sổ quầy thu.",
    )
    commands = Commands(parser.add_subparsers(dest="command", metavar="COMMAND"), common, auth)
    for register in AREAS:
        register(commands)
    return parser


def _error_payload(exc: UserFacingError) -> dict[str, dict[str, str | None]]:
    out: dict[str, str | None] = {"message": exc.message, "message_en": exc.message_en}
    if isinstance(exc, ValidationError):
        out["field"] = exc.field
    return {"error": out}


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _run(handler: Handler, args: argparse.Namespace) -> tuple[int, str]:
    """Run the command; (exit code, outcome for the log). Messages go to stdout/stderr."""
    try:
        try:
            code = handler(args)
        finally:
            close_databases()
        return code, "done"
    except CliExit as exc:
        if exc.payload is not None and wants_json(args):
            print(dump_json(exc.payload))
        elif exc.text:
            print(exc.text, file=sys.stderr)
        return exc.code, f"stopped: {_first_line(exc.text)}"
    except UserFacingError as exc:
        if wants_json(args):
            print(dump_json(_error_payload(exc), indent=None), file=sys.stderr)
        else:
            en = f"\n({exc.message_en})" if exc.message_en else ""
            print(f"Lỗi: {exc.message}{en}", file=sys.stderr)
        code = EXIT_USAGE if isinstance(exc, ValidationError) else EXIT_FAILED
        return code, f"refused: {exc.message_en or exc.message}"
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED, "interrupted"
    except Exception as exc:  # a bug or an environment failure: log it whole, say where
        from ui.logs import log_path

        log.exception("unexpected error in quaythu %s", args.command_name)
        print(f"Lỗi không mong muốn; chi tiết đã ghi vào {log_path()}", file=sys.stderr)
        return EXIT_BUG, f"unexpected {type(exc).__name__}"


def _no_display() -> str | None:
    """Why the window cannot open here, or None. On Linux Qt needs X11 or Wayland (or a platform
    named in QT_QPA_PLATFORM, e.g. offscreen); without one it aborts with a message about the
    xcb plugin that sends people looking for missing libraries."""
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY"):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "QuầyThu cần một phiên đồ họa (màn hình) để mở cửa sổ, nhưng ở đây không có "
        "(không thấy DISPLAY hay WAYLAND_DISPLAY). Hãy chạy trong phiên làm việc có màn hình, "
        "hoặc dùng các lệnh dòng lệnh: quaythu --help."
    )


def _window(db: str | None) -> int:
    """`quaythu` with no command: the counter window, if this session can show one."""
    reason = _no_display()
    if reason is not None:
        print(reason, file=sys.stderr)
        return EXIT_FAILED
    path = Path(db) if db else None
    if path is not None and not path.is_file() and not path.parent.is_dir():
        print(
            f"Không có thư mục {path.parent} cho cơ sở dữ liệu {path}: hãy kiểm tra --db "
            "(cửa sổ chỉ tạo cơ sở dữ liệu mới qua trình thiết lập, trong một thư mục có sẵn).",
            file=sys.stderr,
        )
        return EXIT_FAILED
    from ui.qt.app import run

    return run(path)


def main(argv: Sequence[str] | None = None) -> int:
    """`quaythu [COMMAND …]`; returns the exit code (see `ui/cli/__init__.py`)."""
    args = build_parser().parse_args(argv)
    handler: Handler | None = getattr(args, "func", None)
    if handler is None:
        return _window(getattr(args, "db", None))

    from ui.logs import setup_logging

    setup_logging()
    started = time.monotonic()
    code, outcome = _run(handler, args)
    level = {EXIT_OK: logging.INFO, EXIT_BUG: logging.ERROR}.get(code, logging.WARNING)
    log.log(
        level,
        "quaythu %s: exit %d, %s (%.2f s)",
        args.command_name,
        code,
        outcome,
        time.monotonic() - started,
    )
    return code
