"""Two counters register the same participant at once (several API workers): the second
insert waits for the first transaction and then skips the row (`INSERT … ON CONFLICT DO
NOTHING`) — the batch is stored, not answered with a 500 — and only the transaction whose row
was really inserted publishes the mã số it assigned. On SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from app.domain.chain import GENESIS
from central import auth
from central.clock import now_text
from central.ingest import ingest
from central.masterkey import MasterKeys
from central.models import CentralCounter, CentralParticipant, ParticipantChangeRow
from central.store import CentralStore, sqlite_url
from sync.protocol import UploadResponse
from tests.central.postgres import PostgresServer
from tests.central.simcounters import SimCounter


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CentralStore]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "central.sqlite3")
    else:
        pg: PostgresServer = request.getfixturevalue("pg_server")
        url = pg.create_database()
    s = CentralStore(url, keys=MasterKeys(os.urandom(32)))
    yield s
    s.close()
    if request.param == "postgresql":
        pg.drop_database(url)


def _enrol(store: CentralStore, c: SimCounter) -> str:
    who = {"organisation": "Bưu điện tỉnh Mô Phỏng", "collection_point": f"Điểm {c.number}"}
    code = auth.make_enrollment_code(store, counter_code=c.code, **who)
    answer = auth.enroll(
        store,
        {
            "enrollment_code": code,
            "counter_id": c.counter_id,
            "counter_code": c.code,
            "receipt_series": "SIM",
            "signing_key": base64.b64encode(c.key).decode("ascii"),
            **who,  # type: ignore[typeddict-item]
        },
    )
    return answer["api_token"]


def test_a_participant_registered_meanwhile_is_skipped_not_a_500(store: CentralStore) -> None:
    first, second = SimCounter(1), SimCounter(2)
    token = _enrol(store, second)
    _enrol(store, first)
    person = str(uuid.uuid4())
    record = second.payment(1, GENESIS, participant_id=person, first_time=True)
    first_id = f"QT-{first.number}"
    with store.read() as s:
        first_id = s.scalars(
            select(CentralCounter.id).where(CentralCounter.ledger_counter_id == first.counter_id)
        ).one()

    # Another transaction (the first counter's upload) registers the participant and has not
    # committed yet when the second counter's batch arrives.
    answer: list[UploadResponse] = []
    failure: list[BaseException] = []

    def upload() -> None:
        try:
            answer.append(ingest(store, token, [record]))
        except BaseException as exc:  # the test reports it below
            failure.append(exc)

    worker = threading.Thread(target=upload)
    with store.write() as s:
        s.execute(
            insert(CentralParticipant).values(
                participant_id=person,
                counter_id=first_id,
                full_name="Người nộp 1-1",
                ma_so_bhxh="7900000001",
                assigned_here=False,
                first_seen_at=now_text(),
            )
        )
        worker.start()
        worker.join(1.0)  # it waits for this transaction (a row lock, or SQLite's write lock)
        assert worker.is_alive() and not answer
    worker.join(60)
    assert not failure, failure
    [result] = answer[0]["results"]
    assert result["status"] == "accepted"
    with store.read() as s:
        rows = s.execute(
            select(CentralParticipant.counter_id, CentralParticipant.ma_so_bhxh).where(
                CentralParticipant.participant_id == person
            )
        ).all()
        changes = s.scalars(
            select(ParticipantChangeRow.participant_id).where(
                ParticipantChangeRow.participant_id == person
            )
        ).all()
    assert [tuple(r) for r in rows] == [(first_id, "7900000001")]  # the first registration
    assert changes == []  # the second counter's assigned code never took effect: not published


def test_a_first_time_participant_alone_still_gets_one_published_code(
    store: CentralStore,
) -> None:
    c = SimCounter(3)
    token = _enrol(store, c)
    person = str(uuid.uuid4())
    one = c.payment(1, GENESIS, participant_id=person, first_time=True)
    two = c.payment(2, one["hash"], participant_id=person, first_time=True)
    out = ingest(store, token, [one, two])
    assert [r["status"] for r in out["results"]] == ["accepted", "accepted"]
    with store.read() as s:
        [(ma_so, here)] = s.execute(
            select(CentralParticipant.ma_so_bhxh, CentralParticipant.assigned_here).where(
                CentralParticipant.participant_id == person
            )
        ).all()
        published = s.scalars(
            select(ParticipantChangeRow.ma_so_bhxh).where(
                ParticipantChangeRow.participant_id == person
            )
        ).all()
    assert here and published == [ma_so]
