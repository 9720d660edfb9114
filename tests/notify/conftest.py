"""Fixtures for notifications: operators and a payer, a local SMS gateway, notify settings on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.notify.settings import (
    NotifySettings,
    load_notify_settings,
    parse_profile,
    save_notify_settings,
)
from app.secrets import store_sms_secret
from app.services.common import Actor
from app.storage.db import Database
from tests.notify.gateway import FakeGateway, profile_json

SMS_TOKEN = "tok-2026-secret"


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    yield gw
    gw.close()


def enable(
    db: Database, admin: Actor, gateway_url: str, *, idempotent: bool = True, **kw: object
) -> NotifySettings:
    store_sms_secret(SMS_TOKEN)
    new = replace(
        load_notify_settings(db),
        sms_enabled=True,
        gateway=parse_profile(profile_json(gateway_url, idempotent=idempotent)),
        **kw,  # type: ignore[arg-type]
    )
    return save_notify_settings(db, new, by=admin)


@pytest.fixture
def sms_on(db: Database, admin: Actor, gateway: FakeGateway) -> NotifySettings:
    return enable(db, admin, gateway.url)
