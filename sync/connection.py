"""This counter's connection to central: the keyring name of its API token and a ready client.

Shared by the sync pass (`sync.engine`), enrolment and the on-demand reconciliation, so none of
them imports another.
"""

from __future__ import annotations

import requests

from app.secrets import get_secret
from app.services.registration import central_registration
from app.storage.db import Database
from sync.client import CentralClient
from sync.config import SyncConfig
from sync.errors import NOT_ENROLLED_MESSAGE, NotEnrolled


def token_name(counter_id: str) -> str:
    return f"api-token:{counter_id}"


def client_for_counter(
    db: Database, *, config: SyncConfig, session: requests.Session | None = None
) -> CentralClient:
    """A client for this counter's central server with its token from the keyring."""
    reg = central_registration(db)
    token = get_secret(token_name(reg.counter_id))
    if not reg.central_url or not token:
        raise NotEnrolled(NOT_ENROLLED_MESSAGE, message_en="counter not enrolled with central")
    return CentralClient(
        reg.central_url,
        token,
        session=session,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
    )
