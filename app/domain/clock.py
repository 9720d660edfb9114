"""The counter's clock: the one home of its time rules (pure — no database, no Qt).

Stored instants are aware UTC. The business day, and every time shown on screen or printed, is
Hà Nội time (Asia/Ho_Chi_Minh), whatever the machine's own zone is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final
from zoneinfo import ZoneInfo

LOCAL_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")


def now_utc() -> datetime:
    """The current instant, aware UTC."""
    return datetime.now(UTC)


def business_date(instant: datetime) -> date:
    """The counter's business day of `instant`: its local date in Asia/Ho_Chi_Minh."""
    return instant.astimezone(LOCAL_TZ).date()


def today() -> date:
    """Today's business day at the counter."""
    return business_date(now_utc())


def local_time(instant: datetime) -> datetime:
    """`instant` (aware) in Asia/Ho_Chi_Minh; a naive value is refused, not guessed at."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware (UTC), got naive {instant!r}")
    return instant.astimezone(LOCAL_TZ)


def format_local(instant: datetime, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """`instant` in local time, by default `dd/mm/yyyy HH:MM` as printed on receipts."""
    return local_time(instant).strftime(fmt)
