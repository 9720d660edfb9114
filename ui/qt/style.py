"""Look and feel: Fusion style, a calm light palette, large readable type for a counter screen.

Also a tiny Vietnamese translator for the handful of strings Qt itself puts on screen (context
menus of text fields, standard dialog buttons). A text it does not know falls back to Qt's own
Vietnamese translation (`qtbase_vi.qm`) when the Qt install ships one, else to the source text —
never to an empty string, which would leave Qt's print and file dialogs with blank labels.
"""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QTranslator
from PySide6.QtWidgets import QApplication

BASE_POINT_SIZE = 11
CODE_FONT_FAMILY = "DejaVu Sans Mono"
ACCENT = "#0b5cad"
DANGER = "#b3261e"
OK_GREEN = "#1b6e2d"

STYLE_SHEET = f"""
QWidget {{ font-family: "DejaVu Sans", "Segoe UI", sans-serif; font-size: {BASE_POINT_SIZE}pt; }}
QMainWindow, QDialog {{ background: #f3f5f8; }}
QLabel#pageTitle {{ font-size: 16pt; font-weight: bold; color: #1f2a36; }}
QLabel#hint {{ color: #5a6570; }}
QLabel#fieldError {{ color: {DANGER}; }}
QLabel#loginNote {{ color: {OK_GREEN}; }}
QLabel#total {{ font-size: 22pt; font-weight: bold; color: {ACCENT}; }}
QLabel#bigAmount {{ font-size: 26pt; font-weight: bold; color: {ACCENT}; }}
QLabel#change {{ font-size: 18pt; font-weight: bold; color: {OK_GREEN}; }}
QLabel#shortfall {{ font-size: 18pt; font-weight: bold; color: {DANGER}; }}
QLabel#changeBig {{ font-size: 26pt; font-weight: bold; color: {OK_GREEN}; }}
QLabel#notes {{ color: #4a3b00; background: #fff8d6; border: 1px solid #e0c04c;
    border-radius: 4px; padding: 4px 8px; }}
QLabel#code {{
    font-family: "{CODE_FONT_FAMILY}"; font-size: 48pt; font-weight: bold; color: #111;
    background: #fff8d6; border: 2px solid #e0c04c; border-radius: 8px; padding: 8px 18px;
}}
QLabel#words {{ font-style: italic; }}
QFrame#card {{ background: #ffffff; border: 1px solid #cfd6de; border-radius: 6px; }}
QFrame#navBar {{ background: #1f3b57; }}
QFrame#navBar QPushButton {{
    color: #ffffff; background: transparent; border: none; padding: 8px 14px;
    font-size: {BASE_POINT_SIZE}pt;
}}
QFrame#navBar QPushButton:checked {{ background: #2f6ea8; border-radius: 4px; }}
QFrame#navBar QPushButton:hover {{ background: #2a5580; border-radius: 4px; }}
QFrame#navBar QLabel {{ color: #dbe6f0; }}
QFrame#navBar QToolButton {{
    color: #dbe6f0; background: transparent; border: none; padding: 8px 18px 8px 10px;
    font-size: {BASE_POINT_SIZE}pt;
}}
QFrame#navBar QToolButton:hover {{ background: #2a5580; border-radius: 4px; }}
QFrame#messageBar[kind="error"] {{ background: #fde7e5; border: 1px solid {DANGER}; }}
QFrame#messageBar[kind="bug"] {{ background: #fff0d9; border: 1px solid #b46b00; }}
QFrame#messageBar[kind="info"] {{ background: #e6f2e8; border: 1px solid {OK_GREEN}; }}
QPushButton {{ padding: 6px 14px; }}
QPushButton:disabled {{ color: #9aa3ad; background: #eceff2; border: 1px solid #d5dce3;
    border-radius: 4px; }}
QPushButton#primary {{
    background: {ACCENT}; color: white; font-weight: bold; border-radius: 4px;
    padding: 8px 18px; border: 1px solid #08457f;
}}
QPushButton#primary:disabled {{ background: #9db6cf; border-color: #9db6cf; }}
QPushButton#danger:disabled {{ background: #d9a19c; border-color: #d9a19c; color: #f7eceb; }}
QPushButton#danger {{
    background: {DANGER}; color: white; font-weight: bold; border-radius: 4px;
    padding: 8px 18px; border: 1px solid #7f1b15;
}}
QLineEdit, QSpinBox, QComboBox, QDateEdit {{ padding: 4px 6px; min-height: 24px; }}
QSpinBox, QDateEdit {{ padding-right: 24px; }}
QLineEdit#search {{ font-size: 13pt; padding: 6px 8px; }}
QTableView {{ gridline-color: #dde3e9; selection-background-color: #cfe3f7;
    selection-color: #111; }}
QHeaderView::section {{ background: #eef2f6; padding: 4px 6px; border: none;
    border-right: 1px solid #d5dce3; border-bottom: 1px solid #d5dce3; font-weight: bold; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QLabel#rateNotice {{ color: #7a4a00; }}
QPushButton#rateAck {{ padding: 1px 8px; }}
QLabel#syncDot {{ font-size: 12pt; color: #8a949e; padding: 0 0 2px 6px; }}
QLabel#syncDot[tone="ok"] {{ color: {OK_GREEN}; }}
QLabel#syncDot[tone="busy"] {{ color: {ACCENT}; }}
QLabel#syncDot[tone="warn"] {{ color: #b46b00; }}
QLabel#syncDot[tone="bad"] {{ color: {DANGER}; }}
QLabel#syncRejected[tone="bad"] {{ color: {DANGER}; font-weight: bold; }}
QPushButton#syncState {{ border: none; padding: 2px 4px; font-weight: bold; }}
QPushButton#syncState:hover {{ text-decoration: underline; }}
QPushButton#syncNow {{ padding: 2px 10px; }}
"""

