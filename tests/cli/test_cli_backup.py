"""`quaythu backup now|status|folder` and `quaythu restore FILE` end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli

U = ("--user", "quantri")


def test_backup_now_status_and_restore(counter: Cli, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    chosen: Any = counter.json("backup", "folder", str(usb), *U)
    assert chosen["folder"] == str(usb)
    made: Any = counter.json("backup", "now")
    assert made["ok"] is True and Path(made["path"]).parent == usb
    status = counter("backup", "status")
    assert status.returncode == 0 and "tốt" in status.stdout and str(usb) in status.stdout
    restored = counter("restore", made["path"])
    assert restored.returncode == 0, restored.stderr
    assert "Tệp cũ giữ lại" in restored.stdout
    missing = counter("restore", str(tmp_path / "khong-co.sqlite3"))
    assert missing.returncode == 1 and "Không có tệp" in missing.stderr
