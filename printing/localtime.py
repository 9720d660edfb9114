"""Local time for printed documents: the business day and every printed time are Hà Nội time
(Asia/Ho_Chi_Minh), whatever the machine's own zone is. Stored instants are aware UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

LOCAL_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")


def local_time(instant: datetime) -> datetime:
    """`instant` (aware) in Asia/Ho_Chi_Minh; a naive value is refused, not guessed at."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware (UTC), got naive {instant!r}")
    return instant.astimezone(LOCAL_TZ)


def format_local(instant: datetime) -> str:
    """`dd/mm/yyyy HH:MM` in local time, as printed on receipts."""
    return local_time(instant).strftime("%d/%m/%Y %H:%M")
