"""Settings → Thông báo (administrators only): the SMS gateway, the SMS texts, the mail server.

What the payer is sent and how (docs/NOTIFY.md):

- **SMS gateway**: a shipped example profile can be loaded into the form (resources/notify/),
  then URL, method, auth (none, bearer token, basic user + password), the body template (JSON
  object whose string values may hold placeholders), constants, extra headers, and how success
  is recognised (HTTP codes, a JSON path and its value, the provider's message id, the field
  that carries our client message id).
- **SMS texts**: the payment and the void templates, each with a live preview (a sample
  payment, folded to ASCII as sent) and a counter: the sample's length and the worst case
  (longest facts, a 10-letter name) against 160; saving refuses a template whose worst case
  does not fit one segment, naming the field and the rule.
- **Email**: SMTP server, port, STARTTLS / SSL, user, sender.
- **Secrets**: the gateway token/password and the SMTP password are typed here and go to the
  keyring only (`save_notify_secrets`); the form never shows them, the settings table never holds
  them. An empty secret field keeps the stored one.
- "Gửi thử" sends one SMS / one email with the form as it is (saved or not) on the I/O pool and
  says what the gateway or server answered.

Saving validates everything first (nothing is stored when a field is wrong; the error is shown
under the field), then the secrets, then the settings; both are audited.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import ValidationError
from ui.qt.operations import notify as notify_ops
from ui.qt.widgets import FieldErrors, card, fkey_text, hint

if TYPE_CHECKING:
    from app.notify.delivery import SendResult
    from app.notify.settings import GatewayProfile, NotifySettings
    from ui.qt.state import AppState

AUTH_CHOICES = (
    ("Token (Authorization: Bearer)", "bearer"),
    ("Tên đăng nhập + mật khẩu (Basic)", "basic"),
    ("Không xác thực", "none"),
)
FORMAT_CHOICES = (("JSON", "json"), ("Form (x-www-form-urlencoded)", "form"))
SECURITY_CHOICES = (
    ("STARTTLS (thường cổng 587)", "starttls"),
    ("SSL/TLS ngay từ đầu (thường cổng 465)", "ssl"),
    ("Không mã hóa (chỉ máy chủ thư trên máy này)", "none"),
)
CHOOSE_PROFILE = "— nạp một mẫu có sẵn —"
SECRET_KEPT = "đã lưu trong kho khóa — để trống để giữ nguyên"
SECRET_MISSING = "chưa có — nhập để lưu vào kho khóa"


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold; font-size: 13pt; color: #1f3b57;")
    return label


def _combo(name: str, choices: tuple[tuple[str, str], ...]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for label, value in choices:
        combo.addItem(label, value)
    return combo


def _line(name: str, placeholder: str = "", *, secret: bool = False) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    if placeholder:
        field.setPlaceholderText(placeholder)
    if secret:
        field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def _spin(name: str, low: int, high: int, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    if suffix:
        spin.setSuffix(suffix)
    return spin


def _select(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    combo.setCurrentIndex(max(0, index))


def _json_object(text: str, field: str, label: str, *, strings: bool = False) -> dict[str, Any]:
    """A JSON object typed in a field ({} when empty), or a ValidationError naming the field."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            field,
            label,
            f"không phải JSON hợp lệ (dòng {exc.lineno}, cột {exc.colno}: {exc.msg})",
            rule_en="not JSON",
        ) from exc
    if not isinstance(value, dict):
        raise ValidationError(field, label, "phải là một đối tượng JSON { … }", rule_en="object")
    if strings and any(not isinstance(v, str) for v in value.values()):
        raise ValidationError(
            field, label, 'mọi giá trị phải là chữ (trong dấu " ")', rule_en="strings only"
        )
    return value


