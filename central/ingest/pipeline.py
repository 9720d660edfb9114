"""`ingest`: one upload batch through the stages, in one transaction per batch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from app.domain.ledger import check_record
from central.auth import BAD_TOKEN, hash_secret
from central.clock import now_text
from central.errors import Unauthorized
from central.ingest.classify import CounterFacts, Held, KeyEpoch, Verdict, classify
from central.ingest.continuity import Continuity, FlagNote, continuity
from central.ingest.parse import ParsedRecord, parse
from central.ingest.storage import (
    load_held,
    load_rates,
    lock_counter_by_token,
    resolve_gaps,
    save_flags,
    store_accepted,
)
from central.moves import CounterKeys, KeyPending, load_keys
from central.store import CentralStore
from sync.protocol import UploadResponse, WireRecord

MAX_EVIDENCE_CHARS = 8_192  # per flag: a real record is about 1 KB


def _evidence(rec: WireRecord) -> str:
    """The refused submission as JSON text, cut to `MAX_EVIDENCE_CHARS` (with a note of its
    full length and SHA-256, so the auditor can still match it to the counter's copy)."""
    text = json.dumps(rec, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= MAX_EVIDENCE_CHARS:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    note = f" …[cắt bớt: {len(text)} ký tự, sha256 {digest}]"
    return text[: MAX_EVIDENCE_CHARS - len(note)] + note


def _refusal_flag(rec: WireRecord, verdict: Verdict) -> FlagNote:
    return FlagNote(
        kind=verdict.flag_kind or verdict.reason_code or "invalid",
        detail=verdict.reason or "",
        seq=verdict.seq,
        record_id=verdict.id or None,
        evidence=_evidence(rec),
    )


def _flags_in_batch_order(
    records: Sequence[WireRecord], verdicts: Sequence[Verdict], links: Continuity
) -> list[FlagNote]:
    """Refusal and continuity flags interleaved as the auditor reads them: by the record's
    place in the batch."""
    refusals = [
        (index, _refusal_flag(records[index], v)) for index, v in enumerate(verdicts) if v.flagged
    ]
    return [note for _, note in sorted([*refusals, *links.flags], key=lambda pair: pair[0])]


def _refuse_pending(
    keys: CounterKeys, facts: CounterFacts, held: Held, parsed: Sequence[ParsedRecord]
) -> None:
    """A batch with a record sealed by a key still waiting for the admin's approval (a move to
    a new PC) is refused whole — 423, nothing stored, the counter keeps it queued."""
    pending = keys.pending
    if pending is None:
        return
    for p in parsed:
        if p.seq < pending.from_seq or p.id in held.by_id:
            continue
        if check_record(facts.key_for(p.seq), p.record) is None:
            continue  # sealed with the key in force (the old PC, until the move is approved)
        if check_record(pending.key, p.record) is None:
            raise KeyPending(
                f"khóa ký mới của quầy (chuyển sang máy mới, từ bản ghi số {pending.from_seq}) "
                "đang chờ quản trị trung tâm duyệt; chưa nhận bản ghi nào của lần gửi này, "
                "hãy đồng bộ lại sau khi được duyệt"
            )


def ingest(store: CentralStore, token: str, records: Sequence[WireRecord]) -> UploadResponse:
    """Store one batch for the counter whose API token is `token`. The token is checked inside
    the batch's transaction, by the same statement that locks the counter's row: one round
    trip, and a token revoked meanwhile cannot slip a batch in."""
    items = [parse(rec) for rec in records]
    parsed = [item for item in items if isinstance(item, ParsedRecord)]
    now = now_text()
    with store.write() as s:
        found = lock_counter_by_token(s, hash_secret(token))
        if found is None:
            raise Unauthorized(BAD_TOKEN)
        counter = found
        held = load_held(s, counter.id, parsed, head_seq=counter.head_seq)
        versions = [v for p in parsed if isinstance(v := p.record.body.get("rate_version"), str)]
        keys = (
            load_keys(store, s, counter)
            if counter.moved
            else CounterKeys(store.keys.open(counter.id, counter.signing_key), (), None)
        )
        facts = CounterFacts(
            counter.id,
            counter.ledger_counter_id,
            keys.first,
            load_rates(s, versions),
            tuple(KeyEpoch(e.from_seq, e.key, e.continues_from_hash) for e in keys.approved),
        )
        _refuse_pending(keys, facts, held, parsed)
        verdicts = classify(facts, held, items)
        accepted = [
            (index, item)
            for index, (item, verdict) in enumerate(zip(items, verdicts, strict=True))
            if verdict.status == "accepted" and isinstance(item, ParsedRecord)
        ]
        links = continuity(accepted, held, head_seq=counter.head_seq)
        notes = _flags_in_batch_order(records, verdicts, links)
        notes += store_accepted(s, counter, [p for _, p in accepted], now)
        save_flags(s, counter.id, notes, now)
        if links.filled_below_head:
            resolve_gaps(s, counter.id, links.filled_below_head, now)
        return {"results": [v.item() for v in verdicts], "head_seq": counter.head_seq}
