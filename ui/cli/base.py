"""Plumbing every `quaythu` area module shares: exit codes, output, arguments, database, login.

An area module (`ui/cli/payments.py`, …) defines `register(commands: Commands)` and adds its
sub-commands through `Commands.add` (or `Commands.group(...).add` for `quaythu NOUN VERB`).
A command is a function `(args) -> exit code`; it prints its result with `emit` and refuses by
raising `UserFacingError` (exit 1, or 2 for `ValidationError`) or `CliExit` (any code, with a
payload for `--json`). The runner (`ui/cli/runner.py`) maps exceptions to exit codes, writes
the per-run log line and closes the databases a command opened.

Heavy modules (SQLAlchemy, services, printing, sync) are imported inside the commands, so
`quaythu --help` and the window's start-up do not pay for them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from app.domain import clock, dates
from app.errors import ValidationError

if TYPE_CHECKING:
    from app.domain.documents import Xn01Report
    from app.services.common import Actor
    from app.services.participants import ParticipantView
    from app.storage.db import Database

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_OFFLINE, EXIT_BUG = 0, 1, 2, 3, 70
EXIT_REJECTED = 4  # `quaythu sync`: central refused a record (parked for a supervisor)
EXIT_INTERRUPTED = 130

Json: TypeAlias = "bool | int | float | str | list[Json] | dict[str, Json] | None"
Handler: TypeAlias = Callable[[argparse.Namespace], int]


class CliExit(Exception):
    """Stop a command with `code`; `payload` is printed on stdout with `--json`, else `text`
    on stderr."""

    def __init__(self, code: int, payload: object = None, text: str = "") -> None:
        super().__init__(text)
        self.code, self.payload, self.text = code, payload, text


# --- output ------------------------------------------------------------------------------------


def jsonable(value: object) -> Json:
    """`value` as JSON values: dataclasses → objects, enums → their value, dates → ISO text,
    durations → seconds, paths → text. Anything else is a bug (TypeError)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(payload: object, *, indent: int | None = 2) -> str:
    return json.dumps(jsonable(payload), ensure_ascii=False, indent=indent)


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def emit(args: argparse.Namespace, payload: object, text: str) -> None:
    """The command's result on stdout: `payload` as JSON with `--json`, else `text`."""
    print(dump_json(payload) if wants_json(args) else text)


# --- argument helpers --------------------------------------------------------------------------


def parse_day(text: str) -> date:
    return dates.parse_day(text)


def parse_month(text: str) -> date:
    return dates.parse_month(text)


MAX_MONEY = 10**12  # 1.000 tỷ đồng: far above any payment, far below SQLite's 64-bit limit


