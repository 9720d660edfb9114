"""Issue 9.5: central keeps no usable counter key in plain text. Keys are sealed under a master
key read from the environment or a secret file, so a copy of central's database alone cannot
verify, let alone mint, confirmation codes; the master key can be rotated."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.engine import make_url

from central import auth
from central.masterkey import (
    ENV_KEY_FILE,
    ENV_OLD_KEY_FILES,
    MasterKeyError,
    MasterKeys,
    new_key_text,
    write_key_file,
)
from central.models import CentralCounter, LedgerRecord
from central.store import CentralStore
from tests.security.conftest import (
    CentralServer,
    Counter,
    central_id,
    pending_wire,
    post_records,
    raw_key_forms,
    token_of,
)
from tests.sync.conftest import ROOT


def database_bytes(path: Path) -> bytes:
    out = b""
    for p in (path, path.with_name(path.name + "-wal")):
        if p.exists():
            out += p.read_bytes()
    return out


def database_copy(c: Counter) -> bytes:
    """What someone copying central's database gets: the SQLite file and its WAL, or a
    PostgreSQL dump (pg_dump)."""
    store = c.central.store
    if store.is_sqlite:
        return database_bytes(Path(store.url.removeprefix("sqlite:///")))
    from tests.central.postgres import BIN

    libpq = make_url(store.url).set(drivername="postgresql").render_as_string(False)
    dump = subprocess.run(
        [str(BIN / "pg_dump"), "--dbname", libpq], capture_output=True, timeout=120, check=True
    )
    return dump.stdout


def test_the_database_holds_no_counter_key_in_plain_text(counter: Counter) -> None:
    counter.pay(2)
    assert post_records(counter, pending_wire(counter)).status_code == 200
    raw = database_copy(counter)
    assert b"mk1$" in raw  # the copy is real: the sealed keys are in it
    for form in raw_key_forms(counter):
        assert form not in raw
    with counter.central.store.read() as s:
        sealed = s.scalar(
            select(CentralCounter.signing_key).where(CentralCounter.id == central_id(counter))
        )
    assert sealed is not None and sealed.startswith("mk1$")


def test_the_database_without_the_master_key_is_useless(counter: Counter) -> None:
    """Central's database (the same one, to stand for a copy of it) opened with any other
    master key: no counter key can be opened, and served so, central stores nothing."""
    counter.pay(1)
    [wire] = pending_wire(counter)
    wrong = MasterKeys(os.urandom(32))
    url = counter.central.store.url
    thief = CentralStore(url, keys=wrong, prepare=False)
    try:
        with thief.read() as s:
            row = s.get(CentralCounter, central_id(counter))
            assert row is not None
            with pytest.raises(MasterKeyError):
                thief.keys.open(row.id, row.signing_key)
            # and a sealed key is bound to its own counter row
            with pytest.raises(MasterKeyError):
                counter.central.store.keys.open("QT-OTHER", row.signing_key)
    finally:
        thief.close()
    server = CentralServer(url=url, keys=wrong)
    try:
        resp = requests.post(
            server.url + "/v1/records",
            json={"records": [wire]},
            headers={"Authorization": f"Bearer {token_of(counter)}"},
            timeout=10,
        )
        assert resp.status_code == 503 and resp.headers["Retry-After"]
    finally:
        server.stop()
    with counter.central.store.read() as s:
        assert s.get(LedgerRecord, wire["body"]["id"]) is None


def cli(db: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central.cli", *args, "--db", str(db), "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_rotation_reseals_every_key_under_the_new_master_key(tmp_path: Path) -> None:
    old_file, new_file = tmp_path / "old.key", tmp_path / "new.key"
    write_key_file(old_file, new_key_text())
    db = tmp_path / "central.sqlite3"
    old_env = {ENV_KEY_FILE: str(old_file)}
    old_keys = MasterKeys.from_environment(old_env)
    store = CentralStore.at_path(db, keys=old_keys)
    counter_keys = {}
    for n in range(3):
        code = auth.make_enrollment_code(
            store, organisation="Bưu điện", collection_point="Điểm thu", counter_code=f"Q{n}"
        )
        key = os.urandom(32)
        resp = auth.enroll(
            store,
            {
                "enrollment_code": code,
                "counter_id": f"00000000-0000-4000-8000-00000000000{n}",
                "counter_code": f"Q{n}",
                "organisation": "Bưu điện",
                "collection_point": "Điểm thu",
                "receipt_series": "S",
                "signing_key": base64.b64encode(key).decode(),
            },
        )
        counter_keys[resp["central_counter_id"]] = key
    store.close()

    made = cli(db, "make-master-key", "--output", str(new_file), env=old_env)
    assert made.returncode == 0 and new_file.stat().st_mode & 0o077 == 0
    # the new key is current, the old one still readable: rotate
    during = {ENV_KEY_FILE: str(new_file), ENV_OLD_KEY_FILES: str(old_file)}
    rotated = cli(db, "rotate-master-key", env=during)
    assert rotated.returncode == 0, rotated.stderr
    assert '"resealed": 3' in rotated.stdout
    assert '"resealed": 0' in cli(db, "rotate-master-key", env=during).stdout

    # afterwards the new key alone opens every counter key; the old one alone opens none
    for env, opens in (({ENV_KEY_FILE: str(new_file)}, True), (old_env, False)):
        keys = MasterKeys.from_environment(env)
        check = CentralStore.at_path(db, keys=keys)
        try:
            with check.read() as s:
                for c in s.scalars(select(CentralCounter)):
                    if opens:
                        assert keys.open(c.id, c.signing_key) == counter_keys[c.id]
                    else:
                        with pytest.raises(MasterKeyError):
                            keys.open(c.id, c.signing_key)
        finally:
            check.close()


def test_plain_keys_from_before_are_sealed_at_start(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    keys = MasterKeys(os.urandom(32))
    CentralStore.at_path(db, keys=keys).close()
    key = os.urandom(32)
    with sqlite3.connect(db) as con:
        con.execute(
            "INSERT INTO counters (id, ledger_counter_id, counter_code, organisation, "
            "collection_point, receipt_series, signing_key, enrolled_at, head_seq, head_hash) "
            "VALUES ('QT-OLD', 'c', 'Q', 'O', 'P', 'S', ?, '2026-01-01T00:00:00.000000Z', 0, "
            "'0')",
            (base64.b64encode(key).decode(),),
        )
    store = CentralStore.at_path(db, keys=keys)
    try:
        with store.read() as s:
            row = s.get(CentralCounter, "QT-OLD")
            assert row is not None and row.signing_key.startswith("mk1$")
            assert keys.open("QT-OLD", row.signing_key) == key
    finally:
        store.close()
    assert base64.b64encode(key) not in database_bytes(db)


def test_without_a_configured_master_key_central_refuses_to_guess(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="khóa chủ"):
        MasterKeys.from_environment({})  # PostgreSQL: no file next to the database
    bad = tmp_path / "bad.key"
    bad.write_text("ngắn quá", encoding="utf-8")
    with pytest.raises(MasterKeyError):
        MasterKeys.from_environment({ENV_KEY_FILE: str(bad)})
    # SQLite: a key file of its own is made next to the database, owner-only
    store = CentralStore.at_path(tmp_path / "fresh.sqlite3")
    store.close()
    made = tmp_path / "fresh.sqlite3.master-key"
    assert made.exists() and made.stat().st_mode & 0o077 == 0
