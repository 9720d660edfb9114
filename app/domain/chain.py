"""Hash chain over the ledger: each record carries the hash of the one before it.

link hash = SHA-256( prev_hash_hex (ASCII) ‖ 0x0A ‖ canonical_bytes(record) ), hex lower-case.
The first record's prev_hash is 64 zeros (GENESIS). Removing, reordering or editing any record
breaks every hash after it; the central server keeps its own copy of the chain head, so a
rewritten tail is caught too. Format-2 records also put `prev_hash` and `seq` inside the keyed
MAC (`app.domain.ledger`), so the chain cannot be recomputed without the key; the newest heads
are kept outside the database as an *anchor* sealed with the key (`seal_anchor`), so a removed
tail is caught locally as well (docs/LEDGER.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

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


def keyed_link(key: bytes, prev: str, record: Mapping[str, CanonicalValue]) -> str:
    """A link that needs the key: HMAC-SHA256(key, prev ‖ 0x0A ‖ canonical_bytes(record)), hex.

    The audit trail is chained with it (each entry's `mac` covers the previous entry's `mac`),
    so an entry cannot be edited, removed or inserted without the key.
    """
    if len(prev) != 64:
        raise ValueError("prev must be 64 hex characters")
    return hmac.new(
        key, prev.encode("ascii") + b"\n" + canonical_bytes(record), hashlib.sha256
    ).hexdigest()


# --- the head anchor -----------------------------------------------------------------------------

ANCHOR_TAG = "QTA1"


@dataclass(frozen=True)
class Heads:
    """The newest ledger record (seq, hash) and audit entry (seq, mac); (0, GENESIS) if none."""

    ledger_seq: int
    ledger_hash: str
    audit_seq: int
    audit_mac: str


def _anchor_mac(key: bytes, counter_id: str, heads: Heads) -> str:
    text = (
        f"{ANCHOR_TAG}|{counter_id}|{heads.ledger_seq}|{heads.ledger_hash}"
        f"|{heads.audit_seq}|{heads.audit_mac}"
    )
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def seal_anchor(key: bytes, counter_id: str, heads: Heads) -> str:
    """The anchor text kept outside the database: the heads and an HMAC over them (and the
    counter id, so one counter's anchor is no use for another)."""
    return (
        f"{ANCHOR_TAG}|{heads.ledger_seq}|{heads.ledger_hash}|{heads.audit_seq}"
        f"|{heads.audit_mac}|{_anchor_mac(key, counter_id, heads)}"
    )


def open_anchor(key: bytes, counter_id: str, text: str) -> Heads | None:
    """The heads an anchor text holds, or None when it is malformed or its seal is wrong."""
    parts = text.split("|")
    if len(parts) != 6 or parts[0] != ANCHOR_TAG or not parts[1].isdigit():
        return None
    if not parts[3].isdigit():
        return None
    heads = Heads(int(parts[1]), parts[2], int(parts[3]), parts[4])
    if not hmac.compare_digest(parts[5], _anchor_mac(key, counter_id, heads)):
        return None
    return heads
