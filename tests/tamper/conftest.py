"""A counter's books to attack: real services write them, raw sqlite3 edits them.

The attacker has the database file and a SQLite shell but not the signing key (it is in the
keyring). `Attack` drops the append-only triggers first, as such a person would.

The books (ledger seq → record):
  1 the cashier's shift opened (docs/SHIFTS.md) · 2 payment #1 · 3 payment #2 · 4 payment #3
  (cash tendered) · 5 void of #2 · 6 payment #4 · 7 payment #5 · 8 void of #4 ·
  9–13 payments #6–#10
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.services.common import Actor
from app.services.participants import ParticipantView, create_participant
from app.services.payments import (
    PaymentRequest,
    PaymentView,
    get_payment,
    record_payment,
    void_payment,
)
from app.services.verify import VerifyReport, verify_ledger
from app.storage.db import Database
from tests.cli.conftest import Cli
from tests.support.counters import (
    CASHIER,
    PAYER,
    SUPERVISOR,
    add_staff,
    cheap_password_hashing,
    init_test_counter,
    open_test_shift,
)
from tests.support.names import GIVEN
from ui.logs import stop_logging

GUARDED = ("ledger", "payments", "voids", "audit_events")


def request(payer: ParticipantView, **kw: Any) -> PaymentRequest:
    base: dict[str, Any] = dict(
        client_request_id=str(uuid.uuid4()),
        participant_id=payer.id,
        scheme=Scheme.BHXH_TN,
        income=1_500_000,
        support_category=SupportCategory.POOR,  # the state's support: support months count
        method=PaymentMethod.QUARTERLY,
        start_month=None,
    )
    base.update(kw)
    return PaymentRequest(**base)


class Attack:
    """Raw sqlite3 on the counter's file, guards dropped, foreign keys off (sqlite3's default)."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path)
        for table in GUARDED:
            self.con.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            self.con.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")

    def __call__(self, sql: str, *params: object) -> list[Any]:
        return self.con.execute(sql, params).fetchall()

    def one(self, sql: str, *params: object) -> Any:
        return self.con.execute(sql, params).fetchone()[0]

    def done(self) -> None:
        self.con.commit()
        self.con.close()


@dataclass
class Books:
    db: Database
    path: Path
    cli: Cli
    cashier: Actor
    supervisor: Actor
    payer: ParticipantView
    # One payer per payment: each pays the quarter from this month, so no payment repeats a
    # month or runs further ahead than the rules allow (docs/RULES.md).
    others: list[ParticipantView] = field(default_factory=list)
    paid: int = 0

    def attack(self) -> Attack:
        return Attack(self.path)

    def pay(self, **kw: Any) -> int:
        who = ([self.payer, *self.others])[self.paid % (1 + len(self.others))]
        self.paid += 1
        return record_payment(self.db, request(who, **kw), by=self.cashier).receipt_number

    def pay_view(self, receipt_number: int) -> PaymentView:
        return get_payment(self.db, receipt_number)

    def void(self, receipt_number: int) -> None:
        void_payment(
            self.db,
            receipt_number=receipt_number,
            reason="Thu nhầm người",
            supervisor=self.supervisor,
            requested_by=self.cashier,
        )

    def caught(
        self, kind: str, record: int | None, column: str | None = None, **more: Any
    ) -> VerifyReport:
        """`verify` — the service and `quaythu verify` in-process — exits 1 and reports a
        finding of `kind` naming `record` (and `column`)."""
        report = verify_ledger(self.db)
        assert not report.ok
        wanted = {"kind": kind, "record": record, "column": column, **more}
        found = [vars(f) for f in report.findings]
        assert any(all(f[k] == v for k, v in wanted.items()) for f in found), found
        done = self.cli("verify", "--json")
        assert done.returncode == 1, done.stderr
        listed = json.loads(done.stdout)["findings"]
        assert any(all(f[k] == v for k, v in wanted.items()) for f in listed), listed
        text = self.cli("verify")
        assert text.returncode == 1
        assert "SỔ THU KHÔNG TOÀN VẸN" in text.stderr
        assert "None" not in text.stderr
        return report


@pytest.fixture
def books(db: Database, db_path: Path, tmp_path: Path) -> Iterator[Books]:
    cli = Cli(tmp_path)
    assert cli.db == db_path
    with cheap_password_hashing():  # the books are what is under test, not argon2's cost
        admin = init_test_counter(db)
        cashier = add_staff(db, admin, CASHIER)
        supervisor = add_staff(db, admin, SUPERVISOR)
    open_test_shift(db, cashier)
    payer = create_participant(db, PAYER, by=cashier)
    others = [
        create_participant(
            db,
            replace(
                PAYER,
                full_name=f"Lê Thị {GIVEN[i]}",
                cccd=f"019185{1235 + i:06d}",
                ma_so_bhxh=f"01234{56790 + i}",
            ),
            by=cashier,
        )
        for i in range(15)
    ]
    b = Books(db, db_path, cli, cashier, supervisor, payer, others)
    b.pay()
    b.pay()
    b.pay(tendered=5_000_000)
    b.void(2)
    b.pay()
    b.pay()
    b.void(4)
    for _ in range(5):
        b.pay()
    assert verify_ledger(db).ok
    assert cli("verify").returncode == 0
    yield b
    stop_logging()
