"""Where and as whom this counter is enrolled with central (the API token is in the keyring)."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.queries import audit, require_counter
from app.services.sync_state import LAST_ERROR, NEEDS_ENROLLMENT, put_sync_value
from app.storage.db import Database


@dataclass(frozen=True)
class CentralRegistration:
    counter_id: str  # the counter's own id (keyring names use it)
    central_url: str | None
    central_counter_id: str | None


def record_enrollment(db: Database, *, central_url: str, central_counter_id: str) -> None:
    """Remember where and as whom this counter is enrolled (the token goes to the keyring)."""
    with db.write() as session:
        counter = require_counter(session)
        counter.central_url = central_url
        counter.central_counter_id = central_counter_id
        put_sync_value(session, NEEDS_ENROLLMENT, None)
        put_sync_value(session, LAST_ERROR, None)
        audit(
            session,
            "sync.enroll",
            actor=None,
            subject=central_counter_id,
            central_url=central_url,
        )


def central_registration(db: Database) -> CentralRegistration:
    with db.read() as session:
        counter = require_counter(session)
        return CentralRegistration(
            counter.counter_id, counter.central_url, counter.central_counter_id
        )
