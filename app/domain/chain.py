"""Hash chain over the ledger: each record carries the hash of the one before it.

link hash = SHA-256( prev_hash_hex (ASCII) ‖ 0x0A ‖ canonical_bytes(record) ), hex lower-case.
The first record's prev_hash is 64 zeros (GENESIS). Removing, reordering or editing any record
breaks every hash after it; the central server keeps its own copy of the chain head, so a
rewritten tail is caught too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from app.domain.canonical import CanonicalValue, canonical_bytes

GENESIS = "0" * 64


def link_hash(prev_hash: str, record: Mapping[str, CanonicalValue]) -> str:
    if len(prev_hash) != 64:
        raise ValueError("prev_hash must be 64 hex characters")
    h = hashlib.sha256()
    h.update(prev_hash.encode("ascii"))
    h.update(b"\n")
    h.update(canonical_bytes(record))
    return h.hexdigest()
