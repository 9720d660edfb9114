"""What the reference central system does, independent of HTTP: enrolment, ingest, feeds, audit.

Guarantees of `ingest` (one transaction per batch):

* records are stored idempotently by id: the same record again is a `duplicate`; a different
  record under a stored id is refused (`conflict`), flagged, and kept as the flag's evidence —
  the stored one is never overwritten;
* every record's chain hash and confirmation code are recomputed with `app.domain` (the same
  code the counter used) under the key registered at enrolment; a mismatch is refused
  (`tampered`) and flagged with the submission as evidence;
* chain continuity is checked against what central already holds: a record whose predecessor is
  missing is stored anyway (never lose data) and a `gap` flag names the missing numbers; a
  `prev_hash` that is not the predecessor's hash is stored and flagged `chain_break`; a second
  record claiming a taken sequence number is refused (`fork`). A gap flag is resolved when the
  missing records arrive later;
* SIMULATED VSS STEP: a payment whose body has no mã số BHXH (a first-time participant) gets a
  fresh random 10-digit code for its participant id, once; it is published in the participant
  changes feed. The real assignment is done by Vietnam Social Security; this reference server
  only stands in for it so the counter's pick-up path can be built and tested.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.domain.canonical import CanonicalValue, canonical_bytes, utc_iso
from app.domain.chain import GENESIS
from app.domain.codes import normalise_code
from app.domain.ledger import SealedRecord, check_record
from app.domain.rates import RateTable
from app.errors import UserFacingError
from central.models import (
    CentralCounter,
    CentralParticipant,
    EnrollmentCode,
    Flag,
    LedgerRecord,
    ParticipantChangeRow,
    PublishedRateTable,
)
from central.store import CentralStore
from sync.protocol import (
    API_VERSION,
    MAX_CHANGES_PAGE,
    CentralXn01Row,
    EnrollRequest,
    EnrollResponse,
    HealthResponse,
    ItemResult,
    LookupResponse,
    ParticipantChange,
    ParticipantChangesResponse,
    RatesResponse,
    RateTableItem,
    RejectReason,
    UploadResponse,
    WireRecord,
    Xn01Response,
)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_CODE_VALID_HOURS = 72


class CentralError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(CentralError):
    status_code = 401


class NotFound(CentralError):
    status_code = 404


class Refused(CentralError):
    status_code = 409


class TooLarge(CentralError):
    status_code = 413


def now_text() -> str:
    return utc_iso(datetime.now(UTC))


def hash_secret(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CounterAuth:
    """The authenticated counter of a request."""

    id: str
    ledger_counter_id: str
    counter_code: str
    collection_point: str


def health() -> HealthResponse:
    return {"status": "ok", "api_version": API_VERSION, "server_time": now_text()}


# --- enrolment ---------------------------------------------------------------------------------


def _normalise_enrollment_code(code: str) -> str:
    return "".join(c for c in code.upper() if c not in "- ")


def make_enrollment_code(
    store: CentralStore, *, label: str = "", valid_hours: int = DEFAULT_CODE_VALID_HOURS
) -> str:
    """A one-time enrolment code (80 random bits, Crockford base32, grouped 4-4-4-4)."""
    value = secrets.randbits(80)
    symbols = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(16))
    now = datetime.now(UTC)
    with store.write() as s:
        s.add(
            EnrollmentCode(
                code_hash=hash_secret(symbols),
                label=label,
                created_at=utc_iso(now),
                expires_at=utc_iso(now + timedelta(hours=valid_hours)),
            )
        )
    return "-".join(symbols[i : i + 4] for i in range(0, 16, 4))


def enroll(store: CentralStore, req: EnrollRequest) -> EnrollResponse:
    try:
        key = base64.b64decode(req["signing_key"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CentralError("khóa ký không phải base64 hợp lệ") from exc
    if len(key) < 16:
        raise CentralError("khóa ký quá ngắn")
    try:
        uuid.UUID(req["counter_id"])
    except ValueError as exc:
        raise CentralError("mã quầy (counter_id) không hợp lệ") from exc
    now = now_text()
    token = secrets.token_urlsafe(32)
    with store.write() as s:
        code = s.get(
            EnrollmentCode, hash_secret(_normalise_enrollment_code(req["enrollment_code"]))
        )
        if code is None or code.used_at is not None or code.expires_at < now:
            raise Unauthorized("mã đăng ký không đúng, đã dùng hoặc đã hết hạn")
        counter = s.scalar(
            select(CentralCounter).where(CentralCounter.ledger_counter_id == req["counter_id"])
        )
        key_text = base64.b64encode(key).decode("ascii")
        if counter is None:
            counter = CentralCounter(
                id="QT-" + secrets.token_hex(6).upper(),
                ledger_counter_id=req["counter_id"],
                counter_code=req["counter_code"],
                organisation=req["organisation"],
                collection_point=req["collection_point"],
                receipt_series=req["receipt_series"],
                signing_key=key_text,
                token_hash=hash_secret(token),
                enrolled_at=now,
                head_seq=0,
                head_hash=GENESIS,
            )
            s.add(counter)
        else:
            # Re-enrolment (a lost or revoked token): the key can never change, or codes already
            # handed to payers could no longer be verified.
            if counter.signing_key != key_text:
                raise Refused(
                    "quầy này đã đăng ký với một khóa ký khác; không thay khóa qua đăng ký lại"
                )
            counter.token_hash = hash_secret(token)
        code.used_at = now
        code.used_by = counter.id
        s.flush()
        return {"central_counter_id": counter.id, "api_token": token, "server_time": now}


def authenticate(store: CentralStore, token: str | None) -> CounterAuth:
    if not token:
        raise Unauthorized("thiếu mã truy cập (Authorization: Bearer …)")
    with store.read() as s:
        c = s.scalar(select(CentralCounter).where(CentralCounter.token_hash == hash_secret(token)))
        if c is None:
            raise Unauthorized("mã truy cập không hợp lệ hoặc đã bị thu hồi; hãy đăng ký lại quầy")
        return CounterAuth(c.id, c.ledger_counter_id, c.counter_code, c.collection_point)


def revoke_token(store: CentralStore, counter_id: str) -> None:
    with store.write() as s:
        c = s.get(CentralCounter, counter_id)
        if c is None:
            raise NotFound(f"không có quầy {counter_id}")
        c.token_hash = None


# --- ingest ------------------------------------------------------------------------------------


class _Invalid(Exception):
    pass


def _field(body: Mapping[str, CanonicalValue], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Invalid(f"trường {name} thiếu hoặc sai kiểu")
    return value


def _opt(body: Mapping[str, CanonicalValue], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise _Invalid(f"trường {name} sai kiểu")
    return value


def _parse(rec: WireRecord) -> dict[str, Any]:
    """The column values of a record, or _Invalid."""
    body = rec.get("body")
    if not isinstance(body, dict):
        raise _Invalid("thiếu nội dung bản ghi")
    seq = rec.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise _Invalid("số thứ tự bản ghi (seq) phải là số nguyên dương")
    kind = rec.get("kind")
    if kind not in ("payment", "void") or body.get("type") != kind:
        raise _Invalid("loại bản ghi không hợp lệ hoặc không khớp nội dung")
    for name in ("prev_hash", "hash"):
        if not isinstance(rec.get(name), str) or not _HEX64.match(str(rec.get(name))):
            raise _Invalid(f"{name} phải gồm 64 ký tự hex")
    code = rec.get("code")
    if not isinstance(code, str) or len(code) != 12:
        raise _Invalid("mã xác nhận phải có 12 ký tự")
    record_id = _field(body, "id", str)
    if not 1 <= len(record_id) <= 36:
        raise _Invalid("id bản ghi dài quá 36 ký tự")
    try:
        text = canonical_bytes(body).decode("utf-8")
    except TypeError as exc:
        raise _Invalid(str(exc)) from exc
    values: dict[str, Any] = {
        "id": record_id,
        "seq": seq,
        "kind": kind,
        "body": text,
        "code": code,
        "prev_hash": rec["prev_hash"],
        "hash": rec["hash"],
        "business_date": _field(body, "business_date", str),
        "ledger_counter_id": _field(body, "counter_id", str),
    }
    if kind == "payment":
        values.update(
            receipt_number=_field(body, "receipt_number", int),
            amount=_field(body, "amount", int),
            at=_field(body, "paid_at", str),
            participant_id=_field(body, "participant_id", str),
            payment_id=None,
            payer_name=_field(body, "payer_name", str),
            ma_so_bhxh=_opt(body, "ma_so_bhxh", str),
        )
    else:
        values.update(
            receipt_number=_field(body, "payment_receipt_number", int),
            amount=None,
            at=_field(body, "voided_at", str),
            participant_id=None,
            payment_id=_field(body, "payment_id", str),
            payment_code=_field(body, "payment_code", str),
        )
    return values


def _same(stored: Any, v: Mapping[str, Any]) -> bool:
    return bool(
        stored.body == v["body"]
        and stored.code == v["code"]
        and stored.seq == v["seq"]
        and stored.prev_hash == v["prev_hash"]
        and stored.hash == v["hash"]
    )


def _evidence(rec: WireRecord) -> str:
    return json.dumps(rec, ensure_ascii=False, sort_keys=True, default=str)


def ingest(store: CentralStore, auth: CounterAuth, records: Sequence[WireRecord]) -> UploadResponse:
    now = now_text()
    with store.write() as s:
        # Serialises uploads of one counter (PostgreSQL); SQLite is already serialised by
        # BEGIN IMMEDIATE. The chain checks below rely on it.
        counter = s.scalars(
            select(CentralCounter).where(CentralCounter.id == auth.id).with_for_update()
        ).one()
        key = base64.b64decode(counter.signing_key)
        parsed: list[dict[str, Any] | str] = []
        for rec in records:
            try:
                parsed.append(_parse(rec))
            except (_Invalid, KeyError, AttributeError) as exc:
                parsed.append(str(exc) or "bản ghi không hợp lệ")
        valid = [p for p in parsed if isinstance(p, dict)]
        ids = list({p["id"] for p in valid})
        stored_by_id: dict[str, Any] = {}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            for row in s.execute(
                select(
                    LedgerRecord.id,
                    LedgerRecord.counter_id,
                    LedgerRecord.seq,
                    LedgerRecord.body,
                    LedgerRecord.code,
                    LedgerRecord.prev_hash,
                    LedgerRecord.hash,
                ).where(LedgerRecord.id.in_(chunk))
            ):
                stored_by_id[row.id] = row
        # seq -> (id, prev_hash, hash) for the neighbourhood of this batch
        by_seq: dict[int, tuple[str, str, str]] = {}
        if valid:
            lo = min(p["seq"] for p in valid) - 1
            hi = max(p["seq"] for p in valid) + 1
            for near in s.execute(
                select(LedgerRecord.seq, LedgerRecord.id, LedgerRecord.prev_hash, LedgerRecord.hash)
                .where(LedgerRecord.counter_id == counter.id)
                .where(LedgerRecord.seq.between(lo, hi))
            ):
                by_seq[near.seq] = (near.id, near.prev_hash, near.hash)
        results: list[ItemResult] = []
        new_rows: list[dict[str, Any]] = []
        new_by_id: dict[str, dict[str, Any]] = {}
        flags: list[dict[str, Any]] = []
        filled_below_head: list[int] = []

        def flag(kind: str, detail: str, **kw: Any) -> None:
            flags.append(
                {
                    "counter_id": counter.id,
                    "kind": kind,
                    "detail": detail,
                    "created_at": now,
                    "seq": kw.get("seq"),
                    "seq_to": kw.get("seq_to"),
                    "record_id": kw.get("record_id"),
                    "evidence": kw.get("evidence"),
                    "resolved_at": None,
                }
            )

        def reject(
            rec: WireRecord, rid: str, seq: int, code: RejectReason, reason: str, flagged: bool
        ) -> None:
            results.append(
                {"id": rid, "seq": seq, "status": "rejected", "reason_code": code, "reason": reason}
            )
            if flagged:
                flag(code, reason, seq=seq, record_id=rid or None, evidence=_evidence(rec))

        for rec, p in zip(records, parsed, strict=True):
            raw_body = rec.get("body") if isinstance(rec, dict) else None
            if isinstance(p, str):
                rid = raw_body.get("id") if isinstance(raw_body, dict) else None
                raw_seq = rec.get("seq") if isinstance(rec, dict) else None
                reject(
                    rec,
                    rid if isinstance(rid, str) else "",
                    raw_seq if isinstance(raw_seq, int) else 0,
                    "invalid",
                    f"bản ghi không hợp lệ: {p}",
                    flagged=False,
                )
                continue
            rid, seq = p["id"], p["seq"]
            earlier = stored_by_id.get(rid)
            if earlier is not None and earlier.counter_id == counter.id and _same(earlier, p):
                results.append(
                    {
                        "id": rid,
                        "seq": seq,
                        "status": "duplicate",
                        "reason_code": None,
                        "reason": None,
                    }
                )
                continue
            in_batch = new_by_id.get(rid)
            if in_batch is not None and _same(_Obj(in_batch), p):
                results.append(
                    {
                        "id": rid,
                        "seq": seq,
                        "status": "duplicate",
                        "reason_code": None,
                        "reason": None,
                    }
                )
                continue
            if earlier is not None or in_batch is not None:
                reject(
                    rec,
                    rid,
                    seq,
                    "conflict",
                    f"bản ghi {rid} (số {seq}) đã được lưu với nội dung khác; không ghi đè",
                    flagged=True,
                )
                continue
            if p["ledger_counter_id"] != counter.ledger_counter_id:
                reject(
                    rec,
                    rid,
                    seq,
                    "wrong_counter",
                    f"bản ghi số {seq} ghi mã quầy khác với quầy đã đăng ký",
                    flagged=True,
                )
                continue
            why = check_record(
                key,
                SealedRecord(seq, p["kind"], rec["body"], p["code"], p["prev_hash"], p["hash"]),
            )
            if why is not None:
                reject(rec, rid, seq, "tampered", why, flagged=True)
                continue
            if seq in by_seq:
                reject(
                    rec,
                    rid,
                    seq,
                    "fork",
                    f"số thứ tự {seq} đã thuộc về bản ghi khác ({by_seq[seq][0]}): "
                    "chuỗi sổ thu bị rẽ nhánh",
                    flagged=True,
                )
                continue
            # --- accepted: continuity checks only flag, the record is stored regardless
            if seq == 1:
                if p["prev_hash"] != GENESIS:
                    flag(
                        "chain_break",
                        "bản ghi số 1 không bắt đầu từ gốc chuỗi",
                        seq=1,
                        record_id=rid,
                    )
            elif seq - 1 in by_seq:
                if by_seq[seq - 1][2] != p["prev_hash"]:
                    flag(
                        "chain_break",
                        f"bản ghi số {seq} không nối với bản ghi số {seq - 1} "
                        "(chuỗi đã bị viết lại)",
                        seq=seq,
                        record_id=rid,
                    )
            else:
                stored_below = s.scalar(
                    select(func.max(LedgerRecord.seq)).where(
                        LedgerRecord.counter_id == counter.id, LedgerRecord.seq < seq
                    )
                )
                batch_below = max((q for q in by_seq if q < seq), default=0)
                start = max(stored_below or 0, batch_below) + 1
                flag(
                    "gap",
                    f"thiếu bản ghi số {start}"
                    + (f"–{seq - 1}" if seq - 1 > start else "")
                    + f" trước bản ghi số {seq}: chưa nhận được (bị xóa hoặc chưa gửi)",
                    seq=start,
                    seq_to=seq - 1,
                    record_id=rid,
                )
            following = by_seq.get(seq + 1)
            if following is not None and following[1] != p["hash"]:
                flag(
                    "chain_break",
                    f"bản ghi số {seq + 1} không nối với bản ghi số {seq} vừa nhận",
                    seq=seq + 1,
                    record_id=following[0],
                )
            if seq < counter.head_seq:
                filled_below_head.append(seq)
            by_seq[seq] = (rid, p["prev_hash"], p["hash"])
            new_row: dict[str, Any] = {
                "id": rid,
                "counter_id": counter.id,
                "seq": seq,
                "kind": p["kind"],
                "body": p["body"],
                "code": p["code"],
                "prev_hash": p["prev_hash"],
                "hash": p["hash"],
                "received_at": now,
                "business_date": p["business_date"],
                "receipt_number": p["receipt_number"],
                "amount": p["amount"],
                "at": p["at"],
                "participant_id": p["participant_id"],
                "payment_id": p["payment_id"],
            }
            new_rows.append(new_row)
            new_by_id[rid] = {**new_row, "_parsed": p}
            results.append(
                {"id": rid, "seq": seq, "status": "accepted", "reason_code": None, "reason": None}
            )

        if new_rows:
            s.execute(insert(LedgerRecord), new_rows)
            _check_voids(s, counter.id, [r["_parsed"] for r in new_by_id.values()], flag)
            _register_participants(s, counter.id, [r["_parsed"] for r in new_by_id.values()], now)
            top = max(new_rows, key=lambda r: r["seq"])
            if top["seq"] > counter.head_seq:
                counter.head_seq = top["seq"]
                counter.head_hash = top["hash"]
            counter.last_upload_at = now
        if flags:
            s.execute(insert(Flag), flags)
        if filled_below_head:
            _resolve_gaps(s, counter.id, filled_below_head, now)
        return {"results": results, "head_seq": counter.head_seq}


class _Obj:
    """Attribute view of a pending row, so `_same` compares stored and in-batch rows alike."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.body = values["body"]
        self.code = values["code"]
        self.seq = values["seq"]
        self.prev_hash = values["prev_hash"]
        self.hash = values["hash"]


