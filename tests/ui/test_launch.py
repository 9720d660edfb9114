"""Launching the window: no display, a mistyped --db, and Ctrl+C in the terminal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import ROOT, child_env
from ui.cli import main


def test_no_display_is_said_in_vietnamese(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--db", str(tmp_path / "quaythu.sqlite3")]) == 1
    err = capsys.readouterr().err
    assert "phiên đồ họa" in err and "quaythu --help" in err
    assert "xcb" not in err
    assert not (tmp_path / "quaythu.sqlite3").exists()


def test_window_refuses_a_db_in_a_folder_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    typo = tmp_path / "quay-thu" / "quaythu.sqlite3"
    assert main(["--db", str(typo)]) == 1
    assert "--db" in capsys.readouterr().err
    assert not typo.parent.exists()


def test_ctrl_c_in_the_terminal_closes_the_window_cleanly(tmp_path: Path) -> None:
    env = {
        **child_env(tmp_path, tmp_path / "keyring.json"),
        "QT_QPA_PLATFORM": "offscreen",
        "QUAYTHU_LOG_DIR": str(tmp_path / "log"),
    }
    log = tmp_path / "log" / "quaythu.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "--db", str(tmp_path / "quaythu.sqlite3")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and "setup wizard shown" in log.read_text(encoding="utf-8"):
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
