"""Content rules for a ledger record: does what the counter sealed obey the domain rules the
counter itself applies? Pure — the rate tables come in as a `RateBook` — so every rule is
unit-tested without HTTP or a database.

A valid signature only says the counter's key sealed the body; it says nothing about whether the
body makes sense. Central is the auditor, so it re-applies the counter's rules (`app.domain`):

* every value a JSON scalar central can store: integers within 64 bits, text bounded in length
  and free of control characters (names also free of invisible format characters such as
  right-to-left overrides and zero-width spaces);
* a known body version; ids in canonical UUID form; dates real (`YYYY-MM-DD`), instants
  canonical UTC, the business day the Asia/Ho_Chi_Minh day of the instant;
* a payment: a known scheme; the method (BHXH tự nguyện) or member order (BHYT hộ gia đình)
  valid; months valid for the method; the period whole months, `period_from` ≤ `period_to`,
  as long as the months paid; mã số BHXH 10 digits, CCCD 12 digits; the rate table of
  `rate_version` known to central; and the amount a positive integer within `MAX_AMOUNT`, equal
  to what `app.domain.quote` gives for the record's fields under that table (for BHXH tự
  nguyện, with as many months of state support as the body says, or — for bodies that do not
  say — some number from none to all of them, since the lifetime cap depends on history central
  may not hold);
* a void: the cancelled payment's id, receipt number and confirmation code well-formed, a
  reason given;
* a shift event (format 2 only, docs/SHIFTS.md): a known event, the shift's id a UUID, the
  amount whole đồng within `MAX_CASH`, the count by denomination well-formed and adding up to
  the amount; a drop or pick-up with a reason and a supervisor; a close whose difference is its
  count minus its expected cash, with a reason for any difference.

`content_problem` returns the first rule broken, in Vietnamese naming the field, or None.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.domain.canonical import CanonicalValue, parse_utc_iso
from app.domain.cash import MAX_CASH, SMALLEST, count_total, parse_counts
from app.domain.codes import normalise_code
from app.domain.identifiers import validate_ma_so_bhxh
from app.domain.ledger import SHIFT_EVENTS, SealedRecord
from app.domain.quote import Quote, quote_bhxh_tn, quote_bhyt_hgd
from app.domain.rates import RateTable
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import UserFacingError, ValidationError

RateBook = Mapping[str, RateTable]
"""Rate tables central knows, by version: those it published and the one shipped with the app."""

KNOWN_BODY_VERSIONS = frozenset({1, 2})
INT64_MAX = 2**63 - 1
# Far above any lawful payment: 60 months × 22% × 20 × mức tham chiếu is well under 1 tỷ đồng.
MAX_AMOUNT = 10_000_000_000
MAX_FIELD_NAME = 40
MAX_FIELDS = 64
DEFAULT_TEXT_LIMIT = 200
TEXT_LIMITS = {
    "payer_name": 200,
    "cashier": 64,
    "supervisor": 64,
    "reason": 500,
    "series": 20,
    "rate_version": 64,
    "code": 20,
    "operator": 64,
    "records_hash": 64,
}
NAME_FIELDS = frozenset({"payer_name", "cashier", "supervisor", "operator"})
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UUID_FIELDS = ("id", "counter_id")
_SCHEMES = tuple(s.value for s in Scheme)
_METHODS = tuple(m.value for m in PaymentMethod)
_CATEGORIES = tuple(c.value for c in SupportCategory)


class ContentError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fail(field: str, rule: str) -> ContentError:
    return ContentError(f"trường {field} {rule}")


# --- scalars -------------------------------------------------------------------------------


def _bad_character(text: str, *, name: bool) -> bool:
    if text.isprintable():  # no character of the categories Cc, Cf, Cs (nor Co, Cn, Zl, Zp)
        return False
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or (name and category == "Cf"):
            return True
    return False


@lru_cache(maxsize=512)
def _clean_name(field: str) -> bool:
    """A short field name free of control and invisible characters (a pure function of the
    name: remembered, for at most 512 names of at most `MAX_FIELD_NAME` characters)."""
    return not _bad_character(field, name=True)


def _check_scalar(field: str, value: CanonicalValue) -> None:
    if len(field) > MAX_FIELD_NAME or not _clean_name(field):
        raise ContentError("tên trường không hợp lệ")
    if isinstance(value, str):  # the common case first
        limit = TEXT_LIMITS.get(field, DEFAULT_TEXT_LIMIT)
        if len(value) > limit:
            raise _fail(field, f"dài quá {limit} ký tự")
        if _bad_character(value, name=field in NAME_FIELDS):
            raise _fail(field, "chứa ký tự điều khiển hoặc ký tự ẩn")
        return
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if not -INT64_MAX <= value <= INT64_MAX:
            raise _fail(field, "vượt quá giới hạn số nguyên 64 bit")
        return
    raise _fail(field, "sai kiểu")


def _text(body: Mapping[str, CanonicalValue], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, "thiếu hoặc không phải chuỗi ký tự")
    return value


def _optional_text(body: Mapping[str, CanonicalValue], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise _fail(field, "phải là chuỗi ký tự")
    return value


def _integer(body: Mapping[str, CanonicalValue], field: str, lo: int, hi: int) -> int:
    value = body.get(field)
    if type(value) is not int:
        raise _fail(field, "phải là số nguyên")
    if not lo <= value <= hi:
        raise _fail(field, f"phải từ {lo} đến {hi}")
    return value


def _optional_integer(
    body: Mapping[str, CanonicalValue], field: str, lo: int, hi: int
) -> int | None:
    return None if body.get(field) is None else _integer(body, field, lo, hi)


# The canonical text of a UUID, as `str(uuid.UUID(value))` writes it: lower-case hex, 8-4-4-4-12.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuid(body: Mapping[str, CanonicalValue], field: str) -> str:
    value = _text(body, field)
    if _CANONICAL_UUID.fullmatch(value) is None:
        raise _fail(field, "phải là mã định danh UUID dạng chuẩn")
    return value


def _day(body: Mapping[str, CanonicalValue], field: str) -> date:
    value = _text(body, field)
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(field, "phải là ngày có thật dạng YYYY-MM-DD") from None


def _instant(body: Mapping[str, CanonicalValue], field: str) -> datetime:
    value = _text(body, field)
    try:
        return parse_utc_iso(value)
    except ValueError:
        raise _fail(field, "phải là thời điểm UTC dạng YYYY-MM-DDTHH:MM:SS.ffffffZ") from None


def _enum(body: Mapping[str, CanonicalValue], field: str, allowed: Iterable[str]) -> str:
    values = tuple(allowed)
    value = body.get(field)
    if not isinstance(value, str) or value not in values:
        raise _fail(field, "phải là một trong: " + ", ".join(values))
    return value


# --- shared parts of both kinds ------------------------------------------------------------


def _check_common(body: Mapping[str, CanonicalValue], at_field: str) -> None:
    if len(body) > MAX_FIELDS:
        raise ContentError(f"nội dung bản ghi có quá {MAX_FIELDS} trường")
    for field, value in body.items():
        _check_scalar(field, value)
    version = body.get("v")
    if type(version) is not int or version not in KNOWN_BODY_VERSIONS:
        raise _fail("v", "không phải phiên bản nội dung bản ghi đã biết")
    for field in UUID_FIELDS:
        _uuid(body, field)
    at = _instant(body, at_field)
    day = _day(body, "business_date")
    if at.astimezone(LOCAL_TZ).date() != day:
        raise _fail("business_date", f"phải là ngày (giờ Việt Nam) của {at_field}")


# --- payments --------------------------------------------------------------------------------


_QUOTES: dict[tuple[object, ...], Quote] = {}
_MAX_QUOTES = 20_000


def _cached(key: tuple[object, ...], make: Callable[[], Quote]) -> Quote:
    """Quotes are pure functions of the table and the fields: a day's records mostly repeat a
    few combinations, so each is computed once per process (refusals are not cached)."""
    quote = _QUOTES.get(key)
    if quote is None:
        if len(_QUOTES) >= _MAX_QUOTES:
            _QUOTES.clear()
        quote = _QUOTES[key] = make()
    return quote


def _bhyt_quote(table: RateTable, body: Mapping[str, CanonicalValue], paid_on: date) -> Quote:
    if body.get("method") is not None or body.get("income") is not None:
        raise _fail("method", "không dùng cho BHYT hộ gia đình")
    member_order = _integer(body, "member_order", 1, 100)
    months = _integer(body, "months", 1, 120)
    start = _day(body, "period_from")
    return _cached(
        ("bhyt", table.version, id(table), member_order, months, start, paid_on),
        lambda: quote_bhyt_hgd(
            table, member_order=member_order, months=months, start_month=start, paid_on=paid_on
        ),
    )


def _bhxh_quotes(
    table: RateTable, body: Mapping[str, CanonicalValue], paid_on: date
) -> Iterator[Quote]:
    """The quotes the record's fields allow: one per possible count of supported months."""
    category = SupportCategory(_enum(body, "support_category", _CATEGORIES))
    method = PaymentMethod(_enum(body, "method", _METHODS))
    months = _integer(body, "months", 1, 120)
    if body.get("member_order") is not None:
        raise _fail("member_order", "không dùng cho BHXH tự nguyện")

    income = _integer(body, "income", 1, INT64_MAX)
    start = _day(body, "period_from")

    def quote(used: int) -> Quote:
        return _cached(
            (
                "bhxh",
                table.version,
                id(table),
                income,
                category,
                method,
                months,
                start,
                paid_on,
                used,
            ),
            lambda: quote_bhxh_tn(
                table,
                income=income,
                category=category,
                method=method,
                months=months,
                start_month=start,
                paid_on=paid_on,
                support_months_used=used,
            ),
        )

    cap = table.support_lifetime_months(paid_on)
    most = min(months, cap)
    stated = _optional_integer(body, "support_months", 0, most)
    supported = [stated] if stated is not None else [most, 0, *range(1, most)]
    for count in supported:
        yield quote(cap - count)


