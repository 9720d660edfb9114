"""What can go wrong in a sync, as errors whose Vietnamese message can be shown as is."""

from __future__ import annotations

from app.errors import UserFacingError


class SyncError(UserFacingError):
    """Base of every sync failure."""


class TransientError(SyncError):
    """Worth retrying later: no network, timeout, reset, 5xx, 429.

    `offline` is True when the server could not be reached at all (the scheduler then probes
    health on a short interval); `retry_after` is the server's Retry-After in seconds, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        offline: bool,
        retry_after: float | None = None,
        message_en: str | None = None,
    ) -> None:
        super().__init__(message, message_en=message_en)
        self.offline = offline
        self.retry_after = retry_after


class AuthError(SyncError):
    """401: the API token is missing, wrong or revoked — the counter must enrol again."""


class NotEnrolled(SyncError):
    """The counter has no central URL or no API token yet."""


class ProtocolError(SyncError):
    """Central answered something this client does not understand, or refused a request."""


class LeaseBusy(SyncError):
    """Another sync (the window, or a scheduled `quaythu sync`) holds the lease."""


NEEDS_ENROLLMENT_MESSAGE = (
    "Máy chủ trung tâm từ chối mã truy cập của quầy (đã bị thu hồi hoặc không đúng). "
    "Cần đăng ký lại quầy với mã đăng ký mới từ quản trị trung tâm "
    "(lệnh `quaythu enroll --server URL --code MÃ`). Các khoản thu vẫn được lưu tại quầy."
)
NOT_ENROLLED_MESSAGE = (
    "Quầy chưa đăng ký với máy chủ trung tâm nên chưa đồng bộ. Hãy xin mã đăng ký từ quản trị "
    "trung tâm rồi chạy `quaythu enroll --server URL --code MÃ`."
)
