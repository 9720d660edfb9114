"""Stage 3 of ingest: continuity flags for the accepted records. Pure.

Continuity never refuses a record — losing data would be worse — it tells the auditor: a record
whose predecessor central does not hold gets a `gap` flag naming the missing numbers (resolved
when they arrive); a `prev_hash` that is not the predecessor's hash, or a stored successor that
does not link to the record just received, gets a `chain_break` flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.chain import GENESIS
from central.ingest.classify import Held, Link
from central.ingest.parse import ParsedRecord


@dataclass(frozen=True)
class FlagNote:
    """Something the auditor must look at (becomes a row of `flags`)."""

    kind: str
    detail: str
    seq: int | None = None
    seq_to: int | None = None
    record_id: str | None = None
    evidence: str | None = None  # the refused submission, kept: nothing is lost


@dataclass(frozen=True)
class Continuity:
    flags: tuple[tuple[int, FlagNote], ...]  # (the record's place in the batch, its flag)
    filled_below_head: tuple[int, ...]  # sequence numbers that arrived under the stored head


def _predecessor(by_seq: dict[int, Link], below: int, p: ParsedRecord) -> FlagNote | None:
    seq, prev_hash = p.seq, p.record.prev_hash
    if seq == 1:
        if prev_hash == GENESIS:
            return None
        return FlagNote("chain_break", "bản ghi số 1 không bắt đầu từ gốc chuỗi", 1, None, p.id)
    before = by_seq.get(seq - 1)
    if before is not None:
        if before.hash == prev_hash:
            return None
        return FlagNote(
            "chain_break",
            f"bản ghi số {seq} không nối với bản ghi số {seq - 1} (chuỗi đã bị viết lại)",
            seq,
            None,
            p.id,
        )
    start = max([below, *(q for q in by_seq if q < seq)]) + 1
    return FlagNote(
        "gap",
        f"thiếu bản ghi số {start}"
        + (f"–{seq - 1}" if seq - 1 > start else "")
        + f" trước bản ghi số {seq}: chưa nhận được (bị xóa hoặc chưa gửi)",
        start,
        seq - 1,
        p.id,
    )


def _successor(by_seq: dict[int, Link], p: ParsedRecord) -> FlagNote | None:
    following = by_seq.get(p.seq + 1)
    if following is None or following.prev_hash == p.record.hash:
        return None
    return FlagNote(
        "chain_break",
        f"bản ghi số {p.seq + 1} không nối với bản ghi số {p.seq} vừa nhận",
        p.seq + 1,
        None,
        following.id,
    )


def continuity(
    accepted: Sequence[tuple[int, ParsedRecord]], held: Held, *, head_seq: int
) -> Continuity:
    """Flags for the accepted records (with their place in the batch), judged in batch order
    against what central held plus the records accepted before them."""
    by_seq = dict(held.by_seq)
    flags: list[tuple[int, FlagNote]] = []
    filled: list[int] = []
    for index, p in accepted:
        for note in (_predecessor(by_seq, held.below, p), _successor(by_seq, p)):
            if note is not None:
                flags.append((index, note))
        if p.seq < head_seq:
            filled.append(p.seq)
        by_seq[p.seq] = Link(p.id, p.record.prev_hash, p.record.hash)
    return Continuity(tuple(flags), tuple(filled))
