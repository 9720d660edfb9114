"""`quaythu init`: set up a counter (identity, database, signing key, first admin)."""

from __future__ import annotations

import argparse
import getpass
import os

from app.errors import ValidationError
from ui.cli.base import EXIT_OK, Commands, emit, open_db

RECOVERY_NOTE = (
    "MÃ KHÔI PHỤC (chỉ hiện một lần): {code}\n"
    "In hoặc chép mã này, niêm phong và giao người giám sát giữ. Khi quên mật khẩu quản trị cuối "
    "cùng, tại chính máy này chạy: quaythu operator recover --username {user} (docs/ACCOUNTS.md)."
)


def cmd_init(args: argparse.Namespace) -> int:
    from app.services.counter import init_counter
    from app.services.operators import issue_recovery_code

    password = os.environ.get("QUAYTHU_PASSWORD")
    if password is None:
        password = getpass.getpass("Mật khẩu quản trị: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            raise ValidationError(
                "password", "Mật khẩu", "hai lần nhập không giống nhau", rule_en="mismatch"
            )
    if args.keyring_file:
        from app.secrets import use_secrets_file

        use_secrets_file()
    db = open_db(args, create=True)
    counter, admin = init_counter(
        db,
        organisation=args.organisation,
        collection_point=args.collection_point,
        counter_code=args.counter_code,
        admin_username=args.admin_user,
        admin_full_name=args.admin_name,
        admin_password=password,
        receipt_series=args.series,
        central_url=args.central_url,
    )
    code = issue_recovery_code(db, by=admin)
    from app.secrets import secrets_file_path, using_secrets_file

    where = (
        f"trong tệp {secrets_file_path()} (chỉ người dùng này đọc được)"
        if using_secrets_file()
        else "trong keyring của hệ điều hành"
    )
    emit(
        args,
        {"counter": counter, "admin": admin.username, "db": db.path, "recovery_code": code},
        f"Đã khởi tạo quầy {counter.counter_code} ({counter.collection_point}).\n"
        f"Cơ sở dữ liệu: {db.path}\nKhóa ký đã lưu {where}.\n"
        + RECOVERY_NOTE.format(code=code, user=admin.username),
    )
    return EXIT_OK


def register(commands: Commands) -> None:
    p = commands.add(
        "init", cmd_init, "khởi tạo quầy: danh tính, CSDL, khóa ký (initialise a counter)"
    )
    p.add_argument("--organisation", required=True)
    p.add_argument("--collection-point", required=True)
    p.add_argument("--counter-code", required=True)
    p.add_argument("--series", help="receipt series (default: the counter code)")
    p.add_argument("--admin-user", required=True)
    p.add_argument("--admin-name", required=True)
    p.add_argument("--central-url")
    p.add_argument(
        "--keyring-file",
        action="store_true",
        help="no desktop keyring here: keep secrets in a file only this user can read "
        "(0600, folder 0700); Settings shows a warning",
    )
