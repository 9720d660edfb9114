"""Render installer/icons/quaythu.svg to the PNG (Linux menus) and ICO (Windows) next to it.

    .venv/bin/python scripts/make_icons.py

Run after editing the SVG and commit the three files; the installers use the rendered ones as
they are (no Qt needed to build a package).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "installer" / "icons"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "quaythu.svg"))
    if not renderer.isValid():
        print("quaythu.svg could not be read", file=sys.stderr)
        return 1
    ok = render(renderer, 256).save(str(ICONS / "quaythu.png"))
    ok &= render(renderer, 256).save(str(ICONS / "quaythu.ico"))
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
