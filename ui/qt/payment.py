"""Payment entry, keyboard first: find the payer, choose what they pay, see the quote, take cash.

Keys (shown on the buttons): F2 search box, F3 register a new participant, Ctrl+I the selected
participant's history ("am I paid up?", ui/qt/history.py), Ctrl+H their household (members,
cards, several members paid at once: ui/qt/household.py), F5 new payment, F9 take the payment
(opens the confirm step), Esc cancel the payment being entered, Enter moves to the next field
and, on the last one, takes the payment.

BHYT hộ gia đình: for a member of a household the member order comes from the household and
the fiscal year (shown, not typed: the field is read-only and shows the quote's order); only
for someone in no household yet can it be typed, as an audited override.

The search box takes a mã số BHXH, a CCCD, a name typed without diacritics, or a chip-card QR
line from a scanner (which types the line and Enter). A QR scan of someone not yet registered
opens the registration form filled from the card.

The quote (`preview_payment`) is recomputed on the database thread 150 ms after the last change;
an answer for an older form state is dropped, and F9 waits for the current one.

After recording, the Mã xác nhận is shown large next to the receipt preview; the receipt is
printed at once when a printer is configured and "print after payment" is on, else Ctrl+P.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import format_local
from app.domain.identifiers import looks_like_cccd_qr, parse_cccd_qr
from app.domain.money import amount_in_words, format_vnd
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import ValidationError
from ui.qt.operations import participants, payments
from ui.qt.receipt_view import ReceiptActions, ReceiptPreview
from ui.qt.widgets import (
    EnterNavigator,
    KeyButton,
    MoneySpinBox,
    card,
    enum_data,
    fkey_text,
    hint,
)

if TYPE_CHECKING:
    from app.domain.quote import Quote
    from app.domain.rates import RateTable
    from app.services.participants import ParticipantView, SearchResult
    from app.services.payments import PaymentRequest, PaymentView
    from ui.qt.confirm import ConfirmDialog
    from ui.qt.history import HistoryDialog
    from ui.qt.household import HouseholdDialog
    from ui.qt.operations.households import HouseholdState
    from ui.qt.registration import PaymentChoices, RegistrationDialog
    from ui.qt.state import AppState

QUOTE_DELAY_MS = 150
DONE_BUILD_DELAY_MS = 100  # after the payment screen is first shown
DONE_WIDGETS = frozenset(
    {
        "done_title",
        "code_label",
        "done_amount",
        "done_change",
        "done_details",
        "print_status",
        "preview",
        "receipt",
        "print_button",
        "save_button",
        "next_button",
    }
)
RATE_TERM = "Bảng mức đóng"  # = printing.receipt.RATE_TERM (a test keeps them equal)
SEARCH_DELAY_MS = 250


def participant_line(p: ParticipantView) -> str:
    """Two lines for the results list, enough to tell namesakes apart: the name and date of
    birth in full, then the mã số BHXH (or the CCCD) and the address."""
    born = f"  —  sinh {p.date_of_birth:%d/%m/%Y}" if p.date_of_birth else "  —  chưa có ngày sinh"
    if p.ma_so_bhxh:
        ident = f"BHXH {p.ma_so_bhxh}"
    elif p.cccd:
        ident = f"CCCD {p.cccd}"
    else:
        ident = "chưa có mã số BHXH"
    address = f" · {p.address}" if p.address else ""
    return f"{p.full_name}{born}\n    {ident}{address}"


class _SearchKeys(QObject):
    """Down arrow in the search box moves into the results; Enter there picks one."""

    def __init__(self, page: PaymentPage) -> None:
        super().__init__(page)
        self.page = page

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        page = self.page
        if obj is page.search and event.key() == Qt.Key.Key_Down and page.results.count():
            page.results.setFocus()
            if page.results.currentRow() < 0:
                page.results.setCurrentRow(0)
            return True
        if obj is page.results and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            page.pick_current_result()
            return True
        if obj is page.results and event.key() == Qt.Key.Key_Up and page.results.currentRow() == 0:
            page.search.setFocus()
            return True
        return False


class PaymentPage(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.participant: ParticipantView | None = None
        self.table: RateTable | None = None
        self.quote: Quote | None = None
        self.last_payment: PaymentView | None = None
        self.confirm_dialog: ConfirmDialog | None = None
        self.registration_dialog: RegistrationDialog | None = None
        self.history_dialog: HistoryDialog | None = None
        self.household_dialog: HouseholdDialog | None = None
        self.in_household = False  # the selected participant's member order is computed
        self._quote_seq = 0
        self._quoted_seq = -1
        self._confirm_when_quoted = False
        self._search_seq = 0
        self._loading_table = False
        # Asked before F9 (the window's shift controller): False when the operator holds no
        # open shift; it offers to open one (docs/SHIFTS.md).
        self.before_payment: Callable[[], bool] | None = None

        self.pages = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.addWidget(self.pages)
        self.entry = QWidget()
        self.done = QWidget()
        self.pages.addWidget(self.entry)
        self.pages.addWidget(self.done)
        self._build_entry()
        self._done_built = False  # the done screen is filled in later (`ensure_done`)

        self._quote_timer = QTimer(self)
        self._quote_timer.setSingleShot(True)
        self._quote_timer.setInterval(QUOTE_DELAY_MS)
        self._quote_timer.timeout.connect(self.refresh_quote)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.run_search(pick=False))

        def key(keys: str, slot: Any) -> None:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda: None if self.dialog_open() else slot())

        key("F2", self.focus_search)
        key("F3", self.open_registration)
        key("Ctrl+I", self.open_history)  # F4 is the shift (ui/qt/shift.py)
        key("Ctrl+H", self.open_household)
        key("F9", self.take_payment)
        key("Escape", self.cancel)
        key("Ctrl+P", self._print_again)
        key("Ctrl+S", lambda: self.receipt.save() if self._done_built else None)

        self._set_participant(None)
        self._update_scheme()

    # --- layout ---------------------------------------------------------------------------

    def _build_entry(self) -> None:
        grid = QGridLayout(self.entry)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.addWidget(self._build_who(), 0, 0)
        grid.addWidget(self._build_what(), 0, 1)
        grid.addWidget(self._build_amount(), 0, 2)
        # The payer's column is the widest: a search result's second line (mã số, address)
        # is what tells namesakes apart.
        grid.setColumnStretch(0, 12)
        grid.setColumnStretch(1, 8)
        grid.setColumnStretch(2, 10)
        self._wire_entry()

    def _build_who(self) -> QWidget:
        """Left: who pays."""
        who = card()
        who_col = QVBoxLayout(who)
        who_col.addWidget(self._heading("1. Người nộp"))
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Mã số BHXH, CCCD, họ tên hoặc quét QR  [F2]")
        self.search.setClearButtonEnabled(True)
        who_col.addWidget(self.search)
        self.search_hint = hint(
            "Gõ họ tên không dấu cũng tìm được: nguyen thi hang → Nguyễn Thị Hằng."
        )
        who_col.addWidget(self.search_hint)
        self.results = QListWidget()
        self.results.setObjectName("results")
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.results.setUniformItemSizes(True)
        self.results.hide()  # shown with results; then it takes the person's room
        who_col.addWidget(self.results, 1)
        self.person = QLabel()
        self.person.setObjectName("person")
        self.person.setWordWrap(True)
        self.person.setTextFormat(Qt.TextFormat.RichText)
        self.person.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        who_col.addWidget(self.person, 1)
        # Two rows of two: four captions with their keys do not fit one row of the left
        # panel at 1366 px, and a clipped caption hides the key.
        who_buttons = QGridLayout()
        self.register_button = KeyButton("Đăng ký mới", "F3")
        self.register_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.register_button.clicked.connect(self.open_registration)
        who_buttons.addWidget(self.register_button, 0, 0)
        self.edit_button = QPushButton("Sửa thông tin")
        self.edit_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.edit_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.edit_button.clicked.connect(self.open_edit)
        who_buttons.addWidget(self.edit_button, 0, 1)
        self.history_button = KeyButton("Lịch sử đóng", "Ctrl+I")
        self.history_button.setObjectName("historyButton")
        self.history_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.history_button.clicked.connect(self.open_history)
        who_buttons.addWidget(self.history_button, 1, 0)
        self.household_button = KeyButton("Hộ gia đình", "Ctrl+H")
        self.household_button.setObjectName("householdButton")
        self.household_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.household_button.clicked.connect(self.open_household)
        who_buttons.addWidget(self.household_button, 1, 1)
        who_col.addLayout(who_buttons)
        return who

    def _build_what(self) -> QWidget:
        """Middle: what they pay for."""
        what = card()
        what_col = QVBoxLayout(what)
        what_col.addWidget(self._heading("2. Khoản đóng"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.scheme = QComboBox()
        self.scheme.setObjectName("scheme")
        for scheme in Scheme:
            self.scheme.addItem(scheme.label, scheme)
        form.addRow(self._caption("&Loại hình:", self.scheme), self.scheme)
        what_col.addLayout(form)

        self.scheme_forms = QStackedWidget()
        self.scheme_forms.addWidget(self._build_bhxh_form())
        self.scheme_forms.addWidget(self._build_bhyt_form())
        what_col.addWidget(self.scheme_forms)
        what_col.addStretch(1)
        what_col.addWidget(
            hint(
                "Phím tắt: F2 tìm người nộp · F3 đăng ký mới · Enter sang ô tiếp theo · "
                "F9 thu tiền · Esc hủy khoản đang nhập · F10 giao dịch hôm nay"
            )
        )
        return what

    def _build_bhxh_form(self) -> QWidget:
        bhxh = QWidget()
        bhxh_form = QFormLayout(bhxh)
        bhxh_form.setContentsMargins(0, 0, 0, 0)
        bhxh_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.income = MoneySpinBox()
        self.income.setObjectName("income")
        self.income.setRange(1_500_000, 46_800_000)
        self.income.setSingleStep(50_000)
        self.category = QComboBox()
        self.category.setObjectName("category")
        for category in SupportCategory:
            self.category.addItem(category.label, category)
        # Never default to a supported category: support is only for those who qualify.
        self.category.setCurrentIndex(self.category.findData(SupportCategory.OTHER))
        self.method = QComboBox()
        self.method.setObjectName("method")
        for method in PaymentMethod:
            self.method.addItem(method.label, method)
        self.method.setCurrentIndex(self.method.findData(PaymentMethod.YEARLY))
        self.lump_months = QSpinBox()
        self.lump_months.setObjectName("lump_months")
        self.lump_months.setRange(13, 60)
        self.lump_months.setValue(24)
        self.lump_months.setSuffix(" tháng")
        self.income_range = hint("")
        bhxh_form.addRow(self._caption("&Mức thu nhập:", self.income), self.income)
        bhxh_form.addRow("", self.income_range)
        bhxh_form.addRow(self._caption("Đố&i tượng:", self.category), self.category)
        bhxh_form.addRow(self._caption("&Phương thức:", self.method), self.method)
        self.lump_caption = self._caption("Số &tháng:", self.lump_months)
        bhxh_form.addRow(self.lump_caption, self.lump_months)
        return bhxh

    def _build_bhyt_form(self) -> QWidget:
        bhyt = QWidget()
        bhyt_form = QFormLayout(bhyt)
        bhyt_form.setContentsMargins(0, 0, 0, 0)
        bhyt_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.member_order = QSpinBox()
        self.member_order.setObjectName("member_order")
        self.member_order.setRange(1, 30)
        self.bhyt_months = QComboBox()
        self.bhyt_months.setObjectName("bhyt_months")
        for months in (3, 6, 12):
            self.bhyt_months.addItem(f"{months} tháng", months)
        self.bhyt_months.setCurrentIndex(2)
        bhyt_form.addRow(self._caption("&Thành viên thứ:", self.member_order), self.member_order)
        bhyt_form.addRow(
            "",
            hint(
                "Người thứ 1 đóng 4,5% lương cơ sở; thứ 2, 3, 4 đóng 70%, 60%, 50%; từ thứ 5: 40%."
            ),
        )
        bhyt_form.addRow(self._caption("Số t&háng:", self.bhyt_months), self.bhyt_months)
        return bhyt

    def _build_amount(self) -> QWidget:
        """Right: the amount."""
        amount = card()
        amount_col = QVBoxLayout(amount)
        amount_col.addWidget(self._heading("3. Số tiền"))
        self.breakdown = QLabel()
        self.breakdown.setObjectName("breakdown")
        self.breakdown.setWordWrap(True)
        self.breakdown.setTextFormat(Qt.TextFormat.RichText)
        self.breakdown.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        amount_col.addWidget(self.breakdown, 1)
        self.quote_error = QLabel()
        self.quote_error.setObjectName("fieldError")
        self.quote_error.setWordWrap(True)
        self.quote_error.hide()
        amount_col.addWidget(self.quote_error)
        amount_col.addWidget(QLabel("Số tiền phải nộp:"))
        self.total = QLabel("—")
        self.total.setObjectName("total")
        amount_col.addWidget(self.total)
        self.total_words = QLabel()
        self.total_words.setObjectName("words")
        self.total_words.setWordWrap(True)
        amount_col.addWidget(self.total_words)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton(fkey_text("Hủy", "Esc"))
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        self.take_button = QPushButton(fkey_text("Thu tiền", "F9"))
        self.take_button.setObjectName("primary")
        self.take_button.clicked.connect(self.take_payment)
        buttons.addWidget(self.take_button)
        amount_col.addLayout(buttons)
        return amount

    def _wire_entry(self) -> None:
        # Keyboard: Tab and Enter follow the same order; Enter on the last field takes payment.
        self._chain_all = [
            self.search,
            self.scheme,
            self.income,
            self.category,
            self.method,
            self.lump_months,
            self.member_order,
            self.bhyt_months,
        ]
        for first, second in zip(self._chain_all, self._chain_all[1:], strict=False):
            QWidget.setTabOrder(first, second)
        QWidget.setTabOrder(self._chain_all[-1], self.take_button)
        self.navigator = EnterNavigator(self, self._form_chain, self._enter_on_last)
        self.navigator.watch(self._chain_all[1:])
        self._search_keys = _SearchKeys(self)
        self.search.installEventFilter(self._search_keys)
        self.results.installEventFilter(self._search_keys)

        self.search.textEdited.connect(self._search_edited)
        self.search.returnPressed.connect(self._search_entered)
        self.results.itemActivated.connect(lambda _item: self.pick_current_result())
        self.results.itemDoubleClicked.connect(lambda _item: self.pick_current_result())
        self.scheme.currentIndexChanged.connect(self._update_scheme)
        for signal in (
            self.income.valueChanged,
            self.category.currentIndexChanged,
            self.method.currentIndexChanged,
            self.lump_months.valueChanged,
            self.member_order.valueChanged,
            self.bhyt_months.currentIndexChanged,
        ):
            signal.connect(self._form_changed)
        self.method.currentIndexChanged.connect(self._update_lump)

    def __getattr__(self, name: str) -> Any:
        """The done screen's widgets exist once it is built: asking for one builds it."""
        if name in DONE_WIDGETS and not self.__dict__.get("_done_built", True):
            self.ensure_done()
            return getattr(self, name)
        raise AttributeError(name)

    def ensure_done(self) -> None:
        """Build the done screen (the code, the change, the receipt preview) if it is not yet:
        a step of its own, so that showing the payment screen after a sign-in does not wait
        for the PDF viewer."""
        if not self._done_built:
            self._done_built = True
            self._build_done()

    def _build_done(self) -> None:
        row = QHBoxLayout(self.done)
        row.setContentsMargins(0, 0, 0, 0)
        left = card()
        col = QVBoxLayout(left)
        col.setSpacing(8)
        self.done_title = QLabel("Đã thu tiền và ghi nhận khoản thu")
        self.done_title.setObjectName("pageTitle")
        col.addWidget(self.done_title)
        col.addWidget(QLabel("Mã xác nhận — đọc cho người nộp và ghi trên biên lai:"))
        self.code_label = QLabel("")
        self.code_label.setObjectName("code")
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.code_label)
        self.done_amount = QLabel()
        self.done_amount.setObjectName("bigAmount")
        col.addWidget(self.done_amount)
        # The change to hand back, as large as the amount; it stays until the next payment.
        self.done_change = QLabel()
        self.done_change.setObjectName("changeBig")
        self.done_change.hide()
        col.addWidget(self.done_change)
        self.done_details = QLabel()
        self.done_details.setWordWrap(True)
        self.done_details.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.done_details)
        col.addWidget(
            hint(
                "Người nộp tra cứu khoản đóng tại baohiemxahoi.gov.vn (Tra cứu quá trình đóng) "
                "hoặc trên ứng dụng VssID."
            )
        )
        self.print_status = QLabel()
        self.print_status.setObjectName("hint")
        self.print_status.setWordWrap(True)
        col.addWidget(self.print_status)
        col.addStretch(1)
        col.addLayout(self._build_done_buttons())
        row.addWidget(left, 3)

        right = card()
        right_col = QVBoxLayout(right)
        right_col.addWidget(self._heading("Biên lai"))
        self.preview = ReceiptPreview()
        right_col.addWidget(self.preview, 1)
        row.addWidget(right, 2)
        self.receipt: ReceiptActions = ReceiptActions(
            self, self.state, self.preview, self._print_status
        )

    def _build_done_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.print_button = QPushButton(fkey_text("In biên lai", "Ctrl+P"))
        self.print_button.setObjectName("printReceipt")
        self.print_button.clicked.connect(self._print_again)
        buttons.addWidget(self.print_button)
        self.save_button = QPushButton(fkey_text("Lưu PDF", "Ctrl+S"))
        self.save_button.clicked.connect(lambda: self.receipt.save())
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        self.next_button = QPushButton(fkey_text("Khoản thu mới", "F5"))
        self.next_button.setObjectName("primary")
        self.next_button.clicked.connect(self.new_payment)
        buttons.addWidget(self.next_button)
        return buttons

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setStyleSheet("font-weight: bold; font-size: 13pt; color: #1f3b57;")
        return label

    @staticmethod
    def _caption(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def dialog_open(self) -> bool:
        """A confirm or registration dialog is up: the page's own keys stay quiet."""
        return any(
            d is not None and d.isVisible()
            for d in (
                self.confirm_dialog,
                self.registration_dialog,
                self.history_dialog,
                self.household_dialog,
            )
        )

    # --- page life ------------------------------------------------------------------------

    def activate(self) -> None:
        if not self._done_built:
            from ui.qt import ops

            ops.defer(self, DONE_BUILD_DELAY_MS, self.ensure_done)
        if self.table is None and not self._loading_table:
            self._load_rates()
        if self.pages.currentWidget() is self.entry:
            self.restore_focus()

    def restore_focus(self) -> None:
        if self.pages.currentWidget() is self.done:
            self.next_button.setFocus()
        elif self.participant is None:
            self.search.setFocus()
        else:
            self.scheme.setFocus()

    def reset(self) -> None:
        """Forget everything typed (operator switch, logout)."""
        self.new_payment()

    def new_payment(self) -> None:
        if self.confirm_dialog is not None and self.confirm_dialog.busy:
            return
        self.pages.setCurrentWidget(self.entry)
        self.search.clear()
        self._clear_results()
        self._set_participant(None)
        self.scheme.setCurrentIndex(0)
        self.member_order.setValue(1)
        self.bhyt_months.setCurrentIndex(2)
        self.method.setCurrentIndex(self.method.findData(PaymentMethod.YEARLY))
        self.category.setCurrentIndex(self.category.findData(SupportCategory.OTHER))
        if self.table is not None:
            self.income.setValue(self.income.rule_minimum())
        if self._done_built:
            self.preview.clear()
            self.print_status.clear()
            self.done_change.clear()
            self.done_change.hide()
        self.search.setFocus()

    def cancel(self) -> None:
        """Esc: leave the results list, else drop the payment being entered."""
        if self.pages.currentWidget() is self.done:
            self.new_payment()
            return
        if self.results.hasFocus():
            self.search.setFocus()
            return
        if self.participant is None and not self.search.text():
            return
        self.new_payment()

    def focus_search(self) -> None:
        if self.pages.currentWidget() is self.done:
            self.new_payment()
        self.search.setFocus()
        self.search.selectAll()

    def _form_chain(self) -> list[QWidget]:
        return self._chain_all[1:]

    def _load_rates(self) -> None:
        self._loading_table = True

        def loaded(result: tuple[RateTable, date]) -> None:
            self._loading_table = False
            self.apply_rates(*result)

        def failed(exc: BaseException) -> None:
            self._loading_table = False
            from ui.qt.errors import show_error

            show_error(self, exc)

        payments.current_rates(self, self.state).success(loaded).failure(failed).run()

    def apply_rates(self, table: RateTable, today: date) -> None:
        self.table = table
        low, high = table.income_bounds(today)
        step = table.income_step(today)
        self.income.blockSignals(True)
        self.income.set_rule(low, high, step)
        if self.participant is None:
            self.income.setValue(low)
        self.income.blockSignals(False)
        self.income_range.setText(
            f"Từ {format_vnd(low)} (chuẩn nghèo nông thôn) đến {format_vnd(high)}, "
            f"bước {format_vnd(step)}"
        )
        lump_low, lump_high = table.lump_sum_months(today)
        self.lump_months.setRange(lump_low, lump_high)
        allowed = table.bhxh_methods(today)
        for index in range(self.method.count()):
            item = self.method.model().item(index)  # type: ignore[attr-defined]
            item.setEnabled(enum_data(self.method, PaymentMethod, index) in allowed)
        current = self.bhyt_months.currentData()
        self.bhyt_months.blockSignals(True)
        self.bhyt_months.clear()
        for months in table.bhyt_periods(today):
            self.bhyt_months.addItem(f"{months} tháng", months)
        index = self.bhyt_months.findData(current)
        self.bhyt_months.setCurrentIndex(index if index >= 0 else self.bhyt_months.count() - 1)
        self.bhyt_months.blockSignals(False)
        self._form_changed()

    # --- finding the payer ----------------------------------------------------------------

    def _search_edited(self, text: str) -> None:
        if "|" in text or looks_like_cccd_qr(text):
            self._search_timer.stop()  # a scanner is typing a QR line: wait for its Enter
            return
        if len(text.strip()) >= 2:
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self._clear_results()

    def _search_entered(self) -> None:
        self._search_timer.stop()
        text = self.search.text()
        if looks_like_cccd_qr(text):
            self.scan_qr(text)
        elif text.strip():
            self.run_search(pick=True)

    def run_search(self, *, pick: bool) -> None:
        query = self.search.text().strip()
        if not query:
            return
        self._search_seq += 1
        seq = self._search_seq
        participants.search(self, self.state, query).success(
            lambda found: self._found(seq, found, pick)
        ).run()

    def _found(self, seq: int, result: SearchResult, pick: bool) -> None:
        if seq != self._search_seq:
            return  # an older search answered late
        found = result.people
        self.results.clear()
        self.results.setVisible(bool(found))
        self.person.setVisible(not found)
        for p in found:
            item = QListWidgetItem(participant_line(p))
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.results.addItem(item)
        if not found:
            self.search_hint.setText(
                "Không tìm thấy người tham gia. Kiểm tra lại, hoặc nhấn F3 để đăng ký mới."
            )
            return
        if result.more:
            self.search_hint.setText(
                f"Còn nhiều người khớp hơn — chỉ hiện {len(found)} người khớp nhất. Gõ đủ họ "
                "tên hoặc tìm theo mã số BHXH/CCCD. ↓ để chọn, Enter để lấy."
            )
        else:
            self.search_hint.setText(f"Tìm thấy {len(found)} người. ↓ để chọn, Enter để lấy.")
        if pick:
            if len(found) == 1:
                self.select_participant(found[0])
            else:
                self.results.setFocus()
                self.results.setCurrentRow(0)

    def _clear_results(self) -> None:
        self.results.clear()
        self.results.hide()
        self.person.show()

    def pick_current_result(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self.select_participant(item.data(Qt.ItemDataRole.UserRole))

    def scan_qr(self, line: str) -> None:
        try:
            qr = parse_cccd_qr(line)
        except ValidationError as exc:
            self.search_hint.setText(exc.message)
            self.search_hint.setObjectName("fieldError")
            self._repolish(self.search_hint)
            self.search.selectAll()
            return

        def found(people: list[ParticipantView]) -> None:
            if people:
                self.search.setText(qr.cccd)
                self.select_participant(people[0])
                self._notify(f"Quét CCCD: đã tìm thấy {people[0].full_name}.")
            else:
                self.search.setText(qr.cccd)
                self._notify("Quét CCCD: người này chưa đăng ký — mở tờ khai đăng ký lần đầu.")
                self.open_registration(qr=qr)

        participants.with_cccd(self, self.state, qr.cccd).success(found).run()

    def _notify(self, text: str, kind: str = "info") -> None:
        from ui.qt.errors import notify

        notify(self.parent(), text, kind)

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def select_participant(self, p: ParticipantView, choices: PaymentChoices | None = None) -> None:
        self._set_participant(p)
        self._clear_results()
        self.search_hint.setObjectName("hint")
        self._repolish(self.search_hint)
        self.search_hint.setText("F2: tìm người khác.")
        category = (
            (choices.support_category if choices else None)
            or p.support_category
            or SupportCategory.OTHER
        )
        self.category.setCurrentIndex(self.category.findData(category))
        if choices is not None:
            self.scheme.setCurrentIndex(self.scheme.findData(Scheme.BHXH_TN))
            self.income.setValue(choices.income)
            self.method.setCurrentIndex(self.method.findData(choices.method))
        self._form_changed()
        self.scheme.setFocus()

    def _set_participant(self, p: ParticipantView | None) -> None:
        self.participant = p
        self.edit_button.setEnabled(p is not None)
        self.history_button.setEnabled(p is not None)
        self.household_button.setEnabled(p is not None)
        self._set_household(None)
        if p is not None:
            from ui.qt.operations import households

            households.load(self, self.state, p.id).success(self._set_household).run()
        if p is None:
            self.person.setText(
                "<i>Chưa chọn người nộp.</i><br>Tìm theo mã số BHXH, số CCCD, họ tên, "
                "hoặc quét mã QR trên CCCD gắn chip."
            )
            self._show_quote(None)
            return
        rows = [
            f"<span style='font-size:14pt; font-weight:bold'>{p.full_name}</span>",
            f"Mã số BHXH: <b>{p.ma_so_bhxh}</b>"
            if p.ma_so_bhxh
            else "Mã số BHXH: <i>chưa có (đăng ký lần đầu)</i>",
        ]
        if p.cccd:
            rows.append(f"CCCD: {p.cccd}")
        if p.date_of_birth:
            sex = f" · {p.sex.label}" if p.sex else ""
            rows.append(f"Ngày sinh: {p.date_of_birth:%d/%m/%Y}{sex}")
        if p.address:
            rows.append(f"Địa chỉ: {p.address}")
        if p.phone:
            rows.append(f"Điện thoại: {p.phone}")
        if p.support_category:
            rows.append(f"Đối tượng: {p.support_category.label}")
        self.person.setText("<br>".join(rows))

    def _set_household(self, info: HouseholdState | None) -> None:
        """A household member's order is computed (read-only field); else it may be typed."""
        current = self.participant.id if self.participant is not None else None
        if info is not None and info.participant_id != current:
            return  # an answer for someone no longer selected
        self.in_household = info is not None and info.household is not None
        self.member_order.setReadOnly(self.in_household)
        self.member_order.setToolTip(
            "Tính theo hộ gia đình và năm tài chính — không nhập tay."
            if self.in_household
            else "Người chưa thuộc hộ gia đình nào: nhập thứ tự nếu cần (ghi vào nhật ký)."
        )
        if self.in_household:
            self._form_changed()

    def open_history(self) -> HistoryDialog | None:
        """Ctrl+I: the selected participant's paid periods, support months, last receipts."""
        if self.participant is None:
            self._notify("Chưa chọn người nộp (F2 để tìm).", "error")
            return None
        from ui.qt.history import HistoryDialog

        dialog = HistoryDialog(self.state, self.participant, self)
        dialog.finished.connect(lambda _r: setattr(self, "history_dialog", None))
        self.history_dialog = dialog
        dialog.open()
        dialog.load()
        return dialog

    def open_household(self) -> HouseholdDialog | None:
        """Ctrl+H: the selected participant's household (create, add, pay several)."""
        if self.participant is None:
            self._notify("Chưa chọn người nộp (F2 để tìm).", "error")
            return None
        from ui.qt.household import HouseholdDialog

        dialog = HouseholdDialog(self.state, self.participant, self)

        def closed(_result: int) -> None:
            self.household_dialog = None
            if self.participant is not None:
                from ui.qt.operations import households

                households.load(self, self.state, self.participant.id).success(
                    self._set_household
                ).run()

        dialog.finished.connect(closed)
        self.household_dialog = dialog
        dialog.open()
        dialog.load()
        return dialog

    def open_registration(self, *_args: Any, qr: Any = None) -> RegistrationDialog:
        return self._open_participant_dialog(None, qr)

    def open_edit(self) -> RegistrationDialog | None:
        if self.participant is None:
            return None
        return self._open_participant_dialog(self.participant, None)

    def _open_participant_dialog(self, existing: Any, qr: Any) -> RegistrationDialog:
        from ui.qt.registration import RegistrationDialog

        bounds = (
            self.income.rule_minimum(),
            self.income.rule_maximum(),
            self.income.singleStep(),
        )
        dialog = RegistrationDialog(self.state, self, existing=existing, income_bounds=bounds)
        if qr is not None:
            dialog.fill_from_qr(qr)
        elif existing is None and self.search.text().strip():
            typed = self.search.text().strip()
            if typed.isdigit() and len(typed) == 12:
                dialog.cccd.setText(typed)
            elif not typed.isdigit():
                dialog.full_name.setText(typed)
        dialog.saved.connect(self._participant_saved)
        dialog.finished.connect(lambda _r: setattr(self, "registration_dialog", None))
        self.registration_dialog = dialog
        dialog.open()
        return dialog

    def _participant_saved(self, view: ParticipantView, choices: PaymentChoices) -> None:
        created = self.participant is None or self.participant.id != view.id
        self.select_participant(view, choices if created else None)
        self._notify(
            f"Đã đăng ký {view.full_name}." if created else f"Đã cập nhật {view.full_name}."
        )

    # --- the form and the quote -----------------------------------------------------------

    def _update_scheme(self) -> None:
        scheme = enum_data(self.scheme, Scheme)
        self.scheme_forms.setCurrentIndex(0 if scheme is Scheme.BHXH_TN else 1)
        self._update_lump()
        self._form_changed()

    def _update_lump(self) -> None:
        lump = enum_data(self.method, PaymentMethod) is PaymentMethod.LUMP_SUM
        self.lump_months.setVisible(lump)
        self.lump_caption.setVisible(lump)

    def _form_changed(self, *_args: Any) -> None:
        self._quote_seq += 1
        self.take_button.setEnabled(False)
        if self.participant is None:
            self._show_quote(None)
            return
        problem = self.income_problem()
        if problem is not None:
            # Said plainly, never replaced: the cashier corrects the income or the payer chooses.
            self._quote_timer.stop()
            self._confirm_when_quoted = False
            self._show_quote(None)
            self.quote_error.setText(problem)
            self.quote_error.show()
            return
        self._quote_timer.start()

    def income_problem(self) -> str | None:
        if enum_data(self.scheme, Scheme) is not Scheme.BHXH_TN:
            return None
        problem = self.income.rule_error()
        return None if problem is None else f"Mức thu nhập: {problem}"

    def build_request(self, client_request_id: str = "preview") -> PaymentRequest | None:
        from app.services.payments import PaymentRequest

        p = self.participant
        if p is None:
            return None
        scheme = enum_data(self.scheme, Scheme)
        if scheme is Scheme.BHXH_TN:
            method = enum_data(self.method, PaymentMethod)
            return PaymentRequest(
                client_request_id=client_request_id,
                participant_id=p.id,
                scheme=scheme,
                method=method,
                months=self.lump_months.value() if method is PaymentMethod.LUMP_SUM else None,
                income=self.income.value(),
                support_category=enum_data(self.category, SupportCategory),
            )
        return PaymentRequest(
            client_request_id=client_request_id,
            participant_id=p.id,
            scheme=Scheme.BHYT_HGD,
            months=self.bhyt_months.currentData(),
            # a household member's order is the household's (R5), never what the field says
            member_order=None if self.in_household else self.member_order.value(),
        )

    def refresh_quote(self) -> None:
        self._quote_timer.stop()
        request = self.build_request()
        if request is None:
            return
        seq = self._quote_seq
        payments.preview(self, self.state, request).success(lambda q: self._quoted(seq, q)).failure(
            lambda exc: self._quote_failed(seq, exc)
        ).run()

    def _quoted(self, seq: int, quote: Quote) -> None:
        if seq != self._quote_seq:
            return
        self._quoted_seq = seq
        self._show_quote(quote)
        if self._confirm_when_quoted:
            self._confirm_when_quoted = False
            self.take_payment()

    def _quote_failed(self, seq: int, exc: BaseException) -> None:
        from ui.qt.errors import message_for

        if seq != self._quote_seq:
            return
        self._confirm_when_quoted = False
        self._show_quote(None)
        self.quote_error.setText(message_for(exc))
        self.quote_error.show()

    def _show_quote(self, quote: Quote | None) -> None:
        self.quote = quote
        self.quote_error.hide()
        if quote is None:
            self.breakdown.setText(
                "<i>Chọn người nộp và khoản đóng; số tiền hiện ra ngay khi nhập.</i>"
            )
            self.total.setText("—")
            self.total_words.clear()
            self.take_button.setEnabled(False)
            return
        rows = "".join(
            f"<tr><td style='color:#4a5561; padding:2px 10px 2px 0'>{label}</td>"
            f"<td style='padding:2px 0'>{value}</td></tr>"
            # The rate table is named by one term everywhere (screen, receipt): RATE_TERM.
            for label, value in (*quote.breakdown, (RATE_TERM, quote.rate_version))
        )
        self.breakdown.setText(f"<table>{rows}</table>")
        if self.in_household and quote.member_order is not None:
            self.member_order.blockSignals(True)
            self.member_order.setValue(quote.member_order)
            self.member_order.blockSignals(False)
        self.total.setText(format_vnd(quote.total))
        self.total_words.setText(amount_in_words(quote.total))
        self.take_button.setEnabled(True)

    def quote_is_current(self) -> bool:
        return self.quote is not None and self._quoted_seq == self._quote_seq

    # --- taking the payment ---------------------------------------------------------------

    def take_payment(self) -> ConfirmDialog | None:
        if self.pages.currentWidget() is not self.entry:
            return None
        if self.participant is None:
            self._notify("Chưa chọn người nộp (F2 để tìm).", "error")
            self.search.setFocus()
            return None
        if self.confirm_dialog is not None:
            return self.confirm_dialog
        if self.before_payment is not None and not self.before_payment():
            return None
        if not self.quote_is_current():
            # The quote for what is on screen is still coming: confirm as soon as it arrives.
            self._confirm_when_quoted = True
            self.refresh_quote()
            return None
        from ui.qt.confirm import ConfirmDialog

        request = self.build_request()
        assert request is not None and self.quote is not None
        dialog = ConfirmDialog(self.state, self.participant, request, self.quote, self)
        dialog.recorded.connect(self._recorded)
        dialog.finished.connect(self._confirm_closed)
        self.confirm_dialog = dialog
        dialog.open()
        return dialog

    def _enter_on_last(self) -> None:
        self.take_payment()

    def _confirm_closed(self, _result: int) -> None:
        self.confirm_dialog = None
        if self.pages.currentWidget() is self.entry:
            self.take_button.setFocus()

    def _recorded(self, payment: PaymentView) -> None:
        self.last_payment = payment
        self.code_label.setText(payment.confirmation_code)
        self.done_amount.setText(f"Đã thu: {format_vnd(payment.amount)}")
        change = payment.change_due
        cash = (
            f"<br>Khách đưa: {format_vnd(payment.tendered)}" if payment.tendered is not None else ""
        )
        if payment.tendered is not None and change is not None:
            self.done_change.setText(f"Trả lại khách: {format_vnd(change)}")
            self.done_change.show()
        else:
            self.done_change.clear()
            self.done_change.hide()
        ident = payment.ma_so_bhxh or f"chưa có mã — CCCD {payment.cccd or ''}"
        self.done_details.setText(
            f"<span style='font-size:13pt'><b>{payment.payer_name}</b> ({ident})</span><br>"
            f"{payment.scheme.label} · {payment.months} tháng "
            f"({payment.period_from:%m/%Y} – {payment.period_to:%m/%Y})<br>"
            f"Số tiền: <b>{format_vnd(payment.amount)}</b>{cash}<br>"
            f"Biên lai số {payment.receipt_number:07d}, ký hiệu {payment.series} · "
            f"{format_local(payment.paid_at, '%H:%M %d/%m/%Y')}"
        )
        self.pages.setCurrentWidget(self.done)
        self.next_button.setFocus()
        auto = self.state.settings.auto_print
        from ui.qt import ops

        # The receipt is fetched once the done screen has had its turn to paint: one long
        # stretch of the GUI thread split in two.
        ops.defer(
            self,
            0,
            lambda: self.receipt.load(
                payment.receipt_number, then_print=auto, card=self._card(payment)
            ),
        )

    @staticmethod
    def _card(payment: PaymentView) -> tuple[date, date] | None:
        if payment.card_from is None or payment.card_to is None:
            return None
        return (payment.card_from, payment.card_to)

    def _print_status(self, text: str, ok: bool) -> None:
        from ui.qt.receipt_view import NO_PRINTER_TEXT

        no_printer = text == NO_PRINTER_TEXT
        self.print_button.setText(
            fkey_text("Chọn máy in và in" if no_printer else "In biên lai", "Ctrl+P")
        )
        self.print_status.setText(text)
        self.print_status.setObjectName("hint" if ok else "fieldError")
        self._repolish(self.print_status)

    def reprint_last(self) -> Any:
        """The last receipt of this session again, as a counted copy (BẢN SAO n)."""
        payment = self.last_payment
        if payment is None:
            self._notify("Chưa có biên lai nào trong phiên này để in lại.", "error")
            return None
        if self.pages.currentWidget() is self.done:
            self.receipt.reprint(payment.receipt_number)
            return self.receipt
        from ui.qt.receipt_view import ReceiptDialog

        dialog = ReceiptDialog(
            self.state, f"In lại biên lai số {payment.receipt_number:07d} (bản sao)", self
        )
        dialog.open()
        dialog.receipt.reprint(payment.receipt_number)
        return dialog

    def _print_again(self) -> None:
        """Print the original until it has printed once; after that, a counted copy."""
        if self.pages.currentWidget() is not self.done or self.last_payment is None:
            return
        if self.receipt.printed:
            self.receipt.reprint(self.last_payment.receipt_number)
        else:
            self.receipt.print()
