"""`quaythu backup now|status|folder` and `quaythu restore FILE` (docs/BACKUP.md).

`backup now` and `backup status` need no operator (a scheduled job runs them; whoever can read
the database file can copy it anyway); choosing the folder is for an admin. `restore` works with
the window closed, on this PC's file (`--db`), and keeps the current file aside.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ui.cli.base import EXIT_FAILED, EXIT_OK, CliExit, Commands, emit, login, open_db


def cmd_backup_now(args: argparse.Namespace) -> int:
    from app.services.backup import make_backup

    db = open_db(args)
    result = make_backup(db, kind="manual", folder=Path(args.folder) if args.folder else None)
    if not result.ok:
        raise CliExit(EXIT_FAILED, result, result.message)
    emit(args, result, result.message)
    return EXIT_OK


def cmd_backup_status(args: argparse.Namespace) -> int:
    from app.services.backup import backup_status

    db = open_db(args)
    status = backup_status(db)
    last = status.last
    lines = [f"Thư mục sao lưu: {status.folder} ({status.copies} bản)"]
    lines.append(f"{last.status_text} — {last.message}" if last else "Chưa có bản sao lưu nào.")
    emit(args, status, "\n".join(lines))
    return EXIT_OK if last is None or last.ok else EXIT_FAILED


def cmd_backup_folder(args: argparse.Namespace) -> int:
    from app.services.backup import set_backup_folder

    db = open_db(args)
    actor = login(args, db)
    folder = set_backup_folder(db, Path(args.path), by=actor)
    emit(args, {"folder": folder}, f"Thư mục sao lưu: {folder}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from app.services.backup import restore
    from app.storage.db import default_db_path

    target = Path(args.db) if getattr(args, "db", None) else default_db_path()
    result = restore(Path(args.file), target)
    aside = f" Tệp cũ giữ lại ở {result.kept_aside}." if result.kept_aside else ""
    emit(
        args,
        result,
        f"Đã khôi phục quầy {result.counter_code} ({result.payments} khoản thu) từ "
        f"{result.restored_from}.{aside}",
    )
    return EXIT_OK


def cmd_rekey(args: argparse.Namespace) -> int:
    from app.services.relocation import rekey_after_restore

    db = open_db(args)
    actor = login(args, db)
    epoch = rekey_after_restore(db, by=actor)
    emit(
        args,
        epoch,
        f"Đã tạo khóa ký mới (vân tay {epoch.fingerprint}); bản ghi số {epoch.from_seq} trở đi "
        "được ký bằng khóa này, nối tiếp chuỗi đã khôi phục. Hãy đăng ký lại với hệ thống trung "
        "tâm (quaythu enroll); trung tâm chỉ nhận sau khi quản trị viên của trung tâm duyệt.",
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    group = commands.group("backup", "sao lưu dữ liệu quầy (backups)")
    p = group.add("now", cmd_backup_now, "sao lưu ngay và kiểm tra bản sao")
    p.add_argument("--folder", help="thư mục khác cho lần này (mặc định: thư mục đã chọn)")
    group.add("status", cmd_backup_status, "bản sao lưu gần nhất và kết quả kiểm tra")
    p = group.add("folder", cmd_backup_folder, "chọn thư mục sao lưu (admin)", needs_user=True)
    p.add_argument("path")
    p = commands.add("restore", cmd_restore, "khôi phục từ một bản sao lưu (đóng cửa sổ trước)")
    p.add_argument("file")
    commands.add(
        "rekey",
        cmd_rekey,
        "máy mới sau khi khôi phục: khóa ký mới nối tiếp chuỗi (admin)",
        needs_user=True,
    )
