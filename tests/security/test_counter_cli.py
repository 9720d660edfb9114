"""Counter side of issue 10 through `quaythu`: one original per receipt, no clobbered files,
no exit 70 for bad input, `daily` exit bits."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from tests.cli import conftest as cli_fixtures
from tests.cli.conftest import Cli
from tests.cli.test_cli_documents import U, pay, setup_payer

cli, counter = cli_fixtures.cli, cli_fixtures.counter  # the fixtures, shared


def pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _audit(db: Path, action: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT details FROM audit_events WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_only_the_first_rendering_is_the_original(counter: Cli, tmp_path: Path) -> None:
    setup_payer(counter)
    pay(counter)
    first, second, third = (tmp_path / f"{n}.pdf" for n in ("a", "b", "c"))
    assert counter("receipt", "1", "--output", str(first)).returncode == 0
    assert "BẢN SAO" not in pdftotext(first)
    # again without a login: refused, nothing written
    again = counter("receipt", "1", "--output", str(second))
    assert again.returncode == 1 and "BẢN SAO" in again.stderr
    assert not second.exists()
    # with an operator, without --copy: a counted copy
    done = counter("receipt", "1", *U, "--output", str(second))
    assert done.returncode == 0, done.stderr
    assert "BẢN SAO (lần 1)" in pdftotext(second)
    done = counter("receipt", "1", *U, "--copy", "--output", str(third))
    assert "BẢN SAO (lần 2)" in pdftotext(third)
    assert first.read_bytes() != second.read_bytes()
    assert len(_audit(counter.db, "receipt.original")) == 1
    assert [e["number"] for e in _audit(counter.db, "receipt.reprint")] == [1, 2]


def test_a_failed_original_may_be_issued_again_audited(counter: Cli, tmp_path: Path) -> None:
    from app.services.documents import issue_receipt, report_print_failure
    from app.storage.db import open_database

    setup_payer(counter)
    pay(counter)
    db = open_database(counter.db)
    try:
        assert issue_receipt(db, 1, by=None).reprint_number == 0
        report_print_failure(db, 1, by=None, reason="hết giấy")
        assert issue_receipt(db, 1, by=None).reprint_number == 0  # the retry is the original
    finally:
        db.close()
    assert [e["retry"] for e in _audit(counter.db, "receipt.original")] == [0, 1]
    refused = counter("receipt", "1", "--output", str(tmp_path / "x.pdf"))
    assert refused.returncode == 1


def test_exports_never_overwrite_the_database_or_an_existing_file(
    counter: Cli, tmp_path: Path
) -> None:
    setup_payer(counter)
    payment = pay(counter)
    day = payment["business_date"]
    before = counter.db.read_bytes()
    for target in (counter.db, Path(f"{counter.db}-wal"), tmp_path / "counter.backup-1.sqlite3"):
        for force in ((), ("--force",)):
            done = counter("report", "--date", day, "--output", str(target), *force)
            assert done.returncode in (1, 2), done.stderr
            assert "cơ sở dữ liệu" in done.stderr or "đã có" in done.stderr
    assert counter.db.read_bytes()[:16] == before[:16]
    out = tmp_path / "bc.csv"
    assert counter("report", "--date", day, "--format", "csv", "-o", str(out)).returncode == 0
    refused = counter("report", "--date", day, "--format", "csv", "-o", str(out))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (
        counter("report", "--date", day, "--format", "csv", "-o", str(out), "--force").returncode
        == 0
    )
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed, not left


def test_bad_input_gets_a_message_not_exit_70(counter: Cli, tmp_path: Path) -> None:
    setup_payer(counter)
    cases = [
        ("participant", "import", *U, str(tmp_path / "missing.csv")),
        ("participant", "import", *U, str(tmp_path)),
        ("report", "--output", str(tmp_path / "no" / "such" / "folder" / "x.pdf")),
        ("report", "--output", "/proc/quaythu-cannot-write.pdf"),
        (
            "pay",
            *U,
            "--participant",
            "019185001234",
            "--scheme",
            "bhyt_hgd",
            "--months",
            "12",
            "--tendered",
            "1e23",
        ),
        (
            "pay",
            *U,
            "--participant",
            "019185001234",
            "--scheme",
            "bhyt_hgd",
            "--months",
            "12",
            "--tendered",
            "1" + "0" * 30,
        ),
        (
            "pay",
            *U,
            "--participant",
            "019185001234",
            "--scheme",
            "bhyt_hgd",
            "--months",
            "12",
            "--member-order",
            "1" + "0" * 30,
        ),
        ("void", *U, "--receipt", "9" * 30, "--reason", "nhầm người nộp"),
        ("receipt", "9" * 30, "--output", str(tmp_path / "r.pdf")),
        ("list", "--date", "2026-02-30"),
    ]
    for args in cases:
        done = counter(*args)
        assert done.returncode in (1, 2), (args, done.returncode, done.stderr)
        assert "Lỗi không mong muốn" not in done.stderr
    impossible = counter("list", "--date", "2026-02-30")
    assert "không phải ngày có thật" in impossible.stderr


def test_daily_writes_into_a_folder_and_says_what_failed(counter: Cli, tmp_path: Path) -> None:
    setup_payer(counter)
    payment = pay(counter)
    folder = tmp_path / "bao-cao" / "01-XN"
    done = counter("daily", "--folder", str(folder), "--date", payment["business_date"], "--json")
    # not enrolled: sync and reconciliation are skipped, not failures; no backup service yet
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)["steps"]
    assert any("Đồng bộ: bỏ qua" in s for s in steps)
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv", ".pdf"]
    assert "3.168.000" in pdftotext(next(folder.glob("*.pdf")))
    a_file = tmp_path / "tep"
    a_file.write_text("x")
    refused = counter("daily", "--folder", str(a_file))
    assert refused.returncode == 2 and "là một tệp" in refused.stderr
    assert a_file.read_text() == "x"
    assert "quaythu daily" in counter.log_text()