def _check_voids(s: Session, counter_id: str, parsed: list[dict[str, Any]], flag: Any) -> None:
    voids = [p for p in parsed if p["kind"] == "void"]
    if not voids:
        return
    targets = {
        row.id: row
        for row in s.execute(
            select(LedgerRecord.id, LedgerRecord.code, LedgerRecord.counter_id).where(
                LedgerRecord.id.in_([v["payment_id"] for v in voids]),
                LedgerRecord.kind == "payment",
            )
        )
    }
    for v in voids:
        target = targets.get(v["payment_id"])
        if target is None or target.counter_id != counter_id:
            flag(
                "void_unknown_payment",
                f"lệnh hủy số {v['seq']} nhắm vào khoản thu {v['payment_id']} chưa nhận được",
                seq=v["seq"],
                record_id=v["id"],
            )
        elif target.code != v["payment_code"]:
            flag(
                "tampered",
                f"lệnh hủy số {v['seq']} ghi mã xác nhận khác với khoản thu bị hủy",
                seq=v["seq"],
                record_id=v["id"],
            )


def _fresh_ma_so(s: Session, taken: set[str]) -> str:
    while True:
        candidate = f"{secrets.randbelow(10**10):010d}"
        if candidate in taken:
            continue
        exists = s.scalar(
            select(CentralParticipant.participant_id)
            .where(CentralParticipant.ma_so_bhxh == candidate)
            .limit(1)
        )
        if exists is None:
            taken.add(candidate)
            return candidate


