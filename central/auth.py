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
from app.domain.codes import encode_crockford
from app.errors import UserFacingError
from central import moves
from central.clock import now_text
from central.errors import CentralError, Forbidden, NotFound, Refused, Unauthorized
from central.models import CentralCounter, EnrollmentCode
from central.store import CentralStore
from sync.protocol import API_VERSION, EnrollRequest, EnrollResponse, IdentityResponse

DEFAULT_CODE_VALID_HOURS = 72
MAX_CODE_VALID_HOURS = 24 * 30
MIN_KEY_BYTES, MAX_KEY_BYTES = 16, 64
_TEXT_LIMITS = {
    "counter_code": 20,
    "organisation": 200,
    "collection_point": 200,
    "receipt_series": 20,
}
_CODE_REFUSED = "mã đăng ký không đúng, đã dùng hoặc đã hết hạn"
MISSING_TOKEN = "thiếu mã truy cập (Authorization: Bearer …)"
BAD_TOKEN = "mã truy cập không hợp lệ hoặc đã bị thu hồi; hãy đăng ký lại quầy"


@dataclass(frozen=True)
class CounterAuth:
    """The authenticated counter of a request."""

    id: str
    ledger_counter_id: str
    counter_code: str
    collection_point: str


@dataclass(frozen=True)
class CounterIdentity:
    """Who a code is issued for: the enrolling counter must say exactly this."""

    organisation: str
    collection_point: str
    counter_code: str

    @classmethod
    def of(cls, organisation: str, collection_point: str, counter_code: str) -> CounterIdentity:
        """Spacing squashed and the counter code upper-cased, as the counter itself stores
        them (`app.services.counter.init_counter`), so an admin typing `tn-dh01` still
        issues a code for TN-DH01."""
        return cls(_squash(organisation), _squash(collection_point), _squash(counter_code).upper())


def _squash(text: str) -> str:
    return " ".join(text.split())


