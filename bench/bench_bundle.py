"""Size and start-up of the built program (PyInstaller bundle) against the source run.

    .venv/bin/python bench/bench_bundle.py [--runs 7]

Builds the bundle through scripts/build_bundle.py (or reuses the cached one: the build time
printed is then the one recorded when it was built), then prints:

- its size on disk (symbolic links not counted twice) and the largest parts;
- start-up, bundle against source, each sample a fresh process timed from spawn by this
  process, both sides with the same environment and the same file-backed keyring:
  * `--help`: the command-line start (argument parser, no database);
  * `verify`: a real command on an initialised counter with one payment (SQLAlchemy,
    migrations check, the ledger and its codes recomputed);
  * window → wizard: the counter window started offscreen on a new database, until it logs
    that the setup wizard is shown (Qt, the window, the database opened and migrated).
  The source run is the `quaythu` console script of this virtual environment (what
  `./quaythu` runs). "first" is the first run of each side in this process (after a fresh
  build that is the cold start of the bundle: its files are not yet in the page cache);
  then `--runs` runs alternate source/bundle, and the medians and their ratio
  (bundle/source) are printed. There is no target: the ratio is what to watch.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def size_report(bundle: Path) -> tuple[int, int, list[tuple[int, str]]]:
    total, count = 0, 0
    parts: dict[str, int] = {}
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            total += size
            count += 1
            rel = path.relative_to(bundle).parts
            key = "/".join(rel[:2]) if rel[0] == "_internal" and len(rel) > 1 else rel[0]
            if key == "_internal/PySide6" and len(rel) > 3 and rel[2] == "Qt":
                key = "_internal/PySide6/Qt/" + rel[3]
            parts[key] = parts.get(key, 0) + size
    largest = sorted(((size, name) for name, size in parts.items()), reverse=True)[:8]
    return total, count, largest


class Environment:
    """A throw-away HOME, XDG folders, log folder and file-backed keyring for both sides."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        ring = tmp / "keyring-backend"
        ring.mkdir()
        shutil.copy(ROOT / "tests" / "bundle" / "smoke_keyring.py", ring)
        config = tmp / "config" / "python_keyring"
        config.mkdir(parents=True)
        (config / "keyringrc.cfg").write_text(
            f"[backend]\ndefault-keyring=smoke_keyring.SmokeKeyring\nkeyring-path={ring}\n"
        )
        self.log = tmp / "log" / "quaythu.log"
        keep = ("PATH", "LANG", "LC_ALL", "TZ")
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(
            HOME=str(tmp / "home"),
            XDG_CONFIG_HOME=str(tmp / "config"),
            XDG_DATA_HOME=str(tmp / "home" / "data"),
            XDG_STATE_HOME=str(tmp / "home" / "state"),
            QUAYTHU_LOG_DIR=str(self.log.parent),
            QUAYTHU_SMOKE_KEYRING=str(tmp / "keyring.json"),
            QUAYTHU_PASSWORD="songcau-bench-2026",
            QT_QPA_PLATFORM="offscreen",
        )

    def run(self, argv: list[str]) -> float:
        started = time.perf_counter()
        done = subprocess.run(argv, env=self.env, cwd=self.tmp, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
        return elapsed

    def window_to_wizard(self, program: list[str], db: Path) -> float:
        marker = f"setup wizard shown for {db}"
        started = time.perf_counter()
        window = subprocess.Popen(
            [*program, "--db", str(db)],
            env=self.env,
            cwd=self.tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                if self.log.exists() and marker in self.log.read_text(encoding="utf-8"):
                    return time.perf_counter() - started
                if window.poll() is not None or time.perf_counter() - started > 120:
                    raise SystemExit(f"{program[0]}: no wizard (exit {window.returncode})")
                time.sleep(0.005)
        finally:
            window.kill()
            window.wait()


def compare(name: str, runs: int, bundle: Callable[[], float], source: Callable[[], float]) -> None:
    first_bundle, first_source = bundle(), source()
    b: list[float] = []
    s: list[float] = []
    for _ in range(runs):
        s.append(source())
        b.append(bundle())
    mb, ms = statistics.median(b), statistics.median(s)
    print(
        f"{name:<18} {first_bundle * 1000:8.0f} {mb * 1000:9.0f} "
        f"{first_source * 1000:8.0f} {ms * 1000:9.0f} {mb / ms:8.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    builder = load(ROOT / "scripts" / "build_bundle.py")
    bundle_dir, info = builder.build()
    total, count, largest = size_report(Path(bundle_dir))
    print(f"bundle: {bundle_dir}")
    print(f"build time: {info['build_seconds']} s (recorded when built; key {info['key']})")
    print(f"size: {total / 1e6:.1f} MB in {count} files; largest parts:")
    for size, name in largest:
        print(f"  {size / 1e6:7.1f} MB  {name}")

    frozen = [str(Path(bundle_dir) / "quaythu")]
    script = Path(sys.executable).with_name("quaythu")
    source = [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]
    with tempfile.TemporaryDirectory(prefix="quaythu-bench-bundle-") as tmp:
        env = Environment(Path(tmp))
        db = Path(tmp) / "counter.sqlite3"
        counter = ["--db", str(db), "--user", "quantri"]
        init = ["init", "--db", str(db), "--organisation", "Bưu điện", "--collection-point",
                "Điểm thu", "--counter-code", "BENCH01", "--admin-user", "quantri",
                "--admin-name", "Đặng Văn Quản"]  # fmt: skip
        person = ["participant", "add", *counter, "--name", "Lê Thị Mỹ Đào", "--dob",
                  "14/03/1985", "--sex", "nu", "--cccd", "019185001234"]  # fmt: skip
        pay = ["pay", *counter, "--participant", "019185001234", "--scheme", "bhxh_tn",
               "--income", "1500000", "--category", "other", "--method", "12"]  # fmt: skip
        for command in (init, person, pay):
            env.run([*frozen, *command])

        fresh = iter(range(1_000_000))

        def wizard(program: list[str]) -> Callable[[], float]:
            return lambda: env.window_to_wizard(program, Path(tmp) / f"new-{next(fresh)}.sqlite3")

        print(f"\nstart-up, ms ({args.runs} alternating runs after the first of each)")
        print(f"{'':<18} {'bundle':>8} {'':>9} {'source':>8} {'':>9} {'ratio':>8}")
        print(f"{'':<18} {'first':>8} {'median':>9} {'first':>8} {'median':>9} {'b/s':>8}")
        compare(
            "--help",
            args.runs,
            lambda: env.run([*frozen, "--help"]),
            lambda: env.run([*source, "--help"]),
        )
        compare(
            "verify",
            args.runs,
            lambda: env.run([*frozen, "verify", "--db", str(db)]),
            lambda: env.run([*source, "verify", "--db", str(db)]),
        )
        compare("window → wizard", args.runs, wizard(frozen), wizard(source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
