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
    from app.services.common import Actor
    from app.services.participants import ParticipantView
    from app.storage.db import Database

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_OFFLINE, EXIT_BUG = 0, 1, 2, 3, 70
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


def parse_money(text: str, field: str, label: str) -> int:
    from app.domain.money import parse_vnd

    return parse_vnd(text, field, label)


def day_arg(args: argparse.Namespace, *, default_days_ago: int = 0) -> date:
    """`--date` if given, else today (or `default_days_ago` days before)."""
    if args.date:
        return parse_day(args.date)
    return clock.today() - timedelta(days=default_days_ago)


# --- database and operator ---------------------------------------------------------------------

_opened: list[Database] = []


def open_db(args: argparse.Namespace) -> Database:
    """The database of `--db` (default: the user data folder), closed when the command ends."""
    from app.storage.db import open_database

    path = getattr(args, "db", None)
    db = open_database(Path(path) if path else None)
    _opened.append(db)
    return db


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
