"""Operator passwords in one place: the policy (the services enforce it; the set-up wizard and the
change-password screens check it early and show it as a hint), how they are stored (argon2id hashes
only) and when one must be changed (pure: instants in, a status out).

Policy (docs/ACCOUNTS.md):
- at least `MIN_PASSWORD_LENGTH` characters;
- not the user name, not a part of it, and not containing it (case and diacritics ignored);
- not among the 10,000 most common passwords (`resources/passwords/common-10k.txt`);
- not the current password nor any of the `HISTORY_DEPTH` before it (checked by the service,
  which holds the hashes).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.domain.text import fold
from app.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
HISTORY_DEPTH = 3
"""How many earlier passwords (besides the current one) a new password may not repeat."""

PASSWORD_RULE = (
    f"ít nhất {MIN_PASSWORD_LENGTH} ký tự, không chứa tên đăng nhập, không phải mật khẩu phổ biến"
)
"""The rule as shown to people (Vietnamese), e.g. after «Mật khẩu»."""

COMMON_PASSWORDS = ("passwords", "common-10k.txt")


@cache
def _common() -> frozenset[str]:
    path = resources.files("resources").joinpath(*COMMON_PASSWORDS)
    return frozenset(line.strip() for line in path.read_text("utf-8").splitlines() if line.strip())


def is_common(password: str) -> bool:
    """True when `password` (case ignored) is among the 10,000 most common passwords."""
    return password.casefold() in _common()


def _bad(field: str, label: str, rule: str, rule_en: str) -> ValidationError:
    return ValidationError(field, label, rule, rule_en=rule_en)


def check_password(
    password: str, *, username: str = "", field: str = "password", label: str = "Mật khẩu"
) -> None:
    """Raise `ValidationError` on `field` when `password` breaks the policy (history aside)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _bad(
            field,
            label,
            f"phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự",
            f"at least {MIN_PASSWORD_LENGTH} characters",
        )
    user = fold(username).casefold().replace(" ", "")
    typed = fold(password).casefold()
    if user and (typed in user or (len(user) >= 3 and user in typed)):
        raise _bad(
            field,
            label,
            "không được là tên đăng nhập, một phần của nó, hay chứa nó",
            "must not be, be part of or contain the user name",
        )
    if is_common(password):
        raise _bad(
            field,
            label,
            "quá phổ biến (nằm trong 10.000 mật khẩu hay bị dò nhất); hãy chọn mật khẩu khác",
            "among the 10,000 most common passwords",
        )


_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when `stored_hash` was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(stored_hash)


_dummy: dict[int, str] = {}
_dummy_lock = threading.Lock()


def dummy_verify(password: str) -> None:
    """Spend the time of one real verify, for a user name that does not exist (so the time taken
    does not tell which names are accounts). The dummy hash is made once per hasher."""
    with _dummy_lock:
        stored = _dummy.get(id(_hasher))
        if stored is None:
            stored = _dummy[id(_hasher)] = _hasher.hash("không-có-tài-khoản-này")
    password_matches(stored, password)


class ChangeReason(StrEnum):
    FIRST = "first"  # set by someone else when the account was made
    RESET = "reset"  # reset by an admin
    EXPIRED = "expired"  # older than the maximum age

    @property
    def message(self) -> str:
        return {
            "first": "Đây là lần đăng nhập đầu tiên: hãy đặt mật khẩu của riêng bạn.",
            "reset": "Quản trị viên vừa đặt lại mật khẩu: hãy đặt mật khẩu mới của riêng bạn.",
            "expired": "Mật khẩu đã quá hạn: hãy đặt mật khẩu mới trước khi làm việc.",
        }[self.value]


@dataclass(frozen=True)
class PasswordStatus:
    """What sign-in must do about the password: nothing, warn (days left), or demand a change."""

    change_required: ChangeReason | None
    expires_at: datetime
    days_left: int
    warn: bool

    @property
    def warning(self) -> str:
        if not self.warn or self.change_required is not None:
            return ""
        when = "hôm nay" if self.days_left <= 0 else f"sau {self.days_left} ngày"
        return f"Mật khẩu của bạn hết hạn {when}. Hãy đổi mật khẩu (Ctrl+Shift+M)."


def password_status(
    *,
    changed_at: datetime,
    now: datetime,
    max_age_days: int,
    warn_days: int,
    pending: ChangeReason | None = None,
) -> PasswordStatus:
    """`pending`: a change the account owes (first password, admin reset)."""
    expires_at = changed_at + timedelta(days=max_age_days)
    left = expires_at - now
    days_left = left.days  # floor: 0 on the last day
    reason = pending
    if reason is None and left <= timedelta(0):
        reason = ChangeReason.EXPIRED
    return PasswordStatus(
        change_required=reason,
        expires_at=expires_at,
        days_left=max(days_left, 0),
        warn=left <= timedelta(days=warn_days),
    )
