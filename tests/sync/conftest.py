"""Sync test fixtures: the real reference central server on 127.0.0.1, enrolled counters.

One central server (uvicorn in a thread, its own SQLite file) serves the whole session; every
test makes its own counter (own database, own keys, own enrolment), so tests never see each
other's records. `assert_consistent` is the recovery invariant every fault test ends with.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from app.domain import passwords
from app.domain.types import Scheme, Sex
from app.services.common import Actor
from app.services.counter import get_counter
from app.services.participants import ParticipantInput, ParticipantView, create_participant
from app.services.payments import PaymentRequest, PaymentView, record_payment
from app.storage.db import Database
from app.storage.models import LedgerEntry, OutboxItem, Payment
from central import admin, auth
from central.api import create_app
from central.limits import AttemptLimit
from central.masterkey import MasterKeys
from central.models import CentralCounter, LedgerRecord
from central.store import CentralStore
from sync.backoff import RetryPolicy
from sync.config import SyncConfig
from sync.engine import Syncer
from sync.enroll import enroll_counter
from tests.central.postgres import PostgresServer
from tests.support.counters import (
    CASHIER,
    SUPERVISOR,
    add_staff,
    cheap_password_hasher,
    open_test_shift,
)
from tests.support.processes import ROOT as ROOT  # the sync tests import it from here
from tests.support.processes import child_env

FAST_RETRY = RetryPolicy(base=0.05, cap=0.4, attempts=6, max_inline_wait=5.0)
FAST = SyncConfig(
    batch_size=3,
    connect_timeout=1.0,
    read_timeout=2.0,
    retry=FAST_RETRY,
    lease_ttl=20.0,
    interval=300.0,
    offline_probe_interval=0.2,
    probe_timeout=0.5,
    busy_retry=0.3,
    sync_after_change=None,
    reconcile_at=None,
)


class CentralServer:
    """uvicorn serving the reference app on a free loopback port, in a daemon thread, over a
    SQLite file (`db_path`) or any database URL (`url`, e.g. PostgreSQL)."""

    def __init__(
        self,
        db_path: Path | None = None,
        *,
        url: str | None = None,
        keys: MasterKeys | None = None,
        enroll_limit: AttemptLimit | None = None,
    ) -> None:
        if url is not None:
            self.store = CentralStore(url, keys=keys or MasterKeys(os.urandom(32)))
        else:
            assert db_path is not None
            self.store = CentralStore.at_path(db_path, keys=keys)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            # The session's server: tests fail enrolments on purpose from the one loopback
            # address, so its limit is high; tests/security proves the real limit on its own.
            create_app(self.store, enroll_limit=enroll_limit or AttemptLimit(attempts=100_000)),
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("central server did not start")
            time.sleep(0.02)

    @property
    def engine(self) -> str:
        return "sqlite" if self.store.is_sqlite else "postgresql"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.store.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server for the session (tests/central/postgres.py)."""
    server = PostgresServer()
    yield server
    server.stop()


def central_on(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralServer]:
    """A central server on the engine `request.param` names ("sqlite" or "postgresql"): the
    body of the fixtures that run central's tests on both."""
    if request.param == "sqlite":
        server = CentralServer(tmp_path_factory.mktemp("central") / "central.sqlite3")
        yield server
        server.stop()
        return
    pg: PostgresServer = request.getfixturevalue("pg_server")
    url = pg.create_database()
    server = CentralServer(url=url)
    yield server
    server.stop()
    pg.drop_database(url)


@pytest.fixture(scope="session")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CentralServer]:
    server = CentralServer(tmp_path_factory.mktemp("central") / "central.sqlite3")
    yield server
    server.stop()


@dataclass
class Counter:
    """A counter under test: its database, its people, and its enrolment at central."""

    db: Database
    admin: Actor
    cashier: Actor
    supervisor: Actor
    payer: ParticipantView
    counter_id: str
    central: CentralServer

    def pay(
        self, n: int = 1, *, payer: ParticipantView | None = None, **kw: object
    ) -> list[PaymentView]:
        out = []
        for _ in range(n):
            req = PaymentRequest(
                client_request_id=str(uuid.uuid4()),
                participant_id=(payer or self.payer).id,
                scheme=Scheme.BHYT_HGD,
                member_order=1,
                months=3,  # no start month: each card runs on from the one before
            )
            out.append(record_payment(self.db, req, by=self.cashier, **kw))  # type: ignore[arg-type]
        return out

    def central_counter_id(self) -> str:
        with self.central.store.read() as s:
            return s.scalars(
                select(CentralCounter.id).where(CentralCounter.ledger_counter_id == self.counter_id)
            ).one()

    def flags(self) -> list[dict[str, object]]:
        return admin.list_flags(self.central.store, counter=self.counter_id)

    def states(self) -> dict[str, int]:
        """The outbox states of the payments and voids (shift records aside)."""
        with self.db.read() as s:
            out: dict[str, int] = {}
            for state in s.scalars(select(OutboxItem.state).where(OutboxItem.kind != "shift")):
                out[state] = out.get(state, 0) + 1
            return out


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operators are set up for every test here; argon2's production cost is not under test."""
    monkeypatch.setattr(passwords, "_hasher", cheap_password_hasher())


