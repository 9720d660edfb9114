from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "quantri-2026"


class Cli:
    """Runs `python -m ui.cli` in a subprocess against one database and one test keyring."""

    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "counter.sqlite3"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "tests.support.keyrings.FileKeyring",
            "QUAYTHU_TEST_KEYRING_FILE": str(tmp / "keyring.json"),
            "QUAYTHU_PASSWORD": ADMIN_PASSWORD,
            "HOME": str(tmp / "home"),
            "XDG_DATA_HOME": str(tmp / "home" / "data"),
            "XDG_STATE_HOME": str(tmp / "home" / "state"),
        }
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
        "Bưu điện tỉnh Thái Nguyên",
        "--collection-point",
        "Điểm thu xã Đồng Hỷ",
        "--counter-code",
        "TN-DH01",
        "--admin-user",
        "quantri",
        "--admin-name",
        "Đặng Văn Quản",
    )
    assert done.returncode == 0, done.stderr
    return cli


CliFactory = Callable[..., subprocess.CompletedProcess[str]]
