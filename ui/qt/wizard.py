"""First-run setup: the counter's identity and its first administrator.

Four steps — the collection point, the admin account, the receipt printer and its paper (with a
test page), the (optional) central server — then `app.services.counter.init_counter` on the
database thread, and the printer choice saved as the counter's settings, so the first receipt
prints with no dialog. Standalone works: the central server address may be left empty and added
later; so may the printer (the done screen of a payment then says so and offers to choose).

Checks that need no database (empty fields, password confirmation, URL shape) run as the user
moves on; everything else is the service's ValidationError, shown under its field on the step
that holds it.

A hand-made stepper rather than QWizard: Enter moves field to field, and the final step has to
wait for a background op before it may finish, which QWizard's synchronous validation does not
allow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.passwords import PASSWORD_RULE, check_password
from app.errors import ValidationError
from ui.qt.operations import counter as counter_ops
from ui.qt.ops import DbOp
from ui.qt.printer_choice import PrinterChoice
from ui.qt.state import AppState
from ui.qt.widgets import EnterNavigator, FieldErrors, card, fkey_text, hint, page_title

if TYPE_CHECKING:
    from app.services.common import Actor
    from app.services.counter import CounterView
    from app.services.settings import CounterSettings

STEP_TITLES = (
    "Bước 1/4 — Đơn vị thu",
    "Bước 2/4 — Tài khoản quản trị đầu tiên",
    "Bước 3/4 — Máy in biên lai",
    "Bước 4/4 — Máy chủ trung tâm (không bắt buộc)",
)
PRINTER_STEP = 2


class SetupWizard(QWidget):
    initialised = Signal(object)  # Actor of the first admin

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.errors = FieldErrors()
        self._busy = False
        self._printers_listed = False
        self.printer_saved: bool | None = None  # after set-up: was the printer choice stored

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        box = card()
        box.setMinimumWidth(760)
        box.setMaximumWidth(900)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        layout = QVBoxLayout(box)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(10)
        layout.addWidget(page_title("Thiết lập quầy thu lần đầu"))
        self.step_label = QLabel()
        self.step_label.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.step_label)
        self.steps = QStackedWidget()
        layout.addWidget(self.steps)
        self._make_fields()
        self._add_steps()
        self._build_footer(layout)
        self.counter_code.textEdited.connect(
            lambda t: self.counter_code.setText(t.upper()) if t != t.upper() else None
        )
        self.receipt_series.textEdited.connect(
            lambda t: self.receipt_series.setText(t.upper()) if t != t.upper() else None
        )
        self._go(0)

    def _make_fields(self) -> None:
        self.organisation = QLineEdit()
        self.collection_point = QLineEdit()
        self.counter_code = QLineEdit()
        self.receipt_series = QLineEdit()
        self.admin_username = QLineEdit()
        self.admin_full_name = QLineEdit()
        self.admin_password = QLineEdit()
        self.admin_password2 = QLineEdit()
        self.central_url = QLineEdit()
        for name in (
            "organisation",
            "collection_point",
            "counter_code",
            "receipt_series",
            "admin_username",
            "admin_full_name",
            "admin_password",
            "admin_password2",
            "central_url",
        ):
            getattr(self, name).setObjectName(name)
        self.organisation.setPlaceholderText("ví dụ: Bưu điện tỉnh Thái Nguyên")
        self.collection_point.setPlaceholderText("ví dụ: Điểm thu Bưu điện xã Đồng Hỷ")
        self.counter_code.setPlaceholderText("ví dụ: TN-DH01")
        self.receipt_series.setPlaceholderText("để trống: dùng mã quầy")
        self.admin_username.setPlaceholderText("chữ thường không dấu, ví dụ: quantri")
        for pw in (self.admin_password, self.admin_password2):
            pw.setEchoMode(QLineEdit.EchoMode.Password)
        self.central_url.setPlaceholderText("https://… — để trống nếu quầy làm việc độc lập")
        self.printer_choice = PrinterChoice(self.state, self, self.errors, next_step="bấm Tiếp tục")
        self.printer = self.printer_choice.printer
        self.receipt_format = self.printer_choice.receipt_format

    def _add_steps(self) -> None:
        self._pages: list[list[QWidget]] = []
        self._add_step(
            [
                ("Tên tổ chức dịch vụ thu:", self.organisation, "organisation"),
                ("Tên điểm thu:", self.collection_point, "collection_point"),
                ("Mã quầy:", self.counter_code, "counter_code"),
                ("Ký hiệu biên lai:", self.receipt_series, "receipt_series"),
            ],
            "Mã quầy và ký hiệu biên lai gồm chữ in hoa không dấu, chữ số, gạch ngang "
            "(2–20 ký tự). Số biên lai được đánh liên tục theo quầy.",
        )
        self._add_step(
            [
                ("Tên đăng nhập:", self.admin_username, "username"),
                ("Họ và tên:", self.admin_full_name, "full_name"),
                ("Mật khẩu:", self.admin_password, "password"),
                ("Nhập lại mật khẩu:", self.admin_password2, "password2"),
            ],
            "Tài khoản quản trị dùng để thêm thu ngân, giám sát viên và sửa cài đặt. "
            f"Mật khẩu {PASSWORD_RULE}.",
        )
        self._add_printer_step()
        self._add_step(
            [("Địa chỉ máy chủ trung tâm:", self.central_url, "central_url")],
            "Không bắt buộc. Quầy ghi nhận và in biên lai bình thường khi không có mạng; "
            "dữ liệu được đồng bộ khi có kết nối.",
        )

    def _build_footer(self, layout: QVBoxLayout) -> None:
        buttons = QHBoxLayout()
        self.back_button = QPushButton("Quay lại")
        self.back_button.clicked.connect(self.back)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        self.next_button = QPushButton()
        self.next_button.setObjectName("primary")
        self.next_button.clicked.connect(self.next)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)

        self.general_error = QLabel()
        self.general_error.setObjectName("fieldError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)
        # Offered only when the system keyring has failed (docs/ACCOUNTS.md): never silently.
        self.keyring_file = QCheckBox(
            "Máy này không có kho khóa của hệ điều hành: lưu khóa bí mật của quầy trong một tệp "
            "chỉ tài khoản máy tính này đọc được (kém an toàn hơn; Cài đặt sẽ luôn nhắc)"
        )
        self.keyring_file.setObjectName("keyring_file")
        self.keyring_file.hide()
        layout.addWidget(self.keyring_file)
        self.recovery_code = ""  # shown once after set-up (RecoveryCodeDialog)

    def _add_step(self, rows: list[tuple[str, QLineEdit, str]], note: str) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for caption, widget, field in rows:
            self.errors.add_row(form, caption, widget, field)
        self._add_page(form, [w for _, w, _ in rows], note)

    def _add_printer_step(self) -> None:
        """The receipt printer and paper, as Settings has them (`PrinterChoice`); Enter moves
        on, Tab reaches "In trang thử"."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.printer_choice.add_rows(form, mnemonics=True)
        self._add_page(
            form,
            [self.printer, self.receipt_format],
            "Chọn máy in biên lai của quầy để biên lai in ngay khi thu tiền, không phải chọn "
            "máy in mỗi lần. Máy in nhiệt: khổ giấy cuộn 80 mm; máy in văn phòng: A5. In trang "
            "thử để chắc chắn. Chưa có máy in thì để «Hỏi chọn máy in mỗi lần in»; quản trị viên "
            "chọn sau trong Cài đặt (F8).",
        )

    def _add_page(self, form: QFormLayout, widgets: list[QWidget], note: str) -> None:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form)
        column.addWidget(hint(note))
        column.addStretch(1)
        self.steps.addWidget(page)
        self._pages.append(widgets)
        navigator = EnterNavigator(self, lambda: list(widgets), self.next)
        navigator.watch(widgets)

    # --- navigation -----------------------------------------------------------------------

    @property
    def step(self) -> int:
        return self.steps.currentIndex()

    def _go(self, index: int) -> None:
        if index == PRINTER_STEP and not self._printers_listed:
            self._printers_listed = True  # Qt's printer list: asked once, when first needed
            self.printer_choice.load(self.state.settings)
        self.steps.setCurrentIndex(index)
        self.step_label.setText(STEP_TITLES[index])
        self.back_button.setEnabled(index > 0 and not self._busy)
        last = index == len(self._pages) - 1
        self.next_button.setText(
            fkey_text("Khởi tạo quầy", "Enter") if last else fkey_text("Tiếp tục", "Enter")
        )
        self._pages[index][0].setFocus()

    def back(self) -> None:
        if self.step > 0 and not self._busy:
            self.errors.clear()
            self._go(self.step - 1)

    def next(self) -> None:
        if self._busy:
            return
        self.errors.clear()
        self.general_error.hide()
        problem = self._local_check(self.step)
        if problem is not None:
            self._show_validation(problem)
            return
        if self.step < len(self._pages) - 1:
            self._go(self.step + 1)
        else:
            self._initialise()

    def _local_check(self, step: int) -> ValidationError | None:
        required = "không được để trống"
        if step == 0:
            for widget, field, label in (
                (self.organisation, "organisation", "Tên tổ chức dịch vụ thu"),
                (self.collection_point, "collection_point", "Tên điểm thu"),
                (self.counter_code, "counter_code", "Mã quầy"),
            ):
                if not widget.text().strip():
                    return ValidationError(field, label, required)
        elif step == 1:
            if not self.admin_username.text().strip():
                return ValidationError("username", "Tên đăng nhập", required)
            if not self.admin_full_name.text().strip():
                return ValidationError("full_name", "Họ và tên", required)
            try:
                check_password(self.admin_password.text())
            except ValidationError as exc:
                return exc
            if self.admin_password.text() != self.admin_password2.text():
                return ValidationError(
                    "password2", "Nhập lại mật khẩu", "không khớp với mật khẩu đã nhập"
                )
        elif step == 2:
            url = self.central_url.text().strip()
            if url and not url.startswith(("http://", "https://")):
                return ValidationError(
                    "central_url",
                    "Địa chỉ máy chủ trung tâm",
                    "phải bắt đầu bằng https:// (hoặc http://), hoặc để trống",
                )
        return None

    def _step_of(self, field: str) -> int | None:
        label = self.errors.error_label(field)
        if label is None:
            return None
        for index in range(self.steps.count()):
            page = self.steps.widget(index)
            if page is not None and page.isAncestorOf(label):
                return index
        return None

    def _show_validation(self, exc: ValidationError) -> None:
        index = self._step_of(exc.field)
        if index is None:
            self.show_message(exc.message)
            return
        if index != self.step:
            self._go(index)
        self.errors.show(exc)

    def show_message(self, text: str, kind: str = "error") -> None:
        self.general_error.setText(text)
        self.general_error.show()

    # --- the op ---------------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.next_button.setEnabled(not busy)
        self.back_button.setEnabled(not busy and self.step > 0)
        if busy:
            self.next_button.setText("Đang khởi tạo…")
        else:
            self._go(self.step)

    def _initialise(self) -> None:
        answers = counter_ops.CounterSetUp(
            organisation=self.organisation.text(),
            collection_point=self.collection_point.text(),
            counter_code=self.counter_code.text(),
            receipt_series=self.receipt_series.text().strip() or None,
            admin_username=self.admin_username.text().strip(),
            admin_full_name=self.admin_full_name.text(),
            admin_password=self.admin_password.text(),
            central_url=self.central_url.text().strip() or None,
        )
        self._set_busy(True)
        if self.keyring_file.isVisible() and self.keyring_file.isChecked():
            from app.secrets import use_secrets_file

            DbOp(self, use_secrets_file).run()  # FIFO: before the set-up below
        counter_ops.set_up(self, self.state, answers).success(self._done).failure(
            self._failed
        ).run()

    def _done(self, result: tuple[CounterView, Actor]) -> None:
        counter, admin = result
        self.state.set_counter(counter)
        self._save_printer(admin)

        def issue() -> str:
            from app.services.operators import issue_recovery_code

            return issue_recovery_code(self.state.db, by=admin)

        def issued(code: str) -> None:
            self._busy = False
            self.recovery_code = code
            show_recovery_code(self.window(), code, admin.username)
            self.initialised.emit(admin)

        def not_issued(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self._busy = False
            self.initialised.emit(admin)  # the counter is set up; a code can be issued later
            self.show_message(message_for(exc))

        DbOp(self, issue).success(issued).failure(not_issued).run()

    def _save_printer(self, admin: Actor) -> None:
        """The printer and paper chosen on step 3 become the counter's settings (audited like
        any settings change); queued before the recovery code, so both are done when the
        wizard reports that it has finished."""
        from dataclasses import replace

        from app.services.settings import save_settings

        db = self.state.db
        new = replace(
            self.state.settings,
            printer_name=self.printer_choice.printer_name(),
            receipt_format=self.printer_choice.chosen_format(),
        )

        def saved(settings: CounterSettings) -> None:
            self.printer_saved = True
            self.state.set_settings(settings)

        def not_saved(_exc: BaseException) -> None:
            self.printer_saved = False

        DbOp(self, lambda: save_settings(db, new, by=admin)).success(saved).failure(not_saved).run()

    def done_message(self) -> str:
        """What the sign-in screen says once the counter is set up: whether receipts will
        print at once, and what is left for the administrator."""
        name = self.printer_choice.printer_name()
        if name and self.printer_saved:
            printing = f"Biên lai sẽ in ngay ra máy in {name}."
        elif name:
            printing = "Chưa lưu được máy in đã chọn: vào Cài đặt (F8) để chọn lại máy in biên lai."
        else:
            printing = (
                "Chưa chọn máy in biên lai: mỗi lần in sẽ phải chọn máy in; vào Cài đặt (F8) "
                "để chọn máy in cố định."
            )
        return (
            "Đã khởi tạo quầy. Hãy đăng nhập bằng tài khoản quản trị vừa tạo. "
            f"{printing} Thêm tài khoản thu ngân trong Cài đặt (F8)."
        )

    def _failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self._set_busy(False)
        if isinstance(exc, ValidationError):
            self._show_validation(exc)
            return
        self.show_message(message_for(exc))
        if (getattr(exc, "message_en", None) or "").startswith("keyring unavailable"):
            self.keyring_file.show()
            self.keyring_file.setFocus()


RECOVERY_TEXT = (
    "<p>Mã khôi phục của quầy (chỉ hiện <b>một lần</b>):</p>"
    "<p style='font-size:20pt; font-family:monospace'><b>{code}</b></p>"
    "<p>In hoặc chép mã này, niêm phong và giao người giám sát giữ. Khi quên mật khẩu quản "
    "trị viên cuối cùng, tại chính máy này chạy <code>quaythu operator recover --username "
    "{user}</code> và nhập mã (xem docs/ACCOUNTS.md). Mỗi mã dùng được một lần.</p>"
)


def show_recovery_code(parent: QWidget, code: str, username: str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("recoveryCode")
    box.setWindowTitle("Mã khôi phục")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(RECOVERY_TEXT.format(code=code, user=username))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.addButton("Đã ghi lại mã", QMessageBox.ButtonRole.AcceptRole)
    box.finished.connect(box.deleteLater)
    box.open()
    return box
