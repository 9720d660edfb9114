from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.counters import (
    ADMIN_FULL_NAME,
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    COUNTER_CODE,
    ORGANISATION,
)
from tests.support.processes import ROOT, child_env


class Cli:
    """Runs `python -m ui.cli` in a subprocess against one database and one test keyring."""

    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "counter.sqlite3"
        self.env = {**child_env(tmp, tmp / "keyring.json"), "QUAYTHU_PASSWORD": ADMIN_PASSWORD}
        self.env.pop("QUAYTHU_USER", None)

    def __call__(
        self, *args: str, password: str | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if password is not None:
            env["QUAYTHU_PASSWORD"] = password
        return subprocess.run(
            [sys.executable, "-m", "ui.cli", *args, "--db", str(self.db)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            input=stdin,
        )

    def json(self, *args: str, **kw: str | None) -> object:
        done = self(*args, "--json", **kw)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def counter(cli: Cli) -> Cli:
    done = cli(
        "init",
        "--organisation",
        ORGANISATION,
        "--collection-point",
        "Điểm thu xã Đồng Hỷ",
        "--counter-code",
        COUNTER_CODE,
        "--admin-user",
        ADMIN_USERNAME,
        "--admin-name",
        ADMIN_FULL_NAME,
    )
    assert done.returncode == 0, done.stderr
    return cli


CliFactory = Callable[..., subprocess.CompletedProcess[str]]