def _quotes(
    scheme: Scheme, table: RateTable, body: Mapping[str, CanonicalValue], paid_on: date
) -> Iterator[Quote]:
    if scheme is Scheme.BHYT_HGD:
        yield _bhyt_quote(table, body, paid_on)
    else:
        yield from _bhxh_quotes(table, body, paid_on)


def _check_payment_quote(
    rates: RateBook, body: Mapping[str, CanonicalValue], paid_on: date
) -> None:
    amount = _integer(body, "amount", 1, MAX_AMOUNT)
    version = _text(body, "rate_version")
    table = rates.get(version)
    if table is None:
        raise _fail("rate_version", f"«{version}» không phải bảng mức đóng trung tâm đã biết")
    scheme = Scheme(_enum(body, "scheme", _SCHEMES))
    period_from, period_to = _day(body, "period_from"), _day(body, "period_to")
    if period_from > period_to:
        raise _fail("period_to", "phải không trước period_from")
    first = None
    for q in _quotes(scheme, table, body, paid_on):
        first = first or q
        if (q.period_from, q.period_to) != (period_from, period_to):
            raise _fail("period_to", f"phải là {q.period_to.isoformat()} với {q.months} tháng")
        if q.total == amount:
            return
    expected = f" (theo bảng mức đóng: {first.total} đ)" if first else ""
    raise _fail("amount", f"không khớp với mức đóng tính theo nội dung bản ghi{expected}")


