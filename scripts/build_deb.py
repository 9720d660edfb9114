"""Build the Debian/Ubuntu package of QuầyThu from the PyInstaller bundle.

    .venv/bin/python scripts/build_deb.py [--bundle DIR] [--output DIR]

Without --bundle it builds (or reuses) the bundle through scripts/build_bundle.py. The package:

    /usr/lib/quaythu/                      the bundle (program and its libraries)
    /usr/bin/quaythu                       -> ../lib/quaythu/quaythu (on PATH)
    /usr/share/applications/quaythu.desktop
    /usr/share/icons/hicolor/{scalable,256x256}/apps/quaythu.{svg,png}
    /usr/lib/systemd/user/quaythu-daily.{service,timer}   (07:00; enabled per user)
    /usr/share/doc/quaythu/README.Debian

Prints the path of the .deb. Needs dpkg-deb (Debian/Ubuntu).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
PACKAGE = "quaythu"
PROGRAM = "quaythu"
# The system libraries Qt loads from the host (OpenGL/EGL, X11 keyboard and cursor, fonts,
# D-Bus): the same list scripts/bootstrap.sh installs for a source run (a test keeps them equal).
DEPENDS = [
    "libegl1",
    "libgl1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libfontconfig1",
    "libdbus-1-3",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-randr0",
]
RECOMMENDS = ["gnome-keyring | kwalletmanager"]  # a Secret Service for the counter's key

README_DEBIAN = """\
QuầyThu for Debian/Ubuntu
=========================

`quaythu` opens the counter window (also from the applications menu); `quaythu --help`
lists the commands. Data: ~/.local/share/QuayThu/; the signing key is kept in the desktop
keyring (GNOME Keyring or KWallet), so run the window and the daily job as the same user.

The daily job (07:00: yesterday's Mẫu 01-XN, sync, reconciliation, backup) is a systemd
user timer. Enable it once as the counter's user:

    systemctl --user enable --now quaythu-daily.timer

Its runs: `journalctl --user -u quaythu-daily`. Removing the package keeps all user data.
"""


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def architecture() -> str:
    done = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def control(size_kb: int) -> str:
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {version()}\n"
        f"Architecture: {architecture()}\n"
        "Maintainer: QuầyThu <quaythu@localhost>\n"
        f"Installed-Size: {size_kb}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        "Section: misc\n"
        "Priority: optional\n"
        "Description: counter software for BHXH tự nguyện / BHYT hộ gia đình collection\n"
        " Records cash payments for voluntary social insurance and household health insurance\n"
        " in a local database that works offline, issues the confirmation code (Mã xác nhận)\n"
        " and the receipt, syncs to the central collection system and writes Mẫu 01-XN.\n"
    )


def stage(bundle: Path, root: Path) -> None:
    """Lay out the package tree under `root` (the future /)."""
    lib = root / "usr" / "lib" / PACKAGE
    shutil.copytree(bundle, lib, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    os.symlink(f"../lib/{PACKAGE}/{PROGRAM}", root / "usr" / "bin" / PROGRAM)
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy(INSTALLER / "quaythu.desktop", share / "applications" / "quaythu.desktop")
    icons = share / "icons" / "hicolor"
    for size, name in (("scalable", "quaythu.svg"), ("256x256", "quaythu.png")):
        (icons / size / "apps").mkdir(parents=True)
        shutil.copy(INSTALLER / "icons" / name, icons / size / "apps" / name)
    units = root / "usr" / "lib" / "systemd" / "user"
    units.mkdir(parents=True)
    for unit in ("quaythu-daily.service", "quaythu-daily.timer"):
        shutil.copy(INSTALLER / "linux" / unit, units / unit)
    doc = share / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "README.Debian").write_text(README_DEBIAN, encoding="utf-8")
    for path in root.rglob("*"):  # dpkg wants 0755 folders and no group/other write bits
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    size_kb = sum(p.stat().st_size for p in files) // 1024
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(control(size_kb), encoding="utf-8")


def build(bundle: Path, output: Path, level: int = 6) -> Path:
    """Stage and pack; gzip (every dpkg reads it), `level` 1 for a quick test build."""
    output.mkdir(parents=True, exist_ok=True)
    deb = output / f"{PACKAGE}_{version()}_{architecture()}.deb"
    with tempfile.TemporaryDirectory(prefix="quaythu-deb-") as tmp:
        root = Path(tmp) / "root"
        stage(bundle, root)
        subprocess.run(
            [
                "dpkg-deb",
                "--root-owner-group",
                "-Zgzip",
                f"-z{level}",
                "--build",
                str(root),
                str(deb),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


def default_bundle() -> Path:
    spec = importlib.util.spec_from_file_location(
        "build_bundle", ROOT / "scripts" / "build_bundle.py"
    )
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    folder, _ = builder.build()
    return Path(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="the dist/quaythu folder (default: build it)")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "deb")
    args = parser.parse_args()
    print(build(args.bundle or default_bundle(), args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
