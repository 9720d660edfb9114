"""What a shift's records add up to — pure, so the counter, `verify` and its tests share it.

A shift is the stretch of the ledger from its opening record to its closing record (docs/
SHIFTS.md): every payment and void sealed in between belongs to it. `tally` walks the signed
bodies of that stretch; `records_hash` is the digest a close signs over the stretch's links.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.canonical import CanonicalValue

Body = Mapping[str, CanonicalValue]


@dataclass(frozen=True)
class CashMove:
    """A drop to the safe or a pick-up from it."""

    seq: int
    event: str  # "drop" | "pickup"
    at: str  # canonical UTC text, as signed
    amount: int
    reason: str
    supervisor: str


@dataclass
class Tally:
    """The cash effect of a shift's records (amounts in đồng)."""

    float_amount: int = 0
    payments: int = 0
    payment_total: int = 0
    by_scheme: dict[str, tuple[int, int]] = field(default_factory=dict)  # scheme → count, amount
    voids: int = 0
    void_total: int = 0  # amounts of the payments voided during the shift (cash refunded)
    moves: list[CashMove] = field(default_factory=list)
    first_receipt: int | None = None
    last_receipt: int | None = None

    @property
    def drops(self) -> int:
        return sum(m.amount for m in self.moves if m.event == "drop")

    @property
    def pickups(self) -> int:
        return sum(m.amount for m in self.moves if m.event == "pickup")

    @property
    def expected(self) -> int:
        """Float + cash taken − cash refunded for voids − drops + pick-ups."""
        return self.float_amount + self.payment_total - self.void_total - self.drops + self.pickups


def _int(body: Body, name: str) -> int:
    value = body.get(name)
    return value if type(value) is int else 0


def tally(records: Iterable[tuple[int, str, Body]], voided_amount: Mapping[str, int]) -> Tally:
    """Add up a shift's records, given as (seq, kind, signed body) from its opening record on
    (the close itself, when given, adds nothing). `voided_amount`: payment id → amount, for the
    payments the shift's voids cancel (they may have been taken in an earlier shift)."""
    t = Tally()
    for seq, kind, body in records:
        if kind == "payment":
            amount = _int(body, "amount")
            t.payments += 1
            t.payment_total += amount
            scheme = str(body.get("scheme"))
            count, total = t.by_scheme.get(scheme, (0, 0))
            t.by_scheme[scheme] = (count + 1, total + amount)
            number = _int(body, "receipt_number")
            t.first_receipt = number if t.first_receipt is None else t.first_receipt
            t.last_receipt = number
        elif kind == "void":
            t.voids += 1
            t.void_total += voided_amount.get(str(body.get("payment_id")), 0)
        elif kind == "shift":
            event = body.get("event")
            if event == "open":
                t.float_amount = _int(body, "amount")
            elif event in ("drop", "pickup"):
                t.moves.append(
                    CashMove(
                        seq,
                        str(event),
                        str(body.get("at")),
                        _int(body, "amount"),
                        str(body.get("reason") or ""),
                        str(body.get("supervisor") or ""),
                    )
                )
    return t


def records_hash(link_hashes: Sequence[str]) -> str:
    """SHA-256 (hex) over the chain hashes of a shift's records, from its opening record to the
    record before its close, one per line: the Z report's fingerprint of what the shift holds."""
    return hashlib.sha256("\n".join(link_hashes).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ZReportData:
    """Everything a shift's Z report prints (`printing.zreport`); amounts in đồng, instants
    aware. `copy_number` 0 is the original, n ≥ 1 the n-th copy (BẢN SAO)."""

    organisation: str
    collection_point: str
    counter_code: str
    shift_id: str
    cashier: str  # full name (username)
    opened_at: datetime
    closed_at: datetime
    closed_by: str
    float_amount: int
    float_counts: tuple[tuple[int, int], ...]
    schemes: tuple[tuple[str, int, int], ...]  # (label, count, amount)
    payments: int
    payment_total: int
    voids: int
    void_total: int
    moves: tuple[tuple[datetime, str, int, str, str], ...]  # (at, label, amount, reason, by)
    expected: int
    counted: int
    counted_counts: tuple[tuple[int, int], ...]
    difference: int
    reason: str | None
    supervisor: str | None
    unsynced: int
    series: str
    first_receipt: int | None
    last_receipt: int | None
    records_hash: str
    copy_number: int = 0
