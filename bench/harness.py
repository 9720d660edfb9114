"""What the sync benchmarks set up alike: an in-memory keyring (a benchmark must not write to the
OS one), cheap argon2 (login cost is not under test), a temp folder (kept with BENCH_KEEP=1),
the reference central server in its own process, and a counter with N payments."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keyring

from app.services.common import Actor
from app.services.counter import CounterView, get_counter
from app.storage.db import Database, open_database
from tests.support.central import CentralProcess, central_process
from tests.support.counters import cheap_password_hashing, init_test_counter, seed_payments
from tests.support.keyrings import MemoryKeyring


@dataclass(frozen=True)
class SyncBench:
    tmp: Path
    central: CentralProcess
    db_path: Path
    db: Database
    admin: Actor
    counter: CounterView
    seed_seconds: float
    enrollment_code: str


@contextmanager
def sync_bench(prefix: str, *, payments: int, counter_code: str) -> Iterator[SyncBench]:
    """A counter database with `payments` payments recorded (not enrolled yet) and a one-time
    enrolment code from a running central."""
    from central import auth
    from central.store import CentralStore

    keyring.set_keyring(MemoryKeyring())
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with cheap_password_hashing(), central_process(tmp / "central.sqlite3") as central:
            db_path = tmp / "counter.sqlite3"
            db = open_database(db_path)
            admin = init_test_counter(db, counter_code=counter_code)
            seconds = seed_payments(db, admin, payments)
            store = CentralStore.at_path(central.db_path)
            me = get_counter(db)
            code = auth.make_enrollment_code(
                store,
                organisation=me.organisation,
                collection_point=me.collection_point,
                counter_code=me.counter_code,
                label=prefix.strip("-"),
            )
            store.close()
            yield SyncBench(tmp, central, db_path, db, admin, me, seconds, code)
    finally:
        if os.environ.get("BENCH_KEEP") is None:
            shutil.rmtree(tmp, ignore_errors=True)