def _register_participants(
    s: Session, counter_id: str, parsed: list[dict[str, Any]], now: str
) -> None:
    latest: dict[str, dict[str, Any]] = {}
    for p in parsed:
        if p["kind"] == "payment":
            latest[p["participant_id"]] = p
    if not latest:
        return
    known = {
        row.participant_id: row
        for row in s.scalars(
            select(CentralParticipant).where(CentralParticipant.participant_id.in_(list(latest)))
        )
    }
    taken: set[str] = set()
    changes: list[dict[str, Any]] = []
    for pid, p in latest.items():
        person = known.get(pid)
        ma_so = p["ma_so_bhxh"]
        if person is None:
            person = CentralParticipant(
                participant_id=pid,
                counter_id=counter_id,
                full_name=p["payer_name"],
                ma_so_bhxh=ma_so,
                assigned_here=False,
                first_seen_at=now,
            )
            s.add(person)
        elif person.ma_so_bhxh is None and ma_so is not None:
            person.ma_so_bhxh = ma_so
        if person.ma_so_bhxh is None:
            # SIMULATED VSS STEP (see module docstring): assign a fresh code.
            person.ma_so_bhxh = _fresh_ma_so(s, taken)
            person.assigned_here = True
            changes.append(
                {
                    "counter_id": person.counter_id,
                    "participant_id": pid,
                    "change": "assigned",
                    "ma_so_bhxh": person.ma_so_bhxh,
                    "changed_at": now,
                }
            )
    s.flush()
    if changes:
        s.execute(insert(ParticipantChangeRow), changes)


