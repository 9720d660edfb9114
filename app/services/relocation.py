"""Moving a counter to a new PC (docs/BACKUP.md, "Chuyển sang máy mới").

The signing key lives only in the old PC's keyring, so a database restored on a new PC has no
key to seal new records with. `rekey_after_restore` gives the counter a new key that continues
the chain from the restored head: the next record is `head + 1`, its `prev_hash` the restored
head's hash, sealed with the new key. The move is stored as a key epoch (`signing.key_from_seq`:
the first sequence number sealed with the current key; the key's fingerprint; the head it
continues from) and audited; `verify` checks seals only from that sequence on here (records
before it were sealed with the old key, which central holds), while chain, hashes and receipt
numbers are checked for every record.

The counter is then marked as needing enrolment: the API token was in the old keyring too.
Enrolling again sends the new key with `key_from_seq` and the restored head; central must accept
it as the same counter only after its admin approves (what central checks: docs/BACKUP.md).

Nothing already synced is sent again: the outbox is part of the restored database, so records
marked synced stay synced; records synced after the backup was taken are pending again and
central answers "duplicate" for them (same record id, same content), which marks them synced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.chain import GENESIS
from app.domain.clock import now_utc
from app.domain.types import Role
from app.errors import ConfigurationError
from app.secrets import get_secret, new_signing_key
from app.services.common import Actor
from app.services.queries import audit, load_actor, require_counter
from app.services.sealing import read_heads, write_anchor
from app.services.sync_state import NEEDS_ENROLLMENT, put_sync_value
from app.storage.db import Database
from app.storage.models import AuditEvent, LedgerEntry, Setting

KEY_EPOCH = "signing.key_epoch"
# A restore on a PC without the key cannot seal its audit entry: it leaves this note, and
# `rekey_after_restore` writes the entry, sealed with the new key.
PENDING_RESTORE_AUDIT = "backup.restore_to_audit"


@dataclass(frozen=True)
class KeyEpoch:
    from_seq: int  # the first record sealed with the current key
    continues_from_hash: str  # the restored head's hash (GENESIS when the ledger was empty)
    fingerprint: str  # sha256 of the key, first 16 hex digits (not the key)
    at: str
    audit_from_seq: int = 1  # the first audit entry sealed with the current key


def key_epoch(session: Session) -> KeyEpoch | None:
    raw = session.scalar(select(Setting.value).where(Setting.key == KEY_EPOCH))
    return KeyEpoch(**json.loads(raw)) if raw else None


def seals_checked_from(session: Session) -> int:
    """The first sequence number whose seal this PC's key can check (1 unless moved)."""
    epoch = key_epoch(session)
    return epoch.from_seq if epoch else 1


def fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def rekey_after_restore(db: Database, *, by: Actor) -> KeyEpoch:
    """A new signing key continuing the chain from the restored head (admin, new PC only)."""
    by.require(Role.ADMIN, action="tạo khóa ký mới cho quầy sau khi chuyển máy")
    with db.read() as session:
        counter = require_counter(session)
        counter_id = counter.counter_id
    if get_secret(f"signing-key:{counter_id}") is not None:
        raise ConfigurationError(
            "Máy này đã có khóa ký của quầy; không cần (và không được) tạo khóa mới.",
            message_en="this PC already holds the counter's signing key",
        )
    with db.read() as session:
        head = session.execute(
            select(LedgerEntry.seq, LedgerEntry.hash).order_by(LedgerEntry.seq.desc()).limit(1)
        ).first()
        audit_head = session.scalar(select(func.max(AuditEvent.seq))) or 0
    head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS)
    key = new_signing_key(counter_id)  # stored before the write transaction, never inside it
    epoch = KeyEpoch(
        head_seq + 1, head_hash, fingerprint(key), now_utc().isoformat(), audit_head + 1
    )
    with db.write() as session:
        load_actor(session, by)
        session.merge(Setting(key=KEY_EPOCH, value=json.dumps(epoch.__dict__)))
        put_sync_value(session, NEEDS_ENROLLMENT, "1")  # the API token stayed on the old PC
        pending = session.get(Setting, PENDING_RESTORE_AUDIT)
        if pending is not None:  # the restore that brought the books here, sealed now
            facts = json.loads(pending.value)
            audit(session, "backup.restore", actor=by, subject=str(facts.pop("file", "")), **facts)
            session.delete(pending)
        audit(
            session,
            "counter.rekey",
            actor=by,
            subject=counter_id,
            from_seq=epoch.from_seq,
            continues_from_hash=head_hash,
            fingerprint=epoch.fingerprint,
        )
    # The new key's chain starts here: anchor it, as `init` does for a new counter.
    with db.read() as session:
        heads = read_heads(session)
    write_anchor(counter_id, key, heads)
    return epoch
