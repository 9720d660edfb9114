"""Build the PyInstaller one-folder bundle, cached by the hash of what goes into it.

    .venv/bin/python scripts/build_bundle.py          # prints the bundle folder
    .venv/bin/python scripts/build_bundle.py --force  # rebuild even when the cache is current

The bundle goes to build/bundle/<key>/dist/quaythu/, where <key> hashes the program's sources
(app, ui, sync, printing, resources), the spec and its module lists (installer/), the lock and
pyproject.toml. A current cache is reused; older ones are removed. The tests in tests/bundle/
call this, so a clean clone (CI) builds once per run. Needs the dev extra (PyInstaller).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "bundle"
SOURCES = ["app", "ui", "sync", "printing", "resources"]
INPUTS = [
    "installer/quaythu.spec",
    "installer/entry.py",
    "installer/bundle_manifest.py",
    "requirements/dev.lock",
    "pyproject.toml",
]
BUNDLE_NAME = "quaythu"


def source_key() -> str:
    """Hash of every file the bundle is built from (paths and contents)."""
    digest = hashlib.sha256()
    files = [ROOT / name for name in INPUTS]
    for folder in SOURCES:
        files += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        ]
    digest.update(sys.version.encode())
    for path in sorted(files):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def build(force: bool = False) -> tuple[Path, dict[str, float | str]]:
    """The bundle folder for the current sources, built when missing; and its build record."""
    key = source_key()
    home = CACHE / key
    bundle = home / "dist" / BUNDLE_NAME
    record = home / "build.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:  # one build at a time (tests and bench alike)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists() and bundle.is_dir() and not force:
            return bundle, json.loads(record.read_text())
        for old in CACHE.iterdir():
            if old.is_dir():
                shutil.rmtree(old)
        log = home / "pyinstaller.log"
        home.mkdir(parents=True)
        started = time.perf_counter()
        with open(log, "w") as out:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "PyInstaller",
                    "--noconfirm",
                    "--clean",
                    "--log-level",
                    "WARN",
                    "--distpath",
                    str(home / "dist"),
                    "--workpath",
                    str(home / "work"),
                    str(ROOT / "installer" / "quaythu.spec"),
                ],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"PyInstaller failed ({done.returncode}); see {log}")
        shutil.rmtree(home / "work", ignore_errors=True)
        info: dict[str, float | str] = {"key": key, "build_seconds": round(seconds, 1)}
        record.write_text(json.dumps(info))
        return bundle, info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the cache is current")
    args = parser.parse_args()
    bundle, info = build(force=args.force)
    print(f"build: {info['build_seconds']} s (key {info['key']})", file=sys.stderr)
    print(bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
