"""The sync client's remembered state: small key/value pairs in `sync_state` (last success,
last error, feed cursors), readable by every process that opens the counter's database.

Nothing secret is stored: the API token lives in the keyring (`app.secrets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.clock import now_utc
from app.services.queries import audit
from app.storage.db import Database
from app.storage.models import SyncState

# sync_state keys
LAST_SUCCESS = "last_success"
LAST_ATTEMPT = "last_attempt"
LAST_ERROR = "last_error"
LAST_ERROR_KIND = "last_error_kind"
NEEDS_ENROLLMENT = "needs_enrollment"
PARTICIPANT_CURSOR = "participants.cursor"
RATES_SINCE = "rates.since"


def sync_values(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {r[0]: r[1] for r in session.execute(select(SyncState.key, SyncState.value))}


def get_sync_value(db: Database, key: str) -> str | None:
    with db.read() as session:
        row = session.get(SyncState, key)
        return None if row is None else row.value


def put_sync_value(session: Session, key: str, value: str | None) -> None:
    """Set (or, with None, clear) one value inside the caller's write transaction."""
    row = session.get(SyncState, key)
    if value is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(SyncState(key=key, value=value, updated_at=now_utc()))
    else:
        row.value = value
        row.updated_at = now_utc()


def set_sync_values(db: Database, values: Mapping[str, str | None]) -> None:
    with db.write() as session:
        for key, value in values.items():
            put_sync_value(session, key, value)


def note_sync_audit(db: Database, action: str, subject: str, details: Mapping[str, Any]) -> None:
    with db.write() as session:
        audit(session, action, actor=None, subject=subject, **dict(details))