def hash_secret(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise_enrollment_code(code: str) -> str:
    return "".join(c for c in code.upper() if c not in "- ")


def _check_identity(who: CounterIdentity) -> None:
    for name, value in (
        ("organisation", who.organisation),
        ("collection_point", who.collection_point),
        ("counter_code", who.counter_code),
    ):
        if not value or len(value) > _TEXT_LIMITS[name] or not value.isprintable():
            raise UserFacingError(
                f"{name} phải có từ 1 đến {_TEXT_LIMITS[name]} ký tự in được",
                message_en=f"{name} must be 1 to {_TEXT_LIMITS[name]} printable characters",
            )


def make_enrollment_code(
    store: CentralStore,
    *,
    organisation: str,
    collection_point: str,
    counter_code: str,
    label: str = "",
    valid_hours: int = DEFAULT_CODE_VALID_HOURS,
) -> str:
    """A one-time enrolment code for one counter (80 random bits, Crockford base32, grouped
    4-4-4-4), valid 1 hour to 30 days; useless for a counter that is not this one."""
    if type(valid_hours) is not int or not 1 <= valid_hours <= MAX_CODE_VALID_HOURS:
        raise UserFacingError(
            f"Thời hạn mã đăng ký phải từ 1 đến {MAX_CODE_VALID_HOURS} giờ.",
            message_en=f"valid hours must be 1 to {MAX_CODE_VALID_HOURS}",
        )
    who = CounterIdentity.of(organisation, collection_point, counter_code)
    _check_identity(who)
    value = secrets.randbits(80)
    symbols = encode_crockford(value, 16)
    now = datetime.now(UTC)
    with store.write() as s:
        s.add(
            EnrollmentCode(
                code_hash=hash_secret(symbols),
                label=label[:200],
                organisation=who.organisation,
                collection_point=who.collection_point,
                counter_code=who.counter_code,
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
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise CentralError(f"khóa ký phải dài từ {MIN_KEY_BYTES} đến {MAX_KEY_BYTES} byte")
    try:
        if str(uuid.UUID(req["counter_id"])) != req["counter_id"]:
            raise ValueError(req["counter_id"])
    except ValueError as exc:
        raise CentralError("mã quầy (counter_id) không hợp lệ") from exc
    series = req["receipt_series"]
    if not series or len(series) > _TEXT_LIMITS["receipt_series"] or not series.isprintable():
        raise CentralError("ký hiệu biên lai (receipt_series) không hợp lệ")
    return key


def _new_counter(store: CentralStore, req: EnrollRequest, key: bytes, now: str) -> CentralCounter:
    who = CounterIdentity.of(req["organisation"], req["collection_point"], req["counter_code"])
    central_id = "QT-" + secrets.token_hex(6).upper()
    return CentralCounter(
        id=central_id,
        ledger_counter_id=req["counter_id"],
        counter_code=who.counter_code,
        organisation=who.organisation,
        collection_point=who.collection_point,
        receipt_series=req["receipt_series"],
        signing_key=store.keys.seal(central_id, key),
        enrolled_at=now,
        head_seq=0,
        head_hash=GENESIS,
    )


def enroll(store: CentralStore, req: EnrollRequest) -> EnrollResponse:
    """Register a counter's key and issue its API token, under a code issued for this counter.

    Idempotent: the same code with the same counter id and the same key may be sent again
    (an answer lost on the way) while the code has not expired; it issues a fresh token and
    the earlier one stops working. Refusals: 401 (unknown, used or expired code), 403 (the code
    is for another counter), 409 (the counter is known with another key, or with this key
    before a move; a move whose head does not fit what central holds — `central.moves`).

    A counter moved to a new PC sends its new key with `key_from_seq` and the head it
    continues from: the key is recorded as pending (`key_status: pending`) until central's
    admin approves the move; the token works meanwhile for everything else.
    """
    key = _signing_key(req)
    move = moves.move_of(req)
    refusal: CentralError | None = None
    who = CounterIdentity.of(req["organisation"], req["collection_point"], req["counter_code"])
    now = now_text()
    token = secrets.token_urlsafe(32)
    with store.write() as s:
        # The code's row is locked for the transaction: two enrolments racing with one code
        # (several API workers on PostgreSQL) must not both find it unused. SQLite's writes are
        # serialised by its write lock already.
        code = s.get(
            EnrollmentCode,
            hash_secret(_normalise_enrollment_code(req["enrollment_code"])),
            with_for_update=True,
        )
        if code is None or code.expires_at < now:
            raise Unauthorized(_CODE_REFUSED)
        if CounterIdentity(code.organisation, code.collection_point, code.counter_code) != who:
            raise Forbidden(
                "mã đăng ký này được cấp cho một quầy khác "
                "(tổ chức, điểm thu và mã quầy phải đúng như khi cấp mã)"
            )
        counter = s.scalar(
            select(CentralCounter)
            .where(CentralCounter.ledger_counter_id == req["counter_id"])
            .with_for_update()
        )
        standing = None
        if counter is not None:
            standing = moves.key_standing(moves.load_keys(store, s, counter), key)
        if code.used_at is not None:
            # A retry after a lost answer: same code, same counter, same key — nothing else.
            if (
                counter is None
                or code.used_by != counter.id
                or standing not in ("current", "pending")
            ):
                raise Unauthorized(_CODE_REFUSED)
        elif counter is None:
            if move is not None and move.key_from_seq > 1:
                raise Refused(
                    "quầy này chưa từng đăng ký với trung tâm nên trung tâm không có khóa cũ để "
                    "kiểm tra các bản ghi trước khi chuyển máy; hãy liên hệ quản trị trung tâm"
                )
            counter = _new_counter(store, req, key, now)
            s.add(counter)
            standing = "current"
        elif (counter.organisation, counter.collection_point, counter.counter_code) != (
            who.organisation,
            who.collection_point,
            who.counter_code,
        ):
            raise Forbidden("quầy này đã đăng ký với tổ chức, điểm thu hoặc mã quầy khác")
        elif standing == "old":
            raise Refused(
                "khóa ký này là khóa cũ của quầy, đã được thay khi quầy chuyển sang máy mới"
            )
        elif standing is None:
            if move is None:
                # Re-enrolment (a lost or revoked token): the key never changes this way, or
                # codes already handed to payers could no longer be verified. A counter moved
                # to a new PC says where its new key starts (central.moves).
                raise Refused(
                    "quầy này đã đăng ký với một khóa ký khác; không thay khóa qua đăng ký lại"
                )
            problem = moves.request_move(store, s, counter, move, key, now)
            if problem is not None:  # flagged for the admin; committed, then refused
                refusal = Refused(problem.detail)
            standing = "pending"
        if refusal is None:
            assert counter is not None
            counter.token_hash = hash_secret(token)
            code.used_at = code.used_at or now
            code.used_by = counter.id
            s.flush()
            answer: EnrollResponse = {
                "central_counter_id": counter.id,
                "api_token": token,
                "server_time": now,
                "key_status": "pending" if standing == "pending" else "active",
            }
    if refusal is not None:
        raise refusal
    return answer


def identity(store: CentralStore) -> IdentityResponse:
    """What an enrolling counter shows its administrator before it sends its key."""
    digest = hashlib.sha256(f"quaythu-central:{store.instance_id}".encode()).hexdigest()[:20]
    return {
        "name": store.name,
        "instance_id": store.instance_id,
        "fingerprint": "-".join(digest[i : i + 4].upper() for i in range(0, 20, 4)),
        "api_version": API_VERSION,
    }


def authenticate(store: CentralStore, token: str | None) -> CounterAuth:
    if not token:
        raise Unauthorized(MISSING_TOKEN)
    with store.read() as s:
        c = s.scalar(select(CentralCounter).where(CentralCounter.token_hash == hash_secret(token)))
        if c is None:
            raise Unauthorized(BAD_TOKEN)
        return CounterAuth(c.id, c.ledger_counter_id, c.counter_code, c.collection_point)


def revoke_token(store: CentralStore, counter_id: str) -> None:
    with store.write() as s:
        c = s.get(CentralCounter, counter_id)
        if c is None:
            raise NotFound(f"không có quầy {counter_id}")
        c.token_hash = None
