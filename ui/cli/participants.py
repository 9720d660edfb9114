"""`quaythu participant add | import | search`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.errors import ValidationError
from ui.cli.base import (
    EXIT_OK,
    EXIT_USAGE,
    CliExit,
    Commands,
    emit,
    int_in,
    login,
    open_db,
    parse_day,
)


def cmd_participant_add(args: argparse.Namespace) -> int:
    from app.domain.types import Sex, SupportCategory
    from app.services.participants import ParticipantInput, create_participant

    db = open_db(args)
    actor = login(args, db)
    sex = {"nam": Sex.MALE, "nu": Sex.FEMALE, "nữ": Sex.FEMALE}.get((args.sex or "").lower())
    if args.sex and sex is None:
        raise ValidationError("sex", "Giới tính", "phải là nam hoặc nu", rule_en="nam or nu")
    view = create_participant(
        db,
        ParticipantInput(
            full_name=args.name,
            date_of_birth=parse_day(args.dob) if args.dob else None,
            sex=sex,
            cccd=args.cccd,
            ma_so_bhxh=args.ma_so,
            address=args.address or "",
            phone=args.phone or "",
            email=args.email or "",
            support_category=SupportCategory(args.category) if args.category else None,
        ),
        by=actor,
    )
    emit(args, view, f"Đã thêm người tham gia {view.full_name} (mã nội bộ {view.id}).")
    return EXIT_OK


def cmd_participant_import(args: argparse.Namespace) -> int:
    from app.services.participants import import_participants_csv

    db = open_db(args)
    actor = login(args, db)
    result = import_participants_csv(db, Path(args.file), by=actor)
    if result.errors:
        text = "Không nhập dòng nào vì có lỗi:\n" + "\n".join(
            f"  dòng {line}: {msg}" for line, msg in result.errors
        )
        raise CliExit(EXIT_USAGE, result, text)
    emit(args, result, f"Đã nhập: {result.created} người mới, {result.updated} người cập nhật.")
    return EXIT_OK


def cmd_participant_search(args: argparse.Namespace) -> int:
    from app.services.participants import search_participants

    rows = search_participants(open_db(args), args.query, limit=args.limit)
    text = (
        "\n".join(
            f"{p.ma_so_bhxh or '(chưa có mã)':<13} {p.cccd or '':<12}  {p.full_name}"
            + (f"  {p.date_of_birth:%d/%m/%Y}" if p.date_of_birth else "")
            for p in rows
        )
        or "Không tìm thấy ai."
    )
    emit(args, rows, text)
    return EXIT_OK


def register(commands: Commands) -> None:
    group = commands.group("participant", "người tham gia (participants)")
    p = group.add("add", cmd_participant_add, "thêm người tham gia", needs_user=True)
    p.add_argument("--name", required=True)
    p.add_argument("--dob", help="YYYY-MM-DD or dd/mm/yyyy")
    p.add_argument("--sex", help="nam / nu")
    p.add_argument("--cccd")
    p.add_argument("--ma-so", help="mã số BHXH (omit for a first-time participant)")
    p.add_argument("--address")
    p.add_argument("--phone")
    p.add_argument("--email")
    p.add_argument("--category", choices=["poor", "near_poor", "ethnic_minority", "other"])
    p = group.add(
        "import", cmd_participant_import, "nhập danh sách từ CSV (UTF-8)", needs_user=True
    )
    p.add_argument("file")
    p = group.add("search", cmd_participant_search, "tìm theo mã số, CCCD hoặc tên không dấu")
    p.add_argument("query")
    p.add_argument("--limit", type=int_in(1, 1000), default=20)