def _check_payment(body: Mapping[str, CanonicalValue], rates: RateBook) -> None:
    _check_common(body, "paid_at")
    _uuid(body, "participant_id")
    _integer(body, "receipt_number", 1, INT64_MAX)
    _text(body, "series")
    _text(body, "payer_name")
    _text(body, "cashier")
    ma_so = _optional_text(body, "ma_so_bhxh")
    cccd = _optional_text(body, "cccd")
    try:
        if ma_so is not None and validate_ma_so_bhxh(ma_so) != ma_so:
            raise _fail("ma_so_bhxh", "phải gồm đúng 10 chữ số")
    except UserFacingError:
        raise _fail("ma_so_bhxh", "phải gồm đúng 10 chữ số") from None
    if cccd is not None and not (len(cccd) == 12 and cccd.isascii() and cccd.isdigit()):
        raise _fail("cccd", "phải gồm đúng 12 chữ số")
    paid_on = _day(body, "business_date")
    try:
        _check_payment_quote(rates, body, paid_on)
    except ValidationError as exc:
        raise _fail(exc.field, f"({exc.label}) {exc.rule}") from None
    except UserFacingError as exc:
        raise ContentError(f"nội dung khoản thu trái quy định: {exc.message}") from None


# --- voids -----------------------------------------------------------------------------------


