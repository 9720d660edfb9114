"""A tiny measure-then-draw layout kit for single-column documents such as receipts.

ReportLab's platypus can do all of this, but a receipt needs only a handful of shapes, must be
fast (≤ 20 ms each, QR code included) and, on a thermal roll, must know its full height before
the first mark is drawn. Each block here is prepared with `measure(width)` — wrapping its text
and returning its height — and then `draw(canvas, x, top, width)` puts it on the page with the
top edge at `top`. Text is wrapped at spaces; a word wider than the line (a long code, an
e-mail address) is broken between characters, so nothing ever runs off the paper.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from reportlab.pdfgen.canvas import Canvas

from printing.fonts import string_width
from printing.qr import draw_qr, qr_modules


class Align(Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class TextStyle:
    font: str
    size: float
    leading: float
    align: Align = Align.LEFT

    def width(self, text: str) -> float:
        return string_width(text, self.font, self.size)

    def with_align(self, align: Align) -> TextStyle:
        return TextStyle(self.font, self.size, self.leading, align)


def clean(text: str) -> str:
    """NFC-normalise: DejaVu has every precomposed Vietnamese letter, but ReportLab does no
    shaping, so a decomposed "ệ" (e + two combining marks) would print with stray accents."""
    return unicodedata.normalize("NFC", text)


def wrap(text: str, style: TextStyle, width: float) -> list[str]:
    """Greedy word wrap of `text` (already NFC) into lines no wider than `width` points."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if style.width(paragraph) <= width:  # the common case: fits on one line
            lines.append(paragraph.strip())
            continue
        space = style.width(" ")
        current = ""
        current_w = 0.0
        # Split on ASCII spaces only: a no-break space (U+00A0) holds its neighbours together.
        for word in filter(None, paragraph.split(" ")):
            word_w = style.width(word)
            if word_w > width:
                if current:
                    lines.append(current)
                pieces = _break_word(word, style, width)
                lines.extend(pieces[:-1])
                current = pieces[-1]
                current_w = style.width(current)
            elif not current:
                current, current_w = word, word_w
            elif current_w + space + word_w <= width:
                current = f"{current} {word}"
                current_w += space + word_w
            else:
                lines.append(current)
                current, current_w = word, word_w
        lines.append(current)
    return lines


def _break_word(word: str, style: TextStyle, width: float) -> list[str]:
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and style.width(current + ch) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    pieces.append(current)
    return pieces


def draw_line(
    canvas: Canvas, text: str, style: TextStyle, x: float, baseline: float, width: float
) -> None:
    canvas.setFont(style.font, style.size)
    if style.align is Align.CENTER:
        canvas.drawCentredString(x + width / 2, baseline, text)
    elif style.align is Align.RIGHT:
        canvas.drawRightString(x + width, baseline, text)
    else:
        canvas.drawString(x, baseline, text)


def _first_baseline(top: float, style: TextStyle) -> float:
    # Put the ascent (≈ 0.93 em for DejaVu) under `top`, centred in the leading.
    return top - style.size * 0.93 - (style.leading - style.size * 1.17) / 2


class Block(Protocol):
    def measure(self, width: float) -> float: ...

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None: ...


class Spacer:
    def __init__(self, height: float) -> None:
        self.height = height

    def measure(self, width: float) -> float:
        return self.height

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        return None


class Text:
    """A paragraph in one style, wrapped to the width."""

    def __init__(self, text: str, style: TextStyle, space_after: float = 0.0) -> None:
        self.text = clean(text)
        self.style = style
        self.space_after = space_after
        self._lines: list[str] = []

    def measure(self, width: float) -> float:
        self._lines = wrap(self.text, self.style, width)
        return len(self._lines) * self.style.leading + self.space_after

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        baseline = _first_baseline(top, self.style)
        for line in self._lines:
            draw_line(canvas, line, self.style, x, baseline, width)
            baseline -= self.style.leading


