"""Registering a participant (first time, no mã số BHXH yet) or correcting one's details.

Fields follow the TK1-TS declaration data in DOMAIN.md: name, date of birth, sex, CCCD, address,
phone, plus the chosen income, payment method and support category that prefill the payment.
The CCCD is checked against date of birth and sex as soon as the cashier leaves any of the
three fields (pure check, no database), and again by the service on save; either way the
message appears under the field it names and the cursor goes there.

A new participant can be put in a BHYT household on the same form (docs/RULES.md R5): none, a
new household with them as head, or the household of a member given by mã số BHXH / CCCD (that
household is looked up before anything is saved, so a wrong code saves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.dates import parse_day
from app.domain.identifiers import validate_cccd
from app.domain.types import PaymentMethod, Sex, SupportCategory
from app.errors import ValidationError
from ui.qt.operations import participants
from ui.qt.widgets import (
    EnterNavigator,
    FieldErrors,
    MoneySpinBox,
    enum_data,
    fkey_text,
    hint,
    page_title,
)

if TYPE_CHECKING:
    from app.domain.identifiers import CccdQr
    from app.services.participants import ParticipantView
    from ui.qt.state import AppState


@dataclass(frozen=True)
class PaymentChoices:
    """What the participant chose on the declaration, to prefill the payment form."""

    income: int
    method: PaymentMethod
    support_category: SupportCategory


def parse_date_text(text: str, field: str = "date_of_birth", label: str = "Ngày sinh") -> date:
    """`14/03/1985`, `4-3-1985`, `14.03.1985`, `14031985` or `1985-03-14` → date."""
    return parse_day(text, field=field, label=label)


class RegistrationDialog(QDialog):
    """Create (no `existing`) or edit a participant. Emits `saved(view, choices)`."""

    saved = Signal(object, object)  # ParticipantView, PaymentChoices

    def __init__(
        self,
        state: AppState,
        parent: QWidget | None = None,
        *,
        existing: ParticipantView | None = None,
        income_bounds: tuple[int, int, int] = (1_500_000, 46_800_000, 50_000),
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.existing = existing
        self.busy = False
        self.errors = FieldErrors()
        self.setWindowTitle(
            "Sửa thông tin người tham gia" if existing else "Đăng ký người tham gia"
        )
        self.setModal(True)
        self.resize(1040, 560)

        layout = QVBoxLayout(self)
        layout.addWidget(
            page_title(
                "Sửa thông tin người tham gia" if existing else "Đăng ký lần đầu (tờ khai TK1-TS)"
            )
        )
        layout.addWidget(
            hint(
                "Người tham gia chưa có mã số BHXH: nhập số CCCD, ngày sinh và giới tính; mã số "
                "BHXH sẽ được cập nhật sau khi hệ thống trung tâm cấp."
                if not existing
                else "Mã số BHXH đã cấp thì không sửa tại quầy."
            )
        )
        self._make_fields(income_bounds)
        layout.addLayout(self._build_columns())
        self._build_footer(layout)
        self._wire_keys()
        if existing is not None:
            self._fill_existing(existing)
        self.full_name.setFocus()

    def _make_fields(self, income_bounds: tuple[int, int, int]) -> None:
        self.full_name = QLineEdit()
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("ngày/tháng/năm, ví dụ 14/03/1985")
        self.sex = QComboBox()
        self.sex.addItem("— chọn —", None)
        self.sex.addItem(Sex.MALE.label, Sex.MALE)
        self.sex.addItem(Sex.FEMALE.label, Sex.FEMALE)
        self.cccd = QLineEdit()
        self.cccd.setPlaceholderText("12 chữ số")
        self.cccd.setMaxLength(14)
        self.ma_so_bhxh = QLineEdit()
        self.ma_so_bhxh.setPlaceholderText("để trống nếu chưa có")
        self.ma_so_bhxh.setMaxLength(12)
        self.address = QLineEdit()
        self.phone = QLineEdit()
        self.phone.setPlaceholderText("ví dụ 0912345678")
        self.email = QLineEdit()
        self.email.setPlaceholderText("không bắt buộc")
        self.support_category = QComboBox()
        for category in SupportCategory:
            self.support_category.addItem(category.label, category)
        self.support_category.setCurrentIndex(self.support_category.findData(SupportCategory.OTHER))
        self.income = MoneySpinBox()
        low, high, step = income_bounds
        self.income.set_rule(low, high, step)
        self.income.setValue(low)
        self.method = QComboBox()
        for method in PaymentMethod:
            self.method.addItem(method.label, method)
        self.method.setCurrentIndex(self.method.findData(PaymentMethod.YEARLY))
        self.household_mode = QComboBox()
        self.household_mode.addItem("Chưa vào hộ gia đình nào", "none")
        self.household_mode.addItem("Lập hộ mới — người này là chủ hộ", "new")
        self.household_mode.addItem("Vào hộ của người có mã số BHXH / CCCD …", "join")
        self.household_ref = QLineEdit()
        self.household_ref.setPlaceholderText("mã số BHXH hoặc CCCD của một thành viên trong hộ")
        self.household_relation = QLineEdit()
        self.household_relation.setPlaceholderText("quan hệ với chủ hộ: Vợ, Con, …")
        self.household_mode.currentIndexChanged.connect(self._household_mode_changed)
        for name in (
            "full_name",
            "date_of_birth",
            "sex",
            "cccd",
            "ma_so_bhxh",
            "address",
            "phone",
            "email",
            "support_category",
            "income",
            "method",
            "household_mode",
            "household_ref",
            "household_relation",
        ):
            getattr(self, name).setObjectName(name)
        self._household_mode_changed()

    def _build_columns(self) -> QHBoxLayout:
        columns = QHBoxLayout()
        left = QFormLayout()
        right = QFormLayout()
        for form in (left, right):
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.errors.add_row(left, "Họ và tên:", self.full_name, "full_name")
        self.errors.add_row(left, "Ngày sinh:", self.date_of_birth, "date_of_birth")
        self.errors.add_row(left, "Giới tính:", self.sex, "sex")
        self.errors.add_row(left, "Số CCCD:", self.cccd, "cccd")
        self.errors.add_row(left, "Mã số BHXH:", self.ma_so_bhxh, "ma_so_bhxh")
        self.errors.add_row(left, "Địa chỉ:", self.address, "address")
        self.errors.add_row(right, "Số điện thoại:", self.phone, "phone")
        self.errors.add_row(right, "Email:", self.email, "email")
        self.errors.add_row(right, "Đối tượng hỗ trợ:", self.support_category, "support_category")
        self.errors.add_row(right, "Mức thu nhập lựa chọn:", self.income, "income")
        self.errors.add_row(right, "Phương thức đóng:", self.method, "method")
        if self.existing is None:
            self.errors.add_row(right, "Hộ gia đình (BHYT):", self.household_mode, "household")
            self.errors.add_row(right, "Thành viên trong hộ:", self.household_ref, "household_ref")
            self.errors.add_row(
                right, "Quan hệ với chủ hộ:", self.household_relation, "household_relation"
            )
        columns.addLayout(left, 1)
        columns.addSpacing(24)
        columns.addLayout(right, 1)
        return columns

    def _build_footer(self, layout: QVBoxLayout) -> None:
        self.general_error = QLabel()
        self.general_error.setObjectName("fieldError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)
        layout.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(fkey_text("Hủy", "Esc"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        self.save_button = QPushButton(
            fkey_text("Lưu" if self.existing else "Lưu và thu tiền", "Ctrl+Enter")
        )
        self.save_button.setObjectName("primary")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

    def _wire_keys(self) -> None:
        self._chain: list[QWidget] = [
            self.full_name,
            self.date_of_birth,
            self.sex,
            self.cccd,
            self.ma_so_bhxh,
            self.address,
            self.phone,
            self.email,
            self.support_category,
            self.income,
            self.method,
        ]
        if self.existing is None:
            self._chain += [self.household_mode, self.household_ref, self.household_relation]
        for first, second in zip(self._chain, self._chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
        QWidget.setTabOrder(self._chain[-1], self.save_button)
        navigator = EnterNavigator(self, lambda: self._chain, self.save)
        navigator.watch(self._chain)
        from PySide6.QtGui import QKeySequence, QShortcut

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.save)

        for widget in (self.cccd, self.date_of_birth):
            widget.editingFinished.connect(self._live_cccd_check)
        self.sex.currentIndexChanged.connect(self._live_cccd_check)

    # --- filling --------------------------------------------------------------------------

    def _fill_existing(self, p: ParticipantView) -> None:
        self.full_name.setText(p.full_name)
        if p.date_of_birth:
            self.date_of_birth.setText(p.date_of_birth.strftime("%d/%m/%Y"))
        if p.sex:
            self.sex.setCurrentIndex(self.sex.findData(p.sex))
        self.cccd.setText(p.cccd or "")
        self.ma_so_bhxh.setText(p.ma_so_bhxh or "")
        self.ma_so_bhxh.setReadOnly(bool(p.ma_so_bhxh))
        self.address.setText(p.address)
        self.phone.setText(p.phone)
        self.email.setText(p.email)
        if p.support_category:
            self.support_category.setCurrentIndex(
                self.support_category.findData(p.support_category)
            )

    def fill_from_qr(self, qr: CccdQr) -> None:
        """Prefill from a chip-card QR scan; the cashier completes phone, choices, address."""
        self.full_name.setText(qr.full_name)
        self.date_of_birth.setText(qr.date_of_birth.strftime("%d/%m/%Y"))
        self.sex.setCurrentIndex(self.sex.findData(qr.sex))
        self.cccd.setText(qr.cccd)
        self.address.setText(qr.address)
        self.phone.setFocus()

    # --- checking and saving --------------------------------------------------------------

    def _dob_or_none(self) -> date | None:
        try:
            return parse_date_text(self.date_of_birth.text()) if self.date_of_birth.text() else None
        except ValidationError:
            return None

    def _live_cccd_check(self) -> None:
        text = self.cccd.text().strip()
        label = self.errors.error_label("cccd")
        if not text or label is None:
            return
        try:
            validate_cccd(text, date_of_birth=self._dob_or_none(), sex=enum_data(self.sex, Sex))
        except ValidationError as exc:
            label.setText(exc.message)
            label.show()
            return
        label.hide()

    def _input(self) -> Any:
        from app.services.participants import ParticipantInput

        dob_text = self.date_of_birth.text().strip()
        return ParticipantInput(
            full_name=self.full_name.text(),
            date_of_birth=parse_date_text(dob_text) if dob_text else None,
            sex=enum_data(self.sex, Sex),
            cccd=self.cccd.text().strip() or None,
            ma_so_bhxh=self.ma_so_bhxh.text().strip() or None,
            address=self.address.text(),
            phone=self.phone.text(),
            email=self.email.text(),
            support_category=enum_data(self.support_category, SupportCategory),
        )

    def _household_mode_changed(self, *_args: Any) -> None:
        joining = self.household_mode.currentData() == "join"
        self.household_ref.setEnabled(joining)
        self.household_relation.setEnabled(joining)

    def household_plan(self) -> Any:
        from ui.qt.operations.households import HouseholdPlan

        kind = str(self.household_mode.currentData() or "none")
        if kind == "join" and not self.household_ref.text().strip():
            raise ValidationError(
                "household_ref",
                "Thành viên trong hộ",
                "nhập mã số BHXH hoặc CCCD của một người đã ở trong hộ",
                rule_en="required to join a household",
            )
        ref, relation = self.household_ref.text().strip(), self.household_relation.text()
        return HouseholdPlan(kind, ref, relation)

    def choices(self) -> PaymentChoices:
        return PaymentChoices(
            income=self.income.value(),
            method=enum_data(self.method, PaymentMethod) or PaymentMethod.YEARLY,
            support_category=enum_data(self.support_category, SupportCategory)
            or SupportCategory.OTHER,
        )

    def save(self) -> None:
        if self.busy:
            return
        self.errors.clear()
        self.general_error.hide()
        try:
            data = self._input()
            plan = self.household_plan() if self.existing is None else None
            income_problem = self.income.rule_error()
            if income_problem is not None and self.existing is None:
                raise ValidationError("income", "Mức thu nhập lựa chọn", income_problem)
        except ValidationError as exc:
            self._show_error(exc)
            return
        existing_id = self.existing.id if self.existing is not None else None
        choices = self.choices()
        self.busy = True
        self.save_button.setEnabled(False)

        def done(view: ParticipantView) -> None:
            self.busy = False
            self.saved.emit(view, choices)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.save_button.setEnabled(True)
            self._show_error(exc)

        if plan is not None and plan.kind != "none":
            from ui.qt.operations import households

            households.register(self, self.state, data, plan).success(done).failure(failed).run()
            return
        participants.save(self, self.state, data, existing_id=existing_id).success(done).failure(
            failed
        ).run()

    def _show_error(self, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        if isinstance(exc, ValidationError):
            if exc.field == "date_of_birth" and not self.date_of_birth.text().strip():
                # "Ngày sinh và giới tính bắt buộc": point at whichever is missing.
                target = "date_of_birth"
            elif exc.field == "date_of_birth" and enum_data(self.sex, Sex) is None:
                target = "sex"
            else:
                target = exc.field
            shown = ValidationError(target, exc.label, exc.rule)
            if self.errors.show(shown):
                return
        self.general_error.setText(message_for(exc))
        self.general_error.show()

    def reject(self) -> None:
        if not self.busy:
            super().reject()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.general_error.setText(text)
        self.general_error.show()
