"""A counter moved to a new PC, central's side (docs/BACKUP.md, "Moving to a new PC").

The signing key lived only in the old PC's keyring, so the restored counter seals with a new
key that continues the chain from the restored head: record `key_from_seq` links to record
`key_from_seq - 1`, whose hash the enrolment names (`continues_from_hash`). Central:

* records the new key as **pending** for that counter (`counter_keys`) when a re-enrolment
  sends `key_from_seq` and the head it continues from, after checking the head against what
  it holds: a stored record `key_from_seq - 1` with another hash is the **wrong head**
  (refused); stored records at or beyond `key_from_seq` came from the old PC after the backup,
  so the new chain would **fork** there (refused, flagged with both sides for the admin);
* refuses every batch holding a record sealed with the pending key (HTTP 423, nothing stored:
  the counter keeps the records queued) until central's admin approves the move
  (`quaythu-central approve-move`), which checks the head again;
* from then on verifies records below `key_from_seq` with the key before and records from it
  with the new key (`central.ingest.classify`): a record the old PC seals after the move is
  refused; the first record of the new key must link to the approved head;
* keeps answering `duplicate` for records it already holds, so nothing is stored twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from app.domain.chain import GENESIS
from central.clock import now_text
from central.errors import CentralError, NotFound, Refused
from central.models import CentralCounter, CounterKey, Flag, LedgerRecord
from central.store import CentralStore
from sync.protocol import EnrollRequest

PENDING, APPROVED, REFUSED, SUPERSEDED = "pending", "approved", "refused", "superseded"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
INT64_MAX = 2**63 - 1


class KeyPending(CentralError):
    """A batch holds records sealed with a key still waiting for the admin's approval."""

    status_code = 423


@dataclass(frozen=True)
class Move:
    """What a re-enrolling counter says about its new key."""

    key_from_seq: int  # the first record sealed with the new key
    continues_from_hash: str  # the hash of record key_from_seq - 1 (GENESIS for none)


def move_of(req: EnrollRequest) -> Move | None:
    """The move an enrolment request announces, checked for form; None when it names none."""
    from_seq = req.get("key_from_seq")
    if from_seq is None:
        return None
    head_seq = req.get("continues_from_seq")
    head_hash = req.get("continues_from_hash")
    if type(from_seq) is not int or not 1 <= from_seq <= INT64_MAX:
        raise CentralError("key_from_seq phải là số nguyên từ 1")
    if head_seq != from_seq - 1:
        raise CentralError("continues_from_seq phải bằng key_from_seq - 1 (đầu chuỗi đã khôi phục)")
    if not isinstance(head_hash, str) or not _HEX64.match(head_hash):
        raise CentralError("continues_from_hash phải là mã băm SHA-256 (64 chữ số hex thường)")
    if from_seq == 1 and head_hash != GENESIS:
        raise CentralError("sổ trống (key_from_seq = 1) phải nối từ gốc chuỗi")
    return Move(from_seq, head_hash)


def fingerprint(key: bytes) -> str:
    """As the counter shows it (`app.services.relocation.fingerprint`): 16 hex digits."""
    return hashlib.sha256(key).hexdigest()[:16]


def _aad(counter_id: str, from_seq: int) -> str:
    return f"{counter_id}@{from_seq}"


def open_key(store: CentralStore, row: CounterKey) -> bytes:
    return store.keys.open(_aad(row.counter_id, row.from_seq), row.signing_key)


def seal_key(store: CentralStore, row: CounterKey, key: bytes) -> str:
    return store.keys.seal(_aad(row.counter_id, row.from_seq), key)


@dataclass(frozen=True)
class Epoch:
    """A key sealing records from `from_seq` on, continuing from `continues_from_hash`."""

    from_seq: int
    key: bytes
    continues_from_hash: str


class CounterRow(Protocol):
    """What `load_keys` reads of a counter: the ORM row, or ingest's row read under its lock."""

    @property
    def id(self) -> str: ...

    @property
    def signing_key(self) -> str: ...


@dataclass(frozen=True)
class CounterKeys:
    """A counter's keys as ingest needs them."""

    first: bytes  # registered at the first enrolment: records from 1
    approved: tuple[Epoch, ...]  # ascending from_seq
    pending: Epoch | None

    @property
    def current(self) -> bytes:
        return self.approved[-1].key if self.approved else self.first