def enrollment_code(store: CentralStore, db: Database, **kw: object) -> str:
    """A one-time enrolment code issued, as central's admin does, for the counter of `db`."""
    c = get_counter(db)
    return auth.make_enrollment_code(
        store,
        organisation=c.organisation,
        collection_point=c.collection_point,
        counter_code=c.counter_code,
        **kw,  # type: ignore[arg-type]
    )


def make_counter(
    db: Database, admin: Actor, central: CentralServer, *, enroll: bool = True
) -> Counter:
    cashier = add_staff(db, admin, CASHIER, log_in=False)
    supervisor = add_staff(db, admin, SUPERVISOR, log_in=False)
    open_test_shift(db, cashier)  # record 1 (docs/SHIFTS.md)
    payer = create_participant(
        db,
        ParticipantInput(full_name="Lê Thị Mỹ Đào", ma_so_bhxh=f"{uuid.uuid4().int % 10**10:010d}"),
        by=cashier,
    )
    counter_id = get_counter(db).counter_id
    if enroll:
        code = enrollment_code(central.store, db, label="test")
        enroll_counter(db, central.url, code, config=FAST)
        Syncer(db, config=FAST).run("set-up")  # the shift's opening is at central already
    return Counter(db, admin, cashier, supervisor, payer, counter_id, central)


@pytest.fixture
def counter(db: Database, admin: Actor, central: CentralServer) -> Counter:
    return make_counter(db, admin, central)


def first_timer(c: Counter, *, name: str = "Phạm Văn Lần Đầu") -> ParticipantView:
    """A first-time participant: CCCD, date of birth and sex, no mã số BHXH yet."""
    return create_participant(
        c.db,
        ParticipantInput(
            full_name=name,
            date_of_birth=date(1990, 5, 17),
            sex=Sex.MALE,
            cccd=f"001090{uuid.uuid4().int % 10**6:06d}",
        ),
        by=c.cashier,
    )


def central_payments(c: Counter) -> dict[str, tuple[int | None, str, str]]:
    """id → (amount, code, hash) of the payments central holds for this counter."""
    with c.central.store.read() as s:
        cid = s.scalars(
            select(CentralCounter.id).where(CentralCounter.ledger_counter_id == c.counter_id)
        ).one()
        rows = s.execute(
            select(
                LedgerRecord.id, LedgerRecord.amount, LedgerRecord.code, LedgerRecord.hash
            ).where(LedgerRecord.counter_id == cid, LedgerRecord.kind == "payment")
        ).all()
    out: dict[str, tuple[int | None, str, str]] = {}
    for r in rows:
        assert r.id not in out, f"payment {r.id} stored twice at central"
        out[r.id] = (r.amount, r.code, r.hash)
    return out


def central_record_ids(c: Counter) -> dict[str, str]:
    with c.central.store.read() as s:
        cid = s.scalars(
            select(CentralCounter.id).where(CentralCounter.ledger_counter_id == c.counter_id)
        ).one()
        return {
            r[0]: r[1]
            for r in s.execute(
                select(LedgerRecord.id, LedgerRecord.hash).where(LedgerRecord.counter_id == cid)
            )
        }


def assert_consistent(c: Counter, *, complete: bool = True) -> None:
    """Nothing is marked synced that central lacks; with `complete`, every local payment is at
    central exactly once with the same amount and code."""
    held = central_record_ids(c)
    with c.db.read() as s:
        synced = s.execute(
            select(OutboxItem.record_id, LedgerEntry.hash)
            .join(LedgerEntry, LedgerEntry.seq == OutboxItem.ledger_seq)
            .where(OutboxItem.state == "synced")
        ).all()
        local = {
            p.id: (p.amount, p.confirmation_code, p.ledger_seq) for p in s.scalars(select(Payment))
        }
        hashes = {r[0]: r[1] for r in s.execute(select(LedgerEntry.seq, LedgerEntry.hash))}
    for record_id, h in synced:
        assert held.get(record_id) == h, f"{record_id} marked synced but central lacks it"
    if complete:
        at_central = central_payments(c)
        assert set(at_central) == set(local), "payment sets differ"
        for pid, (amount, code, seq) in local.items():
            assert at_central[pid] == (amount, code, hashes[seq])
        assert c.states().get("pending", 0) == 0


# --- subprocesses -------------------------------------------------------------------------------


class Shell:
    """Runs `python -m ui.cli …` against a test's database with a file keyring shared with the
    test process (the test's in-memory keyring entries are copied into it)."""

    def __init__(self, tmp: Path, db_path: Path, ring: object) -> None:
        self.db_path = db_path
        self.keyring_file = tmp / "keyring.json"
        entries = getattr(ring, "entries", {})
        self.keyring_file.write_text(
            json.dumps({f"{svc}\x00{user}": pw for (svc, user), pw in entries.items()})
        )
        self.env = child_env(tmp, self.keyring_file)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ui.cli", *args, "--db", str(self.db_path)]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def shell(tmp_path: Path, db_path: Path, memory_keyring: object, counter: Counter) -> Shell:
    return Shell(tmp_path, db_path, memory_keyring)


def wait_for(predicate: object, timeout: float = 20.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(step)
    raise AssertionError("condition not reached in time")


def utc(*args: int) -> datetime:
    from datetime import UTC

    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
