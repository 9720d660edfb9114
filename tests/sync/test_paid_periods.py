"""Another counter's payments reach this counter's overlap rule: the real reference central on
127.0.0.1, two counters, each with its own database, keys and enrolment (docs/RULES.md R1)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import ValidationError
from app.services.common import Actor
from app.services.history import participant_history
from app.services.participants import ParticipantInput, create_participant
from app.services.payments import PaymentRequest, preview_payment, record_payment, void_payment
from app.storage.db import Database, open_database
from app.storage.models import CentralPaidPeriod
from sync.engine import Syncer
from sync.protocol import PATH_PAID_PERIODS
from tests.support.counters import COLLECTION_POINT, init_test_counter
from tests.sync.conftest import (
    FAST,
    CentralServer,
    Counter,
    central_on,
    first_timer,
    make_counter,
    pg_server,  # noqa: F401  (fixture)
)

DEC_1 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralServer]:
    """The feed's queries (a CCCD found inside the stored body) on SQLite and PostgreSQL."""
    yield from central_on(request, tmp_path_factory)


def yearly(pid: str, start: date | None = date(2026, 12, 1)) -> PaymentRequest:
    return PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=pid,
        scheme=Scheme.BHXH_TN,
        income=1_500_000,
        support_category=SupportCategory.OTHER,
        method=PaymentMethod.YEARLY,
        start_month=start,
    )


@pytest.fixture
def counter_b(tmp_path: Path, central: CentralServer) -> Iterator[Counter]:
    db = open_database(tmp_path / "counter-b.sqlite3")
    admin = init_test_counter(db, counter_code="TN-DH02", collection_point="Điểm thu xã Hóa Thượng")
    try:
        yield make_counter(db, admin, central)
    finally:
        db.close()


def sync(c: Counter) -> None:
    Syncer(c.db, config=FAST).run("test")


def central_rows(db: Database) -> list[tuple[str, date, date, str]]:
    with db.read() as s:
        return [
            (r.scheme, r.period_from, r.period_to, r.source)
            for r in s.scalars(select(CentralPaidPeriod).order_by(CentralPaidPeriod.id))
        ]


def test_counter_b_refuses_a_period_counter_a_paid_after_a_sync(
    counter: Counter, counter_b: Counter
) -> None:
    a, b = counter, counter_b
    # the same person registered at both counters: by mã số BHXH …
    same = create_participant(
        b.db,
        ParticipantInput(full_name="Lê Thị Mỹ Đào", ma_so_bhxh=a.payer.ma_so_bhxh),
        by=b.cashier,
    )
    # … and a first-timer known by CCCD only
    new_a = first_timer(a)
    new_b = create_participant(
        b.db,
        ParticipantInput(
            full_name=new_a.full_name,
            date_of_birth=new_a.date_of_birth,
            sex=new_a.sex,
            cccd=new_a.cccd,
        ),
        by=b.cashier,
    )
    paid = record_payment(a.db, yearly(a.payer.id), by=a.cashier, now=DEC_1)
    bhyt = record_payment(
        a.db,
        PaymentRequest(str(uuid.uuid4()), new_a.id, Scheme.BHYT_HGD, months=6),
        by=a.cashier,
        now=DEC_1,
    )
    # before any sync, counter B cannot know: it would take the same months again
    assert preview_payment(b.db, yearly(same.id), now=DEC_1).period_from == date(2026, 12, 1)
    sync(a)
    sync(b)

    with pytest.raises(ValidationError) as refused:
        record_payment(b.db, yearly(same.id), by=b.cashier, now=DEC_1 + timedelta(hours=2))
    assert "đã đóng các tháng 12/2026–11/2027" in refused.value.message
    with pytest.raises(ValidationError, match="đã đóng các tháng 12/2026"):
        record_payment(
            b.db,
            PaymentRequest(
                str(uuid.uuid4()),
                new_b.id,
                Scheme.BHYT_HGD,
                months=3,
                start_month=date(2026, 12, 1),
            ),
            by=b.cashier,
            now=DEC_1 + timedelta(hours=2),
        )
    # the default start continues after the months counter A took
    next_q = preview_payment(b.db, yearly(same.id, start=None), now=DEC_1 + timedelta(hours=2))
    assert next_q.period_from == date(2027, 12, 1)
    history = participant_history(b.db, same.id, now=DEC_1)
    assert history.scheme(Scheme.BHXH_TN).paid[0].text == "12/2026–11/2027"
    rows = central_rows(b.db)
    assert ("bhxh_tn", paid.period_from, paid.period_to, f"trung tâm: {COLLECTION_POINT}") in rows
    assert any(r[0] == "bhyt_hgd" and r[1] == bhyt.period_from for r in rows)

    # counter A voids its payment; after both sync, counter B may take those months
    void_payment(
        a.db, receipt_number=paid.receipt_number, reason="Thu nhầm người", supervisor=a.supervisor
    )
    sync(a)
    sync(b)
    assert all(r[0] != "bhxh_tn" for r in central_rows(b.db))
    taken = record_payment(b.db, yearly(same.id), by=b.cashier, now=DEC_1 + timedelta(hours=3))
    assert taken.period_from == date(2026, 12, 1)
    # B's own payment is not fed back to B (its own ledger has it)
    sync(b)
    assert all(r[0] != "bhxh_tn" for r in central_rows(b.db))
    # … but A now sees it
    sync(a)
    with pytest.raises(ValidationError, match="đã đóng các tháng 12/2026–11/2027"):
        record_payment(a.db, yearly(a.payer.id), by=a.cashier, now=DEC_1 + timedelta(hours=4))


def test_the_feed_is_authenticated_and_bounded(counter: Counter, admin: Actor) -> None:
    del admin
    url = counter.central.url + PATH_PAID_PERIODS
    people = {"people": [{"ma_so_bhxh": counter.payer.ma_so_bhxh, "cccd": None}]}
    assert requests.post(url, json=people, timeout=10).status_code == 401
    from app.secrets import get_secret
    from sync.connection import token_name

    token = get_secret(token_name(counter.counter_id))
    headers = {"Authorization": f"Bearer {token}"}
    ok = requests.post(url, json=people, headers=headers, timeout=10)
    assert ok.status_code == 200 and ok.json() == {"periods": []}
    bad = requests.post(
        url, json={"people": [{"ma_so_bhxh": "12ab", "cccd": None}]}, headers=headers, timeout=10
    )
    assert bad.status_code == 400 and "10 chữ số" in bad.json()["detail"]
    none = requests.post(
        url, json={"people": [{"ma_so_bhxh": None, "cccd": None}]}, headers=headers, timeout=10
    )
    assert none.status_code == 400
    many = {"people": [{"ma_so_bhxh": f"{i:010d}", "cccd": None} for i in range(501)]}
    assert requests.post(url, json=many, headers=headers, timeout=10).status_code == 413