def _status_codes(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts or not all(p.isascii() and p.isdigit() and 100 <= int(p) <= 599 for p in parts):
        raise ValidationError(
            "gateway.success_status",
            "Mã HTTP thành công",
            "các mã 100–599 cách nhau bởi dấu phẩy, ví dụ 200, 201",
            rule_en="status codes",
        )
    return tuple(int(p) for p in parts)


def _pretty(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) if value else ""


class TemplateEditor(QWidget):
    """An SMS template with its live preview and its length counter."""

    def __init__(self, field: str, label: str, errors: FieldErrors) -> None:
        super().__init__()
        self.field = field
        self.label = label
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName(field)
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(100)
        column.addWidget(self.editor)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        column.addWidget(error)
        errors.register(field, self.editor, error)
        self.editor.textChanged.connect(error.hide)
        self.counter = QLabel()
        self.counter.setObjectName(f"{field}_counter")
        self.counter.setWordWrap(True)
        column.addWidget(self.counter)
        self.preview = QLabel()
        self.preview.setObjectName(f"{field}_preview")
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview.setFont(QFont("DejaVu Sans Mono", 9))
        self.preview.setStyleSheet(
            "background: #f4f7fa; border: 1px solid #c9d3dd; padding: 4px; color: #222;"
        )
        column.addWidget(self.preview)
        self.fits = True
        self.editor.textChanged.connect(self.update_preview)

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)
        self.update_preview()

    def update_preview(self) -> None:
        from app.notify.sms_text import SEGMENT, check_template, preview_sms, worst_case_length

        template = self.text()
        try:
            sample = preview_sms(template)
            worst = worst_case_length(template)
        except ValidationError as exc:
            self.preview.setText("")
            self._count(f"{self.label}: {exc.rule}", ok=False)
            return
        self.preview.setText(sample.text)
        counts = (
            f"{sample.length}/{SEGMENT} ký tự với người nộp mẫu · "
            f"trường hợp dài nhất {worst}/{SEGMENT}"
        )
        try:
            check_template(template, field=self.field, label=self.label)
        except ValidationError as exc:
            why = f"dài quá {SEGMENT} ký tự" if worst > SEGMENT else exc.rule
            self._count(f"{counts} — KHÔNG lưu được: {why}.", ok=False)
            return
        self._count(f"{counts} — vừa một tin nhắn.", ok=True)

    def _count(self, text: str, *, ok: bool) -> None:
        self.fits = ok
        self.counter.setText(text)
        self.counter.setStyleSheet(
            "color: #1d6b2f;" if ok else "color: #b3261e; font-weight: bold;"
        )


