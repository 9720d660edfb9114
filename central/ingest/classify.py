"""Stage 2 of ingest: a verdict for every record of a batch. Pure — what central already holds
comes in as `Held`, the counter's key as `CounterFacts` — so every rule is unit-tested without
HTTP or a database.

The rules, in order (the first that applies decides):

1. unparsable → `invalid`;
2. the same record again (stored, or earlier in this batch) → `duplicate`; another record under
   a stored id → `conflict`;
3. the body names another counter, or a void cancels a payment another counter recorded →
   `wrong_counter`;
4. hash or confirmation code do not match the body under the key the record's number must be
   sealed with (after a move to a new PC, `CounterFacts.epochs`) → `tampered` (flagged
   `old_key_after_move` when the key before the move sealed it);
5. the content breaks the domain rules (`central.ingest.content`: amount against the rate
   table, months, dates, identifiers, text) → `invalid`, flagged `invalid_content`;
6. the first record of a moved counter's new key does not link to the approved head → `fork`;
7. the sequence number is taken by another record → `fork`;
8. otherwise `accepted`.

Every refusal is flagged for the auditor with the submission as evidence (bounded). A
per-record format version, once records carry one, is for `check_record` and `content`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.ledger import check_record
from central.ingest.content import RateBook, content_problem
from central.ingest.parse import Fingerprint, ParsedRecord, Unparsable
from sync.protocol import ItemResult, RejectReason, ResultStatus


@dataclass(frozen=True)
class KeyEpoch:
    """A key the counter seals with from `from_seq` on, after a move to a new PC approved at
    central (central.moves): its first record must link to `continues_from_hash`."""

    from_seq: int
    key: bytes
    continues_from_hash: str


@dataclass(frozen=True)
class CounterFacts:
    """The uploading counter as central registered it."""

    id: str  # central's id for the counter
    ledger_counter_id: str  # the counter's own id, as record bodies name it
    key: bytes  # its code-signing key (from the first enrolment: records from 1)
    rates: RateBook = field(default_factory=dict)  # rate tables central knows, by version
    epochs: tuple[KeyEpoch, ...] = ()  # approved moves, ascending from_seq

    def key_for(self, seq: int) -> bytes:
        """The key record `seq` must be sealed with."""
        key = self.key
        for epoch in self.epochs:
            if epoch.from_seq <= seq:
                key = epoch.key
        return key


@dataclass(frozen=True)
class HeldRecord:
    """A record central already stores under an id the batch uses."""

    counter_id: str  # central's id of the counter that sent it
    fingerprint: Fingerprint


@dataclass(frozen=True)
class Link:
    """A record's place in a counter's chain."""

    id: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Held:
    """What central holds that a batch touches: its ids, and the uploading counter's chain
    around the batch's sequence numbers (one below the lowest to one above the highest)."""

    by_id: Mapping[str, HeldRecord]
    by_seq: Mapping[int, Link]
    below: int = 0  # the highest sequence number stored under the neighbourhood (0: none)
    # central's id of the counter that recorded each stored payment the batch's voids name
    void_targets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    id: str
    seq: int
    status: ResultStatus
    reason_code: RejectReason | None = None
    reason: str | None = None
    flagged: bool = False  # the auditor gets a flag with the submission as evidence
    flag_kind: str | None = None  # the flag's kind when not the reason code

    def item(self) -> ItemResult:
        return {
            "id": self.id,
            "seq": self.seq,
            "status": self.status,
            "reason_code": self.reason_code,
            "reason": self.reason,
        }


@dataclass
class _Batch:
    """What the batch has accepted so far: later records are judged against it too."""

    by_seq: dict[int, Link]
    accepted: dict[str, Fingerprint] = field(default_factory=dict)

    def accept(self, p: ParsedRecord) -> None:
        self.accepted[p.id] = p.fingerprint
        self.by_seq[p.seq] = Link(p.id, p.record.prev_hash, p.record.hash)


def _refuse(
    p: ParsedRecord, code: RejectReason, reason: str, flag_kind: str | None = None
) -> Verdict:
    return Verdict(p.id, p.seq, "rejected", code, reason, flagged=True, flag_kind=flag_kind)


