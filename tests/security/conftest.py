"""Security tests: each refusal of issue 10 (central side) and the master key, proved over
real HTTP against the reference central server on 127.0.0.1 (fixtures shared with
tests/sync: one server per session, a fresh enrolled counter per test)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app.domain.canonical import CanonicalValue
from app.domain.ledger import WireRecord, seal, to_wire
from app.secrets import load_signing_key
from app.services.outbox import pending_batch
from app.storage.db import Database
from central.models import CentralCounter
from sync.connection import client_for_counter
from sync.protocol import PATH_RECORDS
from tests.sync.conftest import (  # noqa: F401  (fixtures)
    FAST,
    CentralServer,
    Counter,
    central_on,
    cheap_password_hashing,
    counter,
    make_counter,
    pg_server,
)

__all__ = ["CentralServer", "Counter", "make_counter"]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralServer]:
    """Every security test runs against central on SQLite and on PostgreSQL."""
    yield from central_on(request, tmp_path_factory)


def pending_wire(c: Counter, n: int = 100) -> list[WireRecord]:
    return [to_wire(r.record) for r in pending_batch(c.db, n).records]


def token_of(c: Counter) -> str:
    client = client_for_counter(c.db, config=FAST)
    token = client._token
    assert token
    return token


def post_records(c: Counter, records: list[object], **kw: object) -> requests.Response:
    return requests.post(
        c.central.url + PATH_RECORDS,
        json={"records": records},
        headers={"Authorization": f"Bearer {token_of(c)}"},
        timeout=30,
        **kw,  # type: ignore[arg-type]
    )


def resealed(c: Counter, wire: WireRecord, **changes: CanonicalValue) -> WireRecord:
    """`wire` with its body changed and sealed again with the counter's real key: a record the
    counter's key signed, whatever its content says."""
    body = {**wire["body"], **changes}
    key = load_signing_key(c.counter_id)
    return to_wire(seal(key, wire["seq"], wire["kind"], body, wire["prev_hash"]))


def central_id(c: Counter) -> str:
    with c.central.store.read() as s:
        return s.scalars(
            select(CentralCounter.id).where(CentralCounter.ledger_counter_id == c.counter_id)
        ).one()


def raw_key_forms(c: Counter) -> list[bytes]:
    key = load_signing_key(c.counter_id)
    return [key, base64.b64encode(key), key.hex().encode()]


@pytest.fixture
def second(tmp_path: Path, central: CentralServer) -> Iterator[Counter]:
    """Another counter, enrolled at the same central, with its own database and key."""
    from app.services.counter import init_counter
    from app.storage.db import open_database

    db: Database = open_database(tmp_path / "second.sqlite3")
    _, admin = init_counter(
        db,
        organisation="Bưu điện tỉnh Thái Nguyên",
        collection_point="Điểm thu Phú Lương",
        counter_code="TN-PL02",
        admin_username="quantri2",
        admin_full_name="Quản Trị Hai",
        admin_password="phuluong-hai-2026",
    )
    yield make_counter(db, admin, central)
    db.close()
