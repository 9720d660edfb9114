"""Fetch central's Mẫu 01-XN for a day and reconcile it with the local one (stored, listable).

The comparison and storage live in `app.services.reconcile`; this module only brings central's
rows over the network. Runs on demand (`quaythu reconcile`, the window) and each morning from
the sync pass once the configured time (default 07:30 Asia/Ho_Chi_Minh) has passed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import requests

from app.domain.canonical import parse_utc_iso
from app.services.reconcile import CentralRow, ReconciliationView, reconcile_day
from app.storage.db import Database
from sync.client import CentralClient
from sync.config import SyncConfig
from sync.connection import client_for_counter
from sync.errors import ProtocolError
from sync.protocol import Xn01Response


def central_rows(resp: Xn01Response) -> list[CentralRow]:
    rows: list[CentralRow] = []
    try:
        for r in resp["rows"]:
            rows.append(
                CentralRow(
                    confirmation_code=str(r["confirmation_code"]),
                    receipt_number=int(r["receipt_number"]),
                    amount=int(r["amount"]),
                    paid_at=parse_utc_iso(str(r["paid_at"])),
                    voided=bool(r["voided"]),
                    full_name=str(r.get("full_name", "")),
                )
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(
            "Mẫu 01-XN của trung tâm có dòng không đúng định dạng.",
            message_en=f"bad 01-XN row: {exc}",
        ) from exc
    return rows


def reconcile_with_client(
    db: Database,
    client: CentralClient,
    day: date,
    *,
    tolerance: timedelta,
    trigger: str,
    retrying: Callable[[Callable[[], Xn01Response]], Xn01Response] | None = None,
) -> ReconciliationView:
    fetch: Callable[[], Xn01Response] = lambda: client.xn01(day)  # noqa: E731
    resp = retrying(fetch) if retrying else fetch()
    return reconcile_day(db, day, central_rows(resp), tolerance=tolerance, trigger=trigger)


def reconcile_with_central(
    db: Database,
    day: date,
    *,
    config: SyncConfig | None = None,
    trigger: str = "manual",
    session: requests.Session | None = None,
) -> ReconciliationView:
    """On demand: fetch central's rows for `day` and store a reconciliation run."""
    config = config or SyncConfig()
    client = client_for_counter(db, config=config, session=session)
    try:
        return reconcile_with_client(
            db, client, day, tolerance=config.reconcile_tolerance, trigger=trigger
        )
    finally:
        if session is None:
            client.close()
