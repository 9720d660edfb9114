"""Shift records travel like payments: uploaded to a real central server on 127.0.0.1 (SQLite
and PostgreSQL), verified, stored in the counter's chain with no gap or break, while central's
Mẫu 01-XN stays payment-only (docs/SHIFTS.md)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.services.shifts import cash_move, close_shift, current_shift, open_shift
from app.storage.models import OutboxItem
from central.models import CentralCounter, Flag, LedgerRecord
from sync.connection import client_for_counter
from sync.engine import Syncer
from tests.sync.conftest import (
    FAST,
    CentralServer,
    Counter,
    central_on,
    pg_server,  # noqa: F401  (fixture)
)

PAID = datetime(2026, 11, 21, 3, 15, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralServer]:
    yield from central_on(request, tmp_path_factory)


def _held(c: Counter) -> tuple[CentralCounter, list[tuple[int, str]], list[str]]:
    with c.central.store.read() as s:
        counter = s.scalars(
            select(CentralCounter).where(CentralCounter.ledger_counter_id == c.counter_id)
        ).one()
        records = [
            (r.seq, r.kind)
            for r in s.execute(
                select(LedgerRecord.seq, LedgerRecord.kind)
                .where(LedgerRecord.counter_id == counter.id)
                .order_by(LedgerRecord.seq)
            )
        ]
        flags = list(s.scalars(select(Flag.kind).where(Flag.counter_id == counter.id)))
        s.expunge(counter)
        return counter, records, flags


def test_shift_records_sync_and_central_keeps_the_chain(counter: Counter) -> None:
    counter.pay(2, now=PAID)
    cash_move(
        counter.db,
        event="drop",
        amount=500_000,
        reason="nộp két giữa ca",
        supervisor=counter.supervisor,
        by=counter.cashier,
    )
    shift = current_shift(counter.db)
    assert shift is not None
    closed = close_shift(
        counter.db,
        by=counter.cashier,
        counts={500_000: shift.expected // 500_000},
        reason="thiếu tiền lẻ trong ngăn",
        supervisor=counter.supervisor,
    )
    assert closed.unsynced_at_close == 2  # closed offline: the count is signed and shown
    open_shift(counter.db, by=counter.cashier, total=0)
    Syncer(counter.db, config=FAST).run("test")
    with counter.db.read() as s:
        states = set(s.scalars(select(OutboxItem.state)))
    assert states == {"synced"}
    held, records, flags = _held(counter)
    assert records == [
        (1, "shift"),
        (2, "payment"),
        (3, "payment"),
        (4, "shift"),
        (5, "shift"),
        (6, "shift"),
    ]
    assert flags == []  # no gap, no chain break, nothing refused
    assert held.head_seq == 6
    # Central's Mẫu 01-XN: the two payments only.
    report = client_for_counter(counter.db, config=FAST).xn01(date(2026, 11, 21))
    assert [r["receipt_number"] for r in report["rows"]] == [1, 2]


def test_an_edited_shift_record_is_refused_as_tampered(counter: Counter, db_path: Path) -> None:
    counter.pay(1, now=PAID)
    close_shift(
        counter.db,
        by=counter.cashier,
        counts={500_000: 1},
        reason="thiếu tiền lẻ trong ngăn",
        supervisor=counter.supervisor,
    )
    con = sqlite3.connect(db_path)
    con.execute("DROP TRIGGER IF EXISTS ledger_no_update")
    body = con.execute("SELECT body FROM ledger WHERE seq = 3").fetchone()[0]
    con.execute(
        "UPDATE ledger SET body = ? WHERE seq = 3",
        (body.replace("trong ngăn", "trong két"),),
    )
    con.commit()
    con.close()
    Syncer(counter.db, config=FAST).run("test")
    with counter.db.read() as s:
        rejected = s.execute(
            select(OutboxItem.ledger_seq, OutboxItem.last_error).where(
                OutboxItem.state == "rejected"
            )
        ).all()
    assert [r.ledger_seq for r in rejected] == [3]
    _, records, flags = _held(counter)
    assert [seq for seq, _ in records] == [1, 2]
    assert flags == ["tampered"]
