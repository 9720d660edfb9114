"""Settings (administrators only): organisation details, receipt printer and format, idle lock,
and the counter's user accounts; the "Thông báo" tab (SMS/email to the payer) is
`ui/qt/settings_notify.py`.

Everything is saved through services that check the admin role again and audit the change
(`update_counter_details`, `app.services.settings.save_settings`, `create_operator`).
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.types import Role
from app.errors import ValidationError
from ui.qt.operations import counter as counter_ops
from ui.qt.operations import operators as operator_ops
from ui.qt.printer_choice import PrinterChoice
from ui.qt.widgets import EnterNavigator, FieldErrors, card, enum_data, fkey_text, hint, page_title

ADD_USER_KEY = "Ctrl+N"  # the add-user form's first field

if TYPE_CHECKING:
    from app.services.counter import CounterView
    from app.services.operators import OperatorView
    from app.services.settings import CounterSettings
    from ui.qt.changes import OpChanges
    from ui.qt.state import AppState


class SettingsPage(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.errors = FieldErrors()
        self.user_errors = FieldErrors()
        self.operators: list[OperatorView] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(page_title("Cài đặt quầy"))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        layout.addWidget(self.tabs, 1)
        general = QWidget()
        grid = QGridLayout(general)
        grid.setHorizontalSpacing(12)
        self.tabs.addTab(general, "Quầy và người dùng")
        from ui.qt.settings_notify import NotifySettingsPanel

        self.notify_panel = NotifySettingsPanel(state)
        self.tabs.addTab(self.notify_panel, "Thông báo (SMS, email)")
        grid.addWidget(self._build_counter_card(), 0, 0)
        grid.addWidget(self._build_users_card(), 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        shortcut = QShortcut(QKeySequence("Ctrl+S"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.save)
        state.changed.connect(self._changed)

    def _build_counter_card(self) -> QWidget:
        """Organisation and printing."""
        left = card()
        left_col = QVBoxLayout(left)
        left_col.addWidget(self._heading("Thông tin đơn vị"))
        org_form = QFormLayout()
        org_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.organisation = QLineEdit()
        self.organisation.setObjectName("organisation")
        self.collection_point = QLineEdit()
        self.collection_point.setObjectName("collection_point")
        self.counter_code = QLabel()
        self.errors.add_row(org_form, "Tổ chức dịch vụ thu:", self.organisation, "organisation")
        self.errors.add_row(org_form, "Điểm thu:", self.collection_point, "collection_point")
        org_form.addRow("Mã quầy · ký hiệu biên lai:", self.counter_code)
        left_col.addLayout(org_form)
        left_col.addWidget(self._heading("In biên lai và khóa màn hình"))
        left_col.addLayout(self._build_print_form())
        left_col.addWidget(
            # one line: a wrapped hint here squeezed the spin box above it at 1366×768
            hint("Máy in nhiệt: khổ cuộn 80 mm; máy in văn phòng: A5.")
        )
        left_col.addWidget(self._heading("Sao lưu"))
        left_col.addLayout(self._build_backup_row())
        self.secrets_warning = QLabel()
        self.secrets_warning.setObjectName("fieldError")
        self.secrets_warning.setWordWrap(True)
        self.secrets_warning.hide()
        left_col.addWidget(self.secrets_warning)
        left_col.addStretch(1)
        self.save_status = QLabel()
        self.save_status.setWordWrap(True)
        left_col.addWidget(self.save_status)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        self.save_button = QPushButton(fkey_text("Lưu cài đặt", "Ctrl+S"))
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        save_row.addWidget(self.save_button)
        left_col.addLayout(save_row)
        return left

    def _build_backup_row(self) -> QVBoxLayout:
        column = QVBoxLayout()
        row = QHBoxLayout()
        self.backup_folder = QLineEdit()
        self.backup_folder.setObjectName("backup_folder")
        self.backup_folder.setPlaceholderText("thư mục sao lưu (USB, thư mục mạng…)")
        row.addWidget(self.backup_folder, 1)
        self.backup_folder_button = QPushButton("Dùng thư mục này")
        self.backup_folder_button.clicked.connect(self.save_backup_folder)
        self.backup_folder.returnPressed.connect(self.save_backup_folder)
        row.addWidget(self.backup_folder_button)
        column.addLayout(row)
        self.backup_info = QLabel()
        self.backup_info.setObjectName("hint")
        self.backup_info.setWordWrap(True)
        column.addWidget(self.backup_info)
        return column

    def _load_backup(self) -> None:
        from ui.qt.operations import backup as backup_ops

        def show(status: Any) -> None:
            self.backup_folder.setText(status.folder)
            last = status.last
            self.backup_info.setText(
                f"{status.copies} bản sao lưu. "
                + (f"{last.status_text}." if last else "Chưa có bản sao lưu nào.")
            )
            failed = last is not None and not last.ok
            self.backup_info.setToolTip(last.message if last is not None and failed else "")

        backup_ops.status(self, self.state).success(show).failure(lambda _e: None).run()
        from app.secrets import secrets_file_warning

        warning = secrets_file_warning()
        self.secrets_warning.setText(warning)
        self.secrets_warning.setVisible(bool(warning))

    def save_backup_folder(self) -> None:
        from ui.qt.operations import backup as backup_ops

        def done(folder: Any) -> None:
            self.backup_info.setText(f"Sẽ sao lưu vào {folder}.")

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.backup_info.setText(message_for(exc))

        backup_ops.choose_folder(self, self.state, self.backup_folder.text().strip()).success(
            done
        ).failure(failed).run()

    def _build_print_form(self) -> QFormLayout:
        print_form = QFormLayout()
        print_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.printer_choice = PrinterChoice(
            self.state, self, self.errors, next_step="bấm Lưu cài đặt"
        )
        self.printer = self.printer_choice.printer
        self.receipt_format = self.printer_choice.receipt_format
        self.test_print_button = self.printer_choice.test_print_button
        self.test_print_status = self.printer_choice.test_print_status
        self.auto_print = QCheckBox("In biên lai ngay sau khi thu tiền")
        self.auto_print.setObjectName("auto_print")
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setObjectName("idle_lock_minutes")
        self.idle_minutes.setRange(1, 240)
        self.idle_minutes.setSuffix(" phút")
        self.printer_choice.add_rows(print_form)
        print_form.addRow("", self.auto_print)
        self.errors.add_row(
            print_form, "Tự khóa màn hình sau:", self.idle_minutes, "idle_lock_minutes"
        )
        return print_form

    def _build_users_card(self) -> QWidget:
        right = card()
        right_col = QVBoxLayout(right)
        right_col.addWidget(self._heading("Người dùng"))
        self.users = QTableWidget(0, 4)
        self.users.setObjectName("users")
        self.users.setHorizontalHeaderLabels(
            ["Tên đăng nhập", "Họ và tên", "Vai trò", "Trạng thái"]
        )
        self.users.verticalHeader().hide()
        self.users.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.users.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.users.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        right_col.addWidget(self.users, 1)
        right_col.addLayout(self._build_user_actions())
        right_col.addLayout(self._build_policy_row())
        add_caption = QLabel(f"Thêm người dùng  [{ADD_USER_KEY}]:")
        right_col.addWidget(add_caption)
        right_col.addLayout(self._build_user_form())
        add_caption.setBuddy(self.new_username)
        self.user_status = QLabel()
        self.user_status.setWordWrap(True)
        right_col.addWidget(self.user_status)
        add_row = QHBoxLayout()
        add_row.addStretch(1)
        self.add_user_button = QPushButton(fkey_text("Thêm người dùng", "Enter"))
        self.add_user_button.setObjectName("addUser")
        self.add_user_button.clicked.connect(self.add_user)
        add_row.addWidget(self.add_user_button)
        right_col.addLayout(add_row)
        self._wire_users_keys()
        return right

    def _wire_users_keys(self) -> None:
        """The users card by keyboard: Tab goes through it in reading order (the table is one
        stop: arrows move inside it, Tab leaves it), Ctrl+N jumps to the add-user form, Enter
        moves field to field there and, on the last field, adds the user."""
        self.users.setTabKeyNavigation(False)
        order: list[QWidget] = [
            self.users,
            self.reset_password,
            self.reset_button,
            self.active_button,
            self.unlock_button,
            self.role_choice,
            self.role_button,
            *self.policy_spins.values(),
            self.policy_button,
            *self._user_fields,
            self.add_user_button,
        ]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)
        self.user_navigator = EnterNavigator(self, lambda: self._user_fields, self.add_user)
        self.user_navigator.watch(self._user_fields)
        add_key = QShortcut(QKeySequence(ADD_USER_KEY), self)
        add_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        add_key.activated.connect(self.focus_add_user)

    def focus_add_user(self) -> None:
        self.new_username.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.new_username.selectAll()

    def _build_user_actions(self) -> QVBoxLayout:
        """What an admin does to the selected account: reset, disable/enable, unlock, role."""
        column = QVBoxLayout()
        row = QHBoxLayout()
        self.reset_password = QLineEdit()
        self.reset_password.setObjectName("reset_password")
        self.reset_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.reset_password.setPlaceholderText("mật khẩu tạm cho người được chọn")
        row.addWidget(self.reset_password, 1)
        self.reset_button = QPushButton("Đặt lại mật khẩu")
        self.reset_button.clicked.connect(self.reset_selected)
        self.reset_password.returnPressed.connect(self.reset_selected)
        row.addWidget(self.reset_button)
        column.addLayout(row)
        row = QHBoxLayout()
        self.active_button = QPushButton("Vô hiệu hóa")
        self.active_button.clicked.connect(self.toggle_selected)
        row.addWidget(self.active_button)
        self.unlock_button = QPushButton("Mở khóa")
        self.unlock_button.clicked.connect(self.unlock_selected)
        row.addWidget(self.unlock_button)
        row.addStretch(1)
        self.role_choice = QComboBox()
        self.role_choice.setObjectName("role_choice")
        for role in (Role.CASHIER, Role.SUPERVISOR, Role.ADMIN):
            self.role_choice.addItem(role.label, role)
        row.addWidget(self.role_choice)
        self.role_button = QPushButton("Đổi vai trò")
        self.role_button.clicked.connect(self.role_selected)
        row.addWidget(self.role_button)
        column.addLayout(row)
        self.users.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()
        return column

    def _build_policy_row(self) -> QHBoxLayout:
        """Password age (at most 180 days, never off), warning, lockout (docs/ACCOUNTS.md)."""
        row = QHBoxLayout()
        self.policy_spins: dict[str, QSpinBox] = {}
        for name, caption, low, high, suffix in (
            ("max_age_days", "Hạn mật khẩu", 1, 180, " ngày"),
            ("expiry_warning_days", "báo trước", 1, 60, " ngày"),
            ("lockout_threshold", "khóa sau", 3, 20, " lần sai"),
            ("lockout_minutes", "trong", 1, 1440, " phút"),
        ):
            spin = QSpinBox()
            spin.setObjectName(name)
            spin.setRange(low, high)
            spin.setSuffix(suffix)
            label = QLabel(caption)
            label.setBuddy(spin)
            row.addWidget(label)
            row.addWidget(spin)
            self.policy_spins[name] = spin
        self.policy_button = QPushButton("Lưu")
        self.policy_button.clicked.connect(self.save_policy)
        row.addWidget(self.policy_button)
        return row

    def _show_policy(self, policy: Any) -> None:
        for name, spin in self.policy_spins.items():
            spin.setValue(getattr(policy, name))

    def save_policy(self) -> None:
        from app.services.operators import AccountPolicy

        new = AccountPolicy(**{name: spin.value() for name, spin in self.policy_spins.items()})

        def done(saved: Any) -> None:
            self._show_policy(saved)
            self.user_status.setText("Đã lưu chính sách mật khẩu.")

        operator_ops.save_policy(self, self.state, new).success(done).failure(
            self._user_failed
        ).run()

    def _build_user_form(self) -> QFormLayout:
        user_form = QFormLayout()
        user_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.new_username = QLineEdit()
        self.new_username.setObjectName("new_username")
        self.new_full_name = QLineEdit()
        self.new_full_name.setObjectName("new_full_name")
        self.new_role = QComboBox()
        self.new_role.setObjectName("new_role")
        for role in (Role.CASHIER, Role.SUPERVISOR, Role.ADMIN):
            self.new_role.addItem(role.label, role)
        self.new_password = QLineEdit()
        self.new_password.setObjectName("new_password")
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.user_errors.add_row(user_form, "Tên đăng nhập:", self.new_username, "username")
        self.user_errors.add_row(user_form, "Họ và tên:", self.new_full_name, "full_name")
        user_form.addRow("Vai trò:", self.new_role)
        self.user_errors.add_row(user_form, "Mật khẩu:", self.new_password, "password")
        self._user_fields: list[QWidget] = [
            self.new_username,
            self.new_full_name,
            self.new_role,
            self.new_password,
        ]
        return user_form

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setStyleSheet("font-weight: bold; font-size: 13pt; color: #1f3b57;")
        return label

    # --- loading --------------------------------------------------------------------------

    def activate(self) -> None:
        self.load()
        self.organisation.setFocus()

    def restore_focus(self) -> None:
        self.organisation.setFocus()

    def load(self) -> None:
        state = self.state
        counter = state.counter
        if counter is not None:
            self.organisation.setText(counter.organisation)
            self.collection_point.setText(counter.collection_point)
            self.counter_code.setText(f"{counter.counter_code} · {counter.receipt_series}")
        settings = state.settings
        self.printer_choice.load(settings)
        self.auto_print.setChecked(settings.auto_print)
        self.idle_minutes.setValue(settings.idle_lock_minutes)
        self.save_status.clear()
        self._load_users()
        self._load_backup()
        self.notify_panel.load()

    def _load_users(self) -> None:
        operator_ops.all_operators(self, self.state).success(self._show_users).run()
        operator_ops.policy(self, self.state).success(self._show_policy).run()

    def _changed(self, changes: OpChanges) -> None:
        if changes.operators and self.isVisible():
            self._load_users()

    def _show_users(self, operators: list[OperatorView]) -> None:
        selected = self.selected_user()
        self.operators = operators
        self.users.setRowCount(len(operators))
        for r, op in enumerate(operators):
            for c, value in enumerate((op.username, op.full_name, op.role.label, op.status_label)):
                self.users.setItem(r, c, QTableWidgetItem(value))
            if selected is not None and op.username == selected.username:
                self.users.selectRow(r)
        self._selection_changed()

    # --- the selected account -------------------------------------------------------------

    def selected_user(self) -> OperatorView | None:
        rows = self.users.selectionModel().selectedRows() if self.users.selectionModel() else []
        if not rows or rows[0].row() >= len(self.operators):
            return None
        return self.operators[rows[0].row()]

    def _selection_changed(self) -> None:
        op = self.selected_user()
        for button in (self.reset_button, self.active_button, self.unlock_button, self.role_button):
            button.setEnabled(op is not None)
        if op is not None:
            self.active_button.setText("Vô hiệu hóa" if op.active else "Kích hoạt lại")
            self.role_choice.setCurrentIndex(self.role_choice.findData(op.role))

    def _user_done(self, text: str) -> Any:
        def done(op: OperatorView) -> None:
            self.user_status.setText(text.format(name=f"{op.full_name} ({op.username})"))
            self.user_status.setObjectName("hint")

        return done

    def _user_failed(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        self.user_status.setText(message_for(exc))
        self.user_status.setObjectName("fieldError")

    def reset_selected(self) -> None:
        op = self.selected_user()
        if op is None:
            return
        password = self.reset_password.text()
        self.reset_password.clear()
        operator_ops.reset(self, self.state, op.username, password).success(
            self._user_done("Đã đặt lại mật khẩu của {name}; phải đổi khi đăng nhập lần tới.")
        ).failure(self._user_failed).run()

    def toggle_selected(self) -> None:
        op = self.selected_user()
        if op is None:
            return
        text = "Đã kích hoạt lại {name}." if not op.active else "Đã vô hiệu hóa {name}."
        operator_ops.set_active(self, self.state, op.username, not op.active).success(
            self._user_done(text)
        ).failure(self._user_failed).run()

    def unlock_selected(self) -> None:
        op = self.selected_user()
        if op is None:
            return
        operator_ops.unlock(self, self.state, op.username).success(
            self._user_done("Đã mở khóa {name}.")
        ).failure(self._user_failed).run()

    def role_selected(self) -> None:
        op = self.selected_user()
        role = enum_data(self.role_choice, Role)
        if op is None or role is None:
            return
        operator_ops.set_role(self, self.state, op.username, role).success(
            self._user_done(f"{{name}}: {role.label}.")
        ).failure(self._user_failed).run()

    # --- printer --------------------------------------------------------------------------

    def chosen_printer(self) -> Any:
        """The QPrinter the form's choice names (None: "ask each time")."""
        return self.printer_choice.chosen_printer()

    def print_test_page(self) -> None:
        """A test page on the printer chosen in the form (`PrinterChoice.print_test_page`)."""
        self.printer_choice.print_test_page()

    # --- saving ---------------------------------------------------------------------------

    def current_settings(self) -> Any:
        from app.services.settings import CounterSettings

        return CounterSettings(
            printer_name=self.printer_choice.printer_name(),
            receipt_format=self.printer_choice.chosen_format(),
            auto_print=self.auto_print.isChecked(),
            idle_lock_minutes=self.idle_minutes.value(),
        )

    def save(self) -> None:
        if self.tabs.currentWidget() is self.notify_panel:
            self.notify_panel.save()  # Ctrl+S saves the tab in front
            return
        state = self.state
        new = self.current_settings()
        organisation = self.organisation.text()
        collection_point = self.collection_point.text()
        self.errors.clear()
        if not organisation.strip():
            self.errors.show(
                ValidationError("organisation", "Tổ chức dịch vụ thu", "không được để trống")
            )
            return
        if not collection_point.strip():
            self.errors.show(ValidationError("collection_point", "Điểm thu", "không được để trống"))
            return

        def done(result: tuple[CounterSettings, CounterView]) -> None:
            saved, counter = result
            state.set_settings(saved)
            state.set_counter(counter)
            self.save_status.setText("Đã lưu cài đặt.")
            self.save_status.setObjectName("hint")

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            if isinstance(exc, ValidationError) and self.errors.show(exc):
                return
            self.save_status.setText(message_for(exc))
            self.save_status.setObjectName("fieldError")
            self.save_status.style().unpolish(self.save_status)
            self.save_status.style().polish(self.save_status)

        self.save_button.setEnabled(False)
        counter_ops.save_settings(
            self, state, new, organisation=organisation, collection_point=collection_point
        ).success(done).failure(failed).finally_(lambda: self.save_button.setEnabled(True)).run()

    def add_user(self) -> None:
        username = self.new_username.text().strip()
        full_name = self.new_full_name.text()
        role = enum_data(self.new_role, Role) or Role.CASHIER
        password = self.new_password.text()
        self.user_errors.clear()

        def done(op: OperatorView) -> None:
            self.user_status.setText(
                f"Đã thêm {op.role.label.lower()} {op.full_name} ({op.username}); "
                "người này phải đổi mật khẩu khi đăng nhập lần đầu."
            )
            for field in (self.new_username, self.new_full_name, self.new_password):
                field.clear()
            self.new_username.setFocus()  # ready for the next account

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            if isinstance(exc, ValidationError) and self.user_errors.show(exc):
                return
            self.user_status.setText(message_for(exc))

        operator_ops.add(
            self, self.state, username=username, full_name=full_name, role=role, password=password
        ).success(done).failure(failed).run()
