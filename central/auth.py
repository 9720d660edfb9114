"""Enrolment and authentication: one-time enrolment codes, a counter's signing key registered
once, bearer tokens (only their SHA-256 is stored) and their revocation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.domain.canonical import utc_iso
from app.domain.chain import GENESIS
from central.clock import now_text
from central.errors import CentralError, NotFound, Refused, Unauthorized
from central.models import CentralCounter, EnrollmentCode
from central.store import CentralStore
from sync.protocol import EnrollRequest, EnrollResponse

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DEFAULT_CODE_VALID_HOURS = 72


@dataclass(frozen=True)
class CounterAuth:
    """The authenticated counter of a request."""

    id: str
    ledger_counter_id: str
    counter_code: str
    collection_point: str


def hash_secret(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def _signing_key(req: EnrollRequest) -> bytes:
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
    return key


def enroll(store: CentralStore, req: EnrollRequest) -> EnrollResponse:
    key_text = base64.b64encode(_signing_key(req)).decode("ascii")
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
