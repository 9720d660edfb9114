"""Sync with central: `quaythu enroll | sync | reconcile | sync-status`.

Exit codes: 0 done; 1 refused or a reconciliation mismatch; 2 usage; 3 offline / sync failed
(including "another sync is running", "not enrolled" and "needs re-enrolment" — each with its
own message), and only for records that were waiting when the run started; 4 central refused
a record (fork, tampered, invalid): parked for a supervisor, so `sync && report` stops.
`quaythu sync` is meant for Task Scheduler / cron: it runs one pass and honours
the same database lease as the window, so the two never sync at the same time.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import asdict, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import ValidationError
from ui.cli.base import (
    EXIT_FAILED,
    EXIT_OFFLINE,
    EXIT_OK,
    EXIT_REJECTED,
    CliExit,
    Commands,
    day_arg,
    emit,
    int_in,
    login,
    open_db,
    seconds_in,
)

if TYPE_CHECKING:
    from app.services.reconcile import ReconciliationView
    from app.storage.db import Database
    from sync.config import SyncConfig
    from sync.events import SyncReport


def _run_payload(run: ReconciliationView) -> dict[str, object]:
    """A reconciliation run as JSON-friendly values (timedelta → seconds)."""
    payload: dict[str, object] = asdict(run)
    tolerance = payload.pop("tolerance")
    assert isinstance(tolerance, timedelta)
    payload["tolerance_seconds"] = int(tolerance.total_seconds())
    payload["ok"] = run.ok
    return payload


def _config(args: argparse.Namespace) -> SyncConfig:
    from sync.config import SyncConfig

    config = SyncConfig()
    if getattr(args, "attempts", None):
        config = replace(config, retry=replace(config.retry, attempts=args.attempts))
    if getattr(args, "batch_size", None):
        config = replace(config, batch_size=args.batch_size)
    if getattr(args, "timeout", None):
        config = replace(config, read_timeout=args.timeout)
    return config


def _sync_failure(exc: Exception) -> CliExit:
    from sync.engine import failure_of

    failure = failure_of(exc)
    payload = {"error": {"kind": failure.kind, "message": failure.message}}
    return CliExit(EXIT_OFFLINE, payload, f"Lỗi đồng bộ: {failure.message}")


def _enrollment_code(args: argparse.Namespace) -> str:
    """The code from stdin (`--code-stdin`), `--code` (with a warning), or a hidden prompt."""
    if args.code_stdin:
        return sys.stdin.readline().strip()
    if args.code:
        print(
            "Cảnh báo: --code hiện trong danh sách tiến trình của máy; nên dùng --code-stdin "
            "hoặc nhập khi được hỏi.",
            file=sys.stderr,
        )
        return str(args.code)
    if not sys.stdin.isatty():
        raise ValidationError(
            "code",
            "Mã đăng ký",
            "hãy đưa vào qua --code-stdin khi chạy không tương tác",
            rule_en="pass --code-stdin when not interactive",
        )
    return getpass.getpass("Mã đăng ký (do quản trị trung tâm cấp): ")


def _server_identity(url: str, timeout: float) -> str:
    """Who answers at `url`, shown before the signing key is sent: address, and for HTTPS the
    certificate's subject and SHA-256 fingerprint; the server's API version and clock."""
    import hashlib
    import socket
    import ssl
    from urllib.parse import urlparse

    import requests

    parsed = urlparse(url)
    host, port = parsed.hostname or "", parsed.port or (443 if parsed.scheme == "https" else 80)
    lines = [f"Máy chủ trung tâm: {host}:{port} ({parsed.scheme})"]
    if parsed.scheme == "https":
        context = ssl.create_default_context()
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True) or b""
            cert = tls.getpeercert() or {}
        subject = ", ".join(
            f"{pair[0]}={pair[1]}" for rdn in cert.get("subject", ()) for pair in rdn
        )
        digest = hashlib.sha256(der).hexdigest().upper()
        lines.append(f"  Chứng chỉ: {subject or '(không rõ)'}")
        lines.append(
            f"  Dấu vân tay SHA-256: {':'.join(digest[i : i + 2] for i in range(0, 64, 2))}"
        )
    health = requests.get(f"{url}/health", timeout=timeout).json()
    lines.append(
        f"  Phiên bản API: {health.get('api_version')}, giờ máy chủ: {health.get('server_time')}"
    )
    return "\n".join(lines)


def cmd_enroll(args: argparse.Namespace) -> int:
    """Enrol this counter: an admin of the counter signs in, the server is shown, then the code
    and the counter's signing key go to central (plain HTTP only to this machine)."""
    import requests

    from app.domain.types import Role
    from sync.enroll import check_server_url, enroll_counter
    from sync.errors import SyncError

    db = open_db(args)
    admin = login(args, db)
    admin.require(Role.ADMIN, action="đăng ký quầy với trung tâm")
    url = check_server_url(args.server)
    code = _enrollment_code(args)
    config = _config(args)
    try:
        identity = _server_identity(
            url, config.connect_timeout if not args.timeout else args.timeout
        )
    except (OSError, requests.RequestException, ValueError) as exc:
        raise CliExit(
            EXIT_OFFLINE,
            {"error": {"kind": "offline", "message": str(exc)}},
            f"Lỗi đồng bộ: không kết nối được tới {url} để xác minh máy chủ ({exc}).",
        ) from exc
    print(identity, file=sys.stderr)
    if sys.stdin.isatty() and not args.code_stdin and not args.yes:
        answer = input("Gửi khóa ký của quầy tới máy chủ này? [c/K] ").strip().lower()
        if answer not in ("c", "co", "có", "y", "yes"):
            raise CliExit(EXIT_FAILED, {"error": "cancelled"}, "Đã hủy đăng ký.")
    try:
        result = enroll_counter(db, url, code, config=config)
    except SyncError as exc:
        raise _sync_failure(exc) from exc
    pending = (
        " Khóa ký mới (chuyển máy) đang chờ quản trị trung tâm duyệt: các bản ghi ký bằng khóa "
        "mới sẽ được gửi sau khi duyệt."
        if result.key_pending
        else ""
    )
    emit(
        args,
        {
            "central_url": result.central_url,
            "central_counter_id": result.central_counter_id,
            "key_pending": result.key_pending,
        },
        f"Đã đăng ký quầy với trung tâm {result.central_url} "
        f"(mã quầy tại trung tâm: {result.central_counter_id}). "
        "Mã truy cập đã lưu trong keyring." + pending,
    )
    return EXIT_OK


