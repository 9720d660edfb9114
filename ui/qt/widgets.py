"""Small building blocks shared by the screens: money entry, field errors, Enter-to-move-on,
the message bar.

Nothing here touches the database; these are plain widgets and helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import ClassVar, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QResizeEvent, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import format_number, format_vnd
from app.errors import ValidationError
from ui.qt.basic import ElidedLabel, card, fkey_text, hint, page_title

__all__ = [
    "ElidedLabel",
    "EnterNavigator",
    "FieldErrors",
    "MessageBar",
    "MoneySpinBox",
    "card",
    "enum_data",
    "fkey_text",
    "hint",
    "page_title",
]

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class KeyButton(QPushButton):
    """A button whose caption shows its key ("Hộ gia đình  [Ctrl+H]") when there is room, and
    the caption alone when its column is narrower (the 1100 px minimum); the key stays in the
    tooltip. It takes the width its layout gives it, so its caption never pushes the layout or
    gets clipped."""

    def __init__(self, caption: str, key: str, parent: QWidget | None = None) -> None:
        super().__init__(fkey_text(caption, key), parent)
        self.caption, self.key = caption, key
        self.setToolTip(f"{caption} ({key})")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        full = fkey_text(self.caption, self.key)
        if self.text() != full:
            self.setText(full)
        if self.sizeHint().width() > self.width():  # what the caption with its key needs
            self.setText(self.caption)
        super().resizeEvent(event)


class MoneySpinBox(QSpinBox):
    """Whole đồng with Vietnamese grouping ("1.500.000 đ"); typing "1500000" works too."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSuffix(" đ")
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        self.setAccelerated(True)
        self.setMaximum(2_000_000_000)
        self.lineEdit().setTextMargins(0, 0, 6, 0)  # keep "đ" clear of the arrows
        self.rule: tuple[int, int, int] | None = None  # (minimum, maximum, step) of the rule

    def set_rule(self, low: int, high: int, step: int) -> None:
        """Bounds and step of the rule, checked by `rule_error` — never by changing the value.

        The spin box itself accepts any amount of the right length (nothing typed is replaced
        or loses a digit); the arrows still step within the rule."""
        self.rule = (low, high, step)
        self.setRange(0, max(high * 10, 2_000_000_000))
        self.setSingleStep(step)

    def rule_minimum(self) -> int:
        return self.rule[0] if self.rule else self.minimum()

    def rule_maximum(self) -> int:
        return self.rule[1] if self.rule else self.maximum()

    def stepBy(self, steps: int) -> None:
        if self.rule is None:
            super().stepBy(steps)
            return
        low, high, step = self.rule
        value = self.value()
        snapped = (value // step) * step if steps > 0 else -(-value // step) * step
        self.setValue(min(high, max(low, snapped + steps * step)))

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        if self.rule is None:
            return super().stepEnabled()
        low, high, _ = self.rule
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() > low:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self.value() < high:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags

    def rule_error(self) -> str | None:
        """What is wrong with the value under the rule, naming the nearest valid values."""
        if self.rule is None:
            return None
        return money_rule_error(self.value(), *self.rule)

    def textFromValue(self, value: int) -> str:
        return format_number(value)

    def _digits(self, text: str) -> str:
        body = text.removesuffix(self.suffix()).strip()
        return body.replace(".", "").replace(" ", "")

    def valueFromText(self, text: str) -> int:
        digits = self._digits(text)
        return int(digits) if digits.isdigit() else self.value()

    def fixup(self, text: str) -> str:
        return text  # never replace what was typed; the rule check says what is wrong

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        digits = self._digits(text)
        if not digits:
            return (QValidator.State.Intermediate, text, pos)
        if not (digits.isascii() and digits.isdigit()):
            return (QValidator.State.Invalid, text, pos)
        value = int(digits)
        if value > self.maximum():
            return (QValidator.State.Invalid, text, pos)
        if value < self.minimum():
            return (QValidator.State.Intermediate, text, pos)
        return (QValidator.State.Acceptable, text, pos)


def money_rule_error(value: int, low: int, high: int, step: int) -> str | None:
    """None when `value` is within [low, high] on the step; else the rule and the nearest
    valid values, e.g. "thấp hơn mức tối thiểu 1.500.000 đ — chọn 1.500.000 đ"."""
    if value < low:
        return (
            f"{format_vnd(value)} thấp hơn mức tối thiểu {format_vnd(low)}. "
            f"Mức hợp lệ gần nhất: {format_vnd(low)}."
        )
    if value > high:
        return (
            f"{format_vnd(value)} cao hơn mức tối đa {format_vnd(high)}. "
            f"Mức hợp lệ gần nhất: {format_vnd(high)}."
        )
    if value % step:
        below = max(low, value // step * step)
        above = min(high, below + step)
        return (
            f"{format_vnd(value)} không đúng bước {format_vnd(step)}. "
            f"Mức hợp lệ gần nhất: {format_vnd(below)} hoặc {format_vnd(above)}."
        )
    return None


E = TypeVar("E", bound=Enum)


def enum_data(combo: QComboBox, enum_type: type[E], index: int | None = None) -> E | None:
    """The enum member stored as a combo item's data.

    PySide6 stores a StrEnum member as a plain QString, so it comes back as `str`; this turns
    it back into the member (None for an item without data).
    """
    value = combo.currentData() if index is None else combo.itemData(index)
    if value is None or value == "":
        return None
    return enum_type(value)


class FieldErrors:
    """Shows a `ValidationError` under the field it names and puts the cursor there."""

    def __init__(self) -> None:
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}

    def add_row(
        self, form: QFormLayout, label: str, widget: QWidget, field: str | Sequence[str]
    ) -> QLabel:
        """Add "label: widget" to `form` with an error line under the widget."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        column.addWidget(error)
        caption = QLabel(label)
        caption.setBuddy(widget)
        form.addRow(caption, box)
        for name in [field] if isinstance(field, str) else field:
            self._fields[name] = (widget, error)
        return error

    def register(self, field: str, widget: QWidget, error: QLabel) -> None:
        self._fields[field] = (widget, error)

    def clear(self) -> None:
        for _, error in self._fields.values():
            error.clear()
            error.hide()

    def error_label(self, field: str) -> QLabel | None:
        entry = self._fields.get(field)
        return entry[1] if entry else None

    def show(self, exc: ValidationError) -> bool:
        """True when the error's field is one of ours (message shown, field focused)."""
        entry = self._fields.get(exc.field)
        if entry is None:
            return False
        self.clear()
        widget, error = entry
        error.setText(exc.message)
        error.show()
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        if hasattr(widget, "selectAll"):
            widget.selectAll()
        return True


class EnterNavigator(QObject):
    """Enter moves to the next field of a form; on the last one it runs `on_last`.

    The chain is computed at each key press from `fields()`, skipping hidden or disabled
    widgets, so it follows the form as it changes (BHXH vs BHYT fields). An open combo popup
    keeps its own Enter (choosing the item).
    """

    def __init__(
        self,
        parent: QObject,
        fields: Callable[[], Sequence[QWidget]],
        on_last: Callable[[], None],
    ) -> None:
        super().__init__(parent)
        self._fields = fields
        self._on_last = on_last

    def watch(self, widgets: Sequence[QWidget]) -> None:
        for widget in widgets:
            widget.installEventFilter(self)
            for child in widget.findChildren(QWidget):
                child.installEventFilter(self)

    def _owner(self, obj: QObject, chain: Sequence[QWidget]) -> QWidget | None:
        node: QObject | None = obj
        while node is not None:
            if node in chain:
                return node  # type: ignore[return-value]
            node = node.parent()
        return None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        key_event = event  # QKeyEvent
        assert isinstance(key_event, QKeyEvent)
        if key_event.key() not in ENTER_KEYS:
            return False
        if key_event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        chain = [w for w in self._fields() if w.isVisibleTo(w.window()) and w.isEnabled()]
        owner = self._owner(obj, chain)
        if owner is None:
            return False
        if isinstance(owner, QComboBox) and owner.view().isVisible():
            return False
        if isinstance(owner, QAbstractSpinBox):
            owner.interpretText()
        index = chain.index(owner)
        if index == len(chain) - 1:
            self._on_last()
        else:
            nxt = chain[index + 1]
            nxt.setFocus(Qt.FocusReason.TabFocusReason)
            if isinstance(nxt, QAbstractSpinBox):
                nxt.selectAll()
        return True


class MessageBar(QFrame):
    """One line of feedback at the top of a screen: errors, problems, confirmations.

    Kinds: "error" (a UserFacingError; stays 15 s), "bug" (unexpected, names the log; 20 s),
    "info" (5 s). Esc or the × button hides it.
    """

    DURATION_MS: ClassVar[dict[str, int]] = {"error": 15_000, "bug": 20_000, "info": 5_000}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        close = QPushButton("×")
        close.setFlat(True)
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.setToolTip("Ẩn thông báo")
        close.clicked.connect(self.hide)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.show()
        self._timer.start(self.DURATION_MS.get(kind, 10_000))

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class FormDialog(QDialog):
    """A small modal form: heading, fields, an error line, "Đóng [Esc]" / action [Enter].

    Subclasses add rows to `self.form` (and anything above it to `self.body`), call
    `finish_layout()`, and implement `submit()`; `set_busy` keeps Esc from closing mid-op.
    """

    def __init__(
        self,
        title: str,
        action: str,
        parent: QWidget | None,
        *,
        heading: str | None = None,
        action_style: str = "primary",
    ) -> None:
        super().__init__(parent)
        self.busy = False
        self.action = action
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(620)
        self.body = QVBoxLayout(self)
        self.body.addWidget(page_title(heading or title))
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.cancel_button = QPushButton(fkey_text("Đóng", "Esc"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.buttons.addWidget(self.cancel_button)
        self.ok_button = QPushButton(fkey_text(action, "Enter"))
        self.ok_button.setObjectName(action_style)
        self.ok_button.setAutoDefault(False)
        self.ok_button.clicked.connect(self.submit)
        self.buttons.addWidget(self.ok_button)

    def finish_layout(self) -> None:
        self.body.addLayout(self.form)
        self.body.addWidget(self.error)
        self.body.addLayout(self.buttons)

    def submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        self.ok_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        self.ok_button.setText(text if busy else fkey_text(self.action, "Enter"))

    def show_message(self, text: str, kind: str = "error") -> None:
        self.error.setText(text)
        self.error.show()

    def reject(self) -> None:
        if not self.busy:
            super().reject()
