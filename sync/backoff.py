"""Retry timing: exponential backoff with full jitter, never earlier than Retry-After.

Full jitter (a uniformly random delay between 0 and the exponential ceiling) spreads the retries
of many counters that lost the network at the same moment, so they do not hammer central in
lock-step when it comes back. A server's Retry-After is a floor, never shortened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 1.0  # seconds: ceiling of the first retry's delay
    cap: float = 60.0  # seconds: the ceiling never grows past this
    attempts: int = 5  # tries of one request within one sync pass (first try included)
    max_inline_wait: float = 120.0  # longer Retry-After: give up the pass, the scheduler waits

    def ceiling(self, failures: int) -> float:
        return float(min(self.cap, self.base * (2 ** max(0, failures - 1))))

    def delay(
        self, failures: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after the `failures`-th consecutive failure (1, 2, …)."""
        jittered = (rng or random).uniform(0.0, self.ceiling(failures))
        return max(jittered, retry_after or 0.0)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date. None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
