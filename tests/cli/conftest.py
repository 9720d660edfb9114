"""Two ways to run `quaythu` against one database: in-process through `ui.cli.main(argv)` (most
tests: fast, same code path), and as a subprocess `python -m ui.cli` (a few smoke tests: the
entry point, the real keyring lookup by name, separate processes sharing the database and log).
Both give back a `CompletedProcess` with the exit code and the captured stdout/stderr."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ui.cli import main
from ui.logs import stop_logging

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "songcau-tn-2026"


class Cli:
    """Runs `quaythu ARGS --db DB` in this process. `env` holds the variables the command sees
    (set for the call only); the keyring is the test's in-memory one."""

    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "counter.sqlite3"
        self.log_dir = tmp / "log"
        self.env: dict[str, str | None] = {
            "QUAYTHU_PASSWORD": ADMIN_PASSWORD,
            "QUAYTHU_USER": None,
            "QUAYTHU_LOG_DIR": str(self.log_dir),
        }

    @contextlib.contextmanager
    def _environment(self, password: str | None) -> Iterator[None]:
        wanted = dict(self.env)
        if password is not None:
            wanted["QUAYTHU_PASSWORD"] = password
        saved = {name: os.environ.get(name) for name in wanted}
        try:
            for name, value in wanted.items():
                _set_env(name, value)
            yield
        finally:
            for name, value in saved.items():
                _set_env(name, value)

    def __call__(self, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
        argv = [*args, "--db", str(self.db)]
        out, err = io.StringIO(), io.StringIO()
        with (
            self._environment(password),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: usage errors and --help
                code = exc.code if isinstance(exc.code, int) else 2
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    def json(self, *args: str, **kw: str | None) -> object:
        done = self(*args, "--json", **kw)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def log_text(self) -> str:
        return (self.log_dir / "quaythu.log").read_text(encoding="utf-8")


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


class SubprocessCli(Cli):
    """Runs `python -m ui.cli ARGS --db DB` in a child process with a file keyring."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.env.update(
            {
                "PYTHONPATH": str(ROOT),
                "PYTHON_KEYRING_BACKEND": "tests.support.keyrings.FileKeyring",
                "QUAYTHU_TEST_KEYRING_FILE": str(tmp / "keyring.json"),
                "HOME": str(tmp / "home"),
                "XDG_DATA_HOME": str(tmp / "home" / "data"),
                "XDG_STATE_HOME": str(tmp / "home" / "state"),
            }
        )

    def __call__(self, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **{k: v for k, v in self.env.items() if v is not None}}
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
        if password is not None:
            env["QUAYTHU_PASSWORD"] = password
        return subprocess.run(
            [sys.executable, "-m", "ui.cli", *args, "--db", str(self.db)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )


INIT_ARGS = (
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


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    yield Cli(tmp_path)
    stop_logging()  # the next test logs to its own folder


@pytest.fixture
def counter(cli: Cli) -> Cli:
    """An initialised counter whose admin holds the open shift (payments need one)."""
    done = cli(*INIT_ARGS)
    assert done.returncode == 0, done.stderr
    opened = cli("shift", "open", "--user", "quantri", "--total", "0")
    assert opened.returncode == 0, opened.stderr
    return cli


@pytest.fixture
def shell(tmp_path: Path) -> SubprocessCli:
    return SubprocessCli(tmp_path)
