"""`quaythu-central` — run the reference central server and administer it.

    quaythu-central serve --db central.sqlite3 --port 8700 [--host 127.0.0.1]
    quaythu-central make-enrollment-code --db central.sqlite3 [--label "Bưu điện Đồng Hỷ"]
    quaythu-central list-counters --db central.sqlite3 [--json]
    quaythu-central list-flags --db central.sqlite3 [--counter CODE] [--open] [--json]
    quaythu-central publish-rates rates.json --db central.sqlite3
    quaythu-central revoke-token COUNTER_ID --db central.sqlite3

`--database-url` (e.g. `postgresql+psycopg://user@host/quaythu`) replaces `--db` for PostgreSQL.
The server speaks plain HTTP; put it behind a TLS-terminating proxy in production (enrolment
sends the counter's signing key).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.errors import UserFacingError
from central import admin, auth, feeds
from central.errors import CentralError
from central.store import CentralStore, sqlite_url


def _store(args: argparse.Namespace) -> CentralStore:
    url = args.database_url or (sqlite_url(Path(args.db)) if args.db else None)
    if url is None:
        raise SystemExit("quaythu-central: give --db PATH or --database-url URL")
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return CentralStore(url)


def _print_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> None:
    if not rows:
        print("(không có)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from central.api import create_app

    store = _store(args)
    print(f"QuầyThu central: http://{args.host}:{args.port}/v1/health", flush=True)
    uvicorn.run(create_app(store), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_make_code(args: argparse.Namespace) -> int:
    code = auth.make_enrollment_code(
        _store(args), label=args.label or "", valid_hours=args.valid_hours
    )
    if args.json:
        print(json.dumps({"enrollment_code": code, "valid_hours": args.valid_hours}))
    else:
        print(code)
    return 0


def cmd_list_counters(args: argparse.Namespace) -> int:
    rows = admin.list_counters(_store(args))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _print_table(
            rows,
            ("id", "counter_code", "collection_point", "head_seq", "records", "open_flags"),
        )
    return 0


def cmd_list_flags(args: argparse.Namespace) -> int:
    rows = admin.list_flags(_store(args), counter=args.counter, include_resolved=not args.open)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _print_table(rows, ("id", "counter", "kind", "seq", "created_at", "resolved_at", "detail"))
    return 0


def cmd_publish_rates(args: argparse.Namespace) -> int:
    text = Path(args.file).read_text(encoding="utf-8")
    version, new = feeds.publish_rates(_store(args), text)
    payload = {"version": version, "published": new}
    if args.json:
        print(json.dumps(payload))
    else:
        print(
            f"Đã phát hành bảng mức đóng {version}."
            if new
            else f"Bảng mức đóng {version} đã được phát hành trước đó (không đổi)."
        )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    auth.revoke_token(_store(args), args.counter)
    print(f"Đã thu hồi mã truy cập của quầy {args.counter}; quầy phải đăng ký lại.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", help="SQLite database file of central")
    common.add_argument("--database-url", metavar="URL", help="SQLAlchemy URL (PostgreSQL)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = argparse.ArgumentParser(
        prog="quaythu-central", description="QuầyThu reference central collection server"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("serve", parents=[common], help="run the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8700)
    p.add_argument("--log-level", default="warning")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("make-enrollment-code", parents=[common], help="one-time enrolment code")
    p.add_argument("--label", help="what the code is for (counter, place)")
    p.add_argument("--valid-hours", type=int, default=auth.DEFAULT_CODE_VALID_HOURS)
    p.set_defaults(func=cmd_make_code)

    p = sub.add_parser("list-counters", parents=[common], help="enrolled counters")
    p.set_defaults(func=cmd_list_counters)

    p = sub.add_parser("list-flags", parents=[common], help="the auditor's view")
    p.add_argument("--counter", help="central id, counter code or counter id")
    p.add_argument("--open", action="store_true", help="unresolved flags only")
    p.set_defaults(func=cmd_list_flags)

    p = sub.add_parser("publish-rates", parents=[common], help="publish a rate table JSON file")
    p.add_argument("file")
    p.set_defaults(func=cmd_publish_rates)

    p = sub.add_parser("revoke-token", parents=[common], help="revoke a counter's API token")
    p.add_argument("counter", help="central counter id (QT-…)")
    p.set_defaults(func=cmd_revoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except (UserFacingError, CentralError) as exc:
        text = exc.message if isinstance(exc, UserFacingError) else exc.detail
        print(f"Lỗi: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
