"""The reference central server's guarantees, driven over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from app.domain.codes import format_code
from app.domain.ledger import seal, to_wire
from app.secrets import load_signing_key
from app.services.outbox import pending_batch
from app.services.payments import void_payment
from app.services.rates import current_rate_table
from app.storage.models import OutboxItem, Participant, Payment, RateTableVersion
from central import feeds
from central.models import Flag
from sync.client import CentralClient
from sync.connection import client_for_counter
from sync.engine import Syncer
from sync.errors import ProtocolError
from sync.protocol import PATH_HEALTH, WireRecord
from tests.sync.conftest import (
    FAST,
    CentralServer,
    Counter,
    assert_consistent,
    central_on,
    central_payments,
    enrollment_code,
    first_timer,
    pg_server,  # noqa: F401  (fixture)
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralServer]:
    """Central's HTTP guarantees hold on SQLite and on a real PostgreSQL server."""
    yield from central_on(request, tmp_path_factory)


PAID = datetime(2026, 11, 21, 3, 15, tzinfo=UTC)  # 10:15 on 21/11/2026 in Hà Nội


def client_of(c: Counter) -> CentralClient:
    return client_for_counter(c.db, config=FAST)


def pending_wire(c: Counter, n: int = 100) -> list[WireRecord]:
    return [to_wire(r.record) for r in pending_batch(c.db, n).records]


def test_health_needs_no_token(central: CentralServer) -> None:
    resp = requests.get(central.url + PATH_HEALTH, timeout=5)
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok" and resp.json()["api_version"] == "v1"


def test_calls_without_a_valid_token_get_401(central: CentralServer) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        resp = requests.post(
            central.url + "/v1/records", json={"records": []}, headers=headers, timeout=5
        )
        assert resp.status_code == 401
        assert resp.headers.get("WWW-Authenticate") == "Bearer"