def _sync_lines(report: SyncReport) -> list[str]:
    lines = [
        f"Đồng bộ xong: gửi {report.accepted} bản ghi mới, {report.duplicate} đã có ở trung tâm, "
        f"{report.rejected} bị từ chối trong {report.batches} lô."
    ]
    if report.rates_installed:
        lines.append("Đã cài bảng mức đóng mới: " + ", ".join(report.rates_installed))
    if report.codes_assigned:
        lines.append(f"Đã nhận mã số BHXH mới cho {report.codes_assigned} người tham gia.")
    if report.reconciled_day is not None:
        lines.append(
            f"Đối chiếu Mẫu 01-XN ngày {report.reconciled_day:%d/%m/%Y}: "
            + ("khớp." if report.reconciliation_ok else "CÓ CHÊNH LỆCH — xem `quaythu reconcile`.")
        )
    if report.rejected_total:
        lines.append(
            f"Có {report.rejected_total} bản ghi bị trung tâm từ chối, đang chờ giám sát xem "
            "(`quaythu sync-status`)."
        )
    lines.extend(f"Cảnh báo: {w}" for w in report.warnings)
    if report.pending:
        lines.append(f"Còn {report.pending} bản ghi chưa gửi được.")
    return lines


def cmd_sync(args: argparse.Namespace) -> int:
    from sync.engine import Syncer
    from sync.errors import SyncError

    db = open_db(args)
    before = _last_outbox_seq(db)
    syncer = Syncer(db, config=_config(args), purpose="cli")
    try:
        report = syncer.run("cli")
    except SyncError as exc:
        raise _sync_failure(exc) from exc
    text = "\n".join(_sync_lines(report))
    if report.rejected or report.rejected_total:
        raise CliExit(
            EXIT_REJECTED,
            report,
            text + "\nTRUNG TÂM TỪ CHỐI BẢN GHI: cần giám sát xem ngay (`quaythu sync-status`).",
        )
    # Records made while this run was uploading (a payment at the window) are the next run's
    # work: only what was waiting when the run started decides "offline".
    if _pending_through(db, before):
        raise CliExit(EXIT_OFFLINE, report, text)
    emit(args, report, text)
    return EXIT_OK


def _last_outbox_seq(db: Database) -> int:
    from sqlalchemy import func, select

    from app.storage.models import OutboxItem

    with db.read() as session:
        return session.scalar(select(func.max(OutboxItem.ledger_seq))) or 0


