"""The Debian package built from the bundle: its metadata, its files, and the installed program.

The .deb is unpacked into a temporary root with `dpkg -x` (no root rights, nothing touches the
machine); the program is run there through the /usr/bin link the package installs, the desktop
entry's Exec and Icon are resolved in that tree, and the systemd units are checked by
`systemd-analyze verify` with ExecStart pointing into it.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.bundle.conftest import ROOT, Frozen, load_script

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def deb(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    builder = load_script(ROOT / "scripts" / "build_deb.py")
    path: Path = builder.build(bundle, tmp_path_factory.mktemp("deb"), level=1)
    return path


@pytest.fixture(scope="module")
def installed(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def dpkg_field(deb: Path, field: str) -> str:
    done = subprocess.run(
        ["dpkg-deb", "--field", str(deb), field], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_package_metadata(deb: Path) -> None:
    assert dpkg_field(deb, "Package") == "quaythu"
    assert dpkg_field(deb, "Version") == "0.1.0"
    depends = dpkg_field(deb, "Depends")
    assert "libxcb-cursor0" in depends and "libegl1" in depends
    assert not any(word.startswith("python") for word in depends.replace(",", " ").split())


def test_package_contents(deb: Path) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    names = {line.split()[5] for line in listing.splitlines()}
    for path in (
        "./usr/lib/quaythu/quaythu",
        "./usr/bin/quaythu",
        "./usr/share/applications/quaythu.desktop",
        "./usr/share/icons/hicolor/scalable/apps/quaythu.svg",
        "./usr/share/icons/hicolor/256x256/apps/quaythu.png",
        "./usr/lib/systemd/user/quaythu-daily.service",
        "./usr/lib/systemd/user/quaythu-daily.timer",
    ):
        assert path in names, path
    link = next(line for line in listing.splitlines() if " ./usr/bin/quaythu " in line + " ")
    assert link.startswith("l") and link.endswith("-> ../lib/quaythu/quaythu")
    assert not any("/tests/" in name or "QtWebEngine" in name for name in names)


def test_installed_program_runs_from_bin(installed: Path, tmp_path: Path) -> None:
    program = installed / "usr" / "bin" / "quaythu"
    assert program.is_symlink()
    frozen = Frozen(program, tmp_path)
    done = frozen.run("--help", db=False)
    assert done.returncode == 0, done.stderr
    assert "receipt" in done.stdout
    out = frozen.ok(
        "init",
        "--organisation",
        "Bưu điện tỉnh Thái Nguyên",
        "--collection-point",
        "Điểm thu xã Đồng Hỷ",
        "--counter-code",
        "TN-DH02",
        "--admin-user",
        "quantri",
        "--admin-name",
        "Đặng Văn Quản",
    )
    assert "TN-DH02" in out
    assert "0 bản ghi" in frozen.ok("verify")


def test_desktop_entry_exec_and_icon_resolve(installed: Path) -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(installed / "usr/share/applications/quaythu.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    command = desktop["Exec"].split()[0]
    assert "/" not in command  # a name looked up on PATH …
    assert (installed / "usr" / "bin" / command).exists()  # … which the package puts there
    assert desktop["TryExec"] == command
    icon = desktop["Icon"]
    assert (installed / f"usr/share/icons/hicolor/scalable/apps/{icon}.svg").is_file()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(installed / "usr/share/applications/quaythu.desktop")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_user_units_verify(installed: Path, tmp_path: Path) -> None:
    units = installed / "usr" / "lib" / "systemd" / "user"
    service = (units / "quaythu-daily.service").read_text(encoding="utf-8")
    assert "ExecStart=/usr/bin/quaythu daily" in service
    timer = (units / "quaythu-daily.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 07:00:00" in timer and "Persistent=true" in timer
    # Verify them as installed, with ExecStart resolved inside the unpacked package.
    (tmp_path / "quaythu-daily.service").write_text(
        service.replace("/usr/bin/quaythu", str(installed / "usr" / "bin" / "quaythu")),
        encoding="utf-8",
    )
    (tmp_path / "quaythu-daily.timer").write_text(timer, encoding="utf-8")
    done = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            str(tmp_path / "quaythu-daily.service"),
            str(tmp_path / "quaythu-daily.timer"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr
