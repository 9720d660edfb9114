"""Mẫu 01-XN — the daily list of payments by confirmation code, for reconciliation with VSS.

Pick a business day, see every payment (voided ones listed and marked, left out of the totals),
the totals per loại hình and the grand total; export PDF, XLSX or CSV. The summary is read on
the database thread; rendering and writing the file happen on the I/O pool.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import format_local, today
from app.domain.money import format_vnd
from ui.qt.operations import documents
from ui.qt.ops import IoOp
from ui.qt.widgets import card, fkey_text, hint, page_title

EXPORT_KEYS = {"pdf": "Ctrl+E", "xlsx": "Ctrl+Shift+X", "csv": "Ctrl+Shift+C"}

if TYPE_CHECKING:
    from app.domain.documents import Xn01Report
    from ui.qt.state import AppState

HEADERS = (
    "STT",
    "Mã xác nhận",
    "Họ và tên",
    "Mã số BHXH",
    "Loại hình",
    "Số tháng",
    "Từ tháng – Đến tháng",
    "Số tiền",
    "Giờ nộp",
    "Nhân viên thu",
    "Ghi chú",
)

FORMATS = {
    "pdf": ("Tệp PDF (*.pdf)", "render_xn01_pdf"),
    "xlsx": ("Bảng tính Excel (*.xlsx)", "render_xn01_xlsx"),
    "csv": ("Tệp CSV (*.csv)", "render_xn01_csv"),
}


def render_report(report: Xn01Report, kind: str) -> bytes:
    import printing.xn01 as xn01

    renderer = getattr(xn01, FORMATS[kind][1])
    return bytes(renderer(report))


def export_file(report: Xn01Report, kind: str, path: Path) -> Path:
    from ui.qt.receipt_view import write_file

    return write_file(path, render_report(report, kind))


class Xn01Page(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.report: Xn01Report | None = None
        self.last_export: Path | None = None
        self._seq = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        top = QHBoxLayout()
        top.addWidget(page_title("Mẫu 01-XN — Tổng hợp số tiền thu theo mã xác nhận"))
        top.addStretch(1)
        layout.addLayout(top)
        layout.addLayout(self._build_controls())
        layout.addWidget(self._build_table(), 1)
        totals = card()
        totals_col = QVBoxLayout(totals)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("xn01_totals")
        self.totals_label.setTextFormat(Qt.TextFormat.RichText)
        totals_col.addWidget(self.totals_label)
        self.export_status = hint("")
        totals_col.addWidget(self.export_status)
        layout.addWidget(totals)

        self.day.dateChanged.connect(lambda _d: self.refresh())
        self._initialised = False
        from PySide6.QtGui import QKeySequence, QShortcut

        for kind, keys in EXPORT_KEYS.items():
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda k=kind: self.export(k))

    def _build_controls(self) -> QHBoxLayout:
        controls = QHBoxLayout()
        caption = QLabel("&Ngày:")
        self.day = QDateEdit()
        self.day.setObjectName("xn01_day")
        self.day.setDisplayFormat("dd/MM/yyyy")
        self.day.setCalendarPopup(True)
        caption.setBuddy(self.day)
        controls.addWidget(caption)
        controls.addWidget(self.day)
        self.yesterday_button = QPushButton("Hôm qua")
        self.yesterday_button.clicked.connect(lambda: self.set_day(today() - timedelta(1)))
        controls.addWidget(self.yesterday_button)
        self.today_button = QPushButton("Hôm nay")
        self.today_button.clicked.connect(lambda: self.set_day(today()))
        controls.addWidget(self.today_button)
        controls.addStretch(1)
        self.export_buttons: dict[str, QPushButton] = {}
        for kind, label in (("pdf", "Xuất PDF"), ("xlsx", "Xuất Excel"), ("csv", "Xuất CSV")):
            button = QPushButton(fkey_text(label, EXPORT_KEYS[kind]))
            button.setObjectName(f"export_{kind}")
            button.clicked.connect(lambda _=False, k=kind: self.export(k))
            controls.addWidget(button)
            self.export_buttons[kind] = button
        return controls

    def _build_table(self) -> QTableWidget:
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("xn01_table")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        return self.table

    def activate(self) -> None:
        if not self._initialised:
            self._initialised = True
            self.set_day(today())
        else:
            self.refresh()
        self.day.setFocus()

    def restore_focus(self) -> None:
        self.day.setFocus()

    def selected_day(self) -> date:
        qd = self.day.date()
        return date(qd.year(), qd.month(), qd.day())

    def set_day(self, day: date) -> None:
        target = QDate(day.year, day.month, day.day)
        if self.day.date() == target:
            self.refresh()
        else:
            self.day.setDate(target)  # dateChanged → refresh

    def refresh(self) -> None:
        self._seq += 1
        seq = self._seq
        day = self.selected_day()
        for button in self.export_buttons.values():
            button.setEnabled(False)
        documents.xn01(self, self.state, day).success(lambda r: self._loaded(seq, r)).run()

    def _loaded(self, seq: int, report: Xn01Report) -> None:
        if seq != self._seq:
            return
        self.report = report
        self.table.setRowCount(len(report.rows))
        for r, row in enumerate(report.rows):
            values = (
                str(row.stt),
                row.confirmation_code,
                row.full_name,
                row.ma_so_bhxh or "chưa có",
                row.scheme_label,
                str(row.months),
                row.period_text,
                format_vnd(row.amount),
                format_local(row.paid_at, "%H:%M:%S"),
                row.cashier,
                "ĐÃ HỦY" if row.voided else "",
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c in (0, 5, 7):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if row.voided:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(r, c, item)
        parts = [
            f"{label}: <b>{count}</b> khoản · <b>{format_vnd(amount)}</b>"
            for label, count, amount in report.totals_by_scheme
        ] or ["Không có khoản thu nào trong ngày."]
        voided = sum(1 for row in report.rows if row.voided)
        self.totals_label.setText(
            f"Ngày {report.business_date:%d/%m/%Y} · {report.collection_point} · "
            f"Quầy {report.counter_code}<br>"
            + " &nbsp;&nbsp;·&nbsp;&nbsp; ".join(parts)
            + (f" &nbsp;&nbsp;·&nbsp;&nbsp; Đã hủy: {voided} khoản (không tính)" if voided else "")
            + f"<div style='font-size:15pt; margin-top:6px'>Tổng cộng: <b>{report.grand_count}"
            f"</b> khoản · <b style='color:#0b5cad'>{format_vnd(report.grand_total)}</b></div>"
        )
        for button in self.export_buttons.values():
            button.setEnabled(True)

    def export(self, kind: str) -> None:
        report = self.report
        if report is None:
            return
        name_filter = FORMATS[kind][0]
        suggested = f"01-XN_{report.counter_code}_{report.business_date:%Y-%m-%d}.{kind}"
        path = self.state.ask_save_path(self, "Xuất Mẫu 01-XN", suggested, name_filter)
        if path is None:
            return
        if path.suffix.lower() != f".{kind}":
            path = path.with_name(f"{path.name}.{kind}")
        self.export_status.setText(f"Đang xuất {path.name}…")
        button = self.export_buttons[kind]
        button.setEnabled(False)

        def written(p: Path) -> None:
            self.last_export = p
            self.export_status.setText(f"Đã lưu: {p}")

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.export_status.setText(f"Không xuất được: {message_for(exc)}")

        IoOp(self, lambda: export_file(report, kind, path)).success(written).failure(
            failed
        ).finally_(lambda: button.setEnabled(True)).run()