class Field:
    """`label   value` with the value wrapped in its own column (a hanging indent), so a long
    name continues under itself rather than under the label."""

    def __init__(
        self,
        label: str,
        value: str,
        label_style: TextStyle,
        value_style: TextStyle,
        label_width: float,
        space_after: float = 0.0,
    ) -> None:
        self.label = clean(label)
        self.value = clean(value)
        self.label_style = label_style
        self.value_style = value_style
        self.label_width = label_width
        self.space_after = space_after
        self._label_lines: list[str] = []
        self._value_lines: list[str] = []
        self._leading = max(label_style.leading, value_style.leading)

    def measure(self, width: float) -> float:
        self._label_lines = wrap(self.label, self.label_style, self.label_width)
        self._value_lines = wrap(self.value, self.value_style, width - self.label_width)
        rows = max(len(self._label_lines), len(self._value_lines))
        return rows * self._leading + self.space_after

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        # Share one baseline grid so label and value sit on the same line even in two sizes.
        big = (
            self.value_style if self.value_style.size >= self.label_style.size else self.label_style
        )
        baseline = _first_baseline(top, TextStyle(big.font, big.size, self._leading))
        for i in range(max(len(self._label_lines), len(self._value_lines))):
            if i < len(self._label_lines):
                draw_line(
                    canvas, self._label_lines[i], self.label_style, x, baseline, self.label_width
                )
            if i < len(self._value_lines):
                draw_line(
                    canvas,
                    self._value_lines[i],
                    self.value_style,
                    x + self.label_width,
                    baseline,
                    width - self.label_width,
                )
            baseline -= self._leading


class Line:
    """A bill line: label on the left (wrapped), value flush right on the label's last line."""

    def __init__(self, label: str, value: str, style: TextStyle, indent: float = 0.0) -> None:
        self.label = clean(label)
        self.value = clean(value)
        self.style = style
        self.indent = indent
        self._lines: list[str] = []
        self._values: list[str] = []
        self._value_on_own_line = False

    def measure(self, width: float) -> float:
        gap = self.style.size
        value_w = self.style.width(self.value)
        usable = width - self.indent
        if value_w + gap > usable * 0.6:
            # A long value gets its own, right-aligned line(s) under the label.
            self._value_on_own_line = True
            self._lines = wrap(self.label, self.style, usable)
            self._values = wrap(self.value, self.style.with_align(Align.RIGHT), usable)
            return (len(self._lines) + len(self._values)) * self.style.leading
        self._value_on_own_line = False
        self._values = [self.value]
        self._lines = wrap(self.label, self.style, usable - value_w - gap)
        return len(self._lines) * self.style.leading

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        baseline = _first_baseline(top, self.style)
        right = self.style.with_align(Align.RIGHT)
        for i, line in enumerate(self._lines):
            draw_line(canvas, line, self.style, x + self.indent, baseline, width - self.indent)
            if not self._value_on_own_line and i == len(self._lines) - 1:
                draw_line(canvas, self.value, right, x, baseline, width)
            baseline -= self.style.leading
        if self._value_on_own_line:
            for value in self._values:
                draw_line(canvas, value, right, x, baseline, width)
                baseline -= self.style.leading


class Rule:
    def __init__(self, space: float, dashed: bool = True, weight: float = 0.6) -> None:
        self.space = space
        self.dashed = dashed
        self.weight = weight

    def measure(self, width: float) -> float:
        return 2 * self.space

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        canvas.setLineWidth(self.weight)
        if self.dashed:
            canvas.setDash(2, 2)
        y = top - self.space
        canvas.line(x, y, x + width, y)
        if self.dashed:
            canvas.setDash()


