"""Documents: `quaythu summary | receipt | report` (Mẫu 01-XN and receipts as files)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ui.cli.base import EXIT_OK, Commands, day_arg, emit, login, open_db

if TYPE_CHECKING:
    from app.domain.documents import Xn01Report


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
    from app.services.documents import receipt_data
    from app.services.payments import record_reprint
    from printing.receipt import ReceiptLayout, render_receipt

    db = open_db(args)
    reprint = record_reprint(db, args.number, by=login(args, db)) if args.copy else 0
    data = receipt_data(db, args.number, reprint_number=reprint)
    layout = ReceiptLayout.ROLL_80MM if args.format == "80mm" else ReceiptLayout.A5
    out = Path(args.output)
    out.write_bytes(render_receipt(data, layout))
    emit(
        args,
        {"receipt": args.number, "output": out, "reprint": reprint},
        f"Đã ghi biên lai số {args.number} ra {out}"
        + (f" (bản sao lần {reprint})" if reprint else ""),
    )
    return EXIT_OK


def _renderer(fmt: str) -> Callable[[Xn01Report], bytes]:
    from printing.xn01 import render_xn01_csv, render_xn01_pdf, render_xn01_xlsx

    renderers: dict[str, Callable[[Xn01Report], bytes]] = {
        "pdf": render_xn01_pdf,
        "xlsx": render_xn01_xlsx,
        "csv": render_xn01_csv,
    }
    return renderers[fmt]


def cmd_report(args: argparse.Namespace) -> int:
    from app.services.documents import daily_summary

    day = day_arg(args, default_days_ago=1)
    report = daily_summary(open_db(args), day)
    name = f"01-XN_{report.counter_code}_{day:%Y-%m-%d}.{args.format}"
    out = Path(args.output) if args.output else Path(name)
    if out.is_dir():
        out = out / name
    out.write_bytes(_renderer(args.format)(report))
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
    p.add_argument("number", type=int)
    p.add_argument("--format", choices=["80mm", "a5"], default="80mm")
    p.add_argument("--output", "-o", required=True)
    p.add_argument("--copy", action="store_true", help="a counted reprint: BẢN SAO")

    p = commands.add("report", cmd_report, "xuất Mẫu 01-XN (pdf/xlsx/csv)")
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    p.add_argument("--format", choices=["pdf", "xlsx", "csv"], default="pdf")
    p.add_argument("--output", "-o")
