"""The key in use, the keyed audit trail and the head anchor kept outside the database.

* `ledger_key(db)` gives the counter's signing key *before* a write transaction starts (the
  keyring is never called under SQLite's write lock); it is cached for the process.
* `append_audit` writes an audit entry chained and keyed like the ledger: `seq` 1, 2, 3 …,
  `prev_hash` = the previous entry's `mac`, `mac` = `keyed_link(key, prev_hash, entry)`.
  Entries written before the counter exists (a failed login on an empty database) have no key to
  be sealed with and are written without `seq`/`mac`; `verify` accepts them only before the
  first keyed entry.
* After every committed write that appended to the ledger or the audit trail, the new heads
  (ledger seq + hash, audit seq + mac) are sealed with the key and stored in the keyring
  (`store_anchor`) — after the commit, never inside the transaction. `compare_heads` is what
  `verify`, `check_heads` (start-up) and sync use to compare the database with that anchor.
* A write advances the anchor only if the database it extends still holds the anchored heads
  (checked inside the transaction against the anchor this process read before it began), so a
  counter that keeps working on a truncated or rewritten file never overwrites the evidence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.orm import Session

from app.domain.canonical import CanonicalValue, utc_iso
from app.domain.chain import GENESIS, Heads, keyed_link, open_anchor, seal_anchor
from app.errors import ConfigurationError
from app.secrets import load_anchor, signing_key, store_anchor
from app.storage.db import Database
from app.storage.driver import driver
from app.storage.models import AuditEvent, Counter

log = logging.getLogger(__name__)

_KEY = "quaythu.signing_key"  # session.info: (counter_id, key) for this transaction
_DIRTY = "quaythu.anchor_dirty"  # session.info: the transaction appended to a chain
_HEADS = "quaythu.heads"  # session.info: the heads to anchor after the commit

_AUDIT = cast(Table, AuditEvent.__table__)
_INSERT_AUDIT = insert(_AUDIT)
AUDIT_HEAD = text("SELECT seq, mac FROM audit_events ORDER BY id DESC LIMIT 1")
_LEDGER_HEAD = text("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")

_counter_ids: WeakKeyDictionary[Database, str] = WeakKeyDictionary()


class _Invalid:
    """An anchor is in the keyring but its seal is wrong: never overwrite it."""


INVALID = _Invalid()
AnchorState = Heads | None | _Invalid  # None: there is no anchor yet
# The anchor as this process last read or wrote it, per counter (absent: not read yet).
_anchors: dict[str, AnchorState] = {}


def _not_initialised() -> ConfigurationError:
    return ConfigurationError(
        "Quầy chưa được khởi tạo. Hãy chạy trình thiết lập (hoặc lệnh `quaythu init`).",
        message_en="counter not initialised: run `quaythu init`",
    )


def counter_id_of(db: Database) -> str | None:
    cid = _counter_ids.get(db)
    if cid is None:
        with db.read() as session:
            cid = session.scalar(select(Counter.counter_id).where(Counter.id == 1))
        if cid is None:
            return None
        _counter_ids[db] = cid
    return cid


def ledger_key(db: Database) -> tuple[str, bytes]:
    """(counter id, signing key), read outside any write transaction, with the anchor the
    writes will be checked against; both cached for the process."""
    cid = counter_id_of(db)
    if cid is None:
        raise _not_initialised()
    key = signing_key(cid)
    if cid not in _anchors:
        _anchors[cid] = _anchor_state(cid, key)
    return cid, key


def _anchor_state(counter_id: str, key: bytes) -> AnchorState:
    stored = load_anchor(counter_id)
    if stored is None:
        return None
    heads = open_anchor(key, counter_id, stored)
    return INVALID if heads is None else heads


def provide_key(session: Session, counter_id: str, key: bytes, *, new: bool = False) -> None:
    """Tell this transaction which key seals what it appends (read before it began); `new`:
    the counter is being created, so there is no anchor yet."""
    session.info[_KEY] = (counter_id, key)
    if new:
        _anchors[counter_id] = None


def _session_key(session: Session) -> tuple[str, bytes] | None:
    found: tuple[str, bytes] | None = session.info.get(_KEY)
    if found is None:
        cid = session.scalar(select(Counter.counter_id).where(Counter.id == 1))
        if cid is None:
            return None  # before the counter exists: nothing to seal with
        # Normally already cached by the login or the caller (ledger_key) before BEGIN.
        found = session.info[_KEY] = (cid, signing_key(cid))
    return found


def audit_fields(
    seq: int, at: str, operator_id: int | None, action: str, subject: str, details: str
) -> dict[str, CanonicalValue]:
    """The sealed content of an audit entry (`at` as stored: canonical UTC text)."""
    return {
        "seq": seq,
        "at": at,
        "operator_id": operator_id,
        "action": action,
        "subject": subject,
        "details": details,
    }


def audit_row(
    key: bytes,
    head: tuple[int | None, str | None] | None,
    *,
    at: datetime,
    operator_id: int | None,
    action: str,
    subject: str,
    details: str,
) -> dict[str, Any]:
    """The row of the audit entry after `head` (the newest entry's seq and mac, if any)."""
    last_seq, last_mac = head if head is not None else (None, None)
    seq = (last_seq or 0) + 1
    prev = last_mac if last_seq and last_mac else GENESIS
    fields = audit_fields(seq, utc_iso(at), operator_id, action, subject, details)
    mac = keyed_link(key, prev, fields)
    return {
        "at": at,
        "operator_id": operator_id,
        "action": action,
        "subject": subject,
        "details": details,
        "seq": seq,
        "prev_hash": prev,
        "mac": mac,
    }


def append_audit(
    session: Session,
    action: str,
    *,
    operator_id: int | None,
    subject: str,
    at: datetime,
    details: dict[str, Any],
) -> None:
    """Write one audit entry, chained and keyed, in the caller's transaction."""
    text_details = json.dumps(details, ensure_ascii=False, default=str, sort_keys=True)
    sealing = _session_key(session)
    if sealing is None:
        session.execute(
            _INSERT_AUDIT,
            {
                "at": at,
                "operator_id": operator_id,
                "action": action,
                "subject": subject,
                "details": text_details,
            },
        )
        return
    head = session.execute(AUDIT_HEAD).first()
    row = audit_row(
        sealing[1],
        None if head is None else (head.seq, head.mac),
        at=at,
        operator_id=operator_id,
        action=action,
        subject=subject,
        details=text_details,
    )
    session.execute(_INSERT_AUDIT, row)
    session.info[_DIRTY] = True


def note_heads(session: Session, heads: Heads) -> None:
    """The heads this transaction leaves (when the caller knows them): anchored after commit."""
    session.info[_HEADS] = heads


def read_heads(session: Session) -> Heads:
    ledger = session.execute(_LEDGER_HEAD).first()
    audit = session.execute(AUDIT_HEAD).first()
    return Heads(
        ledger.seq if ledger else 0,
        ledger.hash if ledger else GENESIS,
        audit.seq if audit and audit.seq else 0,
        audit.mac if audit and audit.mac else GENESIS,
    )


# Through the driver (app.storage.driver): this runs before every payment's commit.
_AT_ANCHOR = (
    "SELECT (SELECT hash FROM ledger WHERE seq = :ledger_seq), "
    "(SELECT mac FROM audit_events WHERE seq = :audit_seq ORDER BY id LIMIT 1)"
)


def extends_anchor(session: Session, known: AnchorState, heads: Heads) -> bool:
    """Whether the heads this transaction leaves extend the anchor known before it began."""
    if isinstance(known, _Invalid):
        return False
    if known is None:
        return True
    if heads.ledger_seq < known.ledger_seq or heads.audit_seq < known.audit_seq:
        return False
    ledger_hash, audit_mac = (
        driver(session)
        .execute(_AT_ANCHOR, {"ledger_seq": known.ledger_seq, "audit_seq": known.audit_seq})
        .fetchone()
    )
    return (known.ledger_seq == 0 or ledger_hash == known.ledger_hash) and (
        known.audit_seq == 0 or audit_mac == known.audit_mac
    )


@event.listens_for(Session, "before_commit")
def _heads_before_commit(session: Session) -> None:
    dirty = session.info.pop(_DIRTY, False)
    sealing: tuple[str, bytes] | None = session.info.get(_KEY)
    if sealing is None or not (dirty or _HEADS in session.info):
        return
    heads: Heads = session.info.get(_HEADS) or read_heads(session)
    known = _anchors.get(sealing[0], INVALID)  # not read before BEGIN: cannot check, skip
    if extends_anchor(session, known, heads):
        session.info[_HEADS] = heads
    else:
        session.info.pop(_HEADS, None)
        if known is not INVALID:
            log.warning("ledger head anchor not advanced: the database does not extend it")


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    heads: Heads | None = session.info.pop(_HEADS, None)
    sealing: tuple[str, bytes] | None = session.info.get(_KEY)
    if heads is not None and sealing is not None:
        write_anchor(sealing[0], sealing[1], heads)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_HEADS, None)
    session.info.pop(_DIRTY, None)


