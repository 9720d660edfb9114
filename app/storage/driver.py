"""Statements through the sqlite3 driver, for `record_payment`'s hot path.

Same connection and same transaction as the session's; none of SQLAlchemy's per-statement work
(bench/bench_ledger.py compares record_payment with raw sqlite3 writing the same rows). Values go
in and come out as the column types of `app.storage.models` store them: an instant as canonical
UTC text (`UTCDateTime`), a date as `YYYY-MM-DD`, a boolean as 0/1.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy.orm import Session

from app.domain.canonical import utc_iso

_DRIVER = "quaythu.driver"  # session.info: (the transaction, its sqlite3 connection)


def driver(session: Session) -> sqlite3.Connection:
    """The sqlite3 connection of the session's open transaction (remembered for that
    transaction only: a session's next transaction may run on another connection)."""
    transaction = session.get_transaction()
    known = session.info.get(_DRIVER)
    if known is not None and transaction is not None and known[0] is transaction:
        return cast(sqlite3.Connection, known[1])
    con = cast(sqlite3.Connection, session.connection().connection.driver_connection)
    session.info[_DRIVER] = (session.get_transaction(), con)
    return con


# One payment stores the same instant in five places (body, ledger, payment, outbox, audit).
_instant_text = lru_cache(maxsize=64)(utc_iso)


_PLAIN = frozenset({str, int, type(None)})


def stored(value: Any) -> Any:
    """A Python value as its column stores it."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return _instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def as_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


_inserts: dict[tuple[str, tuple[str, ...]], str] = {}


def insert_row(con: sqlite3.Connection, table: str, row: Mapping[str, Any]) -> None:
    """INSERT one row of `table` given as column → Python value."""
    columns = tuple(row)
    sql = _inserts.get((table, columns))
    if sql is None:
        sql = _inserts[(table, columns)] = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
    con.execute(sql, tuple(stored(v) for v in row.values()))
