"""A record whose fields do not fit central's columns is refused as `invalid`, naming the field,
on both engines — PostgreSQL enforces VARCHAR lengths and INTEGER ranges where SQLite would
quietly store anything, so without the check the same upload would be a 500 there. Amounts are
BIGINT: a large one is stored exactly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.domain.chain import GENESIS
from app.domain.ledger import SealedRecord, seal, to_wire
from central import auth
from central.errors import CentralError
from central.ingest import ingest
from central.models import CentralCounter, LedgerRecord
from central.store import CentralStore
from tests.support.ledgers import SimulatedCounter


@pytest.fixture
def store(central_url: str) -> Iterator[CentralStore]:
    s = CentralStore(central_url)
    yield s
    s.close()


def resealed(sim: SimulatedCounter, record: SealedRecord, **changes: object) -> SealedRecord:
    return seal(sim.key, record.seq, "payment", {**record.body, **changes}, GENESIS)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"payer_name": "Nguyễn " * 40}, "payer_name"),
        ({"ma_so_bhxh": "01234567890"}, "ma_so_bhxh"),
        ({"business_date": "2026-11-21T00:00"}, "business_date"),
        ({"participant_id": "p" * 37}, "participant_id"),
        ({"receipt_number": 2**31}, "receipt_number"),
    ],
)
def test_a_field_too_big_for_its_column_is_invalid(
    store: CentralStore, changes: dict[str, object], field: str
) -> None:
    sim = SimulatedCounter(1)
    counter = auth.authenticate(
        store, auth.enroll(store, sim.enroll_request(auth.make_enrollment_code(store)))["api_token"]
    )
    record = resealed(sim, sim.day(1)[0], **changes)
    (result,) = ingest(store, counter, [to_wire(record)])["results"]
    assert result["status"] == "rejected" and result["reason_code"] == "invalid"
    assert f"trường {field}" in (result["reason"] or "")
    with store.read() as s:
        assert s.get(LedgerRecord, str(record.body["id"])) is None


def test_a_large_amount_is_stored_exactly(store: CentralStore) -> None:
    sim = SimulatedCounter(2)
    counter = auth.authenticate(
        store, auth.enroll(store, sim.enroll_request(auth.make_enrollment_code(store)))["api_token"]
    )
    record = resealed(sim, sim.day(1)[0], amount=3_456_789_012)  # above 32-bit INTEGER
    (result,) = ingest(store, counter, [to_wire(record)])["results"]
    assert result["status"] == "accepted"
    with store.read() as s:
        row = s.get(LedgerRecord, str(record.body["id"]))
        assert row is not None and row.amount == 3_456_789_012


@pytest.mark.parametrize(
    ("field", "value"),
    [("counter_code", "TN-" + "9" * 30), ("collection_point", "Điểm thu " * 30)],
)
def test_an_enrolment_field_too_long_is_refused_naming_it(
    store: CentralStore, field: str, value: str
) -> None:
    sim = SimulatedCounter(3)
    request = {**sim.enroll_request(auth.make_enrollment_code(store)), field: value}
    with pytest.raises(CentralError) as info:
        auth.enroll(store, request)  # type: ignore[arg-type]
    assert info.value.status_code == 400 and f"trường {field}" in info.value.detail
    with store.read() as s:
        assert s.scalars(select(CentralCounter)).all() == []
