"""Shifts and the cash drawer: `quaythu shift open | drop | pickup | close | status | report`
(docs/SHIFTS.md).

Cash is given by denomination as `--counts 500000=2,100000=5` (a denomination may be written
`500.000`), or — for the float only — as `--total 1000000`. A supervisor signs with
`--supervisor NAME`, their password from $QUAYTHU_SUPERVISOR_PASSWORD or a hidden prompt.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import ValidationError
from ui.cli.base import EXIT_OK, Commands, emit, login, open_db, parse_money

if TYPE_CHECKING:
    from app.services.common import Actor
    from app.services.shifts import ShiftSummary
    from app.storage.db import Database


def parse_counts_arg(text: str) -> dict[int, int]:
    """`"500000=2,100.000=5"` → `{500000: 2, 100000: 5}`; ValidationError naming the part."""
    counts: dict[int, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        denomination, sep, pieces = part.partition("=")
        if not sep or not pieces.strip().isdigit():
            raise ValidationError(
                "counts",
                "Số tờ theo mệnh giá",
                f"«{part}» phải có dạng MỆNH_GIÁ=SỐ_TỜ, ví dụ 500000=2",
                rule_en="DENOMINATION=PIECES",
            )
        value = parse_money(denomination, "counts", "Mệnh giá")
        counts[value] = counts.get(value, 0) + int(pieces)
    return counts


def _supervisor(args: argparse.Namespace, db: Database) -> Actor | None:
    from app.services.operators import authenticate
    from ui.cli.base import secret_from_env

    name = getattr(args, "supervisor", None)
    if not name:
        return None
    if "QUAYTHU_SUPERVISOR_PASSWORD" not in os.environ and not sys.stdin.isatty():
        raise ValidationError(
            "supervisor",
            "Mật khẩu giám sát",
            "hãy đặt biến QUAYTHU_SUPERVISOR_PASSWORD khi chạy không tương tác",
            rule_en="set QUAYTHU_SUPERVISOR_PASSWORD",
        )
    password = secret_from_env("QUAYTHU_SUPERVISOR_PASSWORD", f"Mật khẩu của {name}: ")
    return authenticate(db, name, password)


def shift_text(s: ShiftSummary) -> str:
    from app.domain.clock import format_local
    from app.domain.money import format_vnd

    state = (
        "ĐANG MỞ" if s.is_open else f"đã đóng {format_local(s.closed_at)}" if s.closed_at else ""
    )
    lines = [
        f"Ca {s.id[:8]} của {s.cashier_name} ({s.cashier}) — mở {format_local(s.opened_at)}, "
        f"{state}",
        f"  Tiền đầu ca: {format_vnd(s.float_amount)}",
        f"  Đã thu: {s.payments} khoản, {format_vnd(s.payment_total)}",
        f"  Hủy trả lại: {s.voids} lệnh, {format_vnd(s.void_total)}",
        f"  Nộp về két: {format_vnd(s.drops)}; nhận từ két: {format_vnd(s.pickups)}",
        f"  Tiền phải có trong ngăn kéo: {format_vnd(s.expected)}",
    ]
    if s.counted is not None:
        lines.append(
            f"  Tiền đếm: {format_vnd(s.counted)}; chênh lệch: {format_vnd(s.difference or 0)}"
            + (f" — {s.reason}" if s.reason else "")
        )
        lines.append(f"  Chưa đồng bộ khi đóng ca: {s.unsynced_at_close} khoản")
    elif s.unsynced_now:
        lines.append(f"  Chưa đồng bộ: {s.unsynced_now} khoản")
    return "\n".join(lines)


def cmd_open(args: argparse.Namespace) -> int:
    from app.services.shifts import open_shift

    db = open_db(args)
    actor = login(args, db)
    counts = parse_counts_arg(args.counts) if args.counts is not None else None
    total = parse_money(args.total, "total", "Tiền đầu ca") if args.total is not None else None
    view = open_shift(db, by=actor, counts=counts, total=total)
    emit(args, view, shift_text(view))
    return EXIT_OK


def _move(args: argparse.Namespace, event: str) -> int:
    from app.services.shifts import cash_move

    db = open_db(args)
    actor = login(args, db)
    supervisor = _supervisor(args, db)
    if supervisor is None:
        raise ValidationError(
            "supervisor", "Giám sát", "bắt buộc (--supervisor)", rule_en="--supervisor required"
        )
    amount = parse_money(args.amount, "amount", "Số tiền")
    view = cash_move(
        db,
        event="drop" if event == "drop" else "pickup",
        amount=amount,
        reason=args.reason,
        supervisor=supervisor,
        by=actor,
    )
    emit(args, view, shift_text(view))
    return EXIT_OK


def cmd_drop(args: argparse.Namespace) -> int:
    return _move(args, "drop")


def cmd_pickup(args: argparse.Namespace) -> int:
    return _move(args, "pickup")


def cmd_close(args: argparse.Namespace) -> int:
    from app.services.shifts import close_shift

    db = open_db(args)
    actor = login(args, db)
    supervisor = _supervisor(args, db)
    view = close_shift(
        db,
        by=actor,
        counts=parse_counts_arg(args.counts),
        reason=args.reason,
        supervisor=supervisor,
    )
    emit(args, view, shift_text(view))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from app.services.shifts import current_shift

    view = current_shift(open_db(args))
    emit(
        args, {"open": view}, "Quầy không có ca nào đang mở." if view is None else shift_text(view)
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from app.services.documents import check_export_target, write_export
    from app.services.shifts import get_shift, print_zreport
    from printing.zreport import ZReportLayout, render_zreport

    db = open_db(args)
    actor = login(args, db)
    shift = get_shift(db, args.shift)
    out = check_export_target(Path(args.output), force=args.force, db=db)
    data = print_zreport(db, shift.id, by=actor)
    layout = ZReportLayout.A4 if args.format == "a4" else ZReportLayout.ROLL_80MM
    written = write_export(out, render_zreport(data, layout), force=args.force, db=db)
    mark = f" (BẢN SAO lần {data.copy_number})" if data.copy_number else ""
    emit(
        args,
        {"shift": shift.id, "output": str(written), "copy": data.copy_number},
        f"Đã ghi báo cáo chốt ca{mark}: {written}",
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    group = commands.group("shift", "ca thu tiền và ngăn kéo tiền (shifts, cash drawer)")
    p = group.add("open", cmd_open, "mở ca với tiền đầu ca (open a shift)", needs_user=True)
    cash = p.add_mutually_exclusive_group(required=True)
    cash.add_argument("--counts", help="by denomination: 500000=2,100000=5")
    cash.add_argument("--total", help="the float as one amount, đồng")

    for name, handler, help_ in (
        ("drop", cmd_drop, "nộp tiền từ ngăn kéo về két (cash drop; supervisor)"),
        ("pickup", cmd_pickup, "nhận tiền từ két vào ngăn kéo (pick-up; supervisor)"),
    ):
        p = group.add(name, handler, help_, needs_user=True)
        p.add_argument("--amount", required=True, help="đồng")
        p.add_argument("--reason", required=True)
        p.add_argument("--supervisor", required=True, help="supervisor's user name")

    p = group.add("close", cmd_close, "đóng ca: đếm tiền theo mệnh giá (close)", needs_user=True)
    p.add_argument("--counts", required=True, help="by denomination: 500000=2,100000=5")
    p.add_argument("--reason", help="required for any difference")
    p.add_argument(
        "--supervisor",
        help="supervisor's user name (above the threshold, or closing another cashier's shift)",
    )

    group.add("status", cmd_status, "ca đang mở và tiền phải có (status)")

    p = group.add("report", cmd_report, "in báo cáo chốt ca Z (PDF)", needs_user=True)
    p.add_argument("--shift", help="shift id or its first characters (default: the latest)")
    p.add_argument("--format", choices=["roll80", "a4"], default="roll80")
    p.add_argument("--output", "-o", required=True)
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