def parse_money(text: str, field: str, label: str) -> int:
    from app.domain.money import parse_vnd

    value = parse_vnd(text, field, label)
    if value > MAX_MONEY:
        raise ValidationError(
            field, label, "lớn quá mức cho phép (1.000 tỷ đồng)", rule_en="absurdly large"
        )
    return value


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type`: a whole number from `low` to `high`, else a usage error (exit 2)
    saying so in Vietnamese — never an overflow deep in the database."""

    def convert(text: str) -> int:
        value = text.strip()
        if not value.lstrip("-").isdigit() or len(value) > 12 or not low <= int(value) <= high:
            raise argparse.ArgumentTypeError(
                f"“{text[:20]}” không hợp lệ: phải là số nguyên từ {low} đến {high}"
            )
        return int(value)

    return convert


def seconds_in(low: float, high: float) -> Callable[[str], float]:
    """An argparse `type`: a number of seconds in (`low`, `high`]."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low < value <= high:  # NaN fails both comparisons
            raise argparse.ArgumentTypeError(
                f"“{text[:20]}” không hợp lệ: phải là số giây lớn hơn {low:g}, tối đa {high:g}"
            )
        return value

    return convert


def day_arg(args: argparse.Namespace, *, default_days_ago: int = 0) -> date:
    """`--date` if given, else today (or `default_days_ago` days before)."""
    if args.date:
        return parse_day(args.date)
    return clock.today() - timedelta(days=default_days_ago)


# --- Mẫu 01-XN files ---------------------------------------------------------------------------


def report_name(report: Xn01Report, fmt: str) -> str:
    """`01-XN_<counter>_<YYYY-MM-DD>.<fmt>` — the file name `report` and `daily` write."""
    return f"01-XN_{report.counter_code}_{report.business_date:%Y-%m-%d}.{fmt}"


def xn01_renderer(fmt: str) -> Callable[[Xn01Report], bytes]:
    from printing.xn01 import render_xn01_csv, render_xn01_pdf, render_xn01_xlsx

    renderers: dict[str, Callable[[Xn01Report], bytes]] = {
        "pdf": render_xn01_pdf,
        "xlsx": render_xn01_xlsx,
        "csv": render_xn01_csv,
    }
    return renderers[fmt]


# --- database and operator ---------------------------------------------------------------------

_opened: list[Database] = []


def db_path(args: argparse.Namespace) -> Path:
    """The database file `--db` names, or the default one in the user data folder."""
    from app.storage.db import default_db_path

    path = getattr(args, "db", None)
    return Path(path) if path else default_db_path()


def open_db(args: argparse.Namespace, *, create: bool = False) -> Database:
    """The database of `--db` (default: the user data folder), closed when the command ends.

    Only `init` (and the window's setup wizard) creates a database: for every other command a
    missing file is a mistyped `--db` or a counter not set up yet — refused, never an empty
    database made on the spot (nor its folders)."""
    from app.storage.db import open_database

    path = db_path(args)
    if not create and not path.is_file():
        from app.errors import NotFoundError

        raise NotFoundError(
            f"Quầy chưa được khởi tạo ở {path}: không có tệp cơ sở dữ liệu. Hãy kiểm tra --db, "
            "hoặc thiết lập quầy bằng `quaythu init` (hay trình thiết lập trong cửa sổ).",
            message_en=f"no database at {path}: check --db or run `quaythu init`",
        )
    db = open_database(path)
    _opened.append(db)
    return db


def user_named(args: argparse.Namespace) -> bool:
    """Whether an operator was named (`--user` or $QUAYTHU_USER)."""
    return bool(getattr(args, "user", None) or os.environ.get("QUAYTHU_USER"))


def close_databases() -> None:
    """Close what `open_db` opened (the runner calls this after every command)."""
    while _opened:
        _opened.pop().close()


def secret_from_env(variable: str, prompt: str) -> str:
    """$`variable` when set and not empty, else a hidden prompt."""
    return os.environ.get(variable) or getpass.getpass(prompt)


def login(args: argparse.Namespace, db: Database) -> Actor:
    """The operator of `--user` / $QUAYTHU_USER, authenticated with $QUAYTHU_PASSWORD or a
    prompt (refused when not interactive). A password that must be changed first (first
    sign-in, reset, expired) refuses every command but `operator passwd`; one about to expire
    prints a warning on stderr."""
    from app.errors import UserFacingError
    from app.services.operators import sign_in

    user = getattr(args, "user", None) or os.environ.get("QUAYTHU_USER")
    if not user:
        raise ValidationError(
            "user",
            "Người dùng",
            "hãy cho biết bằng --user hoặc biến QUAYTHU_USER",
            rule_en="pass --user or set QUAYTHU_USER",
        )
    password = os.environ.get("QUAYTHU_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise ValidationError(
                "password",
                "Mật khẩu",
                "hãy đặt biến QUAYTHU_PASSWORD khi chạy không tương tác",
                rule_en="set QUAYTHU_PASSWORD when not interactive",
            )
        password = getpass.getpass(f"Mật khẩu của {user}: ")
    signed = sign_in(db, str(user), password)
    reason = signed.change_required
    if reason is not None:
        raise UserFacingError(
            f"{reason.message} Chạy: quaythu operator passwd --user {user}",
            message_en=f"password change required ({reason.value}): run `quaythu operator passwd`",
        )
    if signed.password.warning:
        print(signed.password.warning, file=sys.stderr)
    return signed.actor


def find_participant(db: Database, ref: str) -> ParticipantView:
    """A participant by mã số BHXH, CCCD or internal id."""
    from app.errors import NotFoundError
    from app.services.participants import find_by_identifier, get_participant

    ref = ref.strip()
    if ref.isdigit():
        found = find_by_identifier(db, ref)
        if found is None:
            raise NotFoundError(
                f"Không tìm thấy người tham gia có mã số BHXH/CCCD {ref}.",
                message_en=f"no participant with code {ref}",
            )
        return found
    return get_participant(db, ref)


# --- registration ------------------------------------------------------------------------------


class Commands:
    """Where area modules add sub-commands; every one gets `--db` and `--json`, and `--user`
    when it acts as an operator. `group` makes `quaythu NOUN VERB` commands."""

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
        common: argparse.ArgumentParser,
        auth: argparse.ArgumentParser,
        prefix: str = "",
    ) -> None:
        self._sub, self._common, self._auth, self._prefix = subparsers, common, auth, prefix

    def add(
        self, name: str, handler: Handler, help_: str, *, needs_user: bool = False
    ) -> argparse.ArgumentParser:
        parents = [self._common, self._auth] if needs_user else [self._common]
        parser = self._sub.add_parser(name, parents=parents, help=help_, description=help_)
        parser.set_defaults(func=handler, command_name=self._prefix + name)
        return parser

    def group(self, name: str, help_: str) -> Commands:
        parser = self._sub.add_parser(name, help=help_)
        sub = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)
        return Commands(sub, self._common, self._auth, prefix=f"{self._prefix}{name} ")


Area: TypeAlias = Callable[[Commands], None]
