"""`quaythu sync` says when central refused a record; `quaythu enroll` needs an admin, keeps the
code out of the process list and refuses plain HTTP to another machine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from app.services.common import Actor
from app.storage.db import Database
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.sync import conftest as sync_fixtures
from tests.sync.conftest import ROOT, CentralServer, Counter, Shell, enrollment_code, make_counter
from tests.sync.test_central import tamper_amount

central, counter, shell = sync_fixtures.central, sync_fixtures.counter, sync_fixtures.shell


def test_sync_exits_4_when_central_refuses_a_record(
    counter: Counter, shell: Shell, db_path: Path
) -> None:
    counter.pay(3)
    tamper_amount(db_path, 2, 10_000)
    done = shell.run("sync")
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "TỪ CHỐI" in done.stderr
    # `sync && report` does not go on: a later run still reports the parked record
    assert shell.run("sync").returncode == 4


def _enroll(
    sh: Shell, *args: str, code: str = "", password: str = ADMIN_PASSWORD
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sh.argv("enroll", *args),
        input=code + "\n",
        env={**sh.env, "QUAYTHU_PASSWORD": password},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_enroll_needs_an_admin_and_shows_the_server_first(
    db: Database,
    admin: Actor,
    central: CentralServer,
    tmp_path: Path,
    db_path: Path,
    memory_keyring: object,
) -> None:
    c = make_counter(db, admin, central, enroll=False)
    sh = Shell(tmp_path, db_path, memory_keyring)
    code = enrollment_code(central.store, db)
    server = ("--server", central.url, "--code-stdin", "--timeout", "10")
    cashier = _enroll(sh, *server, "--user", c.cashier.username, code=code, password="x" * 12)
    assert cashier.returncode in (1, 2), cashier.stderr
    no_user = _enroll(sh, *server, code=code)
    assert no_user.returncode == 2 and "--user" in no_user.stderr
    remote = _enroll(
        sh,
        "--server",
        "http://192.0.2.10:8080",
        "--code-stdin",
        "--user",
        ADMIN_USERNAME,
        code=code,
    )
    assert remote.returncode == 2 and "https://" in remote.stderr
    bad_timeout = _enroll(sh, *server[:-1], "nan", "--user", ADMIN_USERNAME, code=code)
    assert bad_timeout.returncode == 2
    done = _enroll(sh, *server, "--user", ADMIN_USERNAME, "--json", code=code)
    assert done.returncode == 0, done.stderr
    assert "Máy chủ trung tâm: 127.0.0.1" in done.stderr  # shown before the key went out
    assert code not in done.stdout + done.stderr
    assert json.loads(done.stdout)["central_counter_id"]


def test_enroll_code_on_the_command_line_warns(
    db: Database,
    admin: Actor,
    central: CentralServer,
    tmp_path: Path,
    db_path: Path,
    memory_keyring: object,
) -> None:
    make_counter(db, admin, central, enroll=False)
    sh = Shell(tmp_path, db_path, memory_keyring)
    code = enrollment_code(central.store, db)
    done = _enroll(sh, "--server", central.url, "--code", code, "--user", ADMIN_USERNAME)
    assert done.returncode == 0, done.stderr
    assert "danh sách tiến trình" in done.stderr


def test_payments_made_during_a_sync_do_not_make_it_offline(counter: Counter, shell: Shell) -> None:
    counter.pay(120)
    run = shell.start("sync", "--batch-size", "5")
    during = 0
    while run.poll() is None and during < 15:
        counter.pay(1)
        during += 1
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, (out, err)
    assert during > 0  # the counter kept taking payments while the run uploaded


def test_daily_with_central_reconciles_and_flags_a_refused_record(
    counter: Counter, shell: Shell, db_path: Path, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    yesterday = datetime.now(UTC) - timedelta(days=1)
    counter.pay(2, now=yesterday)
    folder = tmp_path / "01xn"
    done = shell.run("daily", "--folder", str(folder), "--formats", "xlsx", "--json")
    assert done.returncode == 0, (done.stdout, done.stderr)
    steps = json.loads(done.stdout)["steps"]
    assert any(s.startswith("Đối chiếu: khớp") for s in steps), steps
    assert [p.suffix for p in folder.iterdir()] == [".xlsx"]
    counter.pay(1, now=yesterday)
    tamper_amount(db_path, 3, 10_000)
    flagged = shell.run("daily", "--folder", str(folder), "--json")
    # 2: central refused the tampered record; 4: yesterday no longer matches central
    assert flagged.returncode == 2 | 4, (flagged.stdout, flagged.stderr)
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv", ".pdf", ".xlsx"]