def _resolve_gaps(s: Session, counter_id: str, filled: list[int], now: str) -> None:
    open_gaps = s.scalars(
        select(Flag).where(
            Flag.counter_id == counter_id, Flag.kind == "gap", Flag.resolved_at.is_(None)
        )
    ).all()
    for gap in open_gaps:
        if gap.seq is None or gap.seq_to is None:
            continue
        if not any(gap.seq <= q <= gap.seq_to for q in filled):
            continue
        have = s.scalar(
            select(func.count())
            .select_from(LedgerRecord)
            .where(
                LedgerRecord.counter_id == counter_id,
                LedgerRecord.seq.between(gap.seq, gap.seq_to),
            )
        )
        if have == gap.seq_to - gap.seq + 1:
            gap.resolved_at = now


# --- feeds -------------------------------------------------------------------------------------


def publish_rates(store: CentralStore, text: str) -> tuple[str, bool]:
    """Publish a rate table (validated); returns (version, newly published)."""
    table = RateTable.from_json(text)  # raises UserFacingError naming the bad entry
    body = table.to_json()
    with store.write() as s:
        existing = s.scalar(
            select(PublishedRateTable).where(PublishedRateTable.version == table.version)
        )
        if existing is not None:
            if RateTable.from_json(existing.body) != table:
                raise UserFacingError(
                    f"Bảng mức đóng phiên bản {table.version} đã được phát hành với nội dung "
                    "khác; phiên bản mới phải có số hiệu mới.",
                    message_en=f"rate table {table.version} already published differently",
                )
            return table.version, False
        s.add(PublishedRateTable(version=table.version, body=body, published_at=now_text()))
        return table.version, True


