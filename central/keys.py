"""Counters' signing keys at central: opened for verification, re-sealed on rotation."""

from __future__ import annotations

from sqlalchemy import select

from central.models import CentralCounter, CounterKey
from central.moves import open_key, seal_key
from central.store import CentralStore


def rotate(store: CentralStore) -> tuple[int, int]:
    """Re-seal every counter key not sealed under the current master key — the keys of moved
    counters (`counter_keys`) too — in one transaction (all or nothing). Returns (counters,
    re-sealed)."""
    resealed = 0
    with store.write() as s:
        counters = s.scalars(select(CentralCounter).with_for_update()).all()
        for c in counters:
            if store.keys.is_current(c.signing_key):
                continue
            c.signing_key = store.keys.seal(c.id, store.keys.open(c.id, c.signing_key))
            resealed += 1
        for row in s.scalars(select(CounterKey).with_for_update()):
            if not store.keys.is_current(row.signing_key):
                row.signing_key = seal_key(store, row, open_key(store, row))
                resealed += 1
        return len(counters), resealed
