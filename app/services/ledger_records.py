"""Ledger records as they were sealed: a format-2 record from the body stored in its ledger
row, a format-1 record rebuilt from the columns it signs.

The outbox (what sync sends) and `verify` (what it checks) both go through `StoredContent`, so
the record a counter uploads is the record it verifies: one `SealedRecord`, one rebuild.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.domain.canonical import CanonicalValue
from app.domain.ledger import RecordKind, SealedRecord, record_kind
from app.services.payments import payment_body, void_body
from app.storage.models import Payment, Void


class EntryColumns(Protocol):
    """A ledger entry's own columns (an ORM `LedgerEntry` or a selected row)."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def body(self) -> str | None: ...
    @property
    def mac(self) -> str | None: ...


def stored_body(text: str) -> dict[str, CanonicalValue] | None:
    """A format-2 body as stored in its ledger row, or None when it is not a flat JSON object."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not _PLAIN.issuperset(map(type, data.values())):
        return None
    return data


_PLAIN = frozenset({str, int, bool, type(None)})


@dataclass(frozen=True)
class StoredContent:
    """The payment and void rows a set of ledger entries are rebuilt from."""

    payments: Mapping[int, Payment | Mapping[str, Any]]  # by ledger seq (ORM or plain row)
    voids: Mapping[int, Void]  # by ledger seq
    cancelled: Mapping[str, Payment]  # the payments the voids cancel, by id

    def body(self, kind: str, seq: int) -> dict[str, CanonicalValue] | None:
        """The canonical body of the record at `seq`, or None when its content is missing."""
        if kind == "payment":
            p = self.payments.get(seq)
            return None if p is None else payment_body(p).canonical()
        if kind == "void":
            v = self.voids.get(seq)
            target = None if v is None else self.cancelled.get(v.payment_id)
            return None if v is None or target is None else void_body(v, target).canonical()
        return None

    def record(self, entry: EntryColumns) -> SealedRecord | None:
        """The sealed record of a ledger entry, or None when its content is missing."""
        try:
            kind: RecordKind = record_kind(entry.kind)
        except ValueError:
            return None
        if entry.body is not None:
            body = stored_body(entry.body)
            if body is None:
                return None
            return SealedRecord(
                entry.seq, kind, body, entry.code, entry.prev_hash, entry.hash, entry.mac
            )
        body = self.body(entry.kind, entry.seq)
        if body is None:
            return None
        return SealedRecord(entry.seq, kind, body, entry.code, entry.prev_hash, entry.hash)
