"""Stage 1 of ingest: a wire object becomes a frozen `ParsedRecord` — the sealed record
(`app.domain.ledger.from_wire`) plus the columns central indexes it by — or an `Unparsable`
naming what is wrong. Pure: no database, no key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.canonical import CanonicalValue, canonical_bytes
from app.domain.codes import normalise_code
from app.domain.ledger import MalformedRecord, RecordKind, SealedRecord, from_wire

MAX_ID_LENGTH = 36
INT64_MAX = 2**63 - 1  # what every database column of central holds

# What makes two submissions of a record the same: canonical body text, seq, code and links.
Fingerprint = tuple[str, int, str, str, str]


@dataclass(frozen=True)
class PaymentFacts:
    amount: int
    participant_id: str
    payer_name: str
    ma_so_bhxh: str | None


@dataclass(frozen=True)
class VoidFacts:
    payment_id: str
    payment_code: str


@dataclass(frozen=True)
class ParsedRecord:
    """A well-formed record and what central reads out of its body (not yet verified)."""

    record: SealedRecord
    id: str
    code: str  # the confirmation code in its one canonical form (upper case, no dashes)
    canonical: str  # the body as canonical JSON text, exactly as sealed
    ledger_counter_id: str  # the counter the body names
    business_date: str
    receipt_number: int | None  # the payment's, for a void the cancelled payment's; shift: None
    at: str  # paid_at or voided_at
    payment: PaymentFacts | None
    void: VoidFacts | None

    @property
    def seq(self) -> int:
        return self.record.seq

    @property
    def kind(self) -> RecordKind:
        return self.record.kind

    @property
    def fingerprint(self) -> Fingerprint:
        r = self.record
        return (self.canonical, r.seq, self.code, r.prev_hash, r.hash)


@dataclass(frozen=True)
class Unparsable:
    """A submission that is not a record; id and seq are echoed when they can be read."""

    id: str
    seq: int
    reason: str


def _required(body: Mapping[str, CanonicalValue], name: str) -> CanonicalValue:
    value = body.get(name)
    if value is None:
        raise MalformedRecord(f"trường {name} thiếu hoặc sai kiểu")
    return value


def _text(body: Mapping[str, CanonicalValue], name: str) -> str:
    value = _required(body, name)
    if not isinstance(value, str):
        raise MalformedRecord(f"trường {name} thiếu hoặc sai kiểu")
    return value


def _integer(body: Mapping[str, CanonicalValue], name: str) -> int:
    value = _required(body, name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedRecord(f"trường {name} thiếu hoặc sai kiểu")
    if not -INT64_MAX <= value <= INT64_MAX:
        raise MalformedRecord(f"trường {name} vượt quá giới hạn số nguyên 64 bit")
    return value


def _optional_text(body: Mapping[str, CanonicalValue], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedRecord(f"trường {name} sai kiểu")
    return value


def _parse(data: Mapping[str, object]) -> ParsedRecord:
    record = from_wire(data)
    if record.seq > INT64_MAX:
        raise MalformedRecord("số thứ tự bản ghi (seq) vượt quá giới hạn số nguyên 64 bit")
    try:
        code = normalise_code(record.code)
    except ValueError as exc:
        raise MalformedRecord("mã xác nhận không đúng dạng (12 ký tự Crockford base32)") from exc
    body = record.body
    record_id = _text(body, "id")
    if not 1 <= len(record_id) <= MAX_ID_LENGTH:
        raise MalformedRecord(f"id bản ghi dài quá {MAX_ID_LENGTH} ký tự")
    try:
        canonical = canonical_bytes(body).decode("utf-8")
    except TypeError as exc:
        raise MalformedRecord(str(exc)) from exc
    business_date = _text(body, "business_date")
    ledger_counter_id = _text(body, "counter_id")
    if record.kind == "payment":
        receipt_number = _integer(body, "receipt_number")
        amount = _integer(body, "amount")
        at = _text(body, "paid_at")
        payment = PaymentFacts(
            amount=amount,
            participant_id=_text(body, "participant_id"),
            payer_name=_text(body, "payer_name"),
            ma_so_bhxh=_optional_text(body, "ma_so_bhxh"),
        )
        void = None
    elif record.kind == "void":
        receipt_number = _integer(body, "payment_receipt_number")
        at = _text(body, "voided_at")
        payment = None
        void = VoidFacts(_text(body, "payment_id"), _text(body, "payment_code"))
    else:  # a shift event (docs/SHIFTS.md): in the chain, in no report
        receipt_number, at, payment, void = None, _text(body, "at"), None, None
    return ParsedRecord(
        record=record,
        id=record_id,
        code=code,
        canonical=canonical,
        ledger_counter_id=ledger_counter_id,
        business_date=business_date,
        receipt_number=receipt_number,
        at=at,
        payment=payment,
        void=void,
    )


def parse(data: Mapping[str, object]) -> ParsedRecord | Unparsable:
    try:
        return _parse(data)
    except MalformedRecord as exc:
        raw_body = data.get("body")
        raw_id = raw_body.get("id") if isinstance(raw_body, dict) else None
        raw_seq = data.get("seq")
        return Unparsable(
            id=raw_id if isinstance(raw_id, str) else "",
            seq=raw_seq if isinstance(raw_seq, int) and 0 <= raw_seq <= INT64_MAX else 0,
            reason=exc.reason,
        )
