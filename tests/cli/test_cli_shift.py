"""`quaythu shift open | drop | pickup | close | status | report` in-process against a real
counter file (docs/SHIFTS.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from app.services.operators import authenticate
from app.storage.db import open_database
from tests.cli.conftest import ADMIN_PASSWORD, INIT_ARGS, Cli
from tests.support.counters import SUPERVISOR, add_staff, cheap_password_hashing

SUPERVISOR_PASSWORD = SUPERVISOR.password


def _init(cli: Cli) -> None:
    """A counter with its admin and a supervisor (made through the services on the same file)."""
    assert cli(*INIT_ARGS).returncode == 0
    db = open_database(cli.db)
    try:
        with cheap_password_hashing():
            add_staff(db, authenticate(db, "quantri", ADMIN_PASSWORD), SUPERVISOR)
    finally:
        db.close()


def _pdftotext(path: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    )
    return " ".join(out.stdout.decode("utf-8").split())


def test_pay_needs_a_shift_then_open_pay_drop_close_report(cli: Cli, tmp_path: Path) -> None:
    _init(cli)
    assert (
        cli(
            "participant",
            "add",
            "--user",
            "quantri",
            "--name",
            "Lê Thị Mỹ Đào",
            "--ma-so",
            "0123456789",
        ).returncode
        == 0
    )
    pay = (
        "pay",
        "--user",
        "quantri",
        "--participant",
        "0123456789",
        "--scheme",
        "bhyt_hgd",
        "--months",
        "3",
    )
    refused = cli(*pay)
    assert refused.returncode == 1 and "Chưa mở ca" in refused.stderr
    opened = cli("shift", "open", "--user", "quantri", "--counts", "500.000=2,100000=5")
    assert opened.returncode == 0, opened.stderr
    assert "Tiền đầu ca: 1.500.000 đ" in opened.stdout
    twice = cli("shift", "open", "--user", "quantri", "--total", "0")
    assert twice.returncode == 1 and "đang có ca mở" in twice.stderr
    assert cli(*pay).returncode == 0
    status = json.loads(cli("shift", "status", "--json").stdout)["open"]
    assert status["payments"] == 1
    expected = status["expected"]
    cli.env["QUAYTHU_SUPERVISOR_PASSWORD"] = SUPERVISOR_PASSWORD
    dropped = cli(
        "shift",
        "drop",
        "--user",
        "quantri",
        "--amount",
        "1000000",
        "--reason",
        "nộp két giữa ca",
        "--supervisor",
        "giamsat",
    )
    assert dropped.returncode == 0, dropped.stderr
    expected -= 1_000_000
    bad = cli("shift", "close", "--user", "quantri", "--counts", "500000=1")
    assert bad.returncode == 2 and "Lý do chênh lệch" in bad.stderr
    closed = cli(
        "shift",
        "close",
        "--user",
        "quantri",
        "--counts",
        "500000=1",
        "--reason",
        "thiếu tiền lẻ",
        "--supervisor",
        "giamsat",
        "--json",
    )
    assert closed.returncode == 0, closed.stderr
    view = json.loads(closed.stdout)
    assert (view["expected"], view["counted"]) == (expected, 500_000)
    assert view["unsynced_at_close"] == 1
    assert "không có ca" in cli("shift", "status").stdout
    out = tmp_path / "z.pdf"
    report = cli("shift", "report", "--user", "quantri", "--output", str(out))
    assert report.returncode == 0, report.stderr
    text = _pdftotext(out)
    assert "BÁO CÁO CHỐT CA (Z)" in text and "BẢN SAO" not in text
    assert "Giám sát xác nhận: Trần Đức Giám (giamsat)" in text
    copy = tmp_path / "z2.pdf"
    again = cli("shift", "report", "--user", "quantri", "--format", "a4", "--output", str(copy))
    assert again.returncode == 0 and "BẢN SAO lần 1" in again.stdout
    assert "BẢN SAO (lần 1)" in _pdftotext(copy)
    assert cli("verify").returncode == 0


def test_bad_counts_name_the_part(cli: Cli) -> None:
    _init(cli)
    done = cli("shift", "open", "--user", "quantri", "--counts", "500000x2")
    assert done.returncode == 2 and "500000x2" in done.stderr
    done = cli("shift", "open", "--user", "quantri", "--counts", "300=1")
    assert done.returncode == 2 and "300 đ" in done.stderr
