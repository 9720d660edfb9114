"""`ingest`: one upload batch through the stages, in one transaction per batch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from central.auth import CounterAuth
from central.clock import now_text
from central.ingest.classify import CounterFacts, Verdict, classify
from central.ingest.continuity import Continuity, FlagNote, continuity
from central.ingest.parse import ParsedRecord, parse
from central.ingest.storage import (
    load_held,
    load_rates,
    lock_counter,
    resolve_gaps,
    save_flags,
    store_accepted,
)
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


def ingest(store: CentralStore, auth: CounterAuth, records: Sequence[WireRecord]) -> UploadResponse:
    items = [parse(rec) for rec in records]
    parsed = [item for item in items if isinstance(item, ParsedRecord)]
    now = now_text()
    with store.write() as s:
        counter = lock_counter(s, auth.id)
        held = load_held(s, counter.id, parsed)
        versions = [v for p in parsed if isinstance(v := p.record.body.get("rate_version"), str)]
        facts = CounterFacts(
            counter.id,
            counter.ledger_counter_id,
            store.keys.open(counter.id, counter.signing_key),
            load_rates(s, versions),
        )
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
