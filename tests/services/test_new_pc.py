"""Moving to a new PC, the counter side (docs/BACKUP.md): restore the backup where the old key is
not, take a new key that continues the chain from the restored head, keep verifying, ask for
re-enrolment, and send nothing already synced again."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app import secrets
from app.domain.chain import GENESIS
from app.domain.codes import verify_code
from app.domain.types import Scheme
from app.errors import ConfigurationError
from app.services.backup import make_backup, restore
from app.services.common import Actor
from app.services.ledger_records import StoredContent
from app.services.operators import authenticate
from app.services.outbox import pending_count
from app.services.participants import ParticipantView
from app.services.payments import PaymentRequest, record_payment
from app.services.relocation import rekey_after_restore
from app.services.sync_state import NEEDS_ENROLLMENT, get_sync_value
from app.services.verify import verify_ledger
from app.storage.db import Database, open_database
from app.storage.models import LedgerEntry, Payment
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME, CASHIER
from tests.support.keyrings import MemoryKeyring


def pay(db: Database, who: ParticipantView, by: Actor, order: int) -> str:
    view = record_payment(
        db,
        PaymentRequest(uuid.uuid4().hex, who.id, Scheme.BHYT_HGD, months=3, member_order=order),
        by=by,
    )
    return view.id


def test_restore_on_a_new_pc_rekey_continues_the_chain(
    tmp_path: Path,
    db_path: Path,
    db: Database,
    cashier: Actor,
    payer: ParticipantView,
    memory_keyring: MemoryKeyring,
) -> None:
    from app.services.participants import ParticipantInput, create_participant

    others = [
        create_participant(
            db,
            ParticipantInput(full_name=f"Người Nộp {'ABC'[i]}", ma_so_bhxh=f"790000000{i}"),
            by=cashier,
        )
        for i in range(3)
    ]
    for i, who in enumerate(others):
        pay(db, who, cashier, 1 + i)
    # the shift's opening (record 1) and the first two payments reached central before the backup
    con = sqlite3.connect(db_path)
    con.execute("UPDATE outbox SET state='synced' WHERE ledger_seq <= 3")
    con.commit()
    con.close()
    copy = Path(make_backup(db, folder=tmp_path / "usb").path)
    db.close()
    old_key = memory_keyring.entries.copy()

    # the new PC: an empty keyring, a fresh data folder
    memory_keyring.entries.clear()
    secrets.forget_signing_keys()
    new_path = tmp_path / "new-pc" / "quaythu.sqlite3"
    restore(copy, new_path)
    new = open_database(new_path)
    try:
        admin = authenticate(new, ADMIN_USERNAME, ADMIN_PASSWORD)
        cashier2 = authenticate(new, CASHIER.username, CASHIER.password)
        with pytest.raises(ConfigurationError):
            verify_ledger(new)  # no key here yet
        assert verify_ledger(new, with_key=False).ok
        with new.read() as s:
            head_seq, head_hash = s.execute(
                select(LedgerEntry.seq, LedgerEntry.hash).order_by(LedgerEntry.seq.desc())
            ).first() or (0, GENESIS)
        epoch = rekey_after_restore(new, by=admin)
        # records 1–4: the cashier's shift opening and three payments
        assert epoch.from_seq == head_seq + 1 == 5 and epoch.continues_from_hash == head_hash
        assert get_sync_value(new, NEEDS_ENROLLMENT) == "1"
        with pytest.raises(ConfigurationError, match="đã có khóa ký"):
            rekey_after_restore(new, by=admin)

        new_id = pay(new, payer, cashier2, 1)
        with new.read() as s:
            entry = s.scalars(select(LedgerEntry).where(LedgerEntry.seq == 5)).one()
            assert entry.prev_hash == head_hash and entry.record_id == new_id
            p = s.get(Payment, new_id)
            assert p is not None
            record = StoredContent({5: p}, {}, {p.id: p}).record(entry)
            assert record is not None
        new_key = secrets.load_signing_key(p.counter_id)
        old = next(v for (_, k), v in old_key.items() if k.startswith("signing-key:"))
        assert verify_code(new_key, record.body, record.code)
        import base64

        assert not verify_code(base64.b64decode(old), record.body, record.code)
        report = verify_ledger(new)  # seals from the new key on; chain and hashes throughout
        assert report.ok, report.problems
        assert report.checked == 5
        # nothing already synced is queued again: seq 4 (not synced) and the new one only
        assert pending_count(new) == 2
    finally:
        new.close()