# Qt's own on-screen strings we replace; keys are (context, source text).
_VI: dict[tuple[str, str], str] = {
    ("QLineEdit", "&Undo"): "&Hoàn tác",
    ("QLineEdit", "&Redo"): "&Làm lại",
    ("QLineEdit", "Cu&t"): "&Cắt",
    ("QLineEdit", "&Copy"): "&Sao chép",
    ("QLineEdit", "&Paste"): "&Dán",
    ("QLineEdit", "Delete"): "Xóa",
    ("QLineEdit", "Select All"): "Chọn tất cả",
    ("QAbstractSpinBox", "&Select All"): "&Chọn tất cả",
    ("QAbstractSpinBox", "&Step up"): "Tăng",
    ("QAbstractSpinBox", "Step &down"): "Giảm",
    ("QPlatformTheme", "OK"): "Đồng ý",
    ("QPlatformTheme", "Cancel"): "Hủy",
    ("QPlatformTheme", "Close"): "Đóng",
    ("QPlatformTheme", "Save"): "Lưu",
    ("QPlatformTheme", "&Yes"): "&Có",
    ("QPlatformTheme", "&No"): "&Không",
    ("QFileDialog", "&Save"): "&Lưu",
    ("QFileDialog", "&Open"): "&Mở",
    ("QFileDialog", "Cancel"): "Hủy",
    ("QFileDialog", "File &name:"): "&Tên tệp:",
    ("QFileDialog", "Files of type:"): "Loại tệp:",
    ("QFileDialog", "Look in:"): "Thư mục:",
    ("QPrintDialog", "Print"): "In",
    ("QPrintDialog", "&Print"): "&In",
}


class VietnameseQtStrings(QTranslator):
    """Our few Vietnamese strings first, then Qt's own translation, then the source text."""

    def __init__(self, parent: QApplication | None = None) -> None:
        super().__init__(parent)
        qt_own = QTranslator(self)
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        self._qt: QTranslator | None = qt_own if qt_own.load("qtbase_vi", folder) else None

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        ours = _VI.get((context, source))
        if ours is not None:
            return ours
        if self._qt is not None:
            theirs = self._qt.translate(context, source, disambiguation, n)
            if theirs:
                return theirs
        return source

    def isEmpty(self) -> bool:
        return False


def apply_style(app: QApplication) -> None:
    """Fusion everywhere (the same look on Windows and Linux); colours and type from the sheet.

    Done with a style sheet only — no QFont/QPalette — so QtGui's Python module is not needed
    before the first window shows (start-up time, see bench/bench_startup.py).
    """
    style = app.style()
    if style is None or style.name().lower() != "fusion":
        app.setStyle("Fusion")  # Linux defaults to Fusion already; creating it again costs ~5 ms
    app.setStyleSheet(STYLE_SHEET)
    translator = VietnameseQtStrings(app)
    app.installTranslator(translator)
