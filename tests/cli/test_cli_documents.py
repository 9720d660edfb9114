"""`quaythu receipt` and `quaythu report`: the commands a scheduled job runs, outputs read back."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path
from typing import Any

import openpyxl

from app.domain.documents import format_receipt_number
from app.domain.money import amount_in_words
from tests.cli.conftest import Cli

U = ("--user", "quantri")


def pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pay(counter: Cli, start: str = "2026-12") -> Any:
    return counter.json(
        "pay",
        *U,
        "--participant",
        "019185001234",
        "--scheme",
        "bhxh_tn",
        "--income",
        "1500000",
        "--category",
        "other",
        "--method",
        "12",
        "--start-month",
        start,
    )


def setup_payer(counter: Cli) -> None:
    done = counter(
        "participant",
        "add",
        *U,
        "--name",
        "Lê Thị Mỹ Đào",
        "--dob",
        "14/03/1985",
        "--sex",
        "nu",
        "--cccd",
        "019185001234",
    )
    assert done.returncode == 0, done.stderr


def test_receipt_80mm_and_copy(counter: Cli, tmp_path: Path) -> None:
    setup_payer(counter)
    payment = pay(counter)
    out = tmp_path / "bl.pdf"
    assert counter("receipt", "1", "--format", "80mm", "--output", str(out)).returncode == 0
    text = pdftotext(out)
    assert payment["confirmation_code"] in text
    assert "Lê Thị Mỹ Đào" in text
    assert "3.168.000" in text
    assert " ".join(amount_in_words(3_168_000).split()) in " ".join(text.split())
    assert "BẢN SAO" not in text
    listed = counter("list", "--date", payment["business_date"]).stdout
    assert listed.startswith(f"{format_receipt_number(1)}  ")  # the number the receipt shows
    assert f"Số: {format_receipt_number(1)}" in text

    copy = tmp_path / "copy.pdf"
    done = counter("receipt", "1", *U, "--format", "a5", "--copy", "--output", str(copy))
    assert done.returncode == 0, done.stderr
    assert "BẢN SAO" in pdftotext(copy)
    assert counter.json("list", "--date", payment["business_date"])["payments"][0]["reprints"] == 1  # type: ignore[index]


def test_report_three_formats_same_totals(counter: Cli, tmp_path: Path) -> None:
    setup_payer(counter)
    first = pay(counter)
    pay(counter, start="2027-12")  # the next year (12/2026–11/2027 is paid: not twice)
    counter("void", *U, "--receipt", "2", "--reason", "Thu trùng, trả lại tiền")
    day = first["business_date"]
    outputs = {}
    for fmt in ("pdf", "xlsx", "csv"):
        done = counter("report", "--date", day, "--format", fmt, "--output", str(tmp_path))
        assert done.returncode == 0, done.stderr
        (outputs[fmt],) = tmp_path.glob(f"01-XN_*_{day}.{fmt}")

    pdf = pdftotext(outputs["pdf"])
    assert "TỔNG HỢP SỐ TIỀN THU BHXH, BHYT THEO MÃ XÁC NHẬN" in pdf
    assert first["confirmation_code"] in pdf and "3.168.000" in pdf

    raw = outputs["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert "Mã xác nhận" in rows[0]
    assert any(first["confirmation_code"] in r for r in rows)

    wb = openpyxl.load_workbook(outputs["xlsx"])
    numbers = [c.value for row in wb.active.iter_rows() for c in row if isinstance(c.value, int)]
    assert 3_168_000 in numbers

    summary: Any = counter.json("summary", "--date", day)
    assert summary["grand_total"] == 3_168_000  # the voided second payment is not counted
    assert f"{summary['grand_total']:,}".replace(",", ".") in pdf
