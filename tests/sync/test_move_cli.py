"""Central's admin approves a moved counter's new key on the command line (`quaythu-central
list-moves` / `approve-move`, central/moves.py) against the session's reference central."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid

from app.services.counter import get_counter
from central import auth, moves
from sync.engine import Syncer
from tests.sync.conftest import FAST, ROOT, Counter, enrollment_code
from tests.sync.test_move_to_new_pc import _central_chain, _post_enroll


def test_the_admin_approves_on_the_command_line(counter: Counter) -> None:
    central = counter.central  # the session's central on SQLite: its master key file is
    # next to the database, where the command line finds it too
    counter.pay(1)
    Syncer(counter.db, config=FAST).run("test")
    chain = _central_chain(counter)
    enrolled = _post_enroll(
        counter,
        enrollment_code(central.store, counter.db),
        os.urandom(32),
        key_from_seq=chain[-1][0] + 1,  # after the shift's opening and the payment
        continues_from_seq=chain[-1][0],
        continues_from_hash=chain[-1][3],
    )
    assert enrolled.status_code == 200
    db_file = central.store.url.removeprefix("sqlite:///")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUAYTHU_CENTRAL_")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "central.cli", *args, "--db", db_file],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = cli("list-moves", "--pending", "--json")
    assert listed.returncode == 0, listed.stderr
    mine = [m for m in json.loads(listed.stdout) if m["counter"] == counter.central_counter_id()]
    assert [(m["from_seq"], m["status"]) for m in mine] == [(chain[-1][0] + 1, "pending")]
    no_name = cli("approve-move", counter.counter_id, "--by", " ")
    assert no_name.returncode == 1 and "người duyệt" in no_name.stderr
    here = get_counter(counter.db)  # another counter with the same code at central:
    twin = enrollment_code(central.store, counter.db)  # a code alone does not name one
    auth.enroll(
        central.store,
        {
            "enrollment_code": twin,
            "counter_id": str(uuid.uuid4()),
            "counter_code": here.counter_code,
            "organisation": here.organisation,
            "collection_point": here.collection_point,
            "receipt_series": here.receipt_series,
            "signing_key": base64.b64encode(os.urandom(32)).decode("ascii"),
        },
    )
    shared = cli("approve-move", here.counter_code, "--by", "Trần Văn Duyệt")
    assert shared.returncode == 1 and "mã trung tâm" in shared.stderr
    done = cli("approve-move", mine[0]["counter"], "--by", "Trần Văn Duyệt")
    assert done.returncode == 0, done.stderr
    assert "Đã duyệt khóa ký mới" in done.stdout
    mine_now = [m for m in moves.list_moves(central.store) if m["counter"] == mine[0]["counter"]]
    assert [(m["status"], m["decided_by"]) for m in mine_now] == [("approved", "Trần Văn Duyệt")]
