"""`quaythu-central` — run the reference central server and administer it.

    quaythu-central serve --db central.sqlite3 --port 8700 [--host 127.0.0.1] [--name NAME]
    quaythu-central make-enrollment-code --db central.sqlite3 --organisation ORG \
        --collection-point POINT --counter-code CODE [--valid-hours 72] [--label TEXT]
    quaythu-central identity --db central.sqlite3
    quaythu-central make-master-key [--output FILE]
    quaythu-central rotate-master-key --db central.sqlite3
    quaythu-central list-counters --db central.sqlite3 [--json]
    quaythu-central list-flags --db central.sqlite3 [--counter CODE] [--open] [--json]
    quaythu-central publish-rates rates.json --db central.sqlite3
    quaythu-central revoke-token COUNTER_ID --db central.sqlite3
    quaythu-central list-moves --db central.sqlite3 [--pending] [--json]
    quaythu-central approve-move COUNTER --by NAME --db central.sqlite3
    quaythu-central refuse-move COUNTER --by NAME --reason TEXT --db central.sqlite3

`--database-url` (e.g. `postgresql+psycopg://user@host/quaythu`) replaces `--db` for PostgreSQL.
The server speaks plain HTTP; put it behind a TLS-terminating proxy in production (enrolment
sends the counter's signing key). Counters' keys are sealed under the master key
(`central.masterkey`: `QUAYTHU_CENTRAL_MASTER_KEY[_FILE]`, rotation in docs/SECURITY.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.errors import UserFacingError
from central import admin, auth, feeds, keys, masterkey, moves
from central.errors import CentralError
from central.masterkey import MasterKeyError
from central.store import CentralStore, sqlite_url

ENV_NAME = "QUAYTHU_CENTRAL_NAME"


def _store(args: argparse.Namespace) -> CentralStore:
    url = args.database_url or (sqlite_url(Path(args.db)) if args.db else None)
    if url is None:
        raise SystemExit("quaythu-central: give --db PATH or --database-url URL")
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return CentralStore(url, name=getattr(args, "name", None) or os.environ.get(ENV_NAME, ""))


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

    from central.api import ENV_DATABASE_URL, create_app

    store = _store(args)  # migrates the schema and seals plain keys, once, before any worker
    ident = auth.identity(store)
    print(f"QuầyThu central: http://{args.host}:{args.port}/v1/health", flush=True)
    print(f"{ident['name']} — dấu nhận dạng {ident['fingerprint']}", flush=True)
    common = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "proxy_headers": bool(args.forwarded_allow_ips),
        "forwarded_allow_ips": args.forwarded_allow_ips or None,
    }
    if args.workers == 1:
        uvicorn.run(create_app(store), **common)
        return 0
    os.environ[ENV_DATABASE_URL] = store.url
    os.environ[ENV_NAME] = store.name
    store.close()
    uvicorn.run("central.api:app_from_environment", factory=True, workers=args.workers, **common)
    return 0


def cmd_make_code(args: argparse.Namespace) -> int:
    store = _store(args)
    code = auth.make_enrollment_code(
        store,
        organisation=args.organisation,
        collection_point=args.collection_point,
        counter_code=args.counter_code,
        label=args.label or "",
        valid_hours=args.valid_hours,
    )
    fingerprint = auth.identity(store)["fingerprint"]
    if args.json:
        print(
            json.dumps(
                {
                    "enrollment_code": code,
                    "valid_hours": args.valid_hours,
                    "central_fingerprint": fingerprint,
                }
            )
        )
    else:
        print(code)
        print(
            f"Chỉ dùng cho quầy {args.counter_code} — {args.collection_point} "
            f"({args.organisation}), trong {args.valid_hours} giờ. "
            f"Dấu nhận dạng máy chủ: {fingerprint}",
            file=sys.stderr,
        )
    return 0


def cmd_identity(args: argparse.Namespace) -> int:
    ident = auth.identity(_store(args))
    if args.json:
        print(json.dumps(ident, ensure_ascii=False))
    else:
        print(f"{ident['name']}\n{ident['fingerprint']}")
    return 0


def cmd_make_master_key(args: argparse.Namespace) -> int:
    text = masterkey.new_key_text()
    if args.output:
        masterkey.write_key_file(Path(args.output), text)
        print(f"Đã ghi khóa chủ mới vào {args.output} (chỉ chủ sở hữu đọc được).")
    else:
        print(text)
    return 0


def cmd_rotate_master_key(args: argparse.Namespace) -> int:
    total, resealed = keys.rotate(_store(args))
    if args.json:
        print(json.dumps({"counters": total, "resealed": resealed}))
    else:
        print(f"Đã mã hóa lại khóa của {resealed}/{total} quầy bằng khóa chủ hiện hành.")
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


def cmd_list_moves(args: argparse.Namespace) -> int:
    rows = moves.list_moves(_store(args), pending_only=args.pending)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _print_table(
            rows,
            (
                "counter",
                "counter_code",
                "from_seq",
                "central_head_seq",
                "fingerprint",
                "status",
                "requested_at",
                "detail",
            ),
        )
    return 0


def cmd_approve_move(args: argparse.Namespace) -> int:
    row = moves.approve_move(_store(args), args.counter, by=args.by)
    if args.json:
        print(json.dumps(row, ensure_ascii=False))
    else:
        print(
            f"Đã duyệt khóa ký mới của quầy {row['counter_code']} ({row['counter']}), dấu khóa "
            f"{row['fingerprint']}, từ bản ghi số {row['from_seq']}."
        )
    return 0


def cmd_refuse_move(args: argparse.Namespace) -> int:
    row = moves.refuse_move(_store(args), args.counter, by=args.by, reason=args.reason)
    if args.json:
        print(json.dumps(row, ensure_ascii=False))
    else:
        print(f"Đã từ chối khóa ký mới của quầy {row['counter_code']} ({row['counter']}).")
    return 0


def _add_move_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "list-moves", parents=[common], help="counters moved to a new PC: their new keys"
    )
    p.add_argument("--pending", action="store_true", help="waiting for approval only")
    p.set_defaults(func=cmd_list_moves)

    p = sub.add_parser(
        "approve-move", parents=[common], help="approve a moved counter's new signing key"
    )
    p.add_argument("counter", help="central id, counter code or counter id")
    p.add_argument("--by", required=True, help="who approves (kept with the decision)")
    p.set_defaults(func=cmd_approve_move)

    p = sub.add_parser(
        "refuse-move", parents=[common], help="refuse a moved counter's new signing key"
    )
    p.add_argument("counter", help="central id, counter code or counter id")
    p.add_argument("--by", required=True, help="who refuses")
    p.add_argument("--reason", required=True, help="why (kept with the decision)")
    p.set_defaults(func=cmd_refuse_move)


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
    p.add_argument("--name", help=f"name shown to enrolling counters (or ${ENV_NAME})")
    p.add_argument("--workers", type=int, default=1, help="API worker processes (default 1)")
    p.add_argument(
        "--forwarded-allow-ips",
        help="behind a reverse proxy: its addresses (trust its X-Forwarded-For)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "make-enrollment-code", parents=[common], help="one-time enrolment code for one counter"
    )
    p.add_argument("--organisation", required=True, help="the counter's organisation")
    p.add_argument("--collection-point", required=True, help="the counter's collection point")
    p.add_argument("--counter-code", required=True, help="the counter's code")
    p.add_argument("--label", help="a note for the administrator")
    p.add_argument(
        "--valid-hours",
        type=int,
        default=auth.DEFAULT_CODE_VALID_HOURS,
        help=f"1 to {auth.MAX_CODE_VALID_HOURS} (default {auth.DEFAULT_CODE_VALID_HOURS})",
    )
    p.set_defaults(func=cmd_make_code)

    p = sub.add_parser("identity", parents=[common], help="name and fingerprint of this central")
    p.set_defaults(func=cmd_identity)

    p = sub.add_parser("make-master-key", parents=[common], help="a new random master key")
    p.add_argument("--output", help="write it to this new file (mode 0600) instead of stdout")
    p.set_defaults(func=cmd_make_master_key)

    p = sub.add_parser(
        "rotate-master-key",
        parents=[common],
        help="re-seal every counter key under the current master key",
    )
    p.set_defaults(func=cmd_rotate_master_key)

    p = sub.add_parser("list-counters", parents=[common], help="enrolled counters")
    p.set_defaults(func=cmd_list_counters)

    p = sub.add_parser("list-flags", parents=[common], help="the auditor's view")
    p.add_argument("--counter", help="central id, counter code or counter id")
    p.add_argument("--open", action="store_true", help="unresolved flags only")
    p.set_defaults(func=cmd_list_flags)

    p = sub.add_parser("publish-rates", parents=[common], help="publish a rate table JSON file")
    p.add_argument("file")
    p.set_defaults(func=cmd_publish_rates)

    _add_move_commands(sub, common)

    p = sub.add_parser("revoke-token", parents=[common], help="revoke a counter's API token")
    p.add_argument("counter", help="central counter id (QT-…)")
    p.set_defaults(func=cmd_revoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except (UserFacingError, CentralError, MasterKeyError) as exc:
        if isinstance(exc, UserFacingError):
            text = exc.message
        else:
            text = exc.detail if isinstance(exc, CentralError) else str(exc)
        print(f"Lỗi: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
