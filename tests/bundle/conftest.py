"""The built program (PyInstaller one-folder bundle), built once per test session.

`scripts/build_bundle.py` builds it into build/bundle/<hash of the sources and the lock>/, so a
clean clone (CI) builds it once and a developer's later runs reuse it until something changes.
Every test here runs that built program in a subprocess — never the source — with its own
HOME, XDG folders, log folder and a file-backed keyring (`smoke_keyring.py`, copied next to the
test data and named in keyring's own config file, since the bundle cannot import the tests).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.counters import ADMIN_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The bundle folder (dist/quaythu/), built from the current sources when not cached."""
    builder = load_script(ROOT / "scripts" / "build_bundle.py")
    folder, info = builder.build()
    print(f"\nbundle {folder}: build {info['build_seconds']} s", file=sys.stderr)
    return Path(folder)


class Frozen:
    """Runs the built `quaythu` against one database, one keyring file and one home."""

    def __init__(self, program: Path, tmp: Path) -> None:
        self.program = program
        self.tmp = tmp
        self.db = tmp / "counter.sqlite3"
        self.log_dir = tmp / "log"
        ring = tmp / "keyring-backend"
        ring.mkdir()
        shutil.copy(HERE / "smoke_keyring.py", ring / "smoke_keyring.py")
        config = tmp / "config"
        (config / "python_keyring").mkdir(parents=True)
        (config / "python_keyring" / "keyringrc.cfg").write_text(
            f"[backend]\ndefault-keyring=smoke_keyring.SmokeKeyring\nkeyring-path={ring}\n"
        )
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "DISPLAY", "WAYLAND_DISPLAY")
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(
            {
                "HOME": str(tmp / "home"),
                "XDG_CONFIG_HOME": str(config),
                "XDG_DATA_HOME": str(tmp / "home" / "data"),
                "XDG_STATE_HOME": str(tmp / "home" / "state"),
                "XDG_CACHE_HOME": str(tmp / "home" / "cache"),
                "QUAYTHU_LOG_DIR": str(self.log_dir),
                "QUAYTHU_SMOKE_KEYRING": str(tmp / "keyring.json"),
                "QUAYTHU_PASSWORD": ADMIN_PASSWORD,
                "QT_QPA_PLATFORM": "offscreen",
            }
        )

    def run(self, *args: str, db: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.program), *args, *(["--db", str(self.db)] if db else [])]
        return subprocess.run(
            argv, env=self.env, cwd=self.tmp, capture_output=True, text=True, timeout=120
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, f"{args[0]} exit {done.returncode}: {done.stderr}"
        return done.stdout

    def json(self, *args: str) -> dict[str, object]:
        payload = json.loads(self.ok(*args, "--json"))
        assert isinstance(payload, dict)
        return payload


def pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_page_size(path: Path) -> tuple[float, float]:
    """Width and height of the first page, in points (pdfinfo)."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Page size:"))
    width, _, height = line.split(":", 1)[1].split()[:3]
    return float(width), float(height)
