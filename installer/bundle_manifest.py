"""What goes into the PyInstaller bundle, kept apart from the spec so tests can read it.

`installer/quaythu.spec` builds from these lists on Linux and Windows alike; the smoke test
(`tests/bundle/`) runs the Linux build of them, and `tests/bundle/test_installers.py` checks that
the Windows and Debian packaging name the programs declared here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import TypeVar

BUNDLE_NAME = "quaythu"  # the one-folder bundle: dist/quaythu/
WINDOW_PROGRAM = "quaythu"  # Linux: window and commands; Windows: the window (no console)
CONSOLE_PROGRAM = "quaythu-cli"  # Windows only: the commands and the scheduled job (console)

# Modules PyInstaller cannot see because they are imported by name at run time.
HIDDEN_IMPORTS = [
    # ReportLab registers its barcode widgets by importing them inside a reset hook; the QR
    # code on receipts goes through it (v0.1 failed here: reportlab.graphics.barcode.code128).
    "reportlab.graphics.barcode.code128",
    "reportlab.graphics.barcode.code39",
    "reportlab.graphics.barcode.code93",
    "reportlab.graphics.barcode.common",
    "reportlab.graphics.barcode.eanbc",
    "reportlab.graphics.barcode.ecc200datamatrix",
    "reportlab.graphics.barcode.fourstate",
    "reportlab.graphics.barcode.lto",
    "reportlab.graphics.barcode.qr",
    "reportlab.graphics.barcode.qrencoder",
    "reportlab.graphics.barcode.usps",
    "reportlab.graphics.barcode.usps4s",
    "reportlab.graphics.barcode.widgets",
    # Fonts and the default rate table are read with importlib.resources: the package itself
    # must be in the bundle, or its folder of data files is taken for a namespace package.
    "resources",
    # Alembic runs env.py and the revision files from disk (they are data files, see `datas`);
    # what they import must be in the bundle.
    "alembic.context",
    "alembic.op",
    "app.storage.models",
    # keyring picks its backend at run time: Secret Service (Linux), Credential Manager
    # (Windows).
    "keyring.backends.SecretService",
    "keyring.backends.Windows",
    "keyring.backends.chainer",
    "keyring.backends.fail",
]

# Never in the bundle: the browser engine, QML/Quick and other Qt parts the program does not
# use, the Tk toolkit, and development-only packages that live in the same virtual environment.
EXCLUDES = [
    "tkinter",
    # Build tools: PyInstaller's setuptools run-time hook would import setuptools at every start.
    "setuptools",
    "pkg_resources",
    "distutils",
    "_distutils_hack",
    "pygments",  # Mako's optional syntax highlighting of template errors
    # Pillow stays (ReportLab imports it), without the image codecs nothing here reads:
    "PIL._avif",
    "PIL.AvifImagePlugin",
    "PIL._webp",
    "PIL.WebPImagePlugin",
    "PIL._imagingtk",
    "PIL.ImageTk",
    "PIL._imagingcms",
    "PIL.ImageCms",
    "PIL.ImageQt",
    "tests",
    "central",
    "bench",
    "pytest",
    "_pytest",
    "hypothesis",
    "mypy",
    "fastapi",
    "uvicorn",
    "starlette",
    "pydantic",
    "aiosmtpd",
    "zxingcpp",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtNetwork",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSvg",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtDBus",
    "PySide6.QtMultimedia",
]

# Qt plugin folders the program needs (PySide6/Qt/plugins/<folder>/); the rest are dropped.
QT_PLUGIN_FOLDERS = {
    "platforms",  # xcb, wayland, offscreen (tests), windows
    "platformthemes",  # native file dialogs and fonts on GNOME/KDE
    "platforminputcontexts",  # Vietnamese input methods (IBus, Fcitx)
    "imageformats",
    "iconengines",
    "printsupport",  # the system print dialog (CUPS)
    "xcbglintegrations",
    "wayland-decoration-client",
    "wayland-graphics-integration-client",
    "wayland-shell-integration",
    "generic",
    "styles",
}
# Qt plugins dropped by name: the GTK 3 theme (it would load the system's GTK against the
# bundle's own GLib), frame-buffer, VNC and embedded-device platform back ends.
QT_PLUGIN_DROPS = ("qgtk3", "eglfs", "linuxfb", "minimalegl", "vnc", "vkkhrdisplay")


def datas(root: Path) -> list[tuple[str, str]]:
    """Package data PyInstaller does not pick up on its own: fonts, rates, SMS gateway profiles,
    the common-password list, migrations."""
    return [
        (str(root / "resources" / "fonts"), "resources/fonts"),
        (str(root / "resources" / "rates"), "resources/rates"),
        (str(root / "resources" / "notify"), "resources/notify"),
        (str(root / "resources" / "passwords"), "resources/passwords"),
        (str(root / "app" / "storage" / "migrations"), "app/storage/migrations"),
    ]


def _keep(dest: str) -> bool:
    parts = PurePath(dest.replace("\\", "/")).parts
    if "__pycache__" in parts:
        return False
    if "PySide6" not in parts:
        return True
    inner = parts[parts.index("PySide6") + 1 :]
    if len(inner) >= 2 and inner[0] == "Qt" and inner[1] == "translations":
        return False  # Qt's own catalogues: the program ships its Vietnamese strings itself
    if len(inner) >= 3 and inner[0] == "Qt" and inner[1] == "plugins":
        folder, name = inner[2], inner[-1]
        if folder not in QT_PLUGIN_FOLDERS:
            return False
        if any(drop in name for drop in QT_PLUGIN_DROPS):
            return False
    return True


T = TypeVar("T", bound=tuple[str, ...])
U = TypeVar("U", bound=tuple[str, ...])


def _is_linked_library(dest: str) -> bool:
    """A shared library PyInstaller added as a link-time dependency (Linux), not a module."""
    path = PurePath(dest)
    folder = path.parent.as_posix()
    return (
        folder in (".", "", "PySide6/Qt/lib")
        and path.name.startswith("lib")
        and ".so" in path.name
        and not path.name.startswith("libpython")
    )


def _without_orphans(entries: list[T]) -> list[T]:
    """Drop libraries that only the dropped plugins needed (GTK, Cairo, Pango, EGLFS…).

    PyInstaller collects every plugin's dependencies before the plugin filter runs, so after it
    the libraries no kept binary links against any more are removed (Linux; ldd is transitive).
    """
    from PyInstaller.depend.bindepend import get_imports

    roots = [entry for entry in entries if not _is_linked_library(entry[0])]
    needed: set[str] = set()
    for entry in roots:
        if ".so" in PurePath(entry[0]).name:
            needed.update(name.rsplit("/", 1)[-1] for name, _ in get_imports(entry[1]))
    return [
        entry
        for entry in entries
        if not _is_linked_library(entry[0]) or PurePath(entry[0]).name in needed
    ]


def _dangling(entry: tuple[str, ...], collected: set[str]) -> bool:
    """A SYMLINK entry whose target is no longer collected (PyInstaller links libraries in
    sub-folders from the top folder; the link must go with its library)."""
    if entry[2] != "SYMLINK":
        return False
    target = os.path.normpath(os.path.join(os.path.dirname(entry[0]), entry[1]))
    return PurePath(target).as_posix() not in collected


def lean(binaries: Iterable[T], datas: Iterable[U]) -> tuple[list[T], list[U]]:
    """Drop Qt translations, unused Qt plugins and byte-code caches from the Analysis lists;
    on Linux also the libraries only the dropped plugins needed, and links left dangling."""
    kept_binaries = [entry for entry in binaries if _keep(entry[0])]
    if sys.platform.startswith("linux"):
        kept_binaries = _without_orphans(kept_binaries)
    kept_datas = [entry for entry in datas if _keep(entry[0])]
    collected = {PurePath(e[0]).as_posix() for e in [*kept_binaries, *kept_datas]}
    return kept_binaries, [e for e in kept_datas if not _dangling(e, collected)]
