"""Central's clock: instants as canonical UTC text, the form every table stores."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.canonical import utc_iso


def now_text() -> str:
    return utc_iso(datetime.now(UTC))
