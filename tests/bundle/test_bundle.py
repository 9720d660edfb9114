"""Smoke test of the built program: what a counter does on day one, run from the bundle.

Each test runs `dist/quaythu/quaythu` (the PyInstaller build), never the source tree: a module
PyInstaller missed, a data file not bundled, or a Qt plugin left out fails here. The module-level
counter is made once (init, a participant, a payment) and the document commands read it.
"""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.bundle.conftest import ROOT, Frozen, load_script, pdf_page_size, pdftotext

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # the first test builds the bundle

U = ("--user", "quantri")
MM = 72 / 25.4


@pytest.fixture(scope="module")
def counter(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Frozen, Any]:
    frozen = Frozen(bundle / "quaythu", tmp_path_factory.mktemp("frozen-counter"))
    out = frozen.ok(
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
    assert "TN-DH01" in out
    frozen.ok(
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
    frozen.ok("shift", "open", *U, "--counts", "500000=2")  # payments need a shift
    payment = frozen.json(
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
        "2026-12",
    )
    return frozen, payment


def test_help_lists_the_commands(bundle: Path, tmp_path: Path) -> None:
    done = Frozen(bundle / "quaythu", tmp_path).run("--help", db=False)
    assert done.returncode == 0, done.stderr
    for command in ("init", "pay", "receipt", "report", "verify", "sync"):
        assert command in done.stdout


def test_init_and_pay_record_a_signed_payment(counter: tuple[Frozen, Any]) -> None:
    frozen, payment = counter
    assert payment["receipt_number"] == 1
    assert payment["amount"] == 3_168_000
    assert len(payment["confirmation_code"]) >= 12
    assert frozen.db.exists()
    assert (frozen.tmp / "keyring.json").exists()  # the signing key went to the keyring


@pytest.mark.parametrize(("layout", "width_mm"), [("80mm", 80), ("a5", 148)])
def test_receipt_pdf_reads_back(
    counter: tuple[Frozen, Any], tmp_path: Path, layout: str, width_mm: int
) -> None:
    frozen, payment = counter
    out = tmp_path / f"bien-lai-{layout}.pdf"
    # Signed in: the first rendering is the original, a later one a counted copy (both need
    # the built program's whole receipt path).
    frozen.ok("receipt", "1", "--format", layout, "--output", str(out), *U)
    text = pdftotext(out)
    assert "BIÊN LAI THU TIỀN" in text
    assert payment["confirmation_code"] in text
    assert "Lê Thị Mỹ Đào" in text and "3.168.000" in text
    width, _ = pdf_page_size(out)
    assert abs(width - width_mm * MM) < 2, width


def test_report_in_three_formats(counter: tuple[Frozen, Any], tmp_path: Path) -> None:
    frozen, payment = counter
    day = str(payment["business_date"])
    files = {}
    for fmt in ("pdf", "xlsx", "csv"):
        frozen.ok("report", "--date", day, "--format", fmt, "--output", str(tmp_path))
        (files[fmt],) = tmp_path.glob(f"01-XN_*_{day}.{fmt}")
    code = payment["confirmation_code"]
    pdf = pdftotext(files["pdf"])
    assert "TỔNG HỢP SỐ TIỀN THU BHXH, BHYT THEO MÃ XÁC NHẬN" in pdf
    assert code in pdf and "3.168.000" in pdf
    rows = list(csv.reader(io.StringIO(files["csv"].read_bytes().decode("utf-8-sig"))))
    assert any(code in row and "3168000" in row for row in rows)
    sheet = openpyxl.load_workbook(files["xlsx"]).active
    assert sheet is not None
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert code in values and 3_168_000 in values


def test_verify_checks_the_chain(counter: tuple[Frozen, Any]) -> None:
    frozen, _ = counter
    out = frozen.ok("verify")
    assert "2 bản ghi" in out  # the shift's opening and the payment


def test_window_opens_offscreen_up_to_the_wizard(bundle: Path, tmp_path: Path) -> None:
    frozen = Frozen(bundle / "quaythu", tmp_path)
    log = frozen.log_dir / "quaythu.log"
    window = subprocess.Popen(
        [str(frozen.program), "--db", str(frozen.db)],
        env=frozen.env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        shown = False
        while time.monotonic() < deadline and window.poll() is None:
            if log.exists() and "setup wizard shown" in log.read_text(encoding="utf-8"):
                shown = True
                break
            time.sleep(0.2)
        time.sleep(1.0)  # let the wizard page paint and settle before judging
        alive = window.poll() is None
    finally:
        window.send_signal(signal.SIGTERM)
        try:
            _, stderr = window.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            window.kill()
            _, stderr = window.communicate()
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert shown, f"no wizard within 90 s; exit {window.returncode}\n{stderr}\n{text}"
    assert alive, f"the window died after the wizard: {stderr}\n{text}"
    assert "Traceback" not in text and " ERROR " not in text, text
    assert "Traceback" not in stderr, stderr


def test_bundle_holds_the_manifest_and_stays_lean(bundle: Path) -> None:
    """The module list the Windows build shares (installer/bundle_manifest.py) is what this
    build contains; nothing of the test suite, the central server or QtWebEngine is in it."""
    from PyInstaller.archive.readers import CArchiveReader

    manifest = load_script(ROOT / "installer" / "bundle_manifest.py")
    program = CArchiveReader(str(bundle / "quaythu"))
    modules = set(program.open_embedded_archive("PYZ.pyz").toc)
    missing = [name for name in manifest.HIDDEN_IMPORTS if name not in modules]
    assert not missing, missing
    assert "ui.cli" in modules and "ui.qt.wizard" in modules
    leaked = sorted(
        name
        for name in modules
        if name.split(".")[0] in {"tests", "central", "pytest", "_pytest", "hypothesis", "mypy"}
    )
    assert not leaked, leaked[:10]
    assert "X utf8" in program.options  # UTF-8 output whatever the code page (Windows)

    files = [path.relative_to(bundle).as_posix() for path in bundle.rglob("*")]
    assert not [f for f in files if "WebEngine" in f or "/translations/" in f]
    plugins = bundle / "_internal" / "PySide6" / "Qt" / "plugins"
    assert {p.name for p in plugins.iterdir()} <= manifest.QT_PLUGIN_FOLDERS
    assert {p.name for p in (plugins / "platforms").iterdir()} >= {
        "libqxcb.so",
        "libqwayland.so",
        "libqoffscreen.so",
    }
    assert not [p for p in bundle.rglob("*") if p.is_symlink() and not p.exists()]