def load_keys(store: CentralStore, s: Session, counter: CounterRow) -> CounterKeys:
    first = store.keys.open(counter.id, counter.signing_key)
    approved: list[Epoch] = []
    pending = None
    for row in s.scalars(
        select(CounterKey)
        .where(CounterKey.counter_id == counter.id, CounterKey.status.in_((PENDING, APPROVED)))
        .order_by(CounterKey.from_seq, CounterKey.id)
    ):
        epoch = Epoch(row.from_seq, open_key(store, row), row.continues_from_hash)
        if row.status == APPROVED:
            approved.append(epoch)
        else:
            pending = epoch
    return CounterKeys(first, tuple(approved), pending)


def key_standing(keys: CounterKeys, key: bytes) -> str | None:
    """`current`, `pending`, `old` (replaced by a move) or None (never this counter's)."""
    if hmac.compare_digest(keys.current, key):
        return "current"
    if keys.pending is not None and hmac.compare_digest(keys.pending.key, key):
        return "pending"
    if any(hmac.compare_digest(k, key) for k in (keys.first, *(e.key for e in keys.approved))):
        return "old"
    return None


@dataclass(frozen=True)
class Problem:
    kind: str  # move_wrong_head or fork
    detail: str
    evidence: str


def check_head(s: Session, counter: CentralCounter, move: Move, key_fp: str) -> Problem | None:
    """Does the continuation fit what central holds? Wrong head, fork, or None."""
    below = move.key_from_seq - 1
    held = s.execute(
        select(LedgerRecord.id, LedgerRecord.hash).where(
            LedgerRecord.counter_id == counter.id, LedgerRecord.seq == below
        )
    ).first()
    beyond = s.execute(
        select(LedgerRecord.seq, LedgerRecord.id, LedgerRecord.hash)
        .where(LedgerRecord.counter_id == counter.id, LedgerRecord.seq >= move.key_from_seq)
        .order_by(LedgerRecord.seq)
        .limit(20)
    ).all()
    asked = {
        "key_from_seq": move.key_from_seq,
        "continues_from_hash": move.continues_from_hash,
        "new_key_fingerprint": key_fp,
    }
    if held is not None and held.hash != move.continues_from_hash:
        return Problem(
            "move_wrong_head",
            f"quầy chuyển máy xin nối tiếp từ bản ghi số {below} nhưng mã băm đầu chuỗi gửi lên "
            f"khác với bản ghi số {below} trung tâm đang giữ ({held.id})",
            json.dumps({"asked": asked, "held": {"seq": below, "id": held.id, "hash": held.hash}}),
        )
    if beyond:
        count = s.scalar(
            select(func.count())
            .select_from(LedgerRecord)
            .where(LedgerRecord.counter_id == counter.id, LedgerRecord.seq >= move.key_from_seq)
        )
        return Problem(
            "fork",
            f"quầy chuyển máy xin ký khóa mới từ bản ghi số {move.key_from_seq}, nhưng trung tâm "
            f"đã giữ {count} bản ghi từ số {beyond[0].seq} trở đi do máy cũ gửi (sau lần sao lưu): "
            "chuỗi sổ thu sẽ rẽ nhánh. Cần đối chiếu hai máy trước khi duyệt.",
            json.dumps(
                {
                    "asked": asked,
                    "held_from_old_pc": [
                        {"seq": r.seq, "id": r.id, "hash": r.hash} for r in beyond
                    ],
                }
            ),
        )
    return None


def _flag(s: Session, counter_id: str, problem: Problem, move: Move, now: str) -> None:
    s.add(
        Flag(
            counter_id=counter_id,
            kind=problem.kind,
            seq=move.key_from_seq,
            seq_to=None,
            record_id=None,
            detail=problem.detail,
            evidence=problem.evidence,
            created_at=now,
            resolved_at=None,
        )
    )


def request_move(
    store: CentralStore, s: Session, counter: CentralCounter, move: Move, key: bytes, now: str
) -> Problem | None:
    """Record `key` as the counter's pending key from `move.key_from_seq` (an earlier pending
    request is superseded). A head that does not fit is flagged and returned instead."""
    keys = load_keys(store, s, counter)
    start = keys.approved[-1].from_seq if keys.approved else 1
    if move.key_from_seq <= start and keys.approved:
        raise Refused(
            f"quầy đã chuyển máy với khóa ký từ bản ghi số {start}; khóa mới phải bắt đầu sau số đó"
        )
    problem = check_head(s, counter, move, fingerprint(key))
    if problem is not None:
        _flag(s, counter.id, problem, move, now)
        return problem
    for row in s.scalars(
        select(CounterKey).where(CounterKey.counter_id == counter.id, CounterKey.status == PENDING)
    ):
        row.status, row.decided_at, row.detail = SUPERSEDED, now, "thay bằng yêu cầu mới hơn"
    row = CounterKey(
        counter_id=counter.id,
        from_seq=move.key_from_seq,
        continues_from_hash=move.continues_from_hash,
        signing_key="",
        fingerprint=fingerprint(key),
        status=PENDING,
        requested_at=now,
    )
    row.signing_key = seal_key(store, row, key)
    s.add(row)
    return None


