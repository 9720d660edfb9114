"""Canonical serialisation of ledger records — the bytes that codes and hashes are computed over.

Both ends (the counter and the central server) compute confirmation codes and chain hashes with
this one module, so the rule lives in exactly one place. The rule (also in docs/LEDGER.md):

* a record is a flat mapping of field name → value; values are `str`, `int`, `bool` or `None`
  (never float: money is integer đồng; dates are ISO `YYYY-MM-DD` strings, instants are UTC ISO
  strings `YYYY-MM-DDTHH:MM:SS.ffffffZ`);
* serialised as JSON with keys sorted, no insignificant white space, non-ASCII kept as UTF-8
  (`ensure_ascii=False`), then encoded as UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime

CanonicalValue = str | int | bool | None


def utc_iso(instant: datetime) -> str:
    """The canonical text of an instant: UTC, microseconds, `Z` suffix."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc_iso(text: str) -> datetime:
    if not text.endswith("Z") or len(text) != 27:
        raise ValueError(f"not a canonical UTC instant: {text!r}")
    return datetime.fromisoformat(text)  # Python ≥ 3.11 reads the "Z" suffix


def date_iso(day: date) -> str:
    return day.isoformat()


_PLAIN = frozenset({str, int, bool, type(None)})


def canonical_bytes(record: Mapping[str, CanonicalValue]) -> bytes:
    if not _PLAIN.issuperset(map(type, record.values())):  # fast path: exact types
        for key, value in record.items():
            if isinstance(value, float):
                raise TypeError(f"float in canonical record field {key!r}; use integer units")
            if not isinstance(value, str | int | bool | type(None)):
                raise TypeError(f"unsupported type {type(value).__name__} in field {key!r}")
    return json.dumps(
        dict(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
