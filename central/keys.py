"""Counters' signing keys at central: opened for verification, re-sealed on rotation."""

from __future__ import annotations

from sqlalchemy import select

from central.models import CentralCounter
from central.store import CentralStore


def rotate(store: CentralStore) -> tuple[int, int]:
    """Re-seal every counter key not sealed under the current master key, in one transaction
    (all or nothing). Returns (counters, re-sealed)."""
    resealed = 0
    with store.write() as s:
        counters = s.scalars(select(CentralCounter).with_for_update()).all()
        for c in counters:
            if store.keys.is_current(c.signing_key):
                continue
            c.signing_key = store.keys.seal(c.id, store.keys.open(c.id, c.signing_key))
            resealed += 1
        return len(counters), resealed