def _pending_through(db: Database, seq: int) -> int:
    """Outbox records up to ledger `seq` still pending."""
    from sqlalchemy import func, select

    from app.storage.models import OutboxItem

    with db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.state == "pending", OutboxItem.ledger_seq <= seq)
            )
            or 0
        )


def cmd_reconcile(args: argparse.Namespace) -> int:
    from app.domain.money import format_vnd
    from app.services.documents import check_export_target
    from app.services.reconcile import export_reconciliation_csv
    from sync.errors import SyncError
    from sync.reconciliation import reconcile_with_central

    db = open_db(args)
    day = day_arg(args, default_days_ago=1)
    config = _config(args)
    if args.tolerance_minutes is not None:
        config = replace(config, reconcile_tolerance=timedelta(minutes=args.tolerance_minutes))
    if args.csv:
        check_export_target(Path(args.csv), force=args.force, db=db)
    try:
        run = reconcile_with_central(db, day, config=config, trigger="manual")
    except SyncError as exc:
        raise _sync_failure(exc) from exc
    if args.csv:
        export_reconciliation_csv(db, run.id, Path(args.csv), force=args.force)
    head = (
        f"Đối chiếu Mẫu 01-XN ngày {day:%d/%m/%Y}: quầy {run.local_count} khoản "
        f"({format_vnd(run.local_total)}), trung tâm {run.central_count} khoản "
        f"({format_vnd(run.central_total)}) — "
        + ("KHỚP." if run.ok else f"{len(run.issues)} chênh lệch:")
    )
    lines = [head] + [f"  {i.label}: {i.confirmation_code} — {i.detail}" for i in run.issues]
    if args.csv:
        lines.append(f"Đã xuất {args.csv}")
    if not run.ok:
        raise CliExit(EXIT_FAILED, _run_payload(run), "\n".join(lines))
    emit(args, _run_payload(run), "\n".join(lines))
    return EXIT_OK


def cmd_sync_status(args: argparse.Namespace) -> int:
    from app.services.outbox import rejected_items
    from sync.engine import read_status
    from sync.lease import current_lease

    db = open_db(args)
    status = read_status(db)
    lease = current_lease(db)
    rejected = rejected_items(db)
    lines = [status.message]
    if status.last_error:
        lines.append(f"Lỗi gần nhất: {status.last_error}")
    if lease is not None:
        lines.append(f"Đang đồng bộ: {lease.purpose} (tiến trình {lease.pid} trên {lease.host}).")
    for r in rejected:
        lines.append(
            f"  Bị từ chối: bản ghi số {r.ledger_seq} ({r.kind}, biên lai {r.receipt_number}, "
            f"{r.confirmation_code}) — {r.last_error}"
        )
    emit(
        args,
        {"status": status, "message": status.message, "lease": lease, "rejected": rejected},
        "\n".join(lines),
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    p = commands.add(
        "enroll",
        cmd_enroll,
        "đăng ký quầy với máy chủ trung tâm (admin; enrol with central)",
        needs_user=True,
    )
    p.add_argument("--server", required=True, help="central URL, https://… (http only to loopback)")
    code = p.add_mutually_exclusive_group()
    code.add_argument(
        "--code-stdin", action="store_true", help="read the one-time enrolment code from stdin"
    )
    code.add_argument(
        "--code", help="the code on the command line (shows in the process list: avoid)"
    )
    p.add_argument("--timeout", type=seconds_in(0, 600), help="seconds per request (default 30)")
    p.add_argument("--yes", action="store_true", help="do not ask to confirm the server shown")

    p = commands.add(
        "sync", cmd_sync, "đồng bộ một lần với trung tâm (sync once; exit 3 if offline)"
    )
    sync_args(p)

    p = commands.add(
        "reconcile", cmd_reconcile, "đối chiếu Mẫu 01-XN với trung tâm (reconcile a day)"
    )
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    p.add_argument("--csv", help="also export the result as CSV (UTF-8 with BOM)")
    p.add_argument("--force", action="store_true", help="overwrite an existing CSV file")
    p.add_argument(
        "--tolerance-minutes", type=int_in(0, 1440), help="time difference allowed (default 10)"
    )

    commands.add("sync-status", cmd_sync_status, "trạng thái đồng bộ (sync status)")


def sync_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=int_in(1, 1000), help="records per upload (default 200)")
    p.add_argument("--timeout", type=seconds_in(0, 600), help="read timeout, seconds (default 30)")
    p.add_argument(
        "--attempts", type=int_in(1, 20), help="tries per request before giving up (default 5)"
    )