def rates_since(store: CentralStore, since: str | None) -> RatesResponse:
    with store.read() as s:
        after = 0
        if since:
            known = s.scalar(
                select(PublishedRateTable.seq).where(PublishedRateTable.version == since)
            )
            after = known or 0
        rows = s.scalars(
            select(PublishedRateTable)
            .where(PublishedRateTable.seq > after)
            .order_by(PublishedRateTable.seq)
        ).all()
        latest = s.scalar(
            select(PublishedRateTable.version).order_by(PublishedRateTable.seq.desc()).limit(1)
        )
        tables: list[RateTableItem] = [
            {"version": r.version, "published_at": r.published_at, "body": r.body} for r in rows
        ]
        return {"tables": tables, "latest": latest}


def participant_changes(
    store: CentralStore, auth: CounterAuth, cursor: int, limit: int
) -> ParticipantChangesResponse:
    limit = max(1, min(limit, MAX_CHANGES_PAGE))
    with store.read() as s:
        rows = s.scalars(
            select(ParticipantChangeRow)
            .where(ParticipantChangeRow.counter_id == auth.id, ParticipantChangeRow.cursor > cursor)
            .order_by(ParticipantChangeRow.cursor)
            .limit(limit + 1)
        ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        changes: list[ParticipantChange] = [
            {
                "cursor": r.cursor,
                "participant_id": r.participant_id,
                "change": "assigned",
                "ma_so_bhxh": r.ma_so_bhxh,
                "changed_at": r.changed_at,
            }
            for r in rows
        ]
        return {
            "changes": changes,
            "next_cursor": rows[-1].cursor if rows else cursor,
            "more": more,
        }


def _assigned_codes(s: Session, participant_ids: list[str]) -> dict[str, str | None]:
    if not participant_ids:
        return {}
    return {
        row.participant_id: row.ma_so_bhxh
        for row in s.execute(
            select(CentralParticipant.participant_id, CentralParticipant.ma_so_bhxh).where(
                CentralParticipant.participant_id.in_(participant_ids)
            )
        )
    }


def xn01(store: CentralStore, auth: CounterAuth, day: date) -> Xn01Response:
    with store.read() as s:
        rows = s.execute(
            select(LedgerRecord.id, LedgerRecord.body, LedgerRecord.received_at, LedgerRecord.code)
            .where(
                LedgerRecord.counter_id == auth.id,
                LedgerRecord.kind == "payment",
                LedgerRecord.business_date == day.isoformat(),
            )
            .order_by(LedgerRecord.receipt_number)
        ).all()
        ids = [r.id for r in rows]
        voided: set[str] = set()
        for start in range(0, len(ids), 500):
            voided.update(
                pid
                for pid in s.scalars(
                    select(LedgerRecord.payment_id).where(
                        LedgerRecord.counter_id == auth.id,
                        LedgerRecord.kind == "void",
                        LedgerRecord.payment_id.in_(ids[start : start + 500]),
                    )
                )
                if pid is not None
            )
        bodies = [(r, json.loads(r.body)) for r in rows]
        assigned = _assigned_codes(s, list({b["participant_id"] for _, b in bodies}))
        out: list[CentralXn01Row] = []
        for r, b in bodies:
            out.append(
                {
                    "payment_id": r.id,
                    "receipt_number": b["receipt_number"],
                    "confirmation_code": r.code,
                    "full_name": b["payer_name"],
                    "ma_so_bhxh": b["ma_so_bhxh"] or assigned.get(b["participant_id"]),
                    "scheme": b["scheme"],
                    "months": b["months"],
                    "period_from": b["period_from"],
                    "period_to": b["period_to"],
                    "amount": b["amount"],
                    "paid_at": b["paid_at"],
                    "cashier": b["cashier"],
                    "voided": r.id in voided,
                    "received_at": r.received_at,
                }
            )
        valid = [row for row in out if not row["voided"]]
        return {
            "counter_id": auth.id,
            "business_date": day.isoformat(),
            "rows": out,
            "count": len(valid),
            "total": sum(row["amount"] for row in valid),
        }


def lookup(store: CentralStore, code: str, ma_so_bhxh: str) -> LookupResponse:
    """A payer's check by confirmation code and mã số BHXH (both must match)."""
    try:
        compact = normalise_code(code)
    except ValueError as exc:
        raise NotFound("không tìm thấy khoản đóng với mã xác nhận và mã số BHXH này") from exc
    with store.read() as s:
        rows = s.execute(
            select(
                LedgerRecord.id,
                LedgerRecord.body,
                LedgerRecord.received_at,
                LedgerRecord.counter_id,
            ).where(LedgerRecord.code == compact, LedgerRecord.kind == "payment")
        ).all()
        for r in rows:
            b = json.loads(r.body)
            assigned = _assigned_codes(s, [b["participant_id"]]).get(b["participant_id"])
            if ma_so_bhxh not in {b["ma_so_bhxh"], assigned} - {None}:
                continue
            voided = s.scalar(
                select(LedgerRecord.id)
                .where(LedgerRecord.kind == "void", LedgerRecord.payment_id == r.id)
                .limit(1)
            )
            counter = s.get(CentralCounter, r.counter_id)
            return {
                "confirmation_code": compact,
                "full_name": b["payer_name"],
                "ma_so_bhxh": ma_so_bhxh,
                "scheme": b["scheme"],
                "months": b["months"],
                "period_from": b["period_from"],
                "period_to": b["period_to"],
                "amount": b["amount"],
                "paid_at": b["paid_at"],
                "collection_point": counter.collection_point if counter else "",
                "status": "voided" if voided else "valid",
                "received_at": r.received_at,
            }
    raise NotFound("không tìm thấy khoản đóng với mã xác nhận và mã số BHXH này")


# --- admin views -------------------------------------------------------------------------------


def list_counters(store: CentralStore) -> list[dict[str, Any]]:
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
) -> list[dict[str, Any]]:
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
