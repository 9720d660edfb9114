"""`quaythu` as scheduled jobs run it: separate processes, `python -m ui.cli` and the console
script, one database and one log shared between runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.conftest import INIT_ARGS, ROOT, SubprocessCli

U = ("--user", "quantri")


def test_python_m_and_console_script_show_help() -> None:
    script = Path(sys.executable).with_name("quaythu")
    for argv in ([sys.executable, "-m", "ui.cli", "--help"], [str(script), "--help"]):
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        for command in ("init", "pay", "verify", "report", "participant", "sync", "sync-status"):
            assert re.search(rf"^\s+{command}\b", done.stdout, re.MULTILINE), command


def test_usage_error_exit_2_in_a_process(shell: SubprocessCli) -> None:
    done = shell("pay", "--bogus")
    assert done.returncode == 2
    assert "required: --participant, --scheme" in done.stderr


def test_init_pay_verify_in_separate_processes_share_db_and_log(shell: SubprocessCli) -> None:
    assert shell(*INIT_ARGS).returncode == 0
    added = shell(
        "participant",
        "add",
        *U,
        "--name",
        "Lê Thị Mỹ Đào",
        "--dob",
        "14/03/1985",
        "--sex",
        "nu",
        "--cccd",
        "019185001234",
    )
    assert added.returncode == 0, added.stderr
    opened = shell("shift", "open", *U, "--total", "0")  # payments need a shift
    assert opened.returncode == 0, opened.stderr
    pay: Any = shell.json(
        "pay", *U, "--participant", "019185001234", "--scheme", "bhyt_hgd", "--months", "3"
    )
    assert pay["receipt_number"] == 1
    verified: Any = shell.json("verify")
    assert verified["ok"] is True and verified["checked"] == 2  # the shift's opening, the payment

    lines = shell.log_text().splitlines()
    run = re.compile(r"^\S+ \S+ INFO (\d+) quaythu\.cli \[MainThread\] quaythu ([a-z -]+): (.*)$")
    runs = [m.groups() for m in map(run.match, lines) if m]
    assert [command for _, command, _ in runs] == [
        "init",
        "participant add",
        "shift open",
        "pay",
        "verify",
    ]
    assert all(outcome.startswith("exit 0, done (") for _, _, outcome in runs)
    assert len({pid for pid, _, _ in runs}) == 5  # one process each, one file
