"""Refusals of the reference central system, each with the HTTP status the API answers with.

`detail` is Vietnamese and safe to show; `central.api` turns these into `{"detail": …}`.
"""

from __future__ import annotations


class CentralError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(CentralError):
    status_code = 401


class Forbidden(CentralError):
    status_code = 403


class TooManyAttempts(CentralError):
    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class NotReady(CentralError):
    status_code = 503


class NotFound(CentralError):
    status_code = 404


class Refused(CentralError):
    status_code = 409


class TooLarge(CentralError):
    status_code = 413
