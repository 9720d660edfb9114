"""Errors that reach people.

`UserFacingError` carries a Vietnamese message that is safe to show as is. Validation errors name
the field and the rule so a cashier can fix the input without asking anyone. Anything that is not
a `UserFacingError` is a bug or an environment failure: front ends log it with its traceback and
show a short generic message with the log's location.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose `message` (Vietnamese) may be shown to the operator as is.

    `message_en` is optional English for the CLI and logs.
    """

    def __init__(self, message: str, *, message_en: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message


class ValidationError(UserFacingError):
    """Bad input: names the field (`field`, its Vietnamese label `label`) and the rule broken."""

    def __init__(
        self,
        field: str,
        label: str,
        rule: str,
        *,
        rule_en: str | None = None,
    ) -> None:
        self.field = field
        self.label = label
        self.rule = rule
        super().__init__(
            f"{label}: {rule}",
            message_en=f"{field}: {rule_en}" if rule_en else None,
        )


class NotFoundError(UserFacingError):
    """The thing asked for does not exist (receipt number, participant, operator)."""


class PermissionDenied(UserFacingError):
    """The operator's role does not allow this action (e.g. a cashier voiding a payment)."""


class ConfigurationError(UserFacingError):
    """The counter is not set up for this (no signing key, not initialised, database too new)."""
