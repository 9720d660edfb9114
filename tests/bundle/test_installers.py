"""What can be checked on Linux of the installers that are built elsewhere (Windows) or later.

The Windows installer cannot be compiled or run here (no Windows, no Inno Setup): these tests
hold its script to the bundle the shared spec produces — the program names, the folder it is
built into, the daily command — and hold the Linux packaging files to each other. They read
files only; the built bundle and the .deb are tested in test_bundle.py and test_deb.py.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from tests.bundle.conftest import ROOT, load_script

INSTALLER = ROOT / "installer"
manifest = load_script(INSTALLER / "bundle_manifest.py")


def iss() -> str:
    raw = (INSTALLER / "windows" / "quaythu.iss").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Inno Setup reads UTF-8 only with a BOM"
    return raw.decode("utf-8-sig")


def iss_define(name: str) -> str:
    match = re.search(rf'^\s*#define {name} "([^"]*)"', iss(), re.MULTILINE)
    assert match, name
    return match.group(1)


def iss_section(name: str) -> str:
    match = re.search(rf"^\[{name}\]\r?\n(.*?)(?=^\[|\Z)", iss(), re.MULTILINE | re.DOTALL)
    assert match, name
    return match.group(1)


def setup_value(key: str) -> str:
    match = re.search(rf"^{key}=(.*?)\r?$", iss_section("Setup"), re.MULTILINE)
    assert match, key
    return match.group(1)


def test_iss_installs_the_programs_the_spec_builds() -> None:
    assert iss_define("WindowExe") == f"{manifest.WINDOW_PROGRAM}.exe"
    assert iss_define("ConsoleExe") == f"{manifest.CONSOLE_PROGRAM}.exe"
    spec = (INSTALLER / "quaythu.spec").read_text(encoding="utf-8")
    assert "name=manifest.CONSOLE_PROGRAM" in spec and "console=True" in spec
    # The bundle folder build.ps1 makes (…\dist\<BUNDLE_NAME>) is what the script packs.
    bundle_dir = iss_define("BundleDir").replace("\\", "/")
    assert bundle_dir.endswith(f"build/windows/dist/{manifest.BUNDLE_NAME}")
    assert (INSTALLER / "windows" / bundle_dir).resolve() == (
        ROOT / "build" / "windows" / "dist" / manifest.BUNDLE_NAME
    )
    assert 'Source: "{#BundleDir}\\*"; DestDir: "{app}"' in iss_section("Files")
    assert "recursesubdirs" in iss_section("Files")


def test_iss_is_per_machine_with_menu_entries_and_uninstaller() -> None:
    assert setup_value("PrivilegesRequired") == "admin"
    assert setup_value("DefaultDirName").startswith("{autopf}\\")
    icon = setup_value("SetupIconFile").replace("\\", "/")
    assert (INSTALLER / "windows" / icon).resolve() == (INSTALLER / "icons" / "quaythu.ico")
    icons = iss_section("Icons")
    assert 'Name: "{group}\\{#AppName}"; Filename: "{app}\\{#WindowExe}"' in icons
    assert "{uninstallexe}" in icons
    assert "{#ConsoleExe}" in icons  # a console entry for the commands


def test_iss_keeps_user_data_on_uninstall() -> None:
    text = iss()
    assert "[UninstallDelete]" not in text
    for folder in ("{localappdata}", "{userappdata}", "{commonappdata}", "{userdocs}"):
        assert folder not in text.split("[Code]")[0].split("[Icons]")[0]


def test_daily_task_runs_the_console_program_as_the_installing_user() -> None:
    assert iss_define("DailyCommand") == "daily"
    code = iss_section("Code")
    assert "ExecAsOriginalUser" in code  # not the elevated administrator
    assert "register-daily-task.ps1" in code and "{#ConsoleExe}" in code
    assert "WizardIsTaskSelected('dailyjob')" in code
    script = (INSTALLER / "windows" / "register-daily-task.ps1").read_text(encoding="utf-8-sig")
    assert '"quaythu-cli.exe"' in script and '$Command = "daily"' in script
    assert '$At = "07:00"' in script and "-StartWhenAvailable" in script
    assert "-LogonType Interactive" in script  # in the user's session: Credential Manager
    # The task the installer registers is the one the uninstaller removes.
    assert '-TaskPath "{#TaskFolder}" -TaskName "{#TaskName}"' in code
    assert '/Delete /F /TN ""{#TaskFolder}{#TaskName}""' in iss_section("UninstallRun")
    assert "register-daily-task.ps1" in iss_section("Files")


def test_windows_build_script_and_workflow_use_the_shared_spec() -> None:
    build = (INSTALLER / "windows" / "build.ps1").read_text(encoding="utf-8-sig")
    assert "installer\\quaythu.spec" in build
    assert "requirements\\dev.lock" in build and "--require-hashes" in build
    assert '"/DBundleDir=$Bundle"' in build and "installer\\windows\\quaythu.iss" in build
    assert '$Dist = Join-Path $Root "build\\windows\\dist"' in build
    workflow = (ROOT / ".github" / "workflows" / "windows.yml").read_text(encoding="utf-8")
    assert "runs-on: windows-latest" in workflow
    assert "./installer/windows/build.ps1 -Smoke" in workflow


def test_desktop_entry_runs_the_program_the_package_puts_on_path() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(INSTALLER / "quaythu.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"].split()[0] == manifest.WINDOW_PROGRAM
    assert desktop["Icon"] == "quaythu" and (INSTALLER / "icons" / "quaythu.svg").is_file()
    deb = load_script(ROOT / "scripts" / "build_deb.py")
    assert manifest.WINDOW_PROGRAM == deb.PROGRAM


def test_deb_depends_on_what_bootstrap_installs_for_qt() -> None:
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    match = re.search(r"APT_APP=\((.*?)\)", bootstrap, re.DOTALL)
    assert match
    deb = load_script(ROOT / "scripts" / "build_deb.py")
    assert deb.DEPENDS == match.group(1).split()


def test_systemd_units_run_the_daily_command_at_seven() -> None:
    service = (INSTALLER / "linux" / "quaythu-daily.service").read_text(encoding="utf-8")
    assert f"ExecStart=/usr/bin/{manifest.WINDOW_PROGRAM} daily" in service
    assert "Type=oneshot" in service
    timer = (INSTALLER / "linux" / "quaythu-daily.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 07:00:00" in timer and "WantedBy=timers.target" in timer


def test_bundle_cache_key_follows_the_sources(tmp_path: Path) -> None:
    builder = load_script(ROOT / "scripts" / "build_bundle.py")
    key = builder.source_key()
    assert key == builder.source_key()
    assert "installer/bundle_manifest.py" in builder.INPUTS
    assert "requirements/dev.lock" in builder.INPUTS
    assert {"app", "ui", "sync", "printing", "resources"} <= set(builder.SOURCES)


def test_every_resource_folder_is_in_the_bundle() -> None:
    """Package data PyInstaller cannot see: every folder under resources/ is listed (a missing
    one fails only at run time in the built program, e.g. the common-password list at init)."""
    import sys

    sys.path.insert(0, str(ROOT / "installer"))
    try:
        import bundle_manifest
    finally:
        sys.path.pop(0)
    listed = {dest for _, dest in bundle_manifest.datas(ROOT) if dest.startswith("resources/")}
    folders = {
        f"resources/{p.name}"
        for p in (ROOT / "resources").iterdir()
        if p.is_dir() and p.name != "__pycache__"
    }
    assert folders <= listed, folders - listed
