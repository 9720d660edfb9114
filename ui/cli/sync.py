"""Sync with central: `quaythu enroll | sync | reconcile | sync-status`.

Exit codes: 0 done; 1 refused or a reconciliation mismatch; 2 usage; 3 offline / sync failed
(including "another sync is running", "not enrolled" and "needs re-enrolment" — each with its
own message). `quaythu sync` is meant for Task Scheduler / cron: it runs one pass and honours
the same database lease as the window, so the two never sync at the same time.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ui.cli.base import (
    EXIT_FAILED,
    EXIT_OFFLINE,
    EXIT_OK,
    CliExit,
    Commands,
    day_arg,
    emit,
    open_db,
)

if TYPE_CHECKING:
    from app.services.reconcile import ReconciliationView
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


def cmd_enroll(args: argparse.Namespace) -> int:
    from sync.enroll import enroll_counter
    from sync.errors import SyncError

    db = open_db(args)
    try:
        result = enroll_counter(
            db, args.server, args.code, config=_config(args), allow_insecure=args.allow_insecure
        )
    except SyncError as exc:
        raise _sync_failure(exc) from exc
    emit(
        args,
        {"central_url": result.central_url, "central_counter_id": result.central_counter_id},
        f"Đã đăng ký quầy với trung tâm {result.central_url} "
        f"(mã quầy tại trung tâm: {result.central_counter_id}). "
        "Mã truy cập đã lưu trong keyring.",
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

    syncer = Syncer(open_db(args), config=_config(args), purpose="cli")
    try:
        report = syncer.run("cli")
    except SyncError as exc:
        raise _sync_failure(exc) from exc
    text = "\n".join(_sync_lines(report))
    if report.pending:
        raise CliExit(EXIT_OFFLINE, report, text)
    emit(args, report, text)
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    from app.domain.money import format_vnd
    from app.services.reconcile import export_reconciliation_csv
    from sync.errors import SyncError
    from sync.reconciliation import reconcile_with_central

    db = open_db(args)
    day = day_arg(args, default_days_ago=1)
    config = _config(args)
    if args.tolerance_minutes is not None:
        config = replace(config, reconcile_tolerance=timedelta(minutes=args.tolerance_minutes))
    try:
        run = reconcile_with_central(db, day, config=config, trigger="manual")
    except SyncError as exc:
        raise _sync_failure(exc) from exc
    if args.csv:
        export_reconciliation_csv(db, run.id, Path(args.csv))
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
        "enroll", cmd_enroll, "đăng ký quầy với máy chủ trung tâm (enrol with central)"
    )
    p.add_argument("--server", required=True, help="central URL, https://…")
    p.add_argument("--code", required=True, help="one-time enrolment code from central's admin")
    p.add_argument(
        "--allow-insecure",
        action="store_true",
        help="allow plain http:// to a non-local server (testing only: sends the signing key)",
    )

    p = commands.add(
        "sync", cmd_sync, "đồng bộ một lần với trung tâm (sync once; exit 3 if offline)"
    )
    p.add_argument("--batch-size", type=int, help="records per upload (default 200)")
    p.add_argument("--timeout", type=float, help="read timeout, seconds (default 30)")
    p.add_argument("--attempts", type=int, help="tries per request before giving up (default 5)")

    p = commands.add(
        "reconcile", cmd_reconcile, "đối chiếu Mẫu 01-XN với trung tâm (reconcile a day)"
    )
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    p.add_argument("--csv", help="also export the result as CSV (UTF-8 with BOM)")
    p.add_argument("--tolerance-minutes", type=int, help="time difference allowed (default 10)")

    commands.add("sync-status", cmd_sync_status, "trạng thái đồng bộ (sync status)")
