"""`quaythu enroll | sync | reconcile | sync-status` and `quaythu-central …` as subprocesses."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from app.services.common import Actor
from app.services.registration import record_enrollment
from app.storage.db import Database
from tests.sync.conftest import (
    ROOT,
    CentralServer,
    Counter,
    Shell,
    assert_consistent,
    enrollment_code,
    make_counter,
)


def test_enroll_then_sync_then_status(
    db: Database,
    admin: Actor,
    central: CentralServer,
    tmp_path: Path,
    db_path: Path,
    memory_keyring: object,
) -> None:
    c = make_counter(db, admin, central, enroll=False)
    c.pay(2)
    sh = Shell(tmp_path, db_path, memory_keyring)
    before = sh.run("sync")
    assert before.returncode == 3 and "chưa đăng ký" in before.stderr
    code = enrollment_code(central.store, db)
    from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME

    sh.env = {**sh.env, "QUAYTHU_PASSWORD": ADMIN_PASSWORD}
    enrolled = subprocess.run(
        sh.argv(
            "enroll", "--server", central.url, "--code-stdin", "--user", ADMIN_USERNAME, "--json"
        ),
        input=code + "\n",
        env=sh.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert enrolled.returncode == 0, enrolled.stderr
    assert json.loads(enrolled.stdout)["central_counter_id"].startswith("QT-")
    assert "api-token" not in enrolled.stdout and code not in enrolled.stdout
    # the token went to the keyring, not the database
    stored = json.loads(sh.keyring_file.read_text())
    token = next(v for k, v in stored.items() if "api-token:" in k)
    assert token.encode() not in db_path.read_bytes()
    done = sh.run("sync")
    assert done.returncode == 0, done.stderr
    assert "gửi 3 bản ghi mới" in done.stdout  # the shift's opening and the two payments
    status = json.loads(sh.run("sync-status", "--json").stdout)
    assert status["status"]["pending"] == 0 and status["status"]["state"] == "idle"
    assert status["status"]["last_success"]


def test_sync_offline_exits_3_with_a_message(counter: Counter, shell: Shell) -> None:
    counter.pay(1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    record_enrollment(counter.db, central_url=f"http://127.0.0.1:{port}", central_counter_id="x")
    done = shell.run("sync", "--json", "--attempts", "2")
    assert done.returncode == 3
    err = json.loads(done.stdout)["error"]
    assert err["kind"] == "offline" and "Không kết nối được" in err["message"]
    status = json.loads(shell.run("sync-status", "--json").stdout)["status"]
    assert status["state"] == "offline" and status["pending"] == 1


def test_reconcile_command(counter: Counter, shell: Shell, tmp_path: Path) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    counter.pay(2, now=yesterday)
    assert shell.run("sync").returncode == 0
    out = tmp_path / "doi-chieu.csv"
    done = shell.run("reconcile", "--csv", str(out))
    assert done.returncode == 0, done.stderr
    assert "KHỚP" in done.stdout
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    counter.pay(1, now=yesterday)
    mismatch = shell.run("reconcile", "--json")
    assert mismatch.returncode == 1, (mismatch.stdout, mismatch.stderr)
    assert json.loads(mismatch.stdout)["issues"][0]["kind"] == "missing_at_central"
    assert_consistent(counter, complete=False)


def central_cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central.cli", *args, "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_central_admin_commands(tmp_path: Path) -> None:
    db = tmp_path / "central.sqlite3"
    who = ("--organisation", "Bưu điện Thái Nguyên", "--collection-point", "Đồng Hỷ")
    code = central_cli(
        db, "make-enrollment-code", *who, "--counter-code", "Q01", "--label", "Điểm thu Đồng Hỷ"
    )
    assert code.returncode == 0 and len(code.stdout.strip()) == 19
    # a code is for one named counter, and its validity is bounded
    unnamed = central_cli(db, "make-enrollment-code", "--label", "x")
    assert unnamed.returncode == 2 and "--counter-code" in unnamed.stderr
    for hours in ("0", "-5", "100000"):
        absurd = central_cli(
            db, "make-enrollment-code", *who, "--counter-code", "Q01", "--valid-hours", hours
        )
        assert absurd.returncode == 1 and "Thời hạn" in absurd.stderr
    assert json.loads(central_cli(db, "list-counters", "--json").stdout) == []
    assert json.loads(central_cli(db, "list-flags", "--json").stdout) == []
    good = ROOT / "resources" / "rates" / "default.json"
    published = central_cli(db, "publish-rates", str(good), "--json")
    assert published.returncode == 0 and json.loads(published.stdout)["published"] is True
    bad = tmp_path / "bad.json"
    doc = json.loads(good.read_text(encoding="utf-8"))
    doc["base_salary"][0]["value"] = 1.5
    bad.write_text(json.dumps(doc), encoding="utf-8")
    refused = central_cli(db, "publish-rates", str(bad))
    assert refused.returncode == 1 and "base_salary" in refused.stderr


def test_central_serve_is_one_command(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central.cli",
            "serve",
            "--db",
            str(tmp_path / "c.sqlite3"),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(
                        "central did not start: " + (proc.stderr.read() if proc.stderr else "")
                    )
                time.sleep(0.1)
        assert resp.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(10)