class Stamp:
    """A framed notice that must not be missed (ĐÃ HỦY, BẢN SAO): a heading printed in a solid
    band (white on black) or in a thick frame, then optional detail lines inside the frame."""

    def __init__(
        self,
        heading: str,
        heading_style: TextStyle,
        details: Sequence[str] = (),
        detail_style: TextStyle | None = None,
        inverse: bool = False,
        frame: float = 1.5,
        padding: float = 4.0,
        space_after: float = 0.0,
    ) -> None:
        self.heading = clean(heading)
        self.heading_style = heading_style.with_align(Align.CENTER)
        self.details = [clean(d) for d in details]
        self.detail_style = detail_style or heading_style
        self.inverse = inverse
        self.frame = frame
        self.padding = padding
        self.space_after = space_after
        self._heading_lines: list[str] = []
        self._detail_lines: list[str] = []

    def _inner(self, width: float) -> float:
        return width - 2 * (self.frame + self.padding)

    def measure(self, width: float) -> float:
        inner = self._inner(width)
        self._heading_lines = wrap(self.heading, self.heading_style, inner)
        self._detail_lines = [ln for d in self.details for ln in wrap(d, self.detail_style, inner)]
        return self._heading_height() + self._detail_height() + 2 * self.frame + self.space_after

    def _heading_height(self) -> float:
        return len(self._heading_lines) * self.heading_style.leading + 2 * self.padding

    def _detail_height(self) -> float:
        if not self._detail_lines:
            return 0.0
        return len(self._detail_lines) * self.detail_style.leading + self.padding

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        heading_h = self._heading_height()
        height = heading_h + self._detail_height() + 2 * self.frame
        half = self.frame / 2
        canvas.setLineWidth(self.frame)
        canvas.rect(x + half, top - height + half, width - self.frame, height - self.frame)
        inner_x = x + self.frame + self.padding
        inner = self._inner(width)
        inside_top = top - self.frame
        if self.inverse:
            canvas.rect(x, inside_top - heading_h, width, heading_h, stroke=0, fill=1)
            canvas.setFillGray(1)
        baseline = _first_baseline(inside_top - self.padding, self.heading_style)
        for line in self._heading_lines:
            draw_line(canvas, line, self.heading_style, inner_x, baseline, inner)
            baseline -= self.heading_style.leading
        if self.inverse:
            canvas.setFillGray(0)
        baseline = _first_baseline(inside_top - heading_h, self.detail_style)
        for line in self._detail_lines:
            draw_line(canvas, line, self.detail_style, inner_x, baseline, inner)
            baseline -= self.detail_style.leading


class Qr:
    def __init__(
        self, payload: str, size: float, align: Align = Align.CENTER, space_after: float = 0.0
    ) -> None:
        self.modules = qr_modules(payload)
        self.size = size
        self.align = align
        self.space_after = space_after

    def measure(self, width: float) -> float:
        return self.size + self.space_after

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        if self.align is Align.CENTER:
            left = x + (width - self.size) / 2
        elif self.align is Align.RIGHT:
            left = x + width - self.size
        else:
            left = x
        draw_qr(canvas, self.modules, left, top - self.size, self.size)


class FitText:
    """One line in a large font, shrunk just enough to fit the width (the Mã xác nhận)."""

    def __init__(self, text: str, style: TextStyle, space_after: float = 0.0) -> None:
        self.text = clean(text)
        self.style = style
        self.space_after = space_after
        self._style = style

    def measure(self, width: float) -> float:
        natural = self.style.width(self.text)
        if natural > width:
            size = self.style.size * width / natural
            self._style = TextStyle(
                self.style.font, size, self.style.leading * size / self.style.size, self.style.align
            )
        else:
            self._style = self.style
        return self._style.leading + self.space_after

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        draw_line(canvas, self.text, self._style, x, _first_baseline(top, self._style), width)


class Columns:
    """Blocks side by side, each column a stack; height is the tallest column."""

    def __init__(
        self, columns: Sequence[tuple[float, Sequence[Block]]], gap: float, space_after: float = 0.0
    ) -> None:
        self.columns = columns  # (width fraction of the free width, blocks)
        self.gap = gap
        self.space_after = space_after
        self._widths: list[float] = []
        self._heights: list[list[float]] = []

    def measure(self, width: float) -> float:
        free = width - self.gap * (len(self.columns) - 1)
        self._widths = [free * fraction for fraction, _ in self.columns]
        self._heights = [
            [b.measure(w) for b in blocks]
            for w, (_, blocks) in zip(self._widths, self.columns, strict=True)
        ]
        return max(sum(h) for h in self._heights) + self.space_after

    def draw(self, canvas: Canvas, x: float, top: float, width: float) -> None:
        left = x
        for w, (_, blocks), heights in zip(self._widths, self.columns, self._heights, strict=True):
            y = top
            for block, h in zip(blocks, heights, strict=True):
                block.draw(canvas, left, y, w)
                y -= h
            left += w + self.gap
