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
from functools import lru_cache

from sqlalchemy import Insert, false, func, insert, or_, select, text, update
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


def lock_counter(s: Session, counter_id: str) -> CentralCounter:
    """The counter's row, locked: serialises uploads of one counter (PostgreSQL); SQLite is
    already serialised by BEGIN IMMEDIATE. The chain checks rely on it."""
    return s.scalars(
        select(CentralCounter).where(CentralCounter.id == counter_id).with_for_update()
    ).one()


def lock_counter_by_token(s: Session, token_hash: str) -> tuple[CentralCounter, bool] | None:
    """The counter whose API token hashes to `token_hash`, its row locked as `lock_counter`
    does — authentication and the upload's lock in one statement — and whether it has keys
    from a move to a new PC (`counter_keys`, central.moves) to load; None: no such token."""
    moved = (
        select(CounterKey.id)
        .where(
            CounterKey.counter_id == CentralCounter.id,
            CounterKey.status.in_((PENDING, APPROVED)),
        )
        .exists()
    )
    row = s.execute(
        select(CentralCounter, moved)
        .where(CentralCounter.token_hash == token_hash)
        .with_for_update(of=CentralCounter)
    ).one_or_none()
    return None if row is None else (row[0], bool(row[1]))


def insert_ignoring_duplicates(s: Session, table: type[object]) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` in the session's dialect (PostgreSQL or SQLite)."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def load_held(
    s: Session, counter_id: str, parsed: Sequence[ParsedRecord], *, head_seq: int | None = None
) -> Held:
    """The stored records the batch's ids name, and the counter's chain around its numbers —
    one query for both (up to `_CHUNK` ids).

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
    near: ColumnElement[bool] = (LedgerRecord.counter_id == counter_id) & LedgerRecord.seq.between(
        lo, hi
    )
    if head_seq is not None and head_seq < lo:
        near = false()  # nothing is stored above the head
    by_id: dict[str, HeldRecord] = {}
    by_seq: dict[int, Link] = {}
    for start in range(0, max(len(ids), 1), _CHUNK):
        chunk = LedgerRecord.id.in_(ids[start : start + _CHUNK])
        for row in s.execute(
            select(
                LedgerRecord.id,
                LedgerRecord.counter_id,
                LedgerRecord.seq,
                LedgerRecord.body,
                LedgerRecord.code,
                LedgerRecord.prev_hash,
                LedgerRecord.hash,
            ).where(or_(chunk, near) if start == 0 else chunk)
        ):
            if row.id in wanted:
                fingerprint = (row.body, row.seq, row.code, row.prev_hash, row.hash)
                by_id[row.id] = HeldRecord(row.counter_id, fingerprint)
            if row.counter_id == counter_id and lo <= row.seq <= hi:
                by_seq[row.seq] = Link(row.id, row.prev_hash, row.hash)
    if head_seq is not None and head_seq < lo:
        below: int | None = head_seq
    else:
        below = s.scalar(
            select(func.max(LedgerRecord.seq)).where(
                LedgerRecord.counter_id == counter_id, LedgerRecord.seq < lo
            )
        )
    return Held(by_id, by_seq, below or 0, void_targets)


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
    if s.get_bind().dialect.name != "postgresql":
        s.execute(insert(LedgerRecord), rows)
        return
    raw = s.connection().connection.driver_connection
    assert raw is not None
    statement = f"COPY records ({', '.join(_RECORD_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] for name in _RECORD_COLUMNS])


def store_accepted(
    s: Session, counter: CentralCounter, accepted: Sequence[ParsedRecord], now: str
) -> list[FlagNote]:
    """Insert the accepted records, register their participants, move the head; returns the
    flags of the checks against the stored ledger."""
    if not accepted:
        return []
    _insert_records(s, [_row(counter.id, p, now) for p in accepted])
    notes = _check_voids(s, counter.id, accepted)
    _register_participants(s, counter.id, accepted, now)
    top = max(accepted, key=lambda p: p.seq)
    if top.seq > counter.head_seq:
        counter.head_seq = top.seq
        counter.head_hash = top.record.hash
    counter.last_upload_at = now
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
    known = {
        row.participant_id: row
        for row in s.execute(
            select(
                CentralParticipant.participant_id,
                CentralParticipant.counter_id,
                CentralParticipant.ma_so_bhxh,
            ).where(CentralParticipant.participant_id.in_(list(latest)))
        )
    }
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
        elif person.counter_id != counter_id:
            continue  # another counter's participant: a counter never changes it
        elif person.ma_so_bhxh is None:
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


_PARTICIPANT_COLUMNS = (
    ("participant_id", "text"),
    ("counter_id", "text"),
    ("full_name", "text"),
    ("ma_so_bhxh", "text"),
    ("assigned_here", "boolean"),
    ("first_seen_at", "text"),
)
_PARTICIPANTS_UNNEST = text(
    f"INSERT INTO participants ({', '.join(n for n, _ in _PARTICIPANT_COLUMNS)}) "
    "SELECT * FROM unnest("
    + ", ".join(f"CAST(:{n} AS {t}[])" for n, t in _PARTICIPANT_COLUMNS)
    + ") ON CONFLICT DO NOTHING"
)


def _insert_participants(
    s: Session, rows: Sequence[dict[str, object]], *, returning: bool
) -> set[str]:
    """`INSERT … ON CONFLICT DO NOTHING` of new participants, in the rows' order; with
    `returning`, the ids really inserted. On PostgreSQL one statement over arrays (`unnest`),
    whatever the number of rows; elsewhere one executemany."""
    if s.get_bind().dialect.name == "postgresql":
        arrays = {n: [row[n] for row in rows] for n, _ in _PARTICIPANT_COLUMNS}
        if not returning:
            s.execute(_PARTICIPANTS_UNNEST, arrays)
            return set()
        answering = text(str(_PARTICIPANTS_UNNEST) + " RETURNING participant_id")
        return set(s.scalars(answering, arrays).all())
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
