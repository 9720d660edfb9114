"""The signing key is read from the keyring before the write transaction opens, never inside it.

A keyring call can take a D-Bus round trip or wait on an unlock prompt; inside `BEGIN IMMEDIATE`
it would keep every other writer (the window's next payment, a scheduled `quaythu sync`) waiting
on SQLite's write lock for that long. The probe below asks SQLite, at the moment the keyring is
called, whether another connection could take the write lock.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import keyring
import pytest

from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.secrets import forget_signing_keys
from app.services.common import Actor
from app.services.participants import ParticipantView
from app.services.payments import PaymentRequest, record_payment, void_payment
from app.storage.db import Database
from tests.support.keyrings import MemoryKeyring


class LockProbingKeyring(MemoryKeyring):
    """The memory keyring, noting for each read whether the database's write lock was free."""

    def __init__(self, db_path: Path, entries: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.db_path = db_path
        self.entries = dict(entries)
        self.lock_free_at_read: list[bool] = []
        self.names_read: list[str] = []

    def write_lock_free(self) -> bool:
        con = sqlite3.connect(self.db_path, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            con.close()

    def get_password(self, service: str, username: str) -> str | None:
        self.lock_free_at_read.append(self.write_lock_free())
        self.names_read.append(username.split(":")[0])
        return super().get_password(service, username)


@pytest.fixture
def probe(
    db: Database, db_path: Path, admin: Actor, memory_keyring: MemoryKeyring
) -> Iterator[LockProbingKeyring]:
    ring = LockProbingKeyring(db_path, memory_keyring.entries)
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(memory_keyring)


def request(payer: ParticipantView) -> PaymentRequest:
    return PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=payer.id,
        scheme=Scheme.BHXH_TN,
        income=1_500_000,
        support_category=SupportCategory.OTHER,
        method=PaymentMethod.YEARLY,
        start_month=date(2026, 12, 1),
    )


def test_the_probe_sees_a_held_write_lock(db: Database, probe: LockProbingKeyring) -> None:
    with db.write():
        assert probe.write_lock_free() is False
    assert probe.write_lock_free() is True


def test_payments_and_voids_read_the_key_outside_the_write_lock_once(
    db: Database,
    probe: LockProbingKeyring,
    cashier: Actor,
    supervisor: Actor,
    payer: ParticipantView,
) -> None:
    forget_signing_keys()  # as in a fresh process: the first payment reads the keyring
    first = record_payment(db, request(payer), by=cashier)
    bhyt = PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=payer.id,
        scheme=Scheme.BHYT_HGD,
        months=3,
    )
    record_payment(db, bhyt, by=cashier)  # a second payment: the key is not read again
    void_payment(db, receipt_number=first.receipt_number, reason="Thu nhầm", supervisor=supervisor)
    # The key is read once for the process (then cached), the ledger's head anchor once to
    # check writes against (docs/LEDGER.md) — each while no transaction held the lock.
    assert probe.names_read.count("signing-key") == 1
    assert "ledger-anchor" in probe.names_read
    assert probe.lock_free_at_read and all(probe.lock_free_at_read)
