"""Benchmark of printing/: how long a receipt and a day's Mẫu 01-XN take to render.

Run: `.venv/bin/python bench/bench_printing.py [--runs 200] [--payments 10000]`

Measured, wall-clock (time.perf_counter), after one warm-up render so that font registration
(a one-off ~30 ms per process) is not counted:
- receipt: median of `--runs` calls of `render_receipt` (80 mm roll and A5; voided + reprinted
  so every block is drawn), next to a *baseline* measured in the same run — a bare ReportLab
  canvas with the same embedded DejaVu font drawing one line — and the ratio between them, so a
  slower machine shows up in the baseline rather than as a false alarm;
- Mẫu 01-XN for `--payments` payments (default 10.000): PDF, XLSX and CSV, best of `--repeat`.
Targets: receipt median ≤ 20 ms, PDF ≤ 3 s, XLSX ≤ 2 s (CSV is reported, no target).
Exit status 1 if any target is missed.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's packages and tests.support

from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from printing.fonts import SANS, ensure_fonts  # noqa: E402
from printing.receipt import ReceiptLayout, render_receipt  # noqa: E402
from printing.xn01 import render_xn01_csv, render_xn01_pdf, render_xn01_xlsx  # noqa: E402
from tests.support.documents import sample_receipt, sample_report  # noqa: E402

RECEIPT_TARGET_MS = 20.0
PDF_TARGET_S = 3.0
XLSX_TARGET_S = 2.0


def bare_canvas() -> bytes:
    """The floor: a PDF with one line of Vietnamese in the same embedded TTF."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(80 * mm, 200 * mm), pageCompression=1, invariant=1)
    canvas.setFont(SANS, 9)
    canvas.drawString(10, 10, "Biên lai thu tiền — Nguyễn Thị Hằng")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def median_ms(fn: Callable[[], bytes], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def best_s(fn: Callable[[], bytes], repeat: int) -> tuple[float, int]:
    best = float("inf")
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(fn())
        best = min(best, time.perf_counter() - start)
    return best, size


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ensure_fonts()
    receipt = sample_receipt(voided=True, reprint_number=1)
    baseline = median_ms(bare_canvas, args.runs)
    roll = median_ms(lambda: render_receipt(receipt, ReceiptLayout.ROLL_80MM), args.runs)
    a5 = median_ms(lambda: render_receipt(receipt, ReceiptLayout.A5), args.runs)

    report = sample_report(args.payments)
    pdf_s, pdf_size = best_s(lambda: render_xn01_pdf(report), args.repeat)
    xlsx_s, xlsx_size = best_s(lambda: render_xn01_xlsx(report), args.repeat)
    csv_s, csv_size = best_s(lambda: render_xn01_csv(report), args.repeat)

    rows = [
        ("bare canvas, 1 line (baseline)", f"{baseline:8.2f} ms", "", ""),
        (
            "receipt 80 mm roll (median)",
            f"{roll:8.2f} ms",
            f"×{roll / baseline:.1f}",
            verdict(roll <= RECEIPT_TARGET_MS),
        ),
        (
            "receipt A5 (median)",
            f"{a5:8.2f} ms",
            f"×{a5 / baseline:.1f}",
            verdict(a5 <= RECEIPT_TARGET_MS),
        ),
        (
            f"01-XN PDF, {args.payments} rows",
            f"{pdf_s:8.2f} s ",
            f"{pdf_size / 1e6:.1f} MB",
            verdict(pdf_s <= PDF_TARGET_S),
        ),
        (
            f"01-XN XLSX, {args.payments} rows",
            f"{xlsx_s:8.2f} s ",
            f"{xlsx_size / 1e6:.1f} MB",
            verdict(xlsx_s <= XLSX_TARGET_S),
        ),
        (f"01-XN CSV, {args.payments} rows", f"{csv_s:8.2f} s ", f"{csv_size / 1e6:.1f} MB", ""),
    ]
    print(f"printing benchmark — {args.runs} receipt runs, best of {args.repeat} for 01-XN")
    print(f"{'what':36} {'time':>11}  {'ratio/size':>10}  result")
    print("-" * 70)
    for what, took, extra, result in rows:
        print(f"{what:36} {took:>11}  {extra:>10}  {result}")
    print("-" * 70)
    print(
        f"targets: receipt ≤ {RECEIPT_TARGET_MS:.0f} ms, PDF ≤ {PDF_TARGET_S:.0f} s, "
        f"XLSX ≤ {XLSX_TARGET_S:.0f} s"
    )
    failed = any(r[3] == "FAIL" for r in rows)
    print("overall:", verdict(not failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