def write_anchor(counter_id: str, key: bytes, heads: Heads) -> None:
    """Store the sealed heads in the keyring. Called after the commit: a failure here loses
    nothing (the write is committed); the anchor is behind until the next write, which a
    longer chain consistent with it is allowed to be."""
    try:
        store_anchor(counter_id, seal_anchor(key, counter_id, heads))
        _anchors[counter_id] = heads
    except ConfigurationError as exc:
        log.warning("could not store the ledger head anchor: %s", exc.message_en)


# --- comparing the database with the anchor ----------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing `verify` found wrong. `record` is the ledger seq (for kind `audit_*`, the
    audit entry's seq; None when the finding is not about one record), `column` the column;
    for `operator_*` / `counter_*` / `household_*` / `paid_periods_*` kinds, `table` and `row`
    name the row (its id; a household member's is the participant's)."""

    kind: str
    message: str
    record: int | None = None
    column: str | None = None
    record_to: int | None = None  # the end of a missing range
    # A finding about a master-data row (an operator, the counter): its table and id.
    table: str | None = None
    row: int | str | None = None


def _range(lo: int, hi: int) -> str:
    return f"số {lo}" if lo == hi else f"số {lo}–{hi}"


def compare_heads(
    anchor: Heads,
    current: Heads,
    ledger_hash_at: Callable[[int], str | None],
    audit_mac_at: Callable[[int], str | None],
) -> list[Finding]:
    """What the database lacks against the anchor. A chain longer than the anchor that holds
    the anchored record is fine: extending it takes the key (a crash between a commit and its
    anchor leaves exactly that)."""
    out: list[Finding] = []
    if anchor.ledger_seq > current.ledger_seq:
        lo, hi = current.ledger_seq + 1, anchor.ledger_seq
        out.append(
            Finding(
                "ledger_truncated",
                f"thiếu bản ghi {_range(lo, hi)} ở cuối sổ thu: mốc đầu chuỗi lưu ngoài cơ sở "
                f"dữ liệu ghi sổ đã tới số {hi} (bản ghi đã bị xóa)",
                lo,
                record_to=hi,
            )
        )
    elif anchor.ledger_seq and ledger_hash_at(anchor.ledger_seq) != anchor.ledger_hash:
        out.append(
            Finding(
                "ledger_rewritten",
                f"bản ghi số {anchor.ledger_seq} khác với mốc đầu chuỗi lưu ngoài cơ sở dữ liệu "
                "(chuỗi đã bị viết lại)",
                anchor.ledger_seq,
            )
        )
    if anchor.audit_seq > current.audit_seq:
        lo, hi = current.audit_seq + 1, anchor.audit_seq
        out.append(
            Finding(
                "audit_truncated",
                f"thiếu mục nhật ký {_range(lo, hi)} ở cuối nhật ký: mốc đầu chuỗi ghi tới số "
                f"{hi} (đã bị xóa)",
                lo,
                record_to=hi,
            )
        )
    elif anchor.audit_seq and audit_mac_at(anchor.audit_seq) != anchor.audit_mac:
        out.append(
            Finding(
                "audit_rewritten",
                f"mục nhật ký số {anchor.audit_seq} khác với mốc đầu chuỗi lưu ngoài cơ sở dữ "
                "liệu (nhật ký đã bị viết lại)",
                anchor.audit_seq,
            )
        )
    return out


def read_anchor(counter_id: str, key: bytes) -> tuple[Heads | None, Finding | None]:
    """The anchored heads, or the finding that there is no usable anchor (read afresh)."""
    state = _anchors[counter_id] = _anchor_state(counter_id, key)
    if state is None:
        return None, Finding(
            "anchor_missing",
            "không thấy mốc đầu chuỗi của quầy trong keyring (đã bị xóa, hoặc keyring khác)",
        )
    if isinstance(state, _Invalid):
        return None, Finding(
            "anchor_invalid", "mốc đầu chuỗi trong keyring không đúng chữ ký của quầy (giả)"
        )
    return state, None


_LEDGER_HASH_AT = text("SELECT hash FROM ledger WHERE seq = :seq")
_AUDIT_MAC_AT = text("SELECT mac FROM audit_events WHERE seq = :seq ORDER BY id LIMIT 1")


def check_heads(db: Database) -> list[Finding]:
    """Start-up and sync check: the database against the anchor, in two small reads. Advances
    the anchor when the database is ahead of it and consistent with it."""
    counter_id, key = ledger_key(db)
    anchor, problem = read_anchor(counter_id, key)
    with db.read() as session:
        current = read_heads(session)
        if problem is not None:
            if problem.kind == "anchor_missing" and current.audit_seq == 0:
                # Nothing keyed yet (a new counter, or one written before format 2 only).
                write_anchor(counter_id, key, current)
                return []
            return [problem]
        assert anchor is not None

        def ledger_at(seq: int) -> str | None:
            return session.execute(_LEDGER_HASH_AT, {"seq": seq}).scalar()

        def audit_at(seq: int) -> str | None:
            return session.execute(_AUDIT_MAC_AT, {"seq": seq}).scalar()

        found = compare_heads(anchor, current, ledger_at, audit_at)
    if not found and current != anchor:
        write_anchor(counter_id, key, current)
    return found
