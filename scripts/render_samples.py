"""Render sample documents to PNG under docs/samples/, to look at the layout without a printer.

Run: `.venv/bin/python scripts/render_samples.py [--out docs/samples]`

Writes receipts (new, reprint, voided — the voided one for a payer with no mã số BHXH yet) on
the 80 mm roll and on A5, the first page of a Mẫu 01-XN and a shift's Z report (80 mm), using
poppler's `pdftoppm`.
The data is the made-up sample data of `tests/support/documents.py`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's packages and tests.support

from printing.receipt import ReceiptLayout, render_receipt  # noqa: E402
from printing.xn01 import render_xn01_pdf  # noqa: E402
from printing.zreport import ZReportLayout, render_zreport  # noqa: E402
from tests.support.documents import sample_receipt, sample_report, sample_zreport  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECEIPT_DPI = 110
REPORT_DPI = 90


def to_png(pdf: bytes, target: Path, dpi: int, workdir: Path) -> None:
    source = workdir / f"{target.stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(source),
            str(target.with_suffix("")),
        ],
        check=True,
    )
    print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "samples")
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        parser.error("pdftoppm (poppler-utils) is needed")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    receipts = {
        "new": sample_receipt(),
        "reprint": sample_receipt(reprint_number=2),
        "voided": sample_receipt(voided=True, ma_so_bhxh=None),
    }
    names = {ReceiptLayout.ROLL_80MM: "roll80", ReceiptLayout.A5: "a5"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind, data in receipts.items():
            for layout, name in names.items():
                to_png(
                    render_receipt(data, layout),
                    out / f"receipt-{name}-{kind}.png",
                    RECEIPT_DPI,
                    work,
                )
        to_png(render_xn01_pdf(sample_report(120)), out / "xn01-page1.png", REPORT_DPI, work)
        to_png(
            render_zreport(sample_zreport(), ZReportLayout.ROLL_80MM),
            out / "zreport-roll80.png",
            RECEIPT_DPI,
            work,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
