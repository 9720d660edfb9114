"""QR codes for receipts: ReportLab's encoder (`reportlab.graphics.barcode.qrencoder`, the one
behind `barcode.qr.QrCodeWidget`) with a faster mask choice, and a compact vector drawing.

Why not the widget as is: picking the mask pattern means scoring all eight candidates, and
ReportLab scores them with per-module Python loops — about half of a receipt's render time.
`mask_penalty` computes the very same score (same rules, same quirks: it is tested against
ReportLab's own `QRUtil.getLostPoint`) on bit strings and integers, so the symbol is identical,
only sooner. Error correction is level M: 15 % of a smudged thermal print can be lost.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Final

from reportlab.graphics.barcode import qrencoder
from reportlab.pdfgen.canvas import Canvas

QUIET_ZONE: Final = 4  # modules of white around the symbol, as the standard asks
_LONG_RUN: Final = re.compile(r"0{5,}|1{5,}")
# ReportLab's rule 3 looks for a finder-like run followed by four light modules only.
_FINDER_LIKE: Final = "10111010000"


def mask_penalty(modules: Sequence[Sequence[bool]]) -> int:
    """ReportLab's `QRUtil.getLostPoint`, computed on strings and ints."""
    rows = ["".join("1" if m else "0" for m in row) for row in modules]
    columns = ["".join(col) for col in zip(*rows, strict=True)]
    n = len(rows)
    score = 0
    # Rule 1: every run of five or more same-coloured modules, in rows and columns: len − 2.
    for line in rows + columns:
        for run in _LONG_RUN.finditer(line):
            score += run.end() - run.start() - 2
    # Rule 2: every 2×2 block of one colour: 3.
    full = (1 << n) - 1
    values = [int(row, 2) for row in rows]
    for upper, lower in itertools.pairwise(values):
        same_vertically = ~(upper ^ lower) & full
        same_horizontally = ~(upper ^ (upper >> 1)) & (full >> 1)
        score += 3 * (same_vertically & (same_vertically >> 1) & same_horizontally).bit_count()
    # Rule 3: non-overlapping finder-like patterns: 40 each. ReportLab's scan never tests the
    # last possible position of a line, and on columns it compares a tuple with a list, so it
    # never finds one there; we copy both quirks, so that both choose the same mask.
    width = len(_FINDER_LIKE)
    for line in rows:
        last = len(line) - width
        start = line.find(_FINDER_LIKE)
        while 0 <= start < last:
            score += 40
            start = line.find(_FINDER_LIKE, start + width)
    # Rule 4: how far the share of dark modules is from half, in steps of 5 %.
    dark = sum(row.count("1") for row in rows)
    score += 10 * (abs(100 * dark // (n * n) - 50) // 5)
    return score


class _QRCode(qrencoder.QRCode):  # type: ignore[misc]  # ReportLab is untyped
    def getBestMaskPattern(self) -> int:  # overrides ReportLab's method of that name
        best_pattern, best_score = 0, -1
        for pattern in range(8):
            self.makeImpl(True, pattern)
            score = mask_penalty(self.modules)
            if best_score < 0 or score < best_score:
                best_pattern, best_score = pattern, score
        return best_pattern


def qr_modules(payload: str) -> list[list[bool]]:
    """The module matrix (True = dark) for an ASCII payload, without the quiet zone."""
    if not payload.isascii():
        raise ValueError("QR payload must be ASCII")
    code = _QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(payload)
    code.make()
    return [[bool(m) for m in row] for row in code.modules]


def draw_qr(
    canvas: Canvas, modules: Sequence[Sequence[bool]], x: float, y: float, size: float
) -> None:
    """Draw the symbol, quiet zone included in `size`, with its lower-left corner at x, y.

    Each horizontal run of dark modules is one rectangle and all of them one path, filled
    once: far fewer PDF operators than a rectangle per module."""
    count = len(modules)
    box = size / (count + 2 * QUIET_ZONE)
    path = canvas.beginPath()
    for r, row in enumerate(modules):
        row_y = y + size - (r + QUIET_ZONE + 1) * box
        c = 0
        while c < count:
            if row[c]:
                start = c
                while c < count and row[c]:
                    c += 1
                path.rect(x + (start + QUIET_ZONE) * box, row_y, (c - start) * box, box)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
