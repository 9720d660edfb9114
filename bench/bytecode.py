"""Byte-compile the program's own packages before a GUI benchmark imports them.

An installed QuầyThu runs from compiled bytecode (the PyInstaller bundle; a source install writes
`__pycache__` on its first run). A checkout run with PYTHONDONTWRITEBYTECODE=1 compiles every
module from source at each start instead, and `compile()` holds the GIL throughout — 10–45 ms
per large module, stalls of the window that no installed counter has. The GUI benchmarks
therefore compile first, into a temporary cache folder (`sys.pycache_prefix`), leaving the
worktree untouched. Call `compile_program()` before importing `app`, `ui`, `sync` or
`printing`.
"""

from __future__ import annotations

import compileall
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "ui", "sync", "printing", "tests/support", "bench")


def compile_program() -> Path:
    """Compile the packages into a temporary bytecode cache used by this process; returns it."""
    prefix = Path(tempfile.mkdtemp(prefix="quaythu-bytecode-"))
    sys.pycache_prefix = str(prefix)
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=2, workers=1)
    print(f"bytecode: the program's modules compiled beforehand (as installed), in {prefix}")
    return prefix
