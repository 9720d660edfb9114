"""Fixtures for the printing tests: realistic receipts and Mẫu 01-XN reports, and small helpers
that look at rendered PDFs with poppler (pdftotext, pdfinfo, pdftoppm) and zxing-cpp."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from app.domain.documents import ReceiptData, VoidInfo, Xn01Report
from tests.support.documents import (
    LONG_NAME,
    VOID,
    build_report,
    sample_receipt,
    sample_receipt_bhyt,
)

POPPLER = ("pdftotext", "pdfinfo", "pdftoppm")


@pytest.fixture(scope="session", autouse=True)
def _poppler_present() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"poppler-utils missing: {', '.join(missing)}")


# --- receipts and reports (made up once, in tests/support/documents.py) ----------------------


@pytest.fixture
def receipt() -> ReceiptData:
    return sample_receipt()


@pytest.fixture
def receipt_bhyt() -> ReceiptData:
    return sample_receipt_bhyt()


@pytest.fixture
def void_info() -> VoidInfo:
    return VOID


@pytest.fixture
def receipt_long_name(receipt: ReceiptData) -> ReceiptData:
    return replace(receipt, payer_name=LONG_NAME)


@pytest.fixture
def make_report() -> Callable[..., Xn01Report]:
    return build_report


@pytest.fixture
def report() -> Xn01Report:
    """One page: six payments, one of them (STT 3) voided."""
    return build_report(6)


@pytest.fixture(scope="module")
def big_report() -> Xn01Report:
    """Several pages: 130 payments, three voided."""
    return build_report(130, voided={3, 64, 130})


# --- looking at PDFs -------------------------------------------------------------------------


def _write(tmp_path: Path, pdf: bytes, name: str = "doc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[..., str]:
    """pdftotext of the whole PDF, or of one page (1-based). `-layout` keeps the visual lines;
    `raw=True` gives the text in drawing order instead, so a paragraph wrapped inside a column
    next to another column still reads as one run of words."""

    def run(pdf: bytes, page: int | None = None, raw: bool = False) -> str:
        path = _write(tmp_path, pdf)
        pages = ["-f", str(page), "-l", str(page)] if page else []
        out = subprocess.run(
            ["pdftotext", "-raw" if raw else "-layout", "-enc", "UTF-8", *pages, str(path), "-"],
            check=True,
            capture_output=True,
        )
        return out.stdout.decode("utf-8")

    return run


@pytest.fixture
def pdf_words(tmp_path: Path) -> Callable[[bytes], list[tuple[str, float, float, float, float]]]:
    """Every word with its box (xMin, yMin, xMax, yMax) in points, from pdftotext -bbox."""

    def run(pdf: bytes) -> list[tuple[str, float, float, float, float]]:
        path = _write(tmp_path, pdf)
        html = subprocess.run(
            ["pdftotext", "-bbox", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
        ).stdout.decode("utf-8")
        pattern = re.compile(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
        )
        return [
            (w, float(x0), float(y0), float(x1), float(y1))
            for x0, y0, x1, y1, w in pattern.findall(html)
        ]

    return run


@pytest.fixture
def pdf_info(tmp_path: Path) -> Callable[[bytes], dict[str, str]]:
    def run(pdf: bytes) -> dict[str, str]:
        path = _write(tmp_path, pdf)
        out = subprocess.run(
            ["pdfinfo", str(path)], check=True, capture_output=True
        ).stdout.decode()
        return {
            k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())
        }

    return run


def page_size_pt(info: dict[str, str]) -> tuple[float, float]:
    match = re.match(r"([\d.]+) x ([\d.]+) pts", info["Page size"])
    assert match, info["Page size"]
    return float(match.group(1)), float(match.group(2))


@pytest.fixture
def page_size(
    pdf_info: Callable[[bytes], dict[str, str]],
) -> Callable[[bytes], tuple[float, float]]:
    return lambda pdf: page_size_pt(pdf_info(pdf))


@pytest.fixture
def render_gray(tmp_path: Path) -> Callable[[bytes, int], tuple[bytes, int, int]]:
    """Rasterise page 1 with pdftoppm as 8-bit grey (PGM) → (pixels, width, height)."""

    def run(pdf: bytes, dpi: int = 300) -> tuple[bytes, int, int]:
        path = _write(tmp_path, pdf)
        out = subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", "1", "-l", "1", str(path)],
            check=True,
            capture_output=True,
        ).stdout
        return parse_pgm(out)

    return run


def parse_pgm(data: bytes) -> tuple[bytes, int, int]:
    """A binary PGM (P5): magic, width, height, maxval separated by whitespace (comments
    allowed), then one byte per pixel."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5", fields[0]
    width, height, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    assert maxval == 255
    pixels = data[pos + 1 : pos + 1 + width * height]
    assert len(pixels) == width * height
    return pixels, width, height
