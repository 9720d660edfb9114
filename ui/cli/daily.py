"""`quaythu daily`: the one command the 07:00 scheduled job runs.

In order: sync once (offline or not enrolled is logged, not a failure: the report is made from the
counter's own ledger), send the payer notices that are due (docs/NOTIFY.md), write yesterday's Mẫu
01-XN into a folder (created if missing) in the formats asked, reconcile that day with central when
central answered, and make the day's verified backup (docs/BACKUP.md). Each part is logged; the exit
code is the sum of the parts that failed, so one number tells a scheduler (or a person) what to
look at:

    0  everything done (sync may have been skipped as offline)
    1  the report was not written (any format)
    2  sync failed for another reason than "offline" / "not enrolled", or central refused a record
    4  reconciliation found differences or could not run although central answered
    8  the backup failed
   16  a payer notice (SMS/email) failed for good or its outcome is unknown (`quaythu notify
       status` lists them)

A usage error (exit 2 from argument parsing) stops before any part runs.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import UserFacingError, ValidationError
from ui.cli.base import CliExit, Commands, day_arg, emit, open_db, report_name, xn01_renderer

if TYPE_CHECKING:
    from app.storage.db import Database

log = logging.getLogger("quaythu.daily")

BIT_REPORT, BIT_SYNC, BIT_RECONCILE, BIT_BACKUP, BIT_NOTIFY = 1, 2, 4, 8, 16
FORMATS = ("pdf", "xlsx", "csv")


@dataclass
class DailyRun:
    day: date
    folder: Path
    code: int = 0
    central_reachable: bool = False
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def note(self, text: str, *, failed_bit: int = 0) -> None:
        self.code |= failed_bit
        self.lines.append(text)
        log.log(logging.WARNING if failed_bit else logging.INFO, "daily %s: %s", self.day, text)


def _formats(text: str) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise argparse.ArgumentTypeError(
            f"“{text[:30]}” không hợp lệ: chọn trong pdf, xlsx, csv, ngăn bằng dấu phẩy"
        )
    return wanted


def _folder(text: str) -> Path:
    """The report folder, created if missing; refused when a file has that name."""
    folder = Path(text).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValidationError(
            "folder",
            "Thư mục báo cáo",
            f"{folder} là một tệp, không phải thư mục",
            rule_en="is a file",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(
            "folder",
            "Thư mục báo cáo",
            f"không tạo được {folder}: {exc.strerror or exc}",
            rule_en="cannot create the folder",
        ) from exc
    return folder


def _sync(db: Database, run: DailyRun) -> None:
    from sync.engine import Syncer, failure_of
    from sync.errors import SyncError

    try:
        report = Syncer(db, purpose="cli").run("daily")
    except SyncError as exc:
        failure = failure_of(exc)
        if failure.kind in ("offline", "not_enrolled", "busy"):
            run.note(f"Đồng bộ: bỏ qua ({failure.message}).")
        else:
            run.note(f"Đồng bộ: LỖI — {failure.message}", failed_bit=BIT_SYNC)
        return
    run.central_reachable = True
    if report.rejected or report.rejected_total:
        run.note(
            f"Đồng bộ: trung tâm TỪ CHỐI {report.rejected_total} bản ghi — cần giám sát xem.",
            failed_bit=BIT_SYNC,
        )
    else:
        run.note(f"Đồng bộ: gửi {report.accepted} bản ghi mới, còn chờ {report.pending}.")


def _report(db: Database, run: DailyRun, formats: tuple[str, ...]) -> None:
    from app.services.documents import daily_summary, write_export

    try:
        report = daily_summary(db, run.day)
        for fmt in formats:
            out = write_export(
                run.folder / report_name(report, fmt), xn01_renderer(fmt)(report), force=True, db=db
            )
            run.files.append(out)
        run.note(f"Mẫu 01-XN: {len(report.rows)} dòng → " + ", ".join(p.name for p in run.files))
    except UserFacingError as exc:
        run.note(f"Mẫu 01-XN: LỖI — {exc.message}", failed_bit=BIT_REPORT)


def _reconcile(db: Database, run: DailyRun) -> None:
    from sync.errors import SyncError
    from sync.reconciliation import reconcile_with_central

    if not run.central_reachable:
        run.note("Đối chiếu: bỏ qua (không kết nối được trung tâm).")
        return
    try:
        result = reconcile_with_central(db, run.day, trigger="scheduled")
    except (SyncError, UserFacingError) as exc:
        run.note(f"Đối chiếu: LỖI — {exc}", failed_bit=BIT_RECONCILE)
        return
    if result.ok:
        run.note(f"Đối chiếu: khớp ({result.local_count} khoản).")
    else:
        run.note(
            f"Đối chiếu: {len(result.issues)} chênh lệch — xem `quaythu reconcile`.",
            failed_bit=BIT_RECONCILE,
        )


def _notify(db: Database, run: DailyRun) -> None:
    """One delivery pass of the payer notices (channels off in Settings: nothing to send)."""
    from sync.notify_worker import NotifyWorker

    try:
        report = NotifyWorker(db).run_once()
    except (UserFacingError, OSError) as exc:
        run.note(f"Tin nhắn cho người nộp: LỖI — {exc}", failed_bit=BIT_NOTIFY)
        return
    text = (
        f"Tin nhắn cho người nộp: đã gửi {report.sent}, sẽ thử lại {report.retrying}, "
        f"hỏng {report.failed}, chưa rõ {report.unknown}."
    )
    run.note(text, failed_bit=BIT_NOTIFY if report.failed or report.unknown else 0)


def _backup(db: Database, run: DailyRun) -> None:
    """The day's verified copy (app.services.backup; skipped when today's already exists)."""
    from app.services.backup import run_daily_backup

    try:
        result = run_daily_backup(db)
    except (UserFacingError, OSError) as exc:
        run.note(f"Sao lưu: LỖI — {exc}", failed_bit=BIT_BACKUP)
        return
    if not result.ok:
        run.note(f"Sao lưu: LỖI — {result.message} ({result.path})", failed_bit=BIT_BACKUP)
    elif result.skipped:
        run.note(f"Sao lưu: hôm nay đã có bản sao ({result.path}).")
    else:
        run.note(f"Sao lưu: xong → {result.path} ({result.payments} khoản thu, đã kiểm tra).")


def cmd_daily(args: argparse.Namespace) -> int:
    db = open_db(args)
    run = DailyRun(day=day_arg(args, default_days_ago=1), folder=_folder(args.folder))
    if not args.no_sync:
        _sync(db, run)
        _notify(db, run)
    _report(db, run, args.formats)
    if not args.no_sync:
        _reconcile(db, run)
    _backup(db, run)
    payload = {"date": run.day, "exit": run.code, "files": run.files, "steps": run.lines}
    text = f"Việc hằng ngày cho ngày {run.day:%d/%m/%Y}:\n" + "\n".join(
        f"  {line}" for line in run.lines
    )
    if run.code:
        raise CliExit(run.code, payload, text)
    emit(args, payload, text)
    return 0


def register(commands: Commands) -> None:
    p = commands.add(
        "daily",
        cmd_daily,
        "việc hằng ngày: đồng bộ, Mẫu 01-XN hôm qua, đối chiếu, sao lưu (scheduled job)",
    )
    p.add_argument("--folder", required=True, help="report folder (created if missing)")
    p.add_argument(
        "--formats", type=_formats, default=("pdf", "csv"), help="pdf,xlsx,csv (default pdf,csv)"
    )
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    p.add_argument("--no-sync", action="store_true", help="skip sync and reconciliation")
