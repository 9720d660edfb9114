"""The one log file that the window and every `quaythu` process share (ui/logs.py)."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import ROOT, Cli
from ui.logs import SharedRotatingFileHandler, log_path, setup_logging, stop_logging

WRITER = """
import logging, sys, time
from pathlib import Path
from ui.logs import SharedRotatingFileHandler
folder, name, count, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
handler = SharedRotatingFileHandler(folder / "quaythu.log", max_bytes=6000, backup_count=200)
handler.setFormatter(logging.Formatter("%(process)d %(message)s"))
log = logging.getLogger("quaythu.writer")
log.addHandler(handler)
log.setLevel(logging.INFO)
while not go.exists():
    time.sleep(0.002)
for n in range(count):
    log.info("%s line %04d Đồng bộ xong %s", name, n, "x" * 40)
handler.close()
"""


def all_lines(folder: Path) -> list[str]:
    return [
        line
        for path in sorted(folder.glob("quaythu.log*"))
        if not path.name.endswith(".lock")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def test_processes_writing_at_once_lose_no_line_and_rotate_by_size(tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), f"w{i}", "400", str(go)], cwd=ROOT
        )
        for i in range(3)
    ]
    time.sleep(0.5)
    go.touch()
    for w in writers:
        assert w.wait(timeout=120) == 0

    lines = all_lines(tmp_path)
    shape = re.compile(r"^\d+ (w\d) line (\d{4}) Đồng bộ xong x{40}$")
    assert all(shape.match(line) for line in lines), [x for x in lines if not shape.match(x)][:3]
    got = sorted((m[1], int(m[2])) for m in map(shape.match, lines) if m)
    assert got == sorted((f"w{i}", n) for i in range(3) for n in range(400))
    files = [p for p in tmp_path.glob("quaythu.log*") if not p.name.endswith(".lock")]
    assert len(files) > 5  # it did rotate
    assert all(p.stat().st_size <= 6000 for p in files)


def test_rotation_keeps_the_newest_backups_only(tmp_path: Path) -> None:
    handler = SharedRotatingFileHandler(tmp_path / "quaythu.log", max_bytes=500, backup_count=2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for n in range(60):
        handler.emit(logging.makeLogRecord({"msg": f"record {n:02d} " + "y" * 30}))
    handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["quaythu.log", "quaythu.log.1", "quaythu.log.2", "quaythu.log.lock"]
    newest = (tmp_path / "quaythu.log").read_text(encoding="utf-8").splitlines()
    assert newest[-1].startswith("record 59 ")
    oldest = (tmp_path / "quaythu.log.2").read_text(encoding="utf-8").splitlines()
    assert not any(line.startswith("record 00 ") for line in oldest)


def test_setup_is_idempotent_and_follows_the_log_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUAYTHU_LOG_DIR", str(tmp_path / "a"))
    logger = logging.getLogger("quaythu")
    try:
        first = setup_logging()
        assert setup_logging() == first == log_path() == tmp_path / "a" / "quaythu.log"
        ours = [h for h in logger.handlers if isinstance(h, SharedRotatingFileHandler)]
        assert len(ours) == 1
        monkeypatch.setenv("QUAYTHU_LOG_DIR", str(tmp_path / "b"))
        assert setup_logging() == tmp_path / "b" / "quaythu.log"
        assert [h for h in logger.handlers if isinstance(h, SharedRotatingFileHandler)] != ours
        logging.getLogger("quaythu.test").info("sau khi đổi thư mục")
        assert "sau khi đổi thư mục" in (tmp_path / "b" / "quaythu.log").read_text("utf-8")
        assert not (tmp_path / "a" / "quaythu.log").exists()
    finally:
        stop_logging()
    assert not [h for h in logger.handlers if isinstance(h, SharedRotatingFileHandler)]


def test_unwritable_log_folder_keeps_json_stderr_clean(counter: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    counter.env["QUAYTHU_LOG_DIR"] = str(blocker / "log")
    done = counter("verify", "--json")
    assert done.returncode == 0
    assert done.stderr == ""
    assert '"ok": true' in done.stdout
