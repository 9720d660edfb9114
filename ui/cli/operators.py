"""`quaythu operator add` (admin)."""

from __future__ import annotations

import argparse

from ui.cli.base import EXIT_OK, Commands, emit, login, open_db, secret_from_env


def cmd_operator_add(args: argparse.Namespace) -> int:
    from app.domain.types import Role
    from app.services.operators import create_operator

    db = open_db(args)
    actor = login(args, db)
    view = create_operator(
        db,
        username=args.username,
        full_name=args.name,
        role=Role(args.role),
        password=secret_from_env("QUAYTHU_NEW_PASSWORD", "Mật khẩu mới: "),
        by=actor,
    )
    emit(args, view, f"Đã tạo tài khoản {view.username} ({view.role.label}).")
    return EXIT_OK


def register(commands: Commands) -> None:
    group = commands.group("operator", "tài khoản người dùng (operators)")
    p = group.add(
        "add",
        cmd_operator_add,
        "thêm tài khoản (admin); password from $QUAYTHU_NEW_PASSWORD",
        needs_user=True,
    )
    p.add_argument("--username", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["cashier", "supervisor", "admin"], default="cashier")
