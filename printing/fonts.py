"""The fonts every printed document uses, registered with ReportLab once per process.

The DejaVu files ship in `resources/fonts/` (licence beside them) and are found through
`importlib.resources`, so they work from a source checkout, a wheel and a frozen installer
alike. DejaVu covers every precomposed Vietnamese letter; ReportLab embeds a subset of each TTF
in every PDF it writes, so a receipt prints the same on a machine without these fonts.

`ensure_fonts()` is cheap after the first call and safe from several threads: parsing the four
files (~2 MB) happens once, under a lock. It also sets the one process-wide ReportLab option
printing relies on (binary, not ASCII85, streams — see below); nothing else in QuầyThu uses
ReportLab, so no one else is affected.

Every document must be finished with `save_canvas()`, which serialises the one step of
ReportLab that is not thread-safe (building font subsets), so documents can be rendered from
several threads at once.
"""

from __future__ import annotations

import io
import threading
from importlib import resources
from typing import Final

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

SANS: Final = "QT-DejaVuSans"
SANS_BOLD: Final = "QT-DejaVuSans-Bold"
MONO: Final = "QT-DejaVuSansMono"
MONO_BOLD: Final = "QT-DejaVuSansMono-Bold"

_FILES: Final = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",
    MONO_BOLD: "DejaVuSansMono-Bold.ttf",
}

_lock = threading.Lock()
_registered = False
# ReportLab builds each document's font subsets when the canvas is saved, reading the shared,
# parsed TTF through one file cursor per font: two threads saving at once corrupt each other's
# subsets (IndexError, or worse, a wrong glyph). Saving is therefore serialised; drawing, which
# only reads the font's tables, is not.
_subset_lock = threading.Lock()


def _font_bytes(filename: str) -> bytes:
    return resources.files("resources").joinpath("fonts", filename).read_bytes()


def ensure_fonts() -> None:
    """Register the DejaVu fonts with ReportLab if this process has not done so yet."""
    global _registered
    if _registered:  # fast path without the lock; the flag is only ever set to True
        return
    with _lock:
        if _registered:
            return
        for name, filename in _FILES.items():
            # Reading the bytes ourselves (rather than passing a path) keeps this working when
            # the package is imported from a zip; ReportLab accepts any file-like object.
            pdfmetrics.registerFont(TTFont(name, io.BytesIO(_font_bytes(filename))))
        pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD)
        pdfmetrics.registerFontFamily(MONO, normal=MONO, bold=MONO_BOLD)
        # ReportLab wraps every compressed stream in ASCII85 by default, a 7-bit-mail-era habit
        # that makes files 25 % larger and, without ReportLab's optional C accelerator, costs
        # about as much time as drawing the whole 01-XN table. Binary streams are plain PDF.
        rl_config.useA85 = 0
        _registered = True


def save_canvas(canvas: Canvas) -> None:
    """`canvas.save()`, one thread at a time (see `_subset_lock`)."""
    with _subset_lock:
        canvas.save()


def string_width(text: str, font: str, size: float) -> float:
    """Width of `text` in points; the fonts must have been registered."""
    return float(pdfmetrics.stringWidth(text, font, size))