class NotifySettingsPanel(QWidget):
    """The "Thông báo" tab of Settings (see the module docstring)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.errors = FieldErrors()
        self.loaded: NotifySettings | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        inner = QWidget()
        scroll.setWidget(inner)
        row = QHBoxLayout(inner)
        row.setSpacing(12)
        row.addWidget(self._build_gateway_card(), 5)
        row.addWidget(self._build_texts_card(), 4)
        row.addWidget(self._build_email_card(), 4)

    # --- building ---------------------------------------------------------------------------

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(4)
        return form

    def _build_gateway_card(self) -> QWidget:
        box = card()
        column = QVBoxLayout(box)
        column.addWidget(_heading("Tin nhắn SMS — cổng gửi"))
        self.sms_enabled = QCheckBox("Gửi SMS mã xác nhận cho người nộp")
        self.sms_enabled.setObjectName("sms_enabled")
        column.addWidget(self.sms_enabled)
        profile_row = QHBoxLayout()
        self.profile_choice = QComboBox()
        self.profile_choice.setObjectName("profile_choice")
        self.profile_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.profile_choice.setMinimumContentsLength(20)
        self.profile_choice.addItem(CHOOSE_PROFILE, "")
        profile_row.addWidget(self.profile_choice, 1)
        self.profile_button = QPushButton("Nạp mẫu")
        self.profile_button.setObjectName("loadProfile")
        self.profile_button.clicked.connect(self.load_profile)
        profile_row.addWidget(self.profile_button)
        column.addLayout(profile_row)
        basic, advanced = self._build_gateway_form()
        column.addLayout(basic)
        column.addLayout(self._test_row("sms"))
        column.addWidget(QLabel("<b>Cách gọi API và nhận biết gửi thành công</b>"))
        column.addLayout(advanced)
        column.addWidget(
            hint(
                "Chỗ điền: {text} nội dung, {phone} 0912345678, {phone_e164} +84912345678, "
                "{phone_84} 84912345678, {client_message_id}, và các khóa của Hằng số. "
                "Xem docs/NOTIFY.md."
            )
        )
        column.addStretch(1)
        self.auth.currentIndexChanged.connect(self._auth_changed)
        self._auth_changed()
        return box

    def _build_gateway_form(self) -> tuple[QFormLayout, QFormLayout]:
        """The gateway's address and credentials; then how its API is called and answers."""
        form = self._form()
        advanced = self._form()
        e = self.errors
        self.profile_name = _line("gateway_name")
        self.url = _line("gateway_url", "https://… (địa chỉ API gửi tin của nhà cung cấp)")
        self.method = _combo("gateway_method", tuple((m, m) for m in ("POST", "PUT", "GET")))
        self.auth = _combo("gateway_auth", AUTH_CHOICES)
        self.username = _line("gateway_username")
        self.sms_secret = _line("sms_secret", secret=True)
        self.body_format = _combo("gateway_body_format", FORMAT_CHOICES)
        self.body = QPlainTextEdit()
        self.body.setObjectName("gateway_body")
        self.body.setTabChangesFocus(True)
        self.body.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.body.setFixedHeight(110)
        self.body.setFont(QFont("DejaVu Sans Mono", 9))
        self.params = _line("gateway_params", '{"brandname": "DIEMTHU-BHXH"}')
        self.headers = _line("gateway_headers", '{"Accept": "application/json"}')
        self.success_status = QLineEdit("200, 201")
        self.success_status.setObjectName("gateway_success_status")
        self.success_path = _line("gateway_success_path", "ví dụ code")
        self.success_value = _line("gateway_success_value", "ví dụ 00")
        success_row = QHBoxLayout()
        success_row.setContentsMargins(0, 0, 0, 0)
        success_row.addWidget(self.success_path, 1)
        success_row.addWidget(QLabel("="))
        success_row.addWidget(self.success_value, 1)
        success_box = QWidget()
        success_box.setLayout(success_row)
        self.message_id_path = _line("gateway_message_id_path", "ví dụ data.message_id")
        self.client_id_field = _line(
            "gateway_client_id_field", "để trống nếu cổng không chống gửi trùng"
        )
        self.timeout = _spin("gateway_timeout", 1, 120, " giây")
        e.add_row(form, "Tên cấu hình:", self.profile_name, "gateway.name")
        e.add_row(form, "Địa chỉ API:", self.url, ["gateway.url", "gateway"])
        e.add_row(form, "Phương thức:", self.method, "gateway.method")
        e.add_row(form, "Xác thực:", self.auth, "gateway.auth")
        e.add_row(form, "Tên đăng nhập:", self.username, "gateway.username")
        e.add_row(form, "Token / mật khẩu:", self.sms_secret, "sms_secret")
        a = advanced
        e.add_row(a, "Dạng nội dung:", self.body_format, "gateway.body_format")
        e.add_row(a, "Mẫu nội dung (JSON):", self.body, "gateway.body")
        e.add_row(a, "Hằng số (JSON):", self.params, "gateway.params")
        e.add_row(a, "Header thêm (JSON):", self.headers, "gateway.headers")
        e.add_row(a, "Thành công khi HTTP:", self.success_status, "gateway.success_status")
        e.add_row(a, "…và trường JSON:", success_box, "gateway.success_json_path")
        e.add_row(a, "Mã tin của nhà mạng ở:", self.message_id_path, "gateway.message_id_path")
        e.add_row(a, "Trường chống gửi trùng:", self.client_id_field, "client_message_id_field")
        e.add_row(a, "Chờ trả lời tối đa:", self.timeout, "gateway.timeout_seconds")
        return form, advanced

    def _test_row(self, channel: str) -> QVBoxLayout:
        column = QVBoxLayout()
        row = QHBoxLayout()
        address = QLineEdit()
        button = QPushButton("Gửi thử SMS" if channel == "sms" else "Gửi thử email")
        status = QLabel()
        status.setWordWrap(True)
        status.setObjectName(f"test_{channel}_status")
        if channel == "sms":
            address.setObjectName("test_phone")
            address.setPlaceholderText("số di động nhận tin thử")
            self.test_phone, self.test_sms_button, self.test_sms_status = address, button, status
            button.clicked.connect(self.send_test_sms)
        else:
            address.setObjectName("test_email")
            address.setPlaceholderText("email nhận thư thử")
            self.test_email, self.test_email_button, self.test_email_status = (
                address,
                button,
                status,
            )
            button.clicked.connect(self.send_test_email)
        button.setObjectName(f"test_{channel}")
        address.returnPressed.connect(button.click)
        row.addWidget(address, 1)
        row.addWidget(button)
        column.addLayout(row)
        column.addWidget(status)
        return column

    def _build_texts_card(self) -> QWidget:
        from app.notify.sms_text import PLACEHOLDERS

        box = card()
        column = QVBoxLayout(box)
        column.addWidget(_heading("Nội dung tin nhắn"))
        column.addWidget(QLabel("Tin báo nộp tiền:"))
        self.sms_template = TemplateEditor("sms_template", "Mẫu tin nhắn", self.errors)
        column.addWidget(self.sms_template)
        column.addWidget(QLabel("Tin báo hủy khoản thu:"))
        self.void_template = TemplateEditor("void_sms_template", "Mẫu tin báo hủy", self.errors)
        column.addWidget(self.void_template)
        column.addWidget(
            hint(
                "Một tin nhắn tối đa 160 ký tự, không dấu (chương trình tự bỏ dấu). Tên dài được "
                "rút gọn tự động. Chỗ điền: "
                + ", ".join(f"{{{k}}} {v}" for k, v in PLACEHOLDERS.items())
                + "."
            )
        )
        column.addStretch(1)
        return box

    def _build_email_card(self) -> QWidget:
        box = card()
        column = QVBoxLayout(box)
        column.addWidget(_heading("Email"))
        self.email_enabled = QCheckBox("Gửi email kèm biên lai PDF cho người nộp")
        self.email_enabled.setObjectName("email_enabled")
        column.addWidget(self.email_enabled)
        form = self._form()
        e = self.errors
        self.smtp_host = _line("smtp_host", "ví dụ smtp.gmail.com")
        self.smtp_port = _spin("smtp_port", 1, 65535)
        self.smtp_security = _combo("smtp_security", SECURITY_CHOICES)
        self.smtp_username = _line("smtp_username")
        self.smtp_password = _line("smtp_password", secret=True)
        self.sender_email = _line("sender_email")
        self.sender_name = _line("sender_name")
        e.add_row(form, "Máy chủ SMTP:", self.smtp_host, "smtp_host")
        e.add_row(form, "Cổng:", self.smtp_port, "smtp_port")
        e.add_row(form, "Bảo mật:", self.smtp_security, "smtp_security")
        e.add_row(form, "Tên đăng nhập:", self.smtp_username, "smtp_username")
        e.add_row(form, "Mật khẩu:", self.smtp_password, "smtp_password")
        e.add_row(form, "Email gửi đi:", self.sender_email, "sender_email")
        e.add_row(form, "Tên người gửi:", self.sender_name, "sender_name")
        column.addLayout(form)
        column.addLayout(self._test_row("email"))
        column.addWidget(_heading("Gửi lại khi lỗi"))
        retry = self._form()
        self.max_per_day = _spin("max_attempts_per_day", 1, 100, " lần/ngày")
        self.max_attempts = _spin("max_attempts", 1, 1000, " lần")
        e.add_row(retry, "Thử tối đa mỗi tin:", self.max_per_day, "max_attempts_per_day")
        e.add_row(retry, "Tổng số lần thử:", self.max_attempts, "max_attempts")
        column.addLayout(retry)
        column.addStretch(1)
        self.save_status = QLabel()
        self.save_status.setObjectName("notifySaveStatus")
        self.save_status.setWordWrap(True)
        column.addWidget(self.save_status)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        self.save_button = QPushButton(fkey_text("Lưu cài đặt thông báo", "Ctrl+S"))
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        save_row.addWidget(self.save_button)
        column.addLayout(save_row)
        return box

    def _auth_changed(self, *_args: Any) -> None:
        auth = self.auth.currentData()
        self.username.setEnabled(auth == "basic")
        self.sms_secret.setEnabled(auth != "none")

    # --- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        from app.notify.settings import shipped_profile, shipped_profile_names

        self.errors.clear()
        self.save_status.clear()
        if self.profile_choice.count() == 1:
            for name in shipped_profile_names():
                self.profile_choice.addItem(shipped_profile(name).name, name)
        notify_ops.load_settings(self, self.state).success(self.show_settings).run()
        self._load_secrets()

    def _load_secrets(self) -> None:
        def show(present: notify_ops.SecretsPresent) -> None:
            self.sms_secret.setPlaceholderText(SECRET_KEPT if present.sms else SECRET_MISSING)
            self.smtp_password.setPlaceholderText(SECRET_KEPT if present.smtp else SECRET_MISSING)

        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            self.save_status.setText(message_for(exc))

        notify_ops.secrets_present(self).success(show).failure(failed).run()

    def show_settings(self, s: NotifySettings) -> None:
        self.loaded = s
        self.sms_enabled.setChecked(s.sms_enabled)
        self.email_enabled.setChecked(s.email_enabled)
        self.show_profile(s.gateway)
        self.sms_template.set_text(s.sms_template)
        self.void_template.set_text(s.void_sms_template)
        self.smtp_host.setText(s.smtp_host)
        self.smtp_port.setValue(s.smtp_port)
        _select(self.smtp_security, s.smtp_security)
        self.smtp_username.setText(s.smtp_username)
        self.sender_email.setText(s.sender_email)
        self.sender_name.setText(s.sender_name)
        self.max_per_day.setValue(s.max_attempts_per_day)
        self.max_attempts.setValue(s.max_attempts)

    def show_profile(self, p: GatewayProfile | None) -> None:
        if p is None:
            for field in (self.profile_name, self.url, self.username, self.params, self.headers):
                field.clear()
            self.body.clear()
            self.timeout.setValue(10)
            return
        self.profile_name.setText(p.name)
        self.url.setText(p.url)
        _select(self.method, p.method)
        _select(self.auth, p.auth)
        self.username.setText(p.username)
        _select(self.body_format, p.body_format)
        self.body.setPlainText(_pretty(p.body))
        self.params.setText(json.dumps(p.params, ensure_ascii=False) if p.params else "")
        self.headers.setText(json.dumps(p.headers, ensure_ascii=False) if p.headers else "")
        self.success_status.setText(", ".join(str(c) for c in p.success_status))
        self.success_path.setText(p.success_json_path or "")
        self.success_value.setText(p.success_value or "")
        self.message_id_path.setText(p.message_id_path or "")
        self.client_id_field.setText(p.client_message_id_field or "")
        self.timeout.setValue(round(p.timeout_seconds))

    def load_profile(self) -> None:
        """Fill the gateway fields from the chosen shipped example (not saved yet)."""
        from app.notify.settings import shipped_profile

        name = self.profile_choice.currentData()
        if not name:
            return
        self.show_profile(shipped_profile(name))
        self.save_status.setText(
            "Đã nạp mẫu vào ô — sửa địa chỉ, hằng số, cách nhận biết thành công theo hợp đồng "
            "của nhà cung cấp, rồi bấm Lưu."
        )
        self.url.setFocus()

    # --- the form as values -----------------------------------------------------------------

    def form_profile(self) -> GatewayProfile | None:
        """The gateway the form describes (None when no URL), validated (ValidationError)."""
        from app.notify.settings import parse_profile

        url = self.url.text().strip()
        if not url:
            return None
        data: dict[str, Any] = {
            "name": self.profile_name.text().strip() or "Cổng SMS",
            "url": url,
            "method": self.method.currentData(),
            "auth": self.auth.currentData(),
            "username": self.username.text().strip(),
            "headers": _json_object(
                self.headers.text(), "gateway.headers", "Header thêm", strings=True
            ),
            "body_format": self.body_format.currentData(),
            "body": _json_object(self.body.toPlainText(), "gateway.body", "Mẫu nội dung"),
            "params": _json_object(self.params.text(), "gateway.params", "Hằng số", strings=True),
            "success_status": list(_status_codes(self.success_status.text())),
            "success_json_path": self.success_path.text().strip() or None,
            "success_value": self.success_value.text().strip() or None,
            "message_id_path": self.message_id_path.text().strip() or None,
            "client_message_id_field": self.client_id_field.text().strip() or None,
            "timeout_seconds": float(self.timeout.value()),
        }
        return parse_profile(data)

    def form_settings(self) -> NotifySettings:
        from app.notify.settings import DEFAULTS, NotifySettings

        base = self.loaded or DEFAULTS
        return NotifySettings(
            sms_enabled=self.sms_enabled.isChecked(),
            email_enabled=self.email_enabled.isChecked(),
            sms_template=self.sms_template.text(),
            void_sms_template=self.void_template.text(),
            gateway=self.form_profile(),
            smtp_host=self.smtp_host.text().strip(),
            smtp_port=self.smtp_port.value(),
            smtp_security=self.smtp_security.currentData() or base.smtp_security,
            smtp_username=self.smtp_username.text().strip(),
            sender_email=self.sender_email.text().strip(),
            sender_name=self.sender_name.text(),
            max_attempts_per_day=self.max_per_day.value(),
            max_attempts=self.max_attempts.value(),
        )

    # --- saving -----------------------------------------------------------------------------

    def _status(self, label: QLabel, text: str, ok: bool) -> None:
        label.setText(text)
        label.setStyleSheet("color: #1d6b2f;" if ok else "color: #b3261e;")

    def _failed(self, label: QLabel) -> Any:
        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            if isinstance(exc, ValidationError) and self.errors.show(exc):
                self._status(label, exc.message, ok=False)
                return
            self._status(label, message_for(exc), ok=False)

        return failed

    def save(self) -> None:
        self.errors.clear()
        try:
            new = self.form_settings()
        except ValidationError as exc:
            self._failed(self.save_status)(exc)
            return
        sms_secret = self.sms_secret.text()
        smtp_password = self.smtp_password.text()

        def done(saved: NotifySettings) -> None:
            self.sms_secret.clear()
            self.smtp_password.clear()
            self.show_settings(saved)
            self._load_secrets()
            self._status(self.save_status, "Đã lưu cài đặt thông báo.", ok=True)

        self.save_button.setEnabled(False)
        notify_ops.save(
            self, self.state, new, sms_secret=sms_secret, smtp_password=smtp_password
        ).success(done).failure(self._failed(self.save_status)).finally_(
            lambda: self.save_button.setEnabled(True)
        ).run()

    # --- test sends -------------------------------------------------------------------------

    def _report(self, label: QLabel, button: QPushButton, where: str) -> Any:
        def done(result: SendResult) -> None:
            from app.notify.delivery import Outcome

            button.setEnabled(True)
            if result.outcome is Outcome.SENT:
                ident = (
                    f" (mã tin: {result.provider_message_id})" if result.provider_message_id else ""
                )
                self._status(label, f"Đã gửi thử tới {where}{ident}.", ok=True)
            else:
                self._status(label, f"Gửi thử không được: {result.error}", ok=False)

        return done

    def send_test_sms(self) -> None:
        from app.notify.address import normalise_mobile
        from app.notify.sms_text import preview_sms

        self.errors.clear()
        label, button = self.test_sms_status, self.test_sms_button
        try:
            phone = normalise_mobile(
                self.test_phone.text(), field="test_phone", label="Số nhận tin thử"
            )
            profile = self.form_profile()
            if profile is None:
                raise ValidationError("gateway.url", "Địa chỉ API", "chưa nhập", rule_en="empty")
            text = preview_sms(self.sms_template.text()).text
        except ValidationError as exc:
            self._status(label, exc.message, ok=False)
            self.errors.show(exc)
            return
        button.setEnabled(False)
        self._status(label, f"Đang gửi thử tới {phone}…", ok=True)
        notify_ops.test_sms(self, self.state, profile, self.sms_secret.text(), phone, text).success(
            self._report(label, button, phone)
        ).failure(self._test_failed(label, button)).run()

    def send_test_email(self) -> None:
        from dataclasses import replace

        from app.notify.address import normalise_email
        from app.notify.settings import DEFAULTS, validate_notify_settings

        self.errors.clear()
        label, button = self.test_email_status, self.test_email_button
        try:
            to = normalise_email(self.test_email.text(), field="test_email", label="Email thử")
            base = self.loaded or DEFAULTS
            settings = validate_notify_settings(
                replace(
                    base,
                    sms_enabled=False,
                    email_enabled=True,
                    smtp_host=self.smtp_host.text().strip(),
                    smtp_port=self.smtp_port.value(),
                    smtp_security=self.smtp_security.currentData() or base.smtp_security,
                    smtp_username=self.smtp_username.text().strip(),
                    sender_email=self.sender_email.text().strip(),
                    sender_name=self.sender_name.text(),
                )
            )
        except ValidationError as exc:
            self._status(label, exc.message, ok=False)
            self.errors.show(exc)
            return
        button.setEnabled(False)
        self._status(label, f"Đang gửi thử tới {to}…", ok=True)
        notify_ops.test_email(self, self.state, settings, self.smtp_password.text(), to).success(
            self._report(label, button, to)
        ).failure(self._test_failed(label, button)).run()

    def _test_failed(self, label: QLabel, button: QPushButton) -> Any:
        def failed(exc: BaseException) -> None:
            from ui.qt.errors import message_for

            button.setEnabled(True)
            self._status(label, message_for(exc), ok=False)

        return failed
