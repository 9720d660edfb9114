"""`quaythu operator passwd|reset|disable|enable|role|unlock|list` end to end on a real database."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import ADMIN_PASSWORD, Cli

U = ("--user", "quantri")


def add_cashier(counter: Cli, first: str = "mat-khau-dau-1") -> None:
    counter.env["QUAYTHU_NEW_PASSWORD"] = first
    done = counter("operator", "add", *U, "--username", "thungan2", "--name", "Ngân Hai")
    assert done.returncode == 0, done.stderr
    assert "đổi mật khẩu khi đăng nhập lần đầu" in done.stdout


def test_first_sign_in_must_change_then_works(counter: Cli) -> None:
    add_cashier(counter)
    refused = counter("operator", "list", "--user", "thungan2", password="mat-khau-dau-1")
    assert refused.returncode == 1
    assert "lần đăng nhập đầu tiên" in refused.stderr and "operator passwd" in refused.stderr
    counter.env["QUAYTHU_NEW_PASSWORD"] = "12345678"
    weak = counter("operator", "passwd", "--user", "thungan2", password="mat-khau-dau-1")
    assert weak.returncode == 2 and "Mật khẩu mới" in weak.stderr and "10 ký tự" in weak.stderr
    counter.env["QUAYTHU_NEW_PASSWORD"] = "thungan2-ngon"
    named = counter("operator", "passwd", "--user", "thungan2", password="mat-khau-dau-1")
    assert named.returncode == 2 and "tên đăng nhập" in named.stderr
    counter.env["QUAYTHU_NEW_PASSWORD"] = "lua-thom-bac-ninh"
    wrong = counter("operator", "passwd", "--user", "thungan2", password="khong-dung-dau")
    assert wrong.returncode == 1 and "Sai tên đăng nhập" in wrong.stderr
    ok = counter("operator", "passwd", "--user", "thungan2", password="mat-khau-dau-1")
    assert ok.returncode == 0, ok.stderr
    listed = counter("operator", "list", "--user", "thungan2", password="lua-thom-bac-ninh")
    assert listed.returncode == 1 and "không được xem danh sách" in listed.stderr  # signed in


def test_reset_disable_enable_role_unlock_list(counter: Cli) -> None:
    add_cashier(counter)
    counter.env["QUAYTHU_NEW_PASSWORD"] = "dat-lai-mat-khau"
    assert counter("operator", "reset", *U, "--username", "thungan2").returncode == 0
    after_reset = counter("operator", "list", "--user", "thungan2", password="dat-lai-mat-khau")
    assert after_reset.returncode == 1 and "đặt lại mật khẩu" in after_reset.stderr
    for _ in range(5):
        counter("operator", "list", "--user", "thungan2", password="sai-sai-sai-sai")
    locked = counter("operator", "list", "--user", "thungan2", password="dat-lai-mat-khau")
    assert locked.returncode == 1 and "tạm khóa" in locked.stderr and "phút" in locked.stderr
    ops: Any = counter.json("operator", "list", *U)
    row = next(o for o in ops["operators"] if o["username"] == "thungan2")
    assert row["locked_until"] is not None and row["must_change"] == "reset"
    assert counter("operator", "unlock", *U, "--username", "thungan2").returncode == 0
    assert "thungan2" in counter("operator", "list", *U).stdout
    # disable, never delete; the sign-in is refused; enable brings it back
    assert counter("operator", "disable", *U, "--username", "thungan2").returncode == 0
    ops = counter.json("operator", "list", *U)
    assert any(o["username"] == "thungan2" and not o["active"] for o in ops["operators"])
    counter.env["QUAYTHU_NEW_PASSWORD"] = "lua-thom-bac-ninh"
    gone = counter("operator", "passwd", "--user", "thungan2", password="dat-lai-mat-khau")
    assert gone.returncode == 1
    assert counter("operator", "enable", *U, "--username", "thungan2").returncode == 0
    assert (
        counter("operator", "passwd", "--user", "thungan2", password="dat-lai-mat-khau").returncode
        == 0
    )
    # roles; the last admin stays
    last = counter("operator", "role", *U, "--username", "quantri", "--role", "cashier")
    assert last.returncode == 1 and "quản trị viên cuối cùng" in last.stderr
    self_off = counter("operator", "disable", *U, "--username", "quantri")
    assert self_off.returncode == 1 and "quản trị viên cuối cùng" in self_off.stderr
    promoted: Any = counter.json(
        "operator", "role", *U, "--username", "thungan2", "--role", "admin"
    )
    assert promoted["role"] == "admin"
    not_admin = counter(
        "operator",
        "reset",
        "--user",
        "thungan2",
        "--username",
        "quantri",
        password="lua-thom-bac-ninh",
    )
    assert not_admin.returncode == 0  # an admin now
    assert (
        counter("operator", "list", *U, password=ADMIN_PASSWORD).returncode == 1
    )  # reset: must change