def _check_void(body: Mapping[str, CanonicalValue]) -> None:
    _check_common(body, "voided_at")
    _uuid(body, "payment_id")
    _integer(body, "payment_receipt_number", 1, INT64_MAX)
    _text(body, "reason")
    _text(body, "supervisor")
    code = _text(body, "payment_code")
    try:
        if normalise_code(code) != code:
            raise ValueError(code)
    except ValueError:
        raise _fail("payment_code", "phải là mã xác nhận 12 ký tự dạng chuẩn") from None


# --- shift events ----------------------------------------------------------------------------


def _check_shift(body: Mapping[str, CanonicalValue]) -> None:
    _check_common(body, "at")
    if body.get("v") != 2:
        raise _fail("v", "phải là 2 (bản ghi ca thu)")
    event = _enum(body, "event", SHIFT_EVENTS)
    _uuid(body, "shift_id")
    _text(body, "operator")
    _integer(body, "operator_id", 1, INT64_MAX)
    amount = _integer(body, "amount", 0, MAX_CASH)
    counts_text = body.get("counts")
    if not isinstance(counts_text, str):
        raise _fail("counts", "phải là chuỗi ký tự")
    try:
        counts = parse_counts(counts_text)
    except ValueError:
        raise _fail("counts", "không đúng dạng mệnh giá:số tờ") from None
    if counts and count_total(counts) != amount:
        raise _fail("amount", "phải bằng tổng tiền đếm theo mệnh giá")
    if event in ("drop", "pickup"):
        _integer(body, "amount", 1, MAX_CASH)
        _text(body, "reason")
        _text(body, "supervisor")
    if event == "close":
        expected = _integer(body, "expected", -MAX_CASH, MAX_CASH)
        if body.get("difference") != amount - expected:
            raise _fail("difference", "phải bằng tiền đếm trừ tiền theo sổ")
        if abs(amount - expected) >= SMALLEST:
            _text(body, "reason")
        _integer(body, "payments", 0, INT64_MAX)
        _integer(body, "unsynced", 0, INT64_MAX)
        digest = _text(body, "records_hash")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise _fail("records_hash", "phải gồm 64 ký tự hex")


def content_problem(record: SealedRecord, rates: RateBook) -> str | None:
    """Why the record's content breaks the domain rules (Vietnamese, naming the field), or None."""
    try:
        if record.kind == "payment":
            _check_payment(record.body, rates)
        elif record.kind == "void":
            _check_void(record.body)
        else:
            _check_shift(record.body)
    except ContentError as exc:
        return f"bản ghi số {record.seq}: {exc.reason}"
    return None