def _repeat(counter: CounterFacts, held: Held, batch: _Batch, p: ParsedRecord) -> Verdict | None:
    earlier = held.by_id.get(p.id)
    if earlier is not None and earlier.counter_id == counter.id:
        if earlier.fingerprint == p.fingerprint:
            return Verdict(p.id, p.seq, "duplicate")
    in_batch = batch.accepted.get(p.id)
    if in_batch is not None and in_batch == p.fingerprint:
        return Verdict(p.id, p.seq, "duplicate")
    if earlier is not None or in_batch is not None:
        return _refuse(
            p,
            "conflict",
            f"bản ghi {p.id} (số {p.seq}) đã được lưu với nội dung khác; không ghi đè",
        )
    return None


def _wrong_counter(
    counter: CounterFacts, held: Held, batch: _Batch, p: ParsedRecord
) -> Verdict | None:
    if p.ledger_counter_id != counter.ledger_counter_id:
        return _refuse(
            p, "wrong_counter", f"bản ghi số {p.seq} ghi mã quầy khác với quầy đã đăng ký"
        )
    if p.void is None:
        return None
    owner = held.void_targets.get(p.void.payment_id)
    if owner is None or owner == counter.id:
        return None
    return _refuse(
        p,
        "wrong_counter",
        f"lệnh hủy số {p.seq} nhắm vào khoản thu của quầy khác: một quầy chỉ hủy khoản thu "
        "của chính mình",
    )


def _tampered(counter: CounterFacts, held: Held, batch: _Batch, p: ParsedRecord) -> Verdict | None:
    key = counter.key_for(p.seq)
    why = check_record(key, p.record)
    if why is None:
        return None
    replaced = [k for k in (counter.key, *(e.key for e in counter.epochs)) if k != key]
    if any(check_record(k, p.record) is None for k in replaced):
        why = (
            f"bản ghi số {p.seq} ký bằng khóa cũ của quầy, đã được thay khi quầy chuyển sang "
            "máy mới: máy cũ không được ghi tiếp sổ thu"
        )
        return _refuse(p, "tampered", why, "old_key_after_move")
    return _refuse(p, "tampered", why)


def _continuation(
    counter: CounterFacts, held: Held, batch: _Batch, p: ParsedRecord
) -> Verdict | None:
    for epoch in counter.epochs:
        if epoch.from_seq == p.seq and p.record.prev_hash != epoch.continues_from_hash:
            return _refuse(
                p,
                "fork",
                f"bản ghi số {p.seq} là bản ghi đầu tiên ký bằng khóa mới (chuyển máy) nhưng "
                "không nối tiếp đầu chuỗi đã được duyệt: chuỗi sổ thu bị rẽ nhánh",
            )
    return None


def _content(counter: CounterFacts, held: Held, batch: _Batch, p: ParsedRecord) -> Verdict | None:
    why = content_problem(p.record, counter.rates)
    return None if why is None else _refuse(p, "invalid", why, "invalid_content")


def _fork(counter: CounterFacts, held: Held, batch: _Batch, p: ParsedRecord) -> Verdict | None:
    holder = batch.by_seq.get(p.seq)
    if holder is None:
        return None
    return _refuse(
        p,
        "fork",
        f"số thứ tự {p.seq} đã thuộc về bản ghi khác ({holder.id}): chuỗi sổ thu bị rẽ nhánh",
    )


_Check = Callable[[CounterFacts, Held, _Batch, ParsedRecord], Verdict | None]
_CHECKS: tuple[_Check, ...] = (
    _repeat,
    _wrong_counter,
    _tampered,
    _content,
    _continuation,
    _fork,
)


def _judge(counter: CounterFacts, held: Held, batch: _Batch, p: ParsedRecord) -> Verdict:
    for check in _CHECKS:
        verdict = check(counter, held, batch, p)
        if verdict is not None:
            return verdict
    batch.accept(p)
    return Verdict(p.id, p.seq, "accepted")


def classify(
    counter: CounterFacts, held: Held, items: Sequence[ParsedRecord | Unparsable]
) -> list[Verdict]:
    """One verdict per item, in order; records are judged oldest first as they come."""
    batch = _Batch(by_seq=dict(held.by_seq))
    verdicts: list[Verdict] = []
    for item in items:
        if isinstance(item, Unparsable):
            reason = f"bản ghi không hợp lệ: {item.reason or 'bản ghi không hợp lệ'}"
            verdicts.append(Verdict(item.id, item.seq, "rejected", "invalid", reason, flagged=True))
        else:
            verdicts.append(_judge(counter, held, batch, item))
    return verdicts
