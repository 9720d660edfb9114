"""Ledger records as the canonical, signed, chained facts.

A ledger is a sequence of records — payments, voids and shift events (docs/SHIFTS.md) —
numbered 1, 2, 3 … per counter with no gap. Each record is:

* its *body*: the fields below, as a flat canonical mapping (see `app.domain.canonical`);
* its *code*: the confirmation code (for a payment, the Mã xác nhận the payer receives; for a
  void, the supervisor's signature over the void) = `compute_code(key, body)`;
* (format 2) its *mac*: the full keyed MAC, HMAC-SHA256(key, canonical(body + {"code"})), hex;
* its *link*: `hash = link_hash(prev_hash, body + {"code": code} (+ {"mac": mac} in format 2))`.

Format 1 (`"v": 1`, the first records ever written) signs the payer-facing fields only. Format 2
(`"v": 2`, `BODY_VERSION`) also signs the record's place in the chain (`seq`, `prev_hash`, put in
the body by `seal`) and every other column a later step prints, reports, syncs or computes from
(operator id, tendered cash, the quote's parts, support months, the client request id; for a
void the supervisor's and requester's ids), and links the chain through the keyed MAC — so a
chain cannot be recomputed without the key. A record keeps the rules of its own format forever.

Nothing in a record is ever updated in place: a void is a new record that names the payment it
cancels. The counter and the central server both build bodies with these classes, so they agree
byte for byte. Changing a body field is a protocol change: bump `BODY_VERSION`.

`SealedRecord` is the one shape of a record everywhere — in the counter's outbox, on the wire,
at central and in `verify`; `to_wire`/`from_wire` are the only conversions to and from the JSON
object that travels (`WireRecord`, also the upload schema of the central API).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NotRequired

from typing_extensions import TypedDict

from app.domain.canonical import CanonicalValue, canonical_bytes, date_iso, utc_iso
from app.domain.chain import link_hash
from app.domain.codes import compute_code, verify_code

BODY_VERSION = 2
RecordKind = Literal["payment", "void", "shift"]
RECORD_KINDS: tuple[RecordKind, ...] = ("payment", "void", "shift")
ShiftEvent = Literal["open", "drop", "pickup", "close"]
SHIFT_EVENTS: tuple[ShiftEvent, ...] = ("open", "drop", "pickup", "close")
CODE_LENGTH = 12  # compact confirmation code: 11 symbols + check symbol
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PaymentBody:
    """A format-1 payment body (records written before format 2; kept to verify them)."""

    id: str
    counter_id: str
    series: str
    receipt_number: int
    participant_id: str
    payer_name: str
    ma_so_bhxh: str | None
    cccd: str | None
    scheme: str
    method: str | None
    months: int
    period_from: date
    period_to: date
    income: int | None
    support_category: str | None
    member_order: int | None
    amount: int
    rate_version: str
    paid_at: datetime  # aware
    business_date: date
    cashier: str  # operator username

    def canonical(self) -> dict[str, CanonicalValue]:
        return {
            "type": "payment",
            "v": 1,
            "id": self.id,
            "counter_id": self.counter_id,
            "series": self.series,
            "receipt_number": self.receipt_number,
            "participant_id": self.participant_id,
            "payer_name": self.payer_name,
            "ma_so_bhxh": self.ma_so_bhxh,
            "cccd": self.cccd,
            "scheme": self.scheme,
            "method": self.method,
            "months": self.months,
            "period_from": date_iso(self.period_from),
            "period_to": date_iso(self.period_to),
            "income": self.income,
            "support_category": self.support_category,
            "member_order": self.member_order,
            "amount": self.amount,
            "rate_version": self.rate_version,
            "paid_at": utc_iso(self.paid_at),
            "business_date": date_iso(self.business_date),
            "cashier": self.cashier,
        }


@dataclass(frozen=True)
class PaymentBodyV2(PaymentBody):
    """A format-2 payment body: format 1 plus every other column of the payment."""

    client_request_id: str
    operator_id: int
    tendered: int | None
    gross_per_month: int
    support_per_month: int
    total_gross: int
    total_support: int
    support_months: int

    def canonical(self) -> dict[str, CanonicalValue]:
        return {
            **super().canonical(),
            "v": 2,
            "client_request_id": self.client_request_id,
            "operator_id": self.operator_id,
            "tendered": self.tendered,
            "gross_per_month": self.gross_per_month,
            "support_per_month": self.support_per_month,
            "total_gross": self.total_gross,
            "total_support": self.total_support,
            "support_months": self.support_months,
        }


@dataclass(frozen=True)
class VoidBody:
    """A format-1 void body (records written before format 2; kept to verify them)."""

    id: str
    counter_id: str
    payment_id: str
    payment_receipt_number: int
    payment_code: str
    reason: str
    supervisor: str  # operator username
    voided_at: datetime  # aware
    business_date: date

    def canonical(self) -> dict[str, CanonicalValue]:
        return {
            "type": "void",
            "v": 1,
            "id": self.id,
            "counter_id": self.counter_id,
            "payment_id": self.payment_id,
            "payment_receipt_number": self.payment_receipt_number,
            "payment_code": self.payment_code,
            "reason": self.reason,
            "supervisor": self.supervisor,
            "voided_at": utc_iso(self.voided_at),
            "business_date": date_iso(self.business_date),
        }


@dataclass(frozen=True)
class VoidBodyV2(VoidBody):
    """A format-2 void body: format 1 plus the supervisor's and requester's operator ids."""

    supervisor_id: int
    requested_by_id: int | None

    def canonical(self) -> dict[str, CanonicalValue]:
        return {
            **super().canonical(),
            "v": 2,
            "supervisor_id": self.supervisor_id,
            "requested_by_id": self.requested_by_id,
        }


@dataclass(frozen=True)
class ShiftBody:
    """A shift event (format 2 only, docs/SHIFTS.md): a cashier's shift opened with its float,
    cash dropped to (or picked up from) the safe, or the shift closed with its count.

    One shape for every event; fields that do not apply are null. `shift_id` is the id of the
    shift's opening record. `amount`: the float (open), the cash moved (drop/pickup), the cash
    counted (close); `counts` its pieces by denomination (`app.domain.cash`, "" for a total).
    A close also signs what the count was judged against: `expected`, `difference` (counted −
    expected), the shift's payments (`payments`, `first_receipt`, `last_receipt`), how many of
    them were not yet synced (`unsynced`) and `records_hash`, the SHA-256 over the hashes of the
    shift's records from its opening up to the close (`app.services.shifts`).
    """

    id: str
    counter_id: str
    shift_id: str
    event: ShiftEvent
    at: datetime  # aware
    business_date: date
    operator_id: int
    operator: str  # username of who recorded the event
    amount: int
    counts: str
    reason: str | None = None
    supervisor_id: int | None = None
    supervisor: str | None = None
    expected: int | None = None
    difference: int | None = None
    payments: int | None = None
    first_receipt: int | None = None
    last_receipt: int | None = None
    unsynced: int | None = None
    records_hash: str | None = None

    def canonical(self) -> dict[str, CanonicalValue]:
        return {
            "type": "shift",
            "v": 2,
            "id": self.id,
            "counter_id": self.counter_id,
            "shift_id": self.shift_id,
            "event": self.event,
            "at": utc_iso(self.at),
            "business_date": date_iso(self.business_date),
            "operator_id": self.operator_id,
            "operator": self.operator,
            "amount": self.amount,
            "counts": self.counts,
            "reason": self.reason,
            "supervisor_id": self.supervisor_id,
            "supervisor": self.supervisor,
            "expected": self.expected,
            "difference": self.difference,
            "payments": self.payments,
            "first_receipt": self.first_receipt,
            "last_receipt": self.last_receipt,
            "unsynced": self.unsynced,
            "records_hash": self.records_hash,
        }


def record_kind(text: str) -> RecordKind:
    """The kind a stored or sent kind names (ValueError for any other text)."""
    for kind in RECORD_KINDS:
        if text == kind:
            return kind
    raise ValueError(text)


@dataclass(frozen=True)
class SealedRecord:
    """A body with its code and its place in the chain (and, format 2, its full keyed MAC)."""

    seq: int
    kind: RecordKind
    body: Mapping[str, CanonicalValue]
    code: str
    prev_hash: str
    hash: str
    mac: str | None = None  # format 2 only: HMAC-SHA256 hex over body + code


def body_version(body: Mapping[str, CanonicalValue]) -> int:
    v = body.get("v")
    return v if isinstance(v, int) and not isinstance(v, bool) else 1


def record_mac(key: bytes, body: Mapping[str, CanonicalValue], code: str) -> str:
    """The full keyed MAC of a format-2 record: HMAC-SHA256 over canonical(body + code), hex."""
    return hmac.new(key, canonical_bytes({**body, "code": code}), hashlib.sha256).hexdigest()


def seal(
    key: bytes, seq: int, kind: RecordKind, body: Mapping[str, CanonicalValue], prev_hash: str
) -> SealedRecord:
    """Code, MAC and link a body at `seq` after `prev_hash`; a format-2 body gets its place in
    the chain (`seq`, `prev_hash`) written into it before anything is computed."""
    if body_version(body) < 2:
        code = compute_code(key, body)
        link = link_hash(prev_hash, {**body, "code": code})
        return SealedRecord(seq, kind, dict(body), code, prev_hash, link)
    full = {**body, "seq": seq, "prev_hash": prev_hash}
    code = compute_code(key, full)
    mac = record_mac(key, full, code)
    link = link_hash(prev_hash, {**full, "code": code, "mac": mac})
    return SealedRecord(seq, kind, full, code, prev_hash, link, mac)


def check_record(key: bytes | None, record: SealedRecord) -> str | None:
    """Why `record` is not self-consistent, in Vietnamese, or None if it is.

    Checks the hash over (prev_hash, body, code[, mac]) and — when the key is known — the code
    and (format 2) the MAC, which also covers the record's `seq` and `prev_hash`. Chain
    continuity (prev_hash equal to the previous record's hash) is the caller's job, because
    only it knows the previous record.
    """
    seq, body = record.seq, record.body
    if body.get("type") != record.kind:
        return f"bản ghi số {seq}: loại bản ghi không khớp nội dung"
    if body_version(body) < 2:
        if link_hash(record.prev_hash, {**body, "code": record.code}) != record.hash:
            return f"bản ghi số {seq}: mã băm không khớp nội dung (đã bị sửa)"
        if key is not None and not verify_code(key, body, record.code):
            return f"bản ghi số {seq}: mã xác nhận không khớp nội dung (đã bị sửa hoặc giả)"
        return None
    if body.get("seq") != seq or body.get("prev_hash") != record.prev_hash:
        return f"bản ghi số {seq}: vị trí trong chuỗi không khớp nội dung đã ký (đã bị sửa)"
    if record.mac is None or not _HEX64.match(record.mac):
        return f"bản ghi số {seq}: thiếu mã khóa đầy đủ (mac) của bản ghi định dạng 2"
    if link_hash(record.prev_hash, {**body, "code": record.code, "mac": record.mac}) != record.hash:
        return f"bản ghi số {seq}: mã băm không khớp nội dung (đã bị sửa)"
    if key is not None and not (
        verify_code(key, body, record.code)
        and hmac.compare_digest(record.mac, record_mac(key, body, record.code))
    ):
        return f"bản ghi số {seq}: mã xác nhận không khớp nội dung (đã bị sửa hoặc giả)"
    return None


class WireRecord(TypedDict):
    """One sealed ledger record (payment, void or shift event) as uploaded; `mac` only in
    format 2 (a shift event is always format 2)."""

    seq: int
    kind: Literal["payment", "void", "shift"]
    body: dict[str, CanonicalValue]
    code: str
    prev_hash: str
    hash: str
    mac: NotRequired[str]


class MalformedRecord(ValueError):
    """A wire record that is not a sealed record; `reason` is Vietnamese, naming the field."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def to_wire(record: SealedRecord) -> WireRecord:
    wire: WireRecord = {
        "seq": record.seq,
        "kind": record.kind,
        "body": dict(record.body),
        "code": record.code,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }
    if record.mac is not None:
        wire["mac"] = record.mac
    return wire


def from_wire(data: Mapping[str, object]) -> SealedRecord:
    """The sealed record a wire object carries, checking its shape (not its code or hash —
    that is `check_record`); MalformedRecord names the first field that is wrong."""
    body = data.get("body")
    if not isinstance(body, dict):
        raise MalformedRecord("thiếu nội dung bản ghi")
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise MalformedRecord("số thứ tự bản ghi (seq) phải là số nguyên dương")
    kind = data.get("kind")
    if kind not in RECORD_KINDS or body.get("type") != kind or not isinstance(kind, str):
        raise MalformedRecord("loại bản ghi không hợp lệ hoặc không khớp nội dung")
    if kind == "shift" and body_version(body) < 2:
        raise MalformedRecord("bản ghi ca thu phải ở định dạng 2")
    links = {}
    for name in ("prev_hash", "hash"):
        value = data.get(name)
        if not isinstance(value, str) or not _HEX64.match(value):
            raise MalformedRecord(f"{name} phải gồm 64 ký tự hex")
        links[name] = value
    code = data.get("code")
    if not isinstance(code, str) or len(code) != CODE_LENGTH:
        raise MalformedRecord(f"mã xác nhận phải có {CODE_LENGTH} ký tự")
    mac = data.get("mac")
    if body_version(body) >= 2 and (not isinstance(mac, str) or not _HEX64.match(mac)):
        raise MalformedRecord("mac phải gồm 64 ký tự hex (bản ghi định dạng 2)")
    return SealedRecord(
        seq=seq,
        kind=record_kind(kind),
        body=body,
        code=code,
        prev_hash=links["prev_hash"],
        hash=links["hash"],
        mac=mac if isinstance(mac, str) and body_version(body) >= 2 else None,
    )
