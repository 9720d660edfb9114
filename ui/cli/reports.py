"""Documents: `quaythu summary | receipt | report` (Mẫu 01-XN and receipts as files)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ui.cli.base import (
    EXIT_OK,
    Commands,
    day_arg,
    emit,
    int_in,
    login,
    open_db,
    report_name,
    user_named,
    xn01_renderer,
)

if TYPE_CHECKING:
    pass


def cmd_summary(args: argparse.Namespace) -> int:
    from app.domain.money import format_vnd
    from app.services.documents import daily_summary

    day = day_arg(args, default_days_ago=1)
    report = daily_summary(open_db(args), day)
    lines = [f"Mẫu 01-XN ngày {day:%d/%m/%Y} — {report.collection_point}"]
    lines += [
        f"{r.stt:>4}  {r.confirmation_code}  {format_vnd(r.amount):>14}  {r.full_name}"
        + ("  [ĐÃ HỦY]" if r.voided else "")
        for r in report.rows
    ]
    lines += [
        f"  {label}: {count} khoản, {format_vnd(amount)}"
        for label, count, amount in report.totals_by_scheme
    ]
    lines.append(f"  TỔNG CỘNG: {report.grand_count} khoản, {format_vnd(report.grand_total)}")
    emit(args, report, "\n".join(lines))
    return EXIT_OK


def cmd_receipt(args: argparse.Namespace) -> int:
    """The first rendering is the original; every later one a counted BẢN SAO that needs an
    operator (`issue_receipt` decides). The output path is checked before anything is counted,
    and a write that fails after an original was issued gives the original back."""
    from app.errors import PermissionDenied
    from app.services.documents import (
        check_export_target,
        issue_receipt,
        original_issued,
        report_print_failure,
        write_export,
    )
    from printing.receipt import ReceiptLayout, render_receipt

    db = open_db(args)
    out = check_export_target(Path(args.output), force=args.force, db=db)
    copy_due = args.copy or original_issued(db, args.number)
    if copy_due and not user_named(args):
        raise PermissionDenied(
            f"Biên lai số {args.number} đã in bản gốc: bản in lại là BẢN SAO có đánh số, cần "
            "người dùng đăng nhập (--user hoặc QUAYTHU_USER, mật khẩu QUAYTHU_PASSWORD).",
            message_en="the original is out: a copy needs --user",
        )
    actor = login(args, db) if copy_due or user_named(args) else None
    data = issue_receipt(db, args.number, by=actor, copy=args.copy)
    layout = ReceiptLayout.ROLL_80MM if args.format == "80mm" else ReceiptLayout.A5
    try:
        out = write_export(out, render_receipt(data, layout), force=args.force, db=db)
    except Exception:
        if not data.reprint_number:
            report_print_failure(db, args.number, by=actor, reason="không ghi được tệp")
        raise
    reprint = data.reprint_number
    emit(
        args,
        {"receipt": args.number, "output": out, "reprint": reprint},
        f"Đã ghi biên lai số {args.number} ra {out}"
        + (f" (BẢN SAO lần {reprint})" if reprint else " (bản gốc)"),
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from app.services.documents import daily_summary, write_export

    day = day_arg(args, default_days_ago=1)
    db = open_db(args)
    report = daily_summary(db, day)
    out = Path(args.output) if args.output else Path(report_name(report, args.format))
    if out.is_dir():
        out = out / report_name(report, args.format)
    out = write_export(out, xn01_renderer(args.format)(report), force=args.force, db=db)
    emit(
        args,
        {"date": day, "output": out, "rows": len(report.rows), "grand_total": report.grand_total},
        f"Đã ghi Mẫu 01-XN ngày {day:%d/%m/%Y} ({len(report.rows)} dòng) ra {out}",
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    p = commands.add("summary", cmd_summary, "Mẫu 01-XN dạng bảng (daily summary)")
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")

    p = commands.add(
        "receipt", cmd_receipt, "xuất biên lai ra PDF (render a receipt)", needs_user=True
    )
    p.add_argument("number", type=int_in(1, 10**9))
    p.add_argument("--format", choices=["80mm", "a5"], default="80mm")
    p.add_argument("--output", "-o", required=True)
    p.add_argument(
        "--copy",
        action="store_true",
        help="a counted copy (BẢN SAO) even before the original; after the original every "
        "rendering is a copy anyway",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")

    p = commands.add("report", cmd_report, "xuất Mẫu 01-XN (pdf/xlsx/csv)")
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    p.add_argument("--format", choices=["pdf", "xlsx", "csv"], default="pdf")
    p.add_argument("--output", "-o", help="file or existing folder (default: current folder)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