class MoveRow(TypedDict):
    id: int
    counter: str
    counter_code: str
    collection_point: str
    from_seq: int
    continues_from_hash: str
    fingerprint: str
    status: str
    requested_at: str
    decided_at: str | None
    decided_by: str | None
    detail: str | None
    central_head_seq: int


def _row(row: CounterKey, counter: CentralCounter) -> MoveRow:
    return {
        "id": row.id,
        "counter": counter.id,
        "counter_code": counter.counter_code,
        "collection_point": counter.collection_point,
        "from_seq": row.from_seq,
        "continues_from_hash": row.continues_from_hash,
        "fingerprint": row.fingerprint,
        "status": row.status,
        "requested_at": row.requested_at,
        "decided_at": row.decided_at,
        "decided_by": row.decided_by,
        "detail": row.detail,
        "central_head_seq": counter.head_seq,
    }


def list_moves(store: CentralStore, *, pending_only: bool = False) -> list[MoveRow]:
    with store.read() as s:
        q = select(CounterKey, CentralCounter).join(
            CentralCounter, CentralCounter.id == CounterKey.counter_id
        )
        if pending_only:
            q = q.where(CounterKey.status == PENDING)
        return [_row(k, c) for k, c in s.execute(q.order_by(CounterKey.id))]


def _counter(s: Session, ref: str) -> CentralCounter:
    """The counter `ref` names (central id, counter id, or a counter code only one counter
    has), its row locked."""
    found = s.scalars(
        select(CentralCounter)
        .where(
            (CentralCounter.id == ref)
            | (CentralCounter.counter_code == ref.upper())
            | (CentralCounter.ledger_counter_id == ref)
        )
        .with_for_update()
    ).all()
    if not found:
        raise NotFound(f"không có quầy {ref}")
    if len(found) > 1:
        raise CentralError(
            f"có {len(found)} quầy mang mã {ref}; hãy dùng mã trung tâm của quầy (QT-…, "
            "xem list-moves)"
        )
    return found[0]


def _pending(s: Session, counter: CentralCounter) -> CounterKey:
    row = s.scalars(
        select(CounterKey).where(CounterKey.counter_id == counter.id, CounterKey.status == PENDING)
    ).first()
    if row is None:
        raise NotFound(f"quầy {counter.id} không có yêu cầu chuyển máy nào đang chờ duyệt")
    return row


def approve_move(store: CentralStore, counter_ref: str, *, by: str) -> MoveRow:
    """The admin approves the counter's pending key. The head is checked again (records may
    have arrived since the request): a wrong head or a fork refuses the move, flagged."""
    if not by.strip():
        raise CentralError("cần tên người duyệt (--by)")
    now = now_text()
    with store.write() as s:
        counter = _counter(s, counter_ref)  # locked: no upload of this counter meanwhile
        row = _pending(s, counter)
        move = Move(row.from_seq, row.continues_from_hash)
        problem = check_head(s, counter, move, row.fingerprint)
        row.decided_at, row.decided_by = now, by.strip()[:64]
        if problem is None:
            row.status = APPROVED
        else:
            _flag(s, counter.id, problem, move, now)
            row.status, row.detail = REFUSED, problem.detail
        s.flush()
        result = _row(row, counter)
    if problem is not None:
        raise Refused(f"không duyệt được: {problem.detail}")
    return result


def refuse_move(store: CentralStore, counter_ref: str, *, by: str, reason: str) -> MoveRow:
    if not by.strip() or not reason.strip():
        raise CentralError("cần tên người quyết định (--by) và lý do (--reason)")
    with store.write() as s:
        counter = _counter(s, counter_ref)
        row = _pending(s, counter)
        row.status, row.decided_at = REFUSED, now_text()
        row.decided_by, row.detail = by.strip()[:64], reason.strip()[:500]
        s.flush()
        return _row(row, counter)
