"""The password rule for operator accounts, in one place: the services enforce it, the set-up
wizard checks it before the last step and shows it as a hint.
"""

from __future__ import annotations

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
