"""Environment for running `python -m ui.cli` (or central) as a child process in a test: the
project on PYTHONPATH, a file keyring shared with the test process, and a private home folder
so no real user data, state or log folder is touched."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child_env(tmp: Path, keyring_file: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "tests.support.keyrings.FileKeyring",
        "QUAYTHU_TEST_KEYRING_FILE": str(keyring_file),
        "HOME": str(tmp / "home"),
        "XDG_DATA_HOME": str(tmp / "home" / "data"),
        "XDG_STATE_HOME": str(tmp / "home" / "state"),
    }
