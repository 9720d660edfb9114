"""Moving a counter to a new PC, end to end with the real reference central on 127.0.0.1, on
SQLite and on PostgreSQL (docs/BACKUP.md; central's side: central/moves.py): the counter pays
and syncs, is backed up, restored into a new database with a fresh keyring, takes a new key
continuing the chain, re-enrols; its new records are refused until central's admin approves
the move; then everything arrives — every record exactly once, the chain verified under the
old key below the move and the new key from it. And the refusals: a wrong head, a fork, an
unapproved key, the old key after the move."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app import secrets
from app.domain.chain import GENESIS
from app.domain.codes import verify_code
from app.services.backup import make_backup, restore
from app.services.counter import get_counter
from app.services.operators import authenticate
from app.services.outbox import pending_count, rejected_items
from app.services.relocation import rekey_after_restore
from app.storage.db import open_database
from central import admin, moves
from central.errors import NotFound
from central.ingest.classify import CounterFacts, KeyEpoch
from central.models import CentralCounter, CounterKey, LedgerRecord
from sync.engine import Syncer
from sync.enroll import enroll_counter
from sync.errors import ProtocolError
from sync.protocol import PATH_ENROLL, PATH_RECORDS
from tests.central.simcounters import SimCounter
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME, CASHIER, SUPERVISOR
from tests.support.keyrings import MemoryKeyring
from tests.sync.conftest import (
    FAST,
    CentralServer,
    Counter,
    assert_consistent,
    central_on,
    enrollment_code,
    pg_server,  # noqa: F401  (fixture)
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralServer]:
    yield from central_on(request, tmp_path_factory)


def _central_chain(c: Counter) -> list[tuple[int, str, str, str, str]]:
    """(seq, id, prev_hash, hash, canonical body) of every record central holds, by seq."""
    with c.central.store.read() as s:
        rows = s.execute(
            select(
                LedgerRecord.seq,
                LedgerRecord.id,
                LedgerRecord.prev_hash,
                LedgerRecord.hash,
                LedgerRecord.body,
            )
            .join(CentralCounter, CentralCounter.id == LedgerRecord.counter_id)
            .where(CentralCounter.ledger_counter_id == c.counter_id)
            .order_by(LedgerRecord.seq)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _verify_at_central(c: Counter) -> None:
    """Central's copy of the chain: numbers 1..n once each, every link, every seal under the key
    its number must be sealed with (central's own verification rules)."""
    store = c.central.store
    with store.read() as s:
        counter = s.scalars(
            select(CentralCounter).where(CentralCounter.ledger_counter_id == c.counter_id)
        ).one()
        keys = moves.load_keys(store, s, counter)
        records = s.scalars(
            select(LedgerRecord)
            .where(LedgerRecord.counter_id == counter.id)
            .order_by(LedgerRecord.seq)
        ).all()
        facts = CounterFacts(
            counter.id,
            counter.ledger_counter_id,
            keys.first,
            epochs=tuple(KeyEpoch(e.from_seq, e.key, e.continues_from_hash) for e in keys.approved),
        )
        assert [r.seq for r in records] == list(range(1, len(records) + 1))
        prev = GENESIS
        for r in records:
            assert r.prev_hash == prev, f"record {r.seq} does not link"
            assert verify_code(facts.key_for(r.seq), json.loads(r.body), r.code), r.seq
            prev = r.hash
    assert counter.head_seq == len(records) and counter.head_hash == prev


def _post_enroll(c: Counter, code: str, key: bytes, **move: object) -> requests.Response:
    counter = get_counter(c.db)
    return requests.post(
        c.central.url + PATH_ENROLL,
        json={
            "enrollment_code": code,
            "counter_id": counter.counter_id,
            "counter_code": counter.counter_code,
            "organisation": counter.organisation,
            "collection_point": counter.collection_point,
            "receipt_series": counter.receipt_series,
            "signing_key": base64.b64encode(key).decode("ascii"),
            **move,
        },
        timeout=10,
    )


def _upload(c: Counter, token: str, records: list[object]) -> requests.Response:
    return requests.post(
        c.central.url + PATH_RECORDS,
        json={"records": records},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def _move_to_new_pc(
    c: Counter, tmp_path: Path, ring: MemoryKeyring
) -> tuple[Counter, dict[tuple[str, str], str]]:
    """Back up, restore on a "new PC" (empty keyring, new data folder), take the new key.
    Returns the counter on the new PC and the old PC's keyring entries."""
    copy = Path(make_backup(c.db, folder=tmp_path / "usb").path)
    old_ring = dict(ring.entries)
    ring.entries.clear()
    secrets.forget_signing_keys()
    new_path = tmp_path / "new-pc" / "quaythu.sqlite3"
    restore(copy, new_path)
    new = open_database(new_path)
    admin_ = authenticate(new, ADMIN_USERNAME, ADMIN_PASSWORD)
    moved = Counter(
        new,
        admin_,
        authenticate(new, CASHIER.username, CASHIER.password),
        authenticate(new, SUPERVISOR.username, SUPERVISOR.password),
        c.payer,
        c.counter_id,
        c.central,
    )
    rekey_after_restore(new, by=admin_)
    return moved, old_ring


def _old_key(old_ring: dict[tuple[str, str], str], counter_id: str) -> bytes:
    return base64.b64decode(old_ring[("QuayThu", f"signing-key:{counter_id}")])


def _old_pc_is_refused(
    moved: Counter, old_ring: dict[tuple[str, str], str], head_hash: str, ring: MemoryKeyring
) -> None:
    """After the move, the old PC's next record is refused and it cannot re-enrol."""
    central = moved.central
    counter = moved
    old_key = _old_key(old_ring, counter.counter_id)
    token = ring.entries[("QuayThu", f"api-token:{counter.counter_id}")]
    sim = SimCounter(0, key=old_key, counter_id=counter.counter_id)
    late = sim.payment(10, head_hash)  # after record 1 (the shift) and payments 2–9
    resp = _upload(moved, token, [late])
    assert resp.status_code == 200
    [item] = resp.json()["results"]
    assert (item["status"], item["reason_code"]) == ("rejected", "tampered")
    assert "khóa cũ" in item["reason"]
    kinds = [f["kind"] for f in admin.list_flags(central.store, counter=counter.counter_id)]
    assert kinds == ["old_key_after_move"]
    assert len(_central_chain(counter)) == 9
    refused = _post_enroll(moved, enrollment_code(central.store, moved.db), old_key)
    assert refused.status_code == 409 and "khóa cũ" in refused.json()["detail"]


def test_moved_counter_continues_after_approval_and_nothing_is_stored_twice(
    counter: Counter, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    central = counter.central
    counter.pay(4)
    Syncer(counter.db, config=FAST).run("test")
    counter.pay(2)  # 6 and 7 (record 1 is the shift's opening): in the backup as pending …
    moved, old_ring = _move_to_new_pc(counter, tmp_path, memory_keyring)
    old_db = counter.db
    try:
        # … and synced by the old PC after the backup was taken (its keyring still has them)
        assert len(_central_chain(counter)) == 5
        memory_keyring.entries, kept = dict(old_ring), memory_keyring.entries
        secrets.forget_signing_keys()
        Syncer(old_db, config=FAST).run("test")
        memory_keyring.entries = kept
        secrets.forget_signing_keys()
        assert len(_central_chain(counter)) == 7

        moved.pay(2)  # 8 and 9, sealed with the new key
        assert pending_count(moved.db) == 4  # 6, 7 (pending in the copy), 8, 9
        result = enroll_counter(
            moved.db, central.url, enrollment_code(central.store, moved.db), config=FAST
        )
        assert result.key_pending
        assert result.central_counter_id == counter.central_counter_id()  # the same counter
        [asked] = moves.list_moves(central.store, pending_only=True)
        assert (asked["counter"], asked["from_seq"], asked["status"]) == (
            result.central_counter_id,
            8,
            "pending",
        )

        # refused until the admin approves: nothing stored, nothing parked, all still queued
        with pytest.raises(ProtocolError, match="chờ quản trị trung tâm duyệt"):
            Syncer(moved.db, config=FAST).run("test")
        assert len(_central_chain(counter)) == 7
        assert pending_count(moved.db) == 4 and not rejected_items(moved.db)

        approved = moves.approve_move(central.store, counter.counter_id, by="Trần Văn Duyệt")
        assert (approved["status"], approved["decided_by"]) == ("approved", "Trần Văn Duyệt")
        report = Syncer(moved.db, config=FAST).run("test")
        assert (report.accepted, report.duplicate, report.rejected) == (2, 2, 0)
        assert pending_count(moved.db) == 0

        chain = _central_chain(counter)
        assert [r[0] for r in chain] == list(range(1, 10))
        assert len({r[1] for r in chain}) == 9  # every record once
        _verify_at_central(moved)
        assert_consistent(moved)
        assert not admin.list_flags(central.store, counter=counter.counter_id)
        again = Syncer(moved.db, config=FAST).run("test")
        assert (again.batches, again.accepted, again.duplicate) == (0, 0, 0)

        _old_pc_is_refused(moved, old_ring, chain[-1][3], memory_keyring)
    finally:
        moved.db.close()


def test_wrong_head_and_fork_are_refused_and_shown_to_the_admin(counter: Counter) -> None:
    central = counter.central
    counter.pay(3)
    Syncer(counter.db, config=FAST).run("test")
    chain = _central_chain(counter)
    new_key = os.urandom(32)

    wrong = _post_enroll(
        counter,
        enrollment_code(central.store, counter.db),
        new_key,
        key_from_seq=4,
        continues_from_seq=3,
        continues_from_hash="ab" * 32,
    )
    assert wrong.status_code == 409 and "mã băm đầu chuỗi" in wrong.json()["detail"]

    fork = _post_enroll(  # central already holds record 3 from the old PC
        counter,
        enrollment_code(central.store, counter.db),
        new_key,
        key_from_seq=3,
        continues_from_seq=2,
        continues_from_hash=chain[1][3],
    )
    assert fork.status_code == 409 and "rẽ nhánh" in fork.json()["detail"]

    bad = _post_enroll(  # the head named must be the record just before the new key
        counter,
        enrollment_code(central.store, counter.db),
        new_key,
        key_from_seq=4,
        continues_from_seq=2,
        continues_from_hash=chain[2][3],
    )
    assert bad.status_code == 400 and "continues_from_seq" in bad.json()["detail"]

    flags = admin.list_flags(central.store, counter=counter.counter_id)
    assert [f["kind"] for f in flags] == ["move_wrong_head", "fork"]
    assert all(f["has_evidence"] for f in flags)
    # no key recorded: the old one is still in force
    assert not [m for m in moves.list_moves(central.store) if m["counter"] == flags[0]["counter"]]
    assert Syncer(counter.db, config=FAST).run("test").rejected == 0
    counter.pay(1)
    assert Syncer(counter.db, config=FAST).run("test").accepted == 1


def test_unapproved_key_is_refused_until_a_decision_and_refusal_keeps_the_old_key(
    counter: Counter, tmp_path: Path
) -> None:
    central = counter.central
    counter.pay(2)
    Syncer(counter.db, config=FAST).run("test")
    chain = _central_chain(counter)
    new_key = os.urandom(32)
    enrolled = _post_enroll(
        counter,
        enrollment_code(central.store, counter.db),
        new_key,
        key_from_seq=4,  # record 1 is the shift's opening, 2 and 3 the payments
        continues_from_seq=3,
        continues_from_hash=chain[-1][3],
    )
    assert enrolled.status_code == 200 and enrolled.json()["key_status"] == "pending"
    token = enrolled.json()["api_token"]
    sim = SimCounter(0, key=new_key, counter_id=counter.counter_id)
    third = sim.payment(4, chain[-1][3])
    held = _upload(counter, token, [third])
    assert held.status_code == 423 and "chờ quản trị" in held.json()["detail"]
    assert len(_central_chain(counter)) == 3

    refused = moves.refuse_move(central.store, counter.counter_id, by="Lê Kiểm", reason="không rõ")
    assert refused["status"] == "refused"
    with pytest.raises(NotFound):
        moves.approve_move(central.store, counter.counter_id, by="Lê Kiểm")
    # refused: the record is checked against the key in force (the old one) — not the counter's
    resp = _upload(counter, token, [third])
    [item] = resp.json()["results"]
    assert (item["status"], item["reason_code"]) == ("rejected", "tampered")
    assert len(_central_chain(counter)) == 3
    with central.store.read() as s:
        statuses = s.scalars(
            select(CounterKey.status).where(CounterKey.counter_id == counter.central_counter_id())
        ).all()
    assert statuses == ["refused"]
