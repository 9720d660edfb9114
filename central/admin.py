"""The central administrator's listings: enrolled counters and the auditor's flags."""

from __future__ import annotations

from sqlalchemy import func, select
from typing_extensions import TypedDict

from central.models import CentralCounter, Flag, LedgerRecord
from central.store import CentralStore


class CounterRow(TypedDict):
    id: str
    counter_id: str
    counter_code: str
    collection_point: str
    enrolled_at: str
    active_token: bool
    head_seq: int
    records: int
    open_flags: int
    last_upload_at: str | None


class FlagRow(TypedDict):
    id: int
    counter: str
    kind: str
    seq: int | None
    seq_to: int | None
    record_id: str | None
    detail: str
    created_at: str
    resolved_at: str | None
    has_evidence: bool


def list_counters(store: CentralStore) -> list[CounterRow]:
    with store.read() as s:
        counts = {
            r[0]: r[1]
            for r in s.execute(
                select(LedgerRecord.counter_id, func.count()).group_by(LedgerRecord.counter_id)
            )
        }
        open_flags = {
            r[0]: r[1]
            for r in s.execute(
                select(Flag.counter_id, func.count())
                .where(Flag.resolved_at.is_(None))
                .group_by(Flag.counter_id)
            )
        }
        return [
            {
                "id": c.id,
                "counter_id": c.ledger_counter_id,
                "counter_code": c.counter_code,
                "collection_point": c.collection_point,
                "enrolled_at": c.enrolled_at,
                "active_token": c.token_hash is not None,
                "head_seq": c.head_seq,
                "records": counts.get(c.id, 0),
                "open_flags": open_flags.get(c.id, 0),
                "last_upload_at": c.last_upload_at,
            }
            for c in s.scalars(select(CentralCounter).order_by(CentralCounter.enrolled_at))
        ]


def list_flags(
    store: CentralStore, *, counter: str | None = None, include_resolved: bool = True
) -> list[FlagRow]:
    with store.read() as s:
        q = select(Flag).order_by(Flag.id)
        if counter:
            ids = s.scalars(
                select(CentralCounter.id).where(
                    (CentralCounter.id == counter)
                    | (CentralCounter.counter_code == counter)
                    | (CentralCounter.ledger_counter_id == counter)
                )
            ).all()
            q = q.where(Flag.counter_id.in_(ids))
        if not include_resolved:
            q = q.where(Flag.resolved_at.is_(None))
        return [
            {
                "id": f.id,
                "counter": f.counter_id,
                "kind": f.kind,
                "seq": f.seq,
                "seq_to": f.seq_to,
                "record_id": f.record_id,
                "detail": f.detail,
                "created_at": f.created_at,
                "resolved_at": f.resolved_at,
                "has_evidence": f.evidence is not None,
            }
            for f in s.scalars(q)
        ]
