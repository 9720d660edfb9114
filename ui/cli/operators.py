"""`quaythu operator …`: accounts and the password lifecycle (docs/ACCOUNTS.md).

`add`, `reset`, `disable`, `enable`, `role`, `unlock` and `list` act as an admin signed in with
`--user`; `passwd` changes the `--user`'s own password (old one from $QUAYTHU_PASSWORD or a prompt,
new one from $QUAYTHU_NEW_PASSWORD or a prompt typed twice) and is the one command a password
that must be changed still allows.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.errors import ValidationError
from ui.cli.base import EXIT_OK, Commands, emit, login, open_db, secret_from_env

ROLES = ["cashier", "supervisor", "admin"]


def new_password_from_env_or_prompt() -> str:
    """$QUAYTHU_NEW_PASSWORD, else a hidden prompt typed twice (refused when not interactive)."""
    value = os.environ.get("QUAYTHU_NEW_PASSWORD")
    if value:
        return value
    if not sys.stdin.isatty():
        raise ValidationError(
            "new_password",
            "Mật khẩu mới",
            "hãy đặt biến QUAYTHU_NEW_PASSWORD khi chạy không tương tác",
            rule_en="set QUAYTHU_NEW_PASSWORD when not interactive",
        )
    value = getpass.getpass("Mật khẩu mới: ")
    if getpass.getpass("Nhập lại mật khẩu mới: ") != value:
        raise ValidationError(
            "new_password", "Mật khẩu mới", "hai lần nhập không giống nhau", rule_en="mismatch"
        )
    return value


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
    emit(
        args,
        view,
        f"Đã tạo tài khoản {view.username} ({view.role.label}); "
        "người dùng phải đổi mật khẩu khi đăng nhập lần đầu.",
    )
    return EXIT_OK


def cmd_operator_passwd(args: argparse.Namespace) -> int:
    from app.services.operators import change_password

    user = args.user or os.environ.get("QUAYTHU_USER")
    if not user:
        raise ValidationError(
            "user",
            "Người dùng",
            "hãy cho biết bằng --user hoặc biến QUAYTHU_USER",
            rule_en="pass --user or set QUAYTHU_USER",
        )
    db = open_db(args)
    old = os.environ.get("QUAYTHU_PASSWORD")
    if old is None:
        if not sys.stdin.isatty():
            raise ValidationError(
                "password",
                "Mật khẩu hiện tại",
                "hãy đặt biến QUAYTHU_PASSWORD khi chạy không tương tác",
                rule_en="set QUAYTHU_PASSWORD when not interactive",
            )
        old = getpass.getpass(f"Mật khẩu hiện tại của {user}: ")
    done = change_password(db, str(user), old, new_password_from_env_or_prompt())
    emit(
        args,
        {"username": done.actor.username, "expires_at": done.password.expires_at},
        f"Đã đổi mật khẩu của {done.actor.username}.",
    )
    return EXIT_OK


def cmd_operator_reset(args: argparse.Namespace) -> int:
    from app.services.operators import reset_password

    db = open_db(args)
    actor = login(args, db)
    view = reset_password(db, args.username, new_password_from_env_or_prompt(), by=actor)
    emit(
        args,
        view,
        f"Đã đặt lại mật khẩu của {view.username}; phải đổi khi đăng nhập lần tới.",
    )
    return EXIT_OK


def _set_active(args: argparse.Namespace, active: bool) -> int:
    from app.services.operators import set_active

    db = open_db(args)
    actor = login(args, db)
    view = set_active(db, args.username, active, by=actor)
    emit(args, view, f"{view.username}: {view.status_label}.")
    return EXIT_OK


def cmd_operator_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_operator_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def cmd_operator_role(args: argparse.Namespace) -> int:
    from app.domain.types import Role
    from app.services.operators import set_role

    db = open_db(args)
    actor = login(args, db)
    view = set_role(db, args.username, Role(args.role), by=actor)
    emit(args, view, f"{view.username}: {view.role.label}.")
    return EXIT_OK


def cmd_operator_unlock(args: argparse.Namespace) -> int:
    from app.services.operators import unlock

    db = open_db(args)
    actor = login(args, db)
    view = unlock(db, args.username, by=actor)
    emit(args, view, f"Đã mở khóa {view.username}.")
    return EXIT_OK


def cmd_operator_list(args: argparse.Namespace) -> int:
    from app.domain.types import Role
    from app.services.operators import list_operators

    db = open_db(args)
    actor = login(args, db)
    actor.require(Role.ADMIN, Role.SUPERVISOR, action="xem danh sách người dùng")
    views = list_operators(db)
    lines = [
        f"{v.username:<20} {v.role.label:<14} {v.full_name:<28} {v.status_label}" for v in views
    ]
    emit(args, {"operators": views}, "\n".join(lines))
    return EXIT_OK


def cmd_operator_recover(args: argparse.Namespace) -> int:
    """Emergency access at this PC: the printed recovery code (prompt, or one line on stdin)."""
    from app.services.operators import recover_admin

    db = open_db(args)
    if sys.stdin.isatty():
        code = getpass.getpass("Mã khôi phục: ")
    else:
        code = sys.stdin.readline().strip()
    done = recover_admin(db, args.username, code, new_password_from_env_or_prompt())
    emit(
        args,
        {"username": done.operator.username, "recovery_code": done.new_code},
        f"Đã đặt mật khẩu mới cho {done.operator.username}. Mã khôi phục cũ đã hết hiệu lực.\n"
        f"MÃ KHÔI PHỤC MỚI (chỉ hiện một lần): {done.new_code}\n"
        "In hoặc chép mã này, niêm phong và giao người giám sát giữ.",
    )
    return EXIT_OK


def cmd_operator_recovery_code(args: argparse.Namespace) -> int:
    from app.services.operators import issue_recovery_code

    db = open_db(args)
    actor = login(args, db)
    code = issue_recovery_code(db, by=actor)
    emit(
        args,
        {"recovery_code": code},
        f"MÃ KHÔI PHỤC MỚI (chỉ hiện một lần; mã cũ hết hiệu lực): {code}",
    )
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
    p.add_argument("--role", choices=ROLES, default="cashier")
    group.add(
        "passwd",
        cmd_operator_passwd,
        "đổi mật khẩu của chính --user (old: $QUAYTHU_PASSWORD, new: $QUAYTHU_NEW_PASSWORD)",
        needs_user=True,
    )
    p = group.add(
        "reset",
        cmd_operator_reset,
        "đặt lại mật khẩu của người khác (admin; phải đổi khi đăng nhập lần tới)",
        needs_user=True,
    )
    p.add_argument("--username", required=True)
    for name, handler, text in (
        ("disable", cmd_operator_disable, "vô hiệu hóa tài khoản (admin; không xóa)"),
        ("enable", cmd_operator_enable, "kích hoạt lại tài khoản (admin)"),
        ("unlock", cmd_operator_unlock, "mở khóa tài khoản bị tạm khóa (admin)"),
    ):
        p = group.add(name, handler, text, needs_user=True)
        p.add_argument("--username", required=True)
    p = group.add("role", cmd_operator_role, "đổi vai trò (admin)", needs_user=True)
    p.add_argument("--username", required=True)
    p.add_argument("--role", choices=ROLES, required=True)
    group.add("list", cmd_operator_list, "danh sách tài khoản (admin, giám sát)", needs_user=True)
    p = group.add(
        "recover",
        cmd_operator_recover,
        "khôi phục quyền quản trị bằng mã khôi phục (tại máy quầy; mã đọc từ stdin/prompt)",
    )
    p.add_argument("--username", required=True)
    group.add(
        "recovery-code",
        cmd_operator_recovery_code,
        "cấp mã khôi phục mới (admin; mã cũ hết hiệu lực)",
        needs_user=True,
    )
