"""A moved counter's new key at central (central/moves.py): sealed under the master key with
its counter and starting number bound in, re-sealed by a master-key rotation like every
counter key, and only ever opened for the counter and number it was stored for."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.domain.chain import GENESIS
from central import auth, keys, moves
from central.masterkey import MasterKeyError, MasterKeys
from central.models import CentralCounter, CounterKey
from central.store import CentralStore, sqlite_url
from tests.central.simcounters import SimCounter


def _enrol(store: CentralStore, c: SimCounter, key: bytes, **move: object) -> dict[str, str]:
    who = {"organisation": "Bưu điện tỉnh Mô Phỏng", "collection_point": "Điểm thu số 1"}
    code = auth.make_enrollment_code(store, counter_code=c.code, **who)
    answer = auth.enroll(
        store,
        {  # type: ignore[typeddict-item]
            "enrollment_code": code,
            "counter_id": c.counter_id,
            "counter_code": c.code,
            "receipt_series": "SIM",
            "signing_key": base64.b64encode(key).decode("ascii"),
            **who,
            **move,
        },
    )
    return dict(answer)


def test_rotation_reseals_a_moved_counters_key_and_it_cannot_change_rows(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "central.sqlite3")
    old_master, new_master = os.urandom(32), os.urandom(32)
    c = SimCounter(1)
    new_key = os.urandom(32)
    store = CentralStore(url, keys=MasterKeys(old_master))
    try:
        assert _enrol(store, c, c.key)["key_status"] == "active"
        moved = _enrol(
            store,
            c,
            new_key,
            key_from_seq=1,
            continues_from_seq=0,
            continues_from_hash=GENESIS,
        )
        assert moved["key_status"] == "pending"
        with store.read() as s:
            row = s.scalars(select(CounterKey)).one()
            assert base64.b64encode(new_key).decode() not in row.signing_key  # sealed
    finally:
        store.close()

    store = CentralStore(url, keys=MasterKeys(new_master, [old_master]))
    try:
        assert keys.rotate(store) == (1, 2)  # the counter's first key and its new one
    finally:
        store.close()

    store = CentralStore(url, keys=MasterKeys(new_master))  # the old master key is gone
    try:
        with store.read() as s:
            counter = s.scalars(select(CentralCounter)).one()
            held = moves.load_keys(store, s, counter)
        assert held.first == c.key and held.pending is not None
        assert (held.pending.key, held.pending.from_seq) == (new_key, 1)
        with store.write() as s:  # a sealed key moved to another starting number is useless
            s.execute(update(CounterKey).values(from_seq=2))
        with store.read() as s, pytest.raises(MasterKeyError):
            moves.load_keys(store, s, s.scalars(select(CentralCounter)).one())
    finally:
        store.close()
