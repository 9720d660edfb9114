"""Stage 4 of ingest: what central holds, read before classifying, and what it keeps after.

Rows are inserted once and never updated (`records`); flags keep refused submissions as
evidence; the counter's head moves forward only. Two checks that need the stored ledger run
here after the insert: a void must name a payment of the same counter with its code.

SIMULATED VSS STEP: a payment whose body has no mã số BHXH (a first-time participant) gets a
fresh random 10-digit code for its participant id, once; it is published in the participant
changes feed. The real assignment is done by Vietnam Social Security; this reference server only
stands in for it so the counter's pick-up path can be built and tested.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import psycopg
from sqlalchemy import Insert, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.domain.rates import RateTable, load_default_rate_table
from central.ingest.classify import Held, HeldRecord, Link
from central.ingest.content import RateBook
from central.ingest.continuity import FlagNote
from central.ingest.parse import ParsedRecord
from central.models import (
    CentralCounter,
    CentralParticipant,
    CounterKey,
    Flag,
    LedgerRecord,
    ParticipantChangeRow,
    PublishedRateTable,
)
from central.moves import APPROVED, PENDING

_CHUNK = 500


@lru_cache(maxsize=64)
def _table(body: str, digest: str) -> RateTable:
    del digest  # part of the cache key only
    return RateTable.from_json(body)


@lru_cache(maxsize=1)
def _shipped_table() -> RateTable:
    return load_default_rate_table()


def load_rates(s: Session, versions: Sequence[str]) -> RateBook:
    """The rate tables a batch's payments name that central knows: the ones it published and
    the one shipped with the app. Parsed once per process (a published version never changes)."""
    shipped = _shipped_table()
    book: dict[str, RateTable] = {shipped.version: shipped}
    wanted = sorted(set(versions) - {shipped.version})
    for start in range(0, len(wanted), _CHUNK):
        for row in s.execute(
            select(PublishedRateTable.version, PublishedRateTable.body).where(
                PublishedRateTable.version.in_(wanted[start : start + _CHUNK])
            )
        ):
            digest = hashlib.sha256(row.body.encode("utf-8")).hexdigest()
            book[row.version] = _table(row.body, digest)
    return book


def _pg(s: Session) -> psycopg.Connection[Any] | None:
    """The session's own psycopg connection (same transaction) on PostgreSQL, else None.

    The upload's hot path speaks to PostgreSQL in plain SQL over it: statements of constant
    text, which psycopg prepares on the server after a few uses, with none of the ORM's or the
    SQL compiler's work per batch (about a third of a batch's CPU before). Other databases
    (SQLite) take the SQLAlchemy statements beside each."""
    if s.get_bind().dialect.name != "postgresql":
        return None
    return cast("psycopg.Connection[Any]", s.connection().connection.driver_connection)


def _by_ids(table: str, key: str, columns: str) -> str:
    """`SELECT columns FROM table` for the keys in one text-array parameter, one index probe
    per key whatever PostgreSQL believes of the table's size.

    The plain `key = ANY(%s)` lets the planner scan the table instead when it thinks it small:
    a new central's tables have no statistics for a minute or so, and their rows are then
    guessed from their pages — the benchmark found the participants' look-up scanning 20,000
    rows per batch (1 ms of PostgreSQL's CPU, against 0.2 ms by the index). A `LATERAL`
    sub-select that cannot be flattened (`OFFSET 0`) is a nested loop over the keys."""
    outer = ", ".join(f"t.{c}" for c in columns.split(", "))
    return (
        f"SELECT {outer} FROM unnest(%s::text[]) AS wanted(key) CROSS JOIN LATERAL "
        f"(SELECT {columns} FROM {table} WHERE {key} = wanted.key OFFSET 0) AS t"
    )


@dataclass
class LockedCounter:
    """The uploading counter's row, read under its lock (`lock_counter_by_token`)."""

    id: str
    ledger_counter_id: str
    signing_key: str
    head_seq: int
    head_hash: str
    moved: bool  # it has keys from a move to a new PC (`counter_keys`, central.moves) to load


_LOCK_BY_TOKEN = (
    "SELECT c.id, c.ledger_counter_id, c.signing_key, c.head_seq, c.head_hash, "
    "EXISTS (SELECT 1 FROM counter_keys k WHERE k.counter_id = c.id "
    f"AND k.status IN ('{PENDING}', '{APPROVED}')) "
    "FROM counters c WHERE c.token_hash = %s FOR UPDATE OF c"
)


def lock_counter_by_token(s: Session, token_hash: str) -> LockedCounter | None:
    """The counter whose API token hashes to `token_hash`, its row locked — authentication
    and the upload's lock in one statement: on PostgreSQL `SELECT … FOR UPDATE` serialises the
    uploads of one counter (SQLite is already serialised by BEGIN IMMEDIATE); the chain checks
    rely on it. None: no such token."""
    raw = _pg(s)
    if raw is not None:
        found = raw.execute(_LOCK_BY_TOKEN, (token_hash,)).fetchone()
    else:
        moved = (
            select(CounterKey.id)
            .where(
                CounterKey.counter_id == CentralCounter.id,
                CounterKey.status.in_((PENDING, APPROVED)),
            )
            .exists()
        )
        found = s.execute(
            select(
                CentralCounter.id,
                CentralCounter.ledger_counter_id,
                CentralCounter.signing_key,
                CentralCounter.head_seq,
                CentralCounter.head_hash,
                moved,
            )
            .where(CentralCounter.token_hash == token_hash)
            .with_for_update(of=CentralCounter)
        ).one_or_none()
    if found is None:
        return None
    counter_id, ledger_counter_id, signing_key, head_seq, head_hash, has_keys = found
    return LockedCounter(
        counter_id, ledger_counter_id, signing_key, int(head_seq), head_hash, bool(has_keys)
    )


def insert_ignoring_duplicates(s: Session, table: type[object]) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` in the session's dialect (PostgreSQL or SQLite)."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


_HELD_COLUMNS = "id, counter_id, seq, body, code, prev_hash, hash"
_HELD_BY_IDS = _by_ids("records", "id", _HELD_COLUMNS)


def _held_rows(
    s: Session, counter_id: str, ids: Sequence[str], near: tuple[int, int] | None
) -> tuple[Sequence[tuple[Any, ...]], int]:
    """Stored rows (`_HELD_COLUMNS`) under the ids, and — `near` (lo, hi) — the counter's
    between lo and hi and the highest number it holds under lo (0: none; with `near` only)."""
    raw = _pg(s)
    below: int | None = None
    if raw is not None:
        sql = _HELD_BY_IDS
        params: list[object] = [list(ids)]
        if near is not None:  # one round trip for all three (a row may come twice: no matter)
            sql += (
                f" UNION ALL SELECT {_HELD_COLUMNS} FROM records"
                " WHERE counter_id = %s AND seq BETWEEN %s AND %s"
                " UNION ALL SELECT NULL, NULL, max(seq), NULL, NULL, NULL, NULL FROM records"
                " WHERE counter_id = %s AND seq < %s"
            )
            params += [counter_id, *near, counter_id, near[0]]
        # planned at each run: a generic plan made while the table was small would stay
        rows = raw.execute(sql, params, prepare=False).fetchall()
        if near is not None:
            below = next((row[2] for row in rows if row[0] is None), None)
            rows = [row for row in rows if row[0] is not None]
        return rows, below or 0
    where: ColumnElement[bool] = LedgerRecord.id.in_(ids)
    if near is not None:
        where = or_(
            where,
            (LedgerRecord.counter_id == counter_id) & LedgerRecord.seq.between(*near),
        )
        below = s.scalar(
            select(func.max(LedgerRecord.seq)).where(
                LedgerRecord.counter_id == counter_id, LedgerRecord.seq < near[0]
            )
        )
    columns = [getattr(LedgerRecord, name) for name in _HELD_COLUMNS.split(", ")]
    return [tuple(row) for row in s.execute(select(*columns).where(where))], below or 0


def load_held(
    s: Session, counter_id: str, parsed: Sequence[ParsedRecord], *, head_seq: int | None = None
) -> Held:
    """The stored records the batch's ids name, and the counter's chain around its numbers —
    one query for both (up to `_CHUNK` ids), and the highest number held under them.

    `head_seq` (the counter's head, read under its lock) saves work in the usual case of a
    batch above everything stored: nothing is stored above the head, and the highest number
    under the batch is then the head itself."""
    wanted = {p.id for p in parsed}
    ids = list(wanted)
    void_targets = _void_targets(s, parsed)
    if not parsed:
        return Held({}, {})
    lo = min(p.seq for p in parsed) - 1
    hi = max(p.seq for p in parsed) + 1
    above_head = head_seq is not None and head_seq < lo  # nothing is stored above the head
    below = head_seq if head_seq is not None and above_head else 0
    by_id: dict[str, HeldRecord] = {}
    by_seq: dict[int, Link] = {}
    for start in range(0, max(len(ids), 1), _CHUNK):
        near = None if above_head or start > 0 else (lo, hi)
        rows, under = _held_rows(s, counter_id, ids[start : start + _CHUNK], near)
        if near is not None:
            below = under
        for row_id, row_counter, seq, body, code, prev_hash, link in rows:
            if row_id in wanted:
                by_id[row_id] = HeldRecord(row_counter, (body, seq, code, prev_hash, link))
            if row_counter == counter_id and lo <= seq <= hi:
                by_seq[seq] = Link(row_id, prev_hash, link)
    return Held(by_id, by_seq, below, void_targets)


def _void_targets(s: Session, parsed: Sequence[ParsedRecord]) -> dict[str, str]:
    """For each stored payment a void of the batch names: central's id of its counter."""
    ids = list({p.void.payment_id for p in parsed if p.void is not None})
    out: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        for row in s.execute(
            select(LedgerRecord.id, LedgerRecord.counter_id).where(
                LedgerRecord.id.in_(ids[start : start + _CHUNK]), LedgerRecord.kind == "payment"
            )
        ):
            out[row.id] = row.counter_id
    return out


def _row(counter_id: str, p: ParsedRecord, now: str) -> dict[str, object]:
    r = p.record
    return {
        "id": p.id,
        "counter_id": counter_id,
        "seq": r.seq,
        "kind": r.kind,
        "body": p.canonical,
        "code": p.code,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
        "received_at": now,
        "business_date": p.business_date,
        "receipt_number": p.receipt_number,
        "amount": p.payment.amount if p.payment else None,
        "at": p.at,
        "participant_id": p.payment.participant_id if p.payment else None,
        "payment_id": p.void.payment_id if p.void else None,
    }


_RECORD_COLUMNS = tuple(LedgerRecord.__table__.columns.keys())


def _insert_records(s: Session, rows: Sequence[dict[str, object]]) -> None:
    """Insert new rows of `records`: on PostgreSQL with COPY (one stream, rows encoded in C),
    elsewhere one executemany. The ids are new under the counter's lock (classified first); a
    record id another counter stores at the same moment fails the batch, which is retried."""
    raw = _pg(s)
    if raw is None:
        s.execute(insert(LedgerRecord), rows)
        return
    statement = f"COPY records ({', '.join(_RECORD_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] for name in _RECORD_COLUMNS])


_MOVE_HEAD = "UPDATE counters SET head_seq = %s, head_hash = %s, last_upload_at = %s WHERE id = %s"


def store_accepted(
    s: Session, counter: LockedCounter, accepted: Sequence[ParsedRecord], now: str
) -> list[FlagNote]:
    """Insert the accepted records, register their participants, move the head (forward
    only: `counter` was read under its lock); returns the flags of the checks against the
    stored ledger."""
    if not accepted:
        return []
    _insert_records(s, [_row(counter.id, p, now) for p in accepted])
    notes = _check_voids(s, counter.id, accepted)
    _register_participants(s, counter.id, accepted, now)
    top = max(accepted, key=lambda p: p.seq)
    if top.seq > counter.head_seq:
        counter.head_seq = top.seq
        counter.head_hash = top.record.hash
    raw = _pg(s)
    if raw is not None:
        raw.execute(_MOVE_HEAD, (counter.head_seq, counter.head_hash, now, counter.id))
    else:
        s.execute(
            update(CentralCounter)
            .where(CentralCounter.id == counter.id)
            .values(head_seq=counter.head_seq, head_hash=counter.head_hash, last_upload_at=now)
        )
    return notes


def _check_voids(s: Session, counter_id: str, accepted: Sequence[ParsedRecord]) -> list[FlagNote]:
    voids = [(p, p.void) for p in accepted if p.void is not None]
    if not voids:
        return []
    targets = {
        row.id: row
        for row in s.execute(
            select(LedgerRecord.id, LedgerRecord.code, LedgerRecord.counter_id).where(
                LedgerRecord.id.in_([v.payment_id for _, v in voids]),
                LedgerRecord.kind == "payment",
            )
        )
    }
    notes: list[FlagNote] = []
    for p, v in voids:
        target = targets.get(v.payment_id)
        if target is None or target.counter_id != counter_id:
            detail = f"lệnh hủy số {p.seq} nhắm vào khoản thu {v.payment_id} chưa nhận được"
            notes.append(FlagNote("void_unknown_payment", detail, p.seq, None, p.id))
        elif target.code != v.payment_code:
            detail = f"lệnh hủy số {p.seq} ghi mã xác nhận khác với khoản thu bị hủy"
            notes.append(FlagNote("tampered", detail, p.seq, None, p.id))
    return notes


def save_flags(s: Session, counter_id: str, notes: Sequence[FlagNote], now: str) -> None:
    if not notes:
        return
    s.execute(
        insert(Flag),
        [
            {
                "counter_id": counter_id,
                "kind": n.kind,
                "detail": n.detail,
                "created_at": now,
                "seq": n.seq,
                "seq_to": n.seq_to,
                "record_id": n.record_id,
                "evidence": n.evidence,
                "resolved_at": None,
            }
            for n in notes
        ],
    )


def _fresh_ma_so(s: Session, taken: set[str]) -> str:
    while True:
        candidate = f"{secrets.randbelow(10**10):010d}"
        if candidate in taken:
            continue
        exists = s.scalar(
            select(CentralParticipant.participant_id)
            .where(CentralParticipant.ma_so_bhxh == candidate)
            .limit(1)
        )
        if exists is None:
            taken.add(candidate)
            return candidate


def _register_participants(
    s: Session, counter_id: str, accepted: Sequence[ParsedRecord], now: str
) -> None:
    """First sight of a participant registers it for the counter that sent it. Two counters
    may register the same participant at once (several workers): the insert skips a row
    another transaction stored first (`ON CONFLICT DO NOTHING`), and only the rows this
    transaction really inserted publish an assigned mã số."""
    latest = {p.payment.participant_id: p.payment for p in accepted if p.payment is not None}
    if not latest:
        return
    known = _known_participants(s, list(latest))
    taken: set[str] = set()
    fresh: list[dict[str, object]] = []
    assigned: dict[str, str] = {}
    for pid, payment in latest.items():
        person = known.get(pid)
        if person is None:
            ma_so = payment.ma_so_bhxh
            if ma_so is None:  # SIMULATED VSS STEP (see module docstring): a fresh code
                ma_so = assigned[pid] = _fresh_ma_so(s, taken)
            fresh.append(
                {
                    "participant_id": pid,
                    "counter_id": counter_id,
                    "full_name": payment.payer_name,
                    "ma_so_bhxh": ma_so,
                    "assigned_here": pid in assigned,
                    "first_seen_at": now,
                }
            )
        elif person[0] != counter_id:
            continue  # another counter's participant: a counter never changes it
        elif person[1] is None:
            ma_so = payment.ma_so_bhxh
            if ma_so is None:
                ma_so = assigned[pid] = _fresh_ma_so(s, taken)
            s.execute(
                update(CentralParticipant)
                .where(
                    CentralParticipant.participant_id == pid,
                    CentralParticipant.ma_so_bhxh.is_(None),
                )
                .values(ma_so_bhxh=ma_so, assigned_here=pid in assigned)
            )
    if fresh:
        # One statement in one order for every transaction: two inserting overlapping
        # participants wait for each other instead of deadlocking. When this batch assigned
        # mã số (first-time participants: few), the ids really inserted come back and only
        # those publish a change; otherwise nothing needs an answer.
        fresh.sort(key=lambda row: str(row["participant_id"]))
        mine = any(row["participant_id"] in assigned for row in fresh)
        won = _insert_participants(s, fresh, returning=mine)
        if mine:
            assigned = {pid: code for pid, code in assigned.items() if pid in won or pid in known}
    changes = [
        {
            "counter_id": counter_id,
            "participant_id": pid,
            "change": "assigned",
            "ma_so_bhxh": code,
            "changed_at": now,
        }
        for pid, code in assigned.items()
    ]
    if changes:
        s.execute(insert(ParticipantChangeRow), changes)


_PARTICIPANTS_BY_IDS = _by_ids(
    "participants", "participant_id", "participant_id, counter_id, ma_so_bhxh"
)


def _known_participants(s: Session, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """Participants already registered among `ids`: their counter and mã số BHXH."""
    raw = _pg(s)
    if raw is not None:
        rows: Sequence[tuple[Any, ...]] = raw.execute(_PARTICIPANTS_BY_IDS, (list(ids),)).fetchall()
    else:
        rows = [
            tuple(row)
            for row in s.execute(
                select(
                    CentralParticipant.participant_id,
                    CentralParticipant.counter_id,
                    CentralParticipant.ma_so_bhxh,
                ).where(CentralParticipant.participant_id.in_(ids))
            )
        ]
    return {pid: (counter_id, ma_so) for pid, counter_id, ma_so in rows}


_PARTICIPANT_COLUMNS = (
    ("participant_id", "text"),
    ("counter_id", "text"),
    ("full_name", "text"),
    ("ma_so_bhxh", "text"),
    ("assigned_here", "boolean"),
    ("first_seen_at", "text"),
)
_PARTICIPANTS_UNNEST = (
    f"INSERT INTO participants ({', '.join(n for n, _ in _PARTICIPANT_COLUMNS)}) "
    "SELECT * FROM unnest("
    + ", ".join(f"%s::{t}[]" for _, t in _PARTICIPANT_COLUMNS)
    + ") ON CONFLICT DO NOTHING"
)


def _insert_participants(
    s: Session, rows: Sequence[dict[str, object]], *, returning: bool
) -> set[str]:
    """`INSERT … ON CONFLICT DO NOTHING` of new participants, in the rows' order; with
    `returning`, the ids really inserted. On PostgreSQL one statement over arrays (`unnest`),
    whatever the number of rows; elsewhere one executemany."""
    raw = _pg(s)
    if raw is not None:
        arrays = [[row[n] for row in rows] for n, _ in _PARTICIPANT_COLUMNS]
        if not returning:
            raw.execute(_PARTICIPANTS_UNNEST, arrays)
            return set()
        answering = _PARTICIPANTS_UNNEST + " RETURNING participant_id"
        return {r[0] for r in raw.execute(answering, arrays)}
    stmt = insert_ignoring_duplicates(s, CentralParticipant)
    if not returning:
        s.execute(stmt, rows)
        return set()
    return set(s.scalars(stmt.returning(CentralParticipant.participant_id), rows).all())


def resolve_gaps(s: Session, counter_id: str, filled: Sequence[int], now: str) -> None:
    open_gaps = s.scalars(
        select(Flag).where(
            Flag.counter_id == counter_id, Flag.kind == "gap", Flag.resolved_at.is_(None)
        )
    ).all()
    for gap in open_gaps:
        if gap.seq is None or gap.seq_to is None:
            continue
        if not any(gap.seq <= q <= gap.seq_to for q in filled):
            continue
        have = s.scalar(
            select(func.count())
            .select_from(LedgerRecord)
            .where(
                LedgerRecord.counter_id == counter_id,
                LedgerRecord.seq.between(gap.seq, gap.seq_to),
            )
        )
        if have == gap.seq_to - gap.seq + 1:
            gap.resolved_at = now