def test_enrollment_code_is_one_time_and_a_lost_answer_can_be_retried(counter: Counter) -> None:
    import base64
    import uuid

    from app.services.counter import get_counter

    code = enrollment_code(counter.central.store, counter.db)
    me = get_counter(counter.db)
    req = {
        "enrollment_code": code,
        "counter_id": counter.counter_id,
        "counter_code": me.counter_code,
        "organisation": me.organisation,
        "collection_point": me.collection_point,
        "receipt_series": me.receipt_series,
        "signing_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    }
    # a different key for an enrolled counter is refused, and the code is not used up
    resp = requests.post(counter.central.url + "/v1/enroll", json=req, timeout=5)
    assert resp.status_code == 409
    req["signing_key"] = base64.b64encode(load_signing_key(counter.counter_id)).decode()
    first = requests.post(counter.central.url + "/v1/enroll", json=req, timeout=5)
    assert first.status_code == 200
    # the same code, counter and key again (the answer was lost): the same enrolment
    again = requests.post(counter.central.url + "/v1/enroll", json=req, timeout=5)
    assert again.status_code == 200
    assert again.json()["central_counter_id"] == first.json()["central_counter_id"]
    # the used code is worth nothing for anyone else
    other = {**req, "counter_id": str(uuid.uuid4())}
    assert (
        requests.post(counter.central.url + "/v1/enroll", json=other, timeout=5).status_code == 401
    )


def test_retried_batch_is_duplicate_not_stored_twice(counter: Counter) -> None:
    counter.pay(3)
    records = pending_wire(counter)
    client = client_of(counter)
    first = client.upload(records)
    assert [r["status"] for r in first] == ["accepted"] * 3
    second = client.upload(records)
    assert [r["status"] for r in second] == ["duplicate"] * 3
    assert len(central_payments(counter)) == 3


def test_same_id_different_content_is_refused_flagged_and_kept(counter: Counter) -> None:
    counter.pay(1)
    original = pending_wire(counter)[0]
    client = client_of(counter)
    assert client.upload([original])[0]["status"] == "accepted"
    # A validly signed record (real key, correct hash) but different content under the same id.
    key = load_signing_key(counter.counter_id)
    body = {**original["body"], "amount": 1}
    forged = to_wire(seal(key, original["seq"], "payment", body, original["prev_hash"]))
    result = client.upload([forged])[0]
    assert (result["status"], result["reason_code"]) == ("rejected", "conflict")
    assert central_payments(counter)[str(original["body"]["id"])][0] == original["body"]["amount"]
    flags = [f for f in counter.flags() if f["kind"] == "conflict"]
    assert len(flags) == 1 and flags[0]["has_evidence"]
    with counter.central.store.read() as s:
        evidence = s.scalar(select(Flag.evidence).where(Flag.id == flags[0]["id"]))
    assert evidence is not None and json.loads(evidence)["body"]["amount"] == 1


def tamper_amount(db_path: Path, receipt_number: int, amount: int) -> None:
    """Edit the file behind the application's back, as a fraudster with the file would."""
    con = sqlite3.connect(db_path)
    try:
        con.execute("DROP TRIGGER payments_no_update")
        con.execute("DROP TRIGGER ledger_no_update")
        con.execute(
            "UPDATE payments SET amount = ? WHERE receipt_number = ?", (amount, receipt_number)
        )
        # A format-2 record travels as the body sealed in its ledger row: edit that too.
        con.execute(
            "UPDATE ledger SET body = json_set(body, '$.amount', ?) WHERE seq = "
            "(SELECT ledger_seq FROM payments WHERE receipt_number = ?)",
            (amount, receipt_number),
        )
        con.commit()
    finally:
        con.close()


def test_tampered_record_is_flagged_parked_and_the_rest_synced(
    counter: Counter, db_path: Path
) -> None:
    counter.pay(5)
    tamper_amount(db_path, 2, 10_000)
    report = Syncer(counter.db, config=FAST).run("test")
    assert (report.accepted, report.rejected, report.pending) == (4, 1, 0)
    states = counter.states()
    assert states == {"synced": 4, "rejected": 1}
    with counter.db.read() as s:
        parked = s.scalars(select(OutboxItem).where(OutboxItem.state == "rejected")).one()
    # receipt 2 is record 3: record 1 opened the shift (docs/SHIFTS.md)
    assert parked.ledger_seq == 3 and parked.last_error and "tampered" in parked.last_error
    kinds = sorted(str(f["kind"]) for f in counter.flags())
    assert kinds == ["gap", "tampered"]  # seq 3 never arrived: seq 4 shows a gap
    gap = next(f for f in counter.flags() if f["kind"] == "gap")
    assert (gap["seq"], gap["seq_to"]) == (3, 3)
    assert_consistent(counter, complete=False)
    assert len(central_payments(counter)) == 4


def test_gap_is_flagged_stored_anyway_and_resolved_when_filled(counter: Counter) -> None:
    counter.pay(4)
    # record 3 (the second payment; record 1 opened the shift) goes missing from the upload (a
    # misbehaving client)
    with counter.db.write() as s:
        s.execute(update(OutboxItem).where(OutboxItem.ledger_seq == 3).values(state="held"))
    Syncer(counter.db, config=FAST).run("test")
    assert len(central_payments(counter)) == 3
    [gap] = [f for f in counter.flags() if f["kind"] == "gap"]
    assert (gap["seq"], gap["seq_to"], gap["resolved_at"]) == (3, 3, None)
    with counter.db.write() as s:
        s.execute(update(OutboxItem).where(OutboxItem.ledger_seq == 3).values(state="pending"))
    Syncer(counter.db, config=FAST).run("test")
    [gap] = [f for f in counter.flags() if f["kind"] == "gap"]
    assert gap["resolved_at"] is not None
    assert not [f for f in counter.flags() if f["kind"] == "chain_break"]
    assert_consistent(counter)


def test_fork_and_chain_break_are_flagged(counter: Counter) -> None:
    counter.pay(2)
    records = pending_wire(counter)  # records 2 and 3 (1, the shift's opening, is synced)
    client = client_of(counter)
    client.upload(records)
    key = load_signing_key(counter.counter_id)
    # another record claiming seq 3: refused as a fork
    body = {**records[1]["body"], "id": "11111111-1111-4111-8111-111111111111"}
    fork = to_wire(seal(key, 3, "payment", body, records[0]["hash"]))
    assert client.upload([fork])[0]["reason_code"] == "fork"
    # seq 4 that does not link to seq 3: stored, flagged
    body4 = {**records[1]["body"], "id": "22222222-2222-4222-8222-222222222222"}
    broken = to_wire(seal(key, 4, "payment", body4, "f" * 64))
    assert client.upload([broken])[0]["status"] == "accepted"
    kinds = sorted(str(f["kind"]) for f in counter.flags())
    assert kinds == ["chain_break", "fork"]


def test_first_time_participant_gets_a_code_through_the_feed(counter: Counter) -> None:
    newcomer = first_timer(counter)
    counter.pay(2, payer=newcomer)
    counter.pay(1)
    report = Syncer(counter.db, config=FAST).run("test")
    assert report.codes_assigned == 1
    with counter.db.read() as s:
        person = s.scalars(select(Participant).where(Participant.id == newcomer.id)).one()
    assert person.ma_so_bhxh is not None and len(person.ma_so_bhxh) == 10
    assert person.ma_so_bhxh.isdigit()
    # the cursor moved: a second sync applies nothing new
    assert Syncer(counter.db, config=FAST).run("test").codes_assigned == 0
    # the payer can now look the payment up with the new code (simulated VSS portal)
    with counter.db.read() as s:
        p = s.scalars(select(Payment).where(Payment.participant_id == newcomer.id)).first()
    assert p is not None
    found = client_of(counter).lookup(format_code(p.confirmation_code), person.ma_so_bhxh)
    assert found["amount"] == p.amount and found["status"] == "valid"
    assert found["full_name"] == "Phạm Văn Lần Đầu"


def test_lookup_needs_both_code_and_ma_so_and_shows_voids(counter: Counter) -> None:
    [p] = counter.pay(1)
    void_payment(counter.db, receipt_number=1, reason="Khách đổi ý", supervisor=counter.supervisor)
    Syncer(counter.db, config=FAST).run("test")
    client = client_of(counter)
    found = client.lookup(p.confirmation_code, counter.payer.ma_so_bhxh or "")
    assert found["status"] == "voided" and found["amount"] == p.amount
    with pytest.raises(ProtocolError):
        client.lookup(p.confirmation_code, "0000000001")


def test_xn01_of_central(counter: Counter) -> None:
    counter.pay(2, now=PAID)
    counter.pay(1, now=datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    void_payment(
        counter.db, receipt_number=2, reason="Thu nhầm người", supervisor=counter.supervisor
    )
    Syncer(counter.db, config=FAST).run("test")
    resp = client_of(counter).xn01(date(2026, 11, 21))
    assert [r["receipt_number"] for r in resp["rows"]] == [1, 2]
    assert [r["voided"] for r in resp["rows"]] == [False, True]
    assert resp["count"] == 1 and resp["total"] == resp["rows"][0]["amount"]


def test_rates_published_at_central_reach_the_counter(counter: Counter, tmp_path: Path) -> None:
    doc = json.loads(Path("resources/rates/default.json").read_text(encoding="utf-8"))
    doc["version"] = "2026.07-test"
    doc["base_salary"].append({"effective_from": "2026-07-01", "value": 2_530_000})
    path = tmp_path / "rates.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    version, new = feeds.publish_rates(counter.central.store, path.read_text(encoding="utf-8"))
    assert new and version == "2026.07-test"
    report = Syncer(counter.db, config=FAST).run("test")
    assert "2026.07-test" in report.rates_installed
    assert current_rate_table(counter.db).version == "2026.07-test"
    with counter.db.read() as s:
        row = s.get(RateTableVersion, "2026.07-test")
    assert row is not None and row.source == "central"
    assert Syncer(counter.db, config=FAST).run("test").rates_installed == ()
