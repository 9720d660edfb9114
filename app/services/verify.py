"""Ledger verification: recompute the chain and every code from the stored columns.

What it catches: a payment or void whose columns were edited (its recomputed code or hash no
longer matches), a record removed or inserted (a gap in `seq`, or a `prev_hash` that is not the
previous record's hash), a gap in receipt numbers, a ledger row without its payment/void or the
reverse. It reports the first bad record, and every problem found, in Vietnamese.

Records are rebuilt with `app.services.ledger_records.StoredContent`, the same rebuild the outbox
uploads, and checked with `app.domain.ledger.check_record`, the same check central runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.domain.chain import GENESIS
from app.domain.ledger import check_record
from app.secrets import load_signing_key
from app.services.ledger_records import StoredContent
from app.services.queries import require_counter
from app.services.relocation import seals_checked_from
from app.storage.db import Database
from app.storage.models import LedgerEntry, Payment, Void


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    problems: tuple[str, ...]
    first_bad_seq: int | None
    head_hash: str

    @property
    def ok(self) -> bool:
        return not self.problems


class _Findings:
    """Problems in the order found, and the lowest sequence number that is bad."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.first_bad: int | None = None

    def bad(self, seq: int | None, message: str) -> None:
        self.problems.append(message)
        if seq is not None and (self.first_bad is None or seq < self.first_bad):
            self.first_bad = seq


def _check_entry(
    entry: LedgerEntry,
    content: StoredContent,
    key: bytes | None,
    expected: tuple[int, str],
    found: _Findings,
) -> None:
    """One ledger entry against its place in the chain, its content rows and its seal."""
    expected_seq, prev_hash = expected
    seq = entry.seq
    if seq != expected_seq:
        found.bad(
            expected_seq,
            f"thiếu bản ghi số {expected_seq}"
            + (f"–{seq - 1}" if seq - 1 > expected_seq else "")
            + " trong chuỗi sổ thu",
        )
    if entry.prev_hash != prev_hash:
        found.bad(seq, f"bản ghi số {seq}: không nối với bản ghi liền trước")
    p = content.payments.get(seq) if entry.kind == "payment" else None
    if isinstance(p, Payment) and (p.id != entry.record_id or p.confirmation_code != entry.code):
        found.bad(seq, f"bản ghi số {seq}: khoản thu không khớp sổ cái")
    v = content.voids.get(seq) if entry.kind == "void" else None
    if v is not None and (v.id != entry.record_id or v.signature != entry.code):
        found.bad(seq, f"bản ghi số {seq}: lệnh hủy không khớp sổ cái")
    record = content.record(entry)
    if record is None:
        found.bad(seq, f"bản ghi số {seq}: mất nội dung ({entry.kind})")
        return
    why = check_record(key, record)
    if why:
        found.bad(seq, why)


def verify_ledger(db: Database, *, with_key: bool = True) -> VerifyReport:
    found = _Findings()
    with db.read() as session:
        counter = require_counter(session)
        key = load_signing_key(counter.counter_id) if with_key else None
        payments = {p.ledger_seq: p for p in session.scalars(select(Payment))}
        voids = {v.ledger_seq: v for v in session.scalars(select(Void))}
        content = StoredContent(payments, voids, {p.id: p for p in payments.values()})
        expected_seq, prev_hash = 1, GENESIS
        checked = 0
        # After a move to a new PC the records before the key epoch were sealed with the old
        # key (central holds it): chain and hashes are still checked, seals from the epoch on.
        seals_from = seals_checked_from(session)
        for entry in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)):
            checked += 1
            entry_key = key if entry.seq >= seals_from else None
            _check_entry(entry, content, entry_key, (expected_seq, prev_hash), found)
            expected_seq, prev_hash = entry.seq + 1, entry.hash
        ledger_seqs = set(range(1, expected_seq))
        for seq in sorted((set(payments) | set(voids)) - ledger_seqs):
            found.bad(seq, f"bản ghi số {seq} có nội dung nhưng không có trong chuỗi sổ thu")
        numbers = sorted(p.receipt_number for p in payments.values())
        for want, got in enumerate(numbers, start=1):
            if want != got:
                found.bad(None, f"số biên lai bị nhảy: thiếu số {want} (số kế tiếp là {got})")
                break
        return VerifyReport(checked, tuple(found.problems), found.first_bad, prev_hash)
