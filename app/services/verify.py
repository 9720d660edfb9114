"""Ledger verification: recompute the chain and every code from the stored columns.

What it catches: a payment or void whose columns were edited (its recomputed code or hash no
longer matches), a record removed or inserted (a gap in `seq`, or a `prev_hash` that is not the
previous record's hash), a gap in receipt numbers, a ledger row without its payment/void or the
reverse. It reports the first bad record, and every problem found, in Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.domain.chain import GENESIS
from app.domain.ledger import SealedRecord, check_record
from app.secrets import load_signing_key
from app.services.payments import payment_body, void_body
from app.services.queries import require_counter
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


def verify_ledger(db: Database, *, with_key: bool = True) -> VerifyReport:
    problems: list[str] = []
    first_bad: int | None = None

    def bad(seq: int | None, message: str) -> None:
        nonlocal first_bad
        problems.append(message)
        if seq is not None and (first_bad is None or seq < first_bad):
            first_bad = seq

    with db.read() as session:
        counter = require_counter(session)
        key = load_signing_key(counter.counter_id) if with_key else None
        payments = {p.ledger_seq: p for p in session.scalars(select(Payment))}
        by_id = {p.id: p for p in payments.values()}
        voids = {v.ledger_seq: v for v in session.scalars(select(Void))}
        expected_seq, prev_hash = 1, GENESIS
        checked = 0
        for entry in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)):
            checked += 1
            if entry.seq != expected_seq:
                bad(
                    expected_seq,
                    f"thiếu bản ghi số {expected_seq}"
                    + (f"–{entry.seq - 1}" if entry.seq - 1 > expected_seq else "")
                    + " trong chuỗi sổ thu",
                )
            if entry.prev_hash != prev_hash:
                bad(entry.seq, f"bản ghi số {entry.seq}: không nối với bản ghi liền trước")
            body = None
            if entry.kind == "payment" and entry.seq in payments:
                p = payments[entry.seq]
                body = payment_body(p).canonical()
                if p.id != entry.record_id or p.confirmation_code != entry.code:
                    bad(entry.seq, f"bản ghi số {entry.seq}: khoản thu không khớp sổ cái")
            elif entry.kind == "void" and entry.seq in voids:
                v = voids[entry.seq]
                target = by_id.get(v.payment_id)
                if target is not None:
                    body = void_body(v, target).canonical()
                if v.id != entry.record_id or v.signature != entry.code:
                    bad(entry.seq, f"bản ghi số {entry.seq}: lệnh hủy không khớp sổ cái")
            if body is None:
                bad(entry.seq, f"bản ghi số {entry.seq}: mất nội dung ({entry.kind})")
            else:
                why = check_record(
                    key,
                    SealedRecord(
                        entry.seq,
                        "payment" if entry.kind == "payment" else "void",
                        body,
                        entry.code,
                        entry.prev_hash,
                        entry.hash,
                    ),
                )
                if why:
                    bad(entry.seq, why)
            expected_seq, prev_hash = entry.seq + 1, entry.hash
        ledger_seqs = set(range(1, expected_seq))
        for seq in sorted((set(payments) | set(voids)) - ledger_seqs):
            bad(seq, f"bản ghi số {seq} có nội dung nhưng không có trong chuỗi sổ thu")
        numbers = sorted(p.receipt_number for p in payments.values())
        for want, got in enumerate(numbers, start=1):
            if want != got:
                bad(None, f"số biên lai bị nhảy: thiếu số {want} (số kế tiếp là {got})")
                break
        return VerifyReport(checked, tuple(problems), first_bad, prev_hash)
