"""Sync settings in one frozen value (defaults are the production ones; tests shorten them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta

from app.services.reconcile import DEFAULT_RECONCILE_AT, DEFAULT_TOLERANCE
from sync.backoff import RetryPolicy
from sync.client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from sync.lease import DEFAULT_TTL
from sync.protocol import DEFAULT_BATCH, MAX_BATCH


@dataclass(frozen=True)
class SyncConfig:
    batch_size: int = DEFAULT_BATCH
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease_ttl: float = DEFAULT_TTL
    participant_page: int = 500
    interval: float = 300.0  # seconds between scheduled syncs
    offline_probe_interval: float = 30.0  # health probe while the server is unreachable
    probe_timeout: float = 3.0
    busy_retry: float = 30.0  # another process holds the lease: look again after this
    sync_after_change: float | None = 10.0  # a new payment: sync this soon (None: wait)
    reconcile_at: time | None = DEFAULT_RECONCILE_AT  # local time; None: only on demand
    reconcile_tolerance: timedelta = DEFAULT_TOLERANCE

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
