"""Operator passwords in one place: the rule (the services enforce it, the set-up wizard checks it
before the last step and shows it as a hint) and how they are stored (argon2id hashes only).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import ValidationError

MIN_PASSWORD_LENGTH = 8

PASSWORD_RULE = f"ít nhất {MIN_PASSWORD_LENGTH} ký tự"
"""The rule as shown to people (Vietnamese), e.g. after «Mật khẩu»."""


def check_password(password: str, *, field: str = "password", label: str = "Mật khẩu") -> None:
    """Raise `ValidationError` on `field` when `password` breaks the rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            field,
            label,
            f"phải có {PASSWORD_RULE}",
            rule_en=f"at least {MIN_PASSWORD_LENGTH} characters",
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
