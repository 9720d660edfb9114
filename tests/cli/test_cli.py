"""The CLI end to end, through subprocesses, on a real SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.domain.documents import format_receipt_number
from tests.cli.conftest import Cli

U = ("--user", "quantri")


def add_payer(cli: Cli, **kw: str) -> None:
    args = [
        "participant",
        "add",
        *U,
        "--name",
        kw.get("name", "Lê Thị Mỹ Đào"),
        "--dob",
        "14/03/1985",
        "--sex",
        "nu",
        "--cccd",
        kw.get("cccd", "019185001234"),
    ]
    if "ma_so" in kw:
        args += ["--ma-so", kw["ma_so"]]
    done = cli(*args)
    assert done.returncode == 0, done.stderr


def test_init_pay_list_verify(counter: Cli) -> None:
    add_payer(counter, ma_so="0123456789")
    pay: Any = counter.json(
        "pay",
        *U,
        "--participant",
        "0123456789",
        "--scheme",
        "bhxh_tn",
        "--income",
        "1.500.000",
        "--category",
        "other",
        "--method",
        "12",
        "--start-month",
        "2026-12",
        "--tendered",
        "3200000",
    )
    assert pay["amount"] == 3_168_000
    assert pay["receipt_number"] == 1
    assert pay["rate_version"]
    assert len(pay["confirmation_code"].replace("-", "")) == 12

    listed: Any = counter.json("list", "--date", pay["business_date"])
    assert [p["confirmation_code"] for p in listed["payments"]] == [pay["confirmation_code"]]
    assert listed["total"] == 3_168_000

    verified: Any = counter.json("verify")
    # two records: the shift's opening (the fixture's `shift open`) and the payment
    assert verified == {"ok": True, "checked": 2, "head_hash": verified["head_hash"]}


def test_bhyt_and_quote(counter: Cli) -> None:
    quote: Any = counter.json(
        "quote",
        "--scheme",
        "bhyt_hgd",
        "--member-order",
        "2",
        "--months",
        "12",
        "--date",
        "2026-11-22",
    )
    assert quote["total"] == 884_520
    add_payer(counter)
    pay: Any = counter.json(
        "pay",
        *U,
        "--participant",
        "019185001234",
        "--scheme",
        "bhyt_hgd",
        "--member-order",
        "2",
        "--months",
        "12",
    )
    assert pay["amount"] == 884_520


def test_same_request_id_records_once(counter: Cli) -> None:
    add_payer(counter)
    args = (
        "pay",
        *U,
        "--participant",
        "019185001234",
        "--scheme",
        "bhyt_hgd",
        "--months",
        "3",
        "--request-id",
        "may-tinh-1-lan-bam-42",
    )
    first: Any = counter.json(*args)
    second: Any = counter.json(*args)
    assert first["id"] == second["id"]
    assert len(counter.json("list", "--date", first["business_date"])["payments"]) == 1  # type: ignore[index]


def test_validation_errors_exit_2_name_the_field(counter: Cli) -> None:
    add_payer(counter)
    done = counter(
        "pay",
        *U,
        "--participant",
        "019185001234",
        "--scheme",
        "bhxh_tn",
        "--income",
        "1520000",
        "--json",
    )
    assert done.returncode == 2
    err = json.loads(done.stderr)["error"]
    assert err["field"] == "income"
    assert "50.000" in err["message"]
    done = counter(
        "participant",
        "add",
        *U,
        "--name",
        "Trần Văn Nam",
        "--dob",
        "1990-01-01",
        "--sex",
        "nam",
        "--cccd",
        "001190123",
    )
    assert done.returncode == 2
    assert "Số CCCD" in done.stderr and "12 chữ số" in done.stderr
    # argparse usage errors are exit 2 too
    assert counter("pay", "--bogus").returncode == 2
    # and nothing was recorded
    assert counter.json("list")["payments"] == []  # type: ignore[index]


def test_void_needs_supervisor_and_reason(counter: Cli) -> None:
    add_payer(counter)
    counter.env["QUAYTHU_NEW_PASSWORD"] = "hoasen-quay1-dau"
    done = counter(
        "operator", "add", *U, "--username", "thungan2", "--name", "Ngân Hai", "--role", "cashier"
    )
    assert done.returncode == 0, done.stderr
    counter.env["QUAYTHU_NEW_PASSWORD"] = "hoasen-quay1-26"  # the first password is changed
    changed = counter("operator", "passwd", "--user", "thungan2", password="hoasen-quay1-dau")
    assert changed.returncode == 0, changed.stderr
    pay: Any = counter.json(
        "pay", *U, "--participant", "019185001234", "--scheme", "bhyt_hgd", "--months", "3"
    )
    refused = counter(
        "void",
        "--user",
        "thungan2",
        "--receipt",
        "1",
        "--reason",
        "Thu nhầm người",
        password="hoasen-quay1-26",
    )
    assert refused.returncode == 1
    assert "hủy khoản thu" in refused.stderr
    no_reason = counter("void", *U, "--receipt", "1", "--reason", " ")
    assert no_reason.returncode == 2 and "Lý do hủy" in no_reason.stderr
    voided: Any = counter.json("void", *U, "--receipt", "1", "--reason", "Thu nhầm người")
    assert voided["voided"] is True and voided["id"] == pay["id"]
    assert counter.json("verify")["ok"] is True  # type: ignore[index]


def test_verify_exit_1_names_bad_record(counter: Cli) -> None:
    add_payer(counter)
    for _ in range(3):
        assert (
            counter(
                "pay", *U, "--participant", "019185001234", "--scheme", "bhyt_hgd", "--months", "3"
            ).returncode
            == 0
        )
    con = sqlite3.connect(counter.db)
    con.execute("DROP TRIGGER payments_no_update")
    con.execute("UPDATE payments SET payer_name = 'Người Khác' WHERE receipt_number = 2")
    con.commit()
    con.close()
    done = counter("verify")
    assert done.returncode == 1
    assert "số 3" in done.stderr  # receipt 2 is record 3: record 1 opened the shift
    data = json.loads(counter("verify", "--json").stdout)
    assert data["first_bad_seq"] == 3


def test_import_and_search(counter: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "ds.csv"
    csv_file.write_text(
        "Họ và tên,Ngày sinh,Giới tính,CCCD,Mã số BHXH,Đối tượng\n"
        "Nguyễn Thị Hằng,02/05/1978,Nữ,001178012345,0101234567,Hộ nghèo\n"
        "Đặng Văn Đức,11/09/1960,Nam,034060000111,,Khác\n",
        encoding="utf-8-sig",
    )
    result: Any = counter.json("participant", "import", *U, str(csv_file))
    assert result == {"created": 2, "updated": 0, "errors": []}
    found: Any = counter.json("participant", "search", "dang van d")
    assert [p["full_name"] for p in found] == ["Đặng Văn Đức"]
    assert counter.json("participant", "search", "0101")[0]["full_name"] == "Nguyễn Thị Hằng"  # type: ignore[index]

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Họ và tên,Ngày sinh,Giới tính,CCCD\nTrần Văn Ba,1/1/1990,Nam,12345\n", encoding="utf-8"
    )
    done = counter("participant", "import", *U, str(bad))
    assert done.returncode == 2
    assert "dòng 2" in done.stderr and "Số CCCD" in done.stderr
    assert len(counter.json("participant", "search", "tran van")) == 0  # type: ignore[arg-type]


def test_not_initialised_is_a_clear_refusal(cli: Cli) -> None:
    done = cli("list")
    assert done.returncode == 1
    assert "chưa được khởi tạo" in done.stderr


def test_a_mistyped_db_creates_nothing(cli: Cli, tmp_path: Path) -> None:
    typo = tmp_path / "quay-thu" / "counter.sqlite3"
    cli.db = typo
    for command in (("list",), ("verify",), ("participant", "search", "an")):
        done = cli(*command)
        assert done.returncode == 1, command
        assert str(typo) in done.stderr and "quaythu init" in done.stderr
    assert not typo.parent.exists()  # no folder, no empty database made on the spot
    quote = cli("quote", "--scheme", "bhyt_hgd", "--months", "3")
    assert quote.returncode == 0, quote.stderr  # a quote needs no counter
    assert not typo.parent.exists()


def test_receipt_number_is_shown_with_seven_digits(counter: Cli) -> None:
    add_payer(counter)
    done = counter(
        "pay", *U, "--participant", "019185001234", "--scheme", "bhyt_hgd", "--months", "3"
    )
    assert done.returncode == 0, done.stderr
    assert f"Biên lai TN-DH01 số {format_receipt_number(1)}\n" in done.stdout
    assert format_receipt_number(1) == "0000001"
    listed = counter("list")
    assert listed.stdout.splitlines()[0].startswith("0000001  ")


def test_every_run_writes_one_log_line_with_outcome(counter: Cli) -> None:
    assert counter("verify").returncode == 0
    assert counter("void", *U, "--receipt", "9", "--reason", "Thu nhầm").returncode == 1
    assert counter("list", "--date", "31/02/2026").returncode == 2
    runs = [line for line in counter.log_text().splitlines() if " quaythu.cli " in line]
    assert len(runs) == 5  # init, shift open (the fixture's), verify, void, list
    assert re.search(
        r" INFO \d+ quaythu\.cli .* quaythu init: exit 0, done \(\d+\.\d\d s\)$", runs[0]
    )
    assert re.search(r" INFO .* quaythu shift open: exit 0, done \(", runs[1])
    assert re.search(r" INFO .* quaythu verify: exit 0, done \(", runs[2])
    assert re.search(r" WARNING .* quaythu void: exit 1, refused: .*9", runs[3])
    assert re.search(r" WARNING .* quaythu list: exit 2, refused: ", runs[4])
    assert "songcau-tn-2026" not in counter.log_text()


def test_unexpected_failure_exit_70_logs_the_traceback(
    counter: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bad input (a missing folder, …) is a message with exit 2 now; a fault in the program is
    # what remains for exit 70, so one is injected into the renderer.
    import ui.cli.reports

    def broken(_fmt: str) -> Any:
        def render(_report: object) -> bytes:
            raise FileNotFoundError("injected fault")

        return render

    monkeypatch.setattr(ui.cli.reports, "xn01_renderer", broken)
    done = counter("report", "--format", "pdf", "--output", str(tmp_path / "01-xn.pdf"))
    assert done.returncode == 70
    assert done.stdout == ""
    assert str(counter.log_dir / "quaythu.log") in done.stderr
    log = counter.log_text()
    assert "unexpected error in quaythu report" in log
    assert "Traceback" in log and "FileNotFoundError" in log
    assert re.search(
        r" ERROR .* quaythu report: exit 70, unexpected FileNotFoundError \(\d+\.\d\d s\)$",
        log.splitlines()[-1],
    )


def test_pay_and_quote_enforce_the_period_rules(counter: Cli) -> None:
    # docs/RULES.md: the CLI's pay/quote go through the same rules; refusals exit 2, nothing saved
    add_payer(counter, ma_so="0123456789")
    common = ("--scheme", "bhxh_tn", "--income", "1500000")
    who = ("--participant", "0123456789")
    first: Any = counter.json(
        "pay", *U, *who, *common, "--method", "12", "--start-month", "2026-12"
    )
    twice = counter("pay", *U, *who, *common, "--method", "12", "--start-month", "2026-12")
    assert twice.returncode == 2
    assert "Từ tháng" in twice.stderr and "đã đóng các tháng 12/2026–11/2027" in twice.stderr
    lump = counter("quote", *common, "--method", "lump", "--months", "2")
    assert lump.returncode == 2 and "24, 36, 48 hoặc 60 tháng" in lump.stderr
    past = counter("quote", *common, "--method", "12", "--start-month", "2020-01")
    assert past.returncode == 2 and "đóng bù" in past.stderr
    listed: Any = counter.json("list", "--date", first["business_date"])
    assert len(listed["payments"]) == 1
