"""Participants: the people who pay. Create, update, search, import.

A first-time voluntary participant has no mã số BHXH yet: they are registered with their CCCD
(checked against date of birth and sex) and the code is filled in later, when the central system
reports it. Every change is audited with the fields that changed.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import time
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.canonical import utc_iso
from app.domain.clock import now_utc
from app.domain.dates import parse_optional_day
from app.domain.identifiers import validate_cccd, validate_ma_so_bhxh
from app.domain.text import check_text, fold_key
from app.domain.types import Sex, SupportCategory
from app.errors import NotFoundError, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.queries import audit, load_actor
from app.storage.db import Database
from app.storage.models import Participant

_PHONE = re.compile(r"^0\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ParticipantInput:
    """What a cashier types (or a CCCD scan fills) to register or update a participant."""

    full_name: str
    date_of_birth: date | None = None
    sex: Sex | None = None
    cccd: str | None = None
    ma_so_bhxh: str | None = None
    address: str = ""
    phone: str = ""
    email: str = ""
    support_category: SupportCategory | None = None


@dataclass(frozen=True)
class ParticipantView:
    id: str
    full_name: str
    ma_so_bhxh: str | None
    cccd: str | None
    date_of_birth: date | None
    sex: Sex | None
    address: str
    phone: str
    email: str
    support_category: SupportCategory | None
    prior_support_months: int
    bhyt_card_end: date | None


def view_of(p: Participant) -> ParticipantView:
    return ParticipantView(
        id=p.id,
        full_name=p.full_name,
        ma_so_bhxh=p.ma_so_bhxh,
        cccd=p.cccd,
        date_of_birth=p.date_of_birth,
        sex=Sex(p.sex) if p.sex else None,
        address=p.address,
        phone=p.phone,
        email=p.email,
        support_category=SupportCategory(p.support_category) if p.support_category else None,
        prior_support_months=p.prior_support_months,
        bhyt_card_end=p.bhyt_card_end,
    )


def normalise_input(
    data: ParticipantInput, *, today: date, complete: bool = True
) -> ParticipantInput:
    """Validate every field; return the cleaned input. Raises ValidationError naming the field.

    `complete=False` (an import row before it is matched) skips the date of birth and sex a
    first registration needs: a row that updates a known participant may leave them blank."""
    check_text(data.full_name, "full_name", "Họ và tên", name=True)
    name = " ".join(data.full_name.split())
    if not name:
        raise ValidationError("full_name", "Họ và tên", "không được để trống", rule_en="required")
    if len(name) > 200:
        raise ValidationError("full_name", "Họ và tên", "dài quá 200 ký tự", rule_en="too long")
    if any(ch.isdigit() for ch in name):
        raise ValidationError(
            "full_name", "Họ và tên", "không được chứa chữ số", rule_en="no digits allowed"
        )
    dob = data.date_of_birth
    if dob is not None and not (date(1900, 1, 1) <= dob <= today):
        raise ValidationError(
            "date_of_birth",
            "Ngày sinh",
            f"phải từ 01/01/1900 đến hôm nay ({today:%d/%m/%Y})",
            rule_en="must be between 1900-01-01 and today",
        )
    ma_so = validate_ma_so_bhxh(data.ma_so_bhxh) if data.ma_so_bhxh else None
    cccd = validate_cccd(data.cccd, date_of_birth=dob, sex=data.sex) if data.cccd else None
    if ma_so is None and cccd is None:
        raise ValidationError(
            "cccd",
            "Số CCCD",
            "bắt buộc khi người tham gia chưa có mã số BHXH (đăng ký lần đầu)",
            rule_en="required when there is no social-insurance number yet",
        )
    if complete and ma_so is None and (dob is None or data.sex is None):
        raise ValidationError(
            "date_of_birth",
            "Ngày sinh và giới tính",
            "bắt buộc khi đăng ký lần đầu (tờ khai TK1-TS)",
            rule_en="date of birth and sex are required for a first registration",
        )
    check_text(data.address, "address", "Địa chỉ")
    if len(data.address) > 300:
        raise ValidationError("address", "Địa chỉ", "dài quá 300 ký tự", rule_en="too long")
    phone = re.sub(r"[\s.]", "", data.phone)
    if phone and not _PHONE.match(phone):
        raise ValidationError(
            "phone", "Số điện thoại", "phải gồm 10 chữ số, bắt đầu bằng 0", rule_en="10 digits"
        )
    email = data.email.strip()
    if email and not _EMAIL.match(email):
        raise ValidationError(
            "email", "Email", "không đúng dạng ten@mien.vn", rule_en="not an e-mail address"
        )
    return replace(
        data,
        full_name=name,
        ma_so_bhxh=ma_so,
        cccd=cccd,
        phone=phone,
        email=email,
        address=" ".join(data.address.split()),
    )


def _check_unique(session: Session, data: ParticipantInput, own_id: str | None) -> None:
    for column, value, field, label in (
        (Participant.ma_so_bhxh, data.ma_so_bhxh, "ma_so_bhxh", "Mã số BHXH"),
        (Participant.cccd, data.cccd, "cccd", "Số CCCD"),
    ):
        if value is None:
            continue
        other = session.scalar(select(Participant).where(column == value))
        if other is not None and other.id != own_id:
            raise ValidationError(
                field,
                label,
                f"{value} đã thuộc về người tham gia {other.full_name}",
                rule_en="already registered to another participant",
            )


def _apply(p: Participant, data: ParticipantInput, now: datetime) -> None:
    p.full_name = data.full_name
    p.name_key = fold_key(data.full_name)
    p.ma_so_bhxh = data.ma_so_bhxh
    p.cccd = data.cccd
    p.date_of_birth = data.date_of_birth
    p.sex = data.sex.value if data.sex else None
    p.address = data.address
    p.phone = data.phone
    p.email = data.email
    p.support_category = data.support_category.value if data.support_category else None
    p.updated_at = now


def _add_participant(session: Session, data: ParticipantInput, actor: Actor) -> Participant:
    """Insert inside an open write session (used by the CSV import and by services)."""
    now = now_utc()
    data = normalise_input(data, today=now.date())
    _check_unique(session, data, None)
    p = Participant(id=str(uuid.uuid4()), created_at=now, prior_support_months=0)
    _apply(p, data, now)
    session.add(p)
    session.flush()
    audit(session, "participant.create", actor=actor, subject=p.id, name=p.full_name)
    return p


def create_participant(db: Database, data: ParticipantInput, *, by: Actor) -> ParticipantView:
    with db.write() as session:
        load_actor(session, by)
        return view_of(_add_participant(session, data, by))


def update_participant(
    db: Database, participant_id: str, data: ParticipantInput, *, by: Actor
) -> ParticipantView:
    with db.write() as session:
        load_actor(session, by)
        p = _get(session, participant_id)
        data = normalise_input(data, today=now_utc().date())
        if p.ma_so_bhxh:
            # The same rule as a CSV import (`settled_field_change`): once VSS has assigned a
            # mã số BHXH, the code, the name and the date of birth are VSS's.
            for field, label in _SETTLED:
                if getattr(data, field) != getattr(p, field):
                    raise ValidationError(
                        field,
                        label,
                        "đã được cơ quan BHXH ghi nhận (người này đã có mã số BHXH) thì không sửa "
                        "tại quầy; liên hệ cơ quan BHXH",
                        rule_en="settled by VSS: cannot be changed at the counter",
                    )
        _check_unique(session, data, p.id)
        before = view_of(p)
        _apply(p, data, now_utc())
        after = view_of(p)
        changed = {
            f.name: [str(getattr(before, f.name)), str(getattr(after, f.name))]
            for f in fields(before)
            if getattr(before, f.name) != getattr(after, f.name)
        }
        audit(session, "participant.update", actor=by, subject=p.id, changed=changed)
        return after


def _get(session: Session, participant_id: str) -> Participant:
    p = session.scalar(select(Participant).where(Participant.id == participant_id))
    if p is None:
        raise NotFoundError(f"Không tìm thấy người tham gia {participant_id}.")
    return p


def get_participant(db: Database, participant_id: str) -> ParticipantView:
    with db.read() as session:
        return view_of(_get(session, participant_id))


def find_by_identifier(db: Database, ref: str) -> ParticipantView | None:
    """Exactly the participant with this mã số BHXH (10 digits) or CCCD (12 digits), if any."""
    ref = re.sub(r"\s", "", ref)
    if not ref.isdigit() or len(ref) not in (10, 12):
        return None
    column = Participant.ma_so_bhxh if len(ref) == 10 else Participant.cccd
    with db.read() as session:
        p = session.scalar(select(Participant).where(column == ref))
        return None if p is None else view_of(p)


def _fts_query(key: str) -> str:
    # Every word is a prefix: "nguyen thi h" finds "Nguyễn Thị Hằng". Quotes keep FTS syntax
    # characters in the input from being read as operators.
    return " ".join(f'"{tok}"*' for tok in key.split() if tok.replace('"', ""))


# Ranked search. Each source yields at most this many candidates; the ranking runs over their
# union and the limit is applied after it. Exact namesakes (same folded name) get a larger cap
# so that the one typed with its diacritics, or the one who paid last, is never cut off.
SEARCH_CANDIDATES = 40
EXACT_NAMESAKES = 2000


@dataclass(frozen=True)
class SearchResult:
    people: list[ParticipantView]
    more: bool  # more participants matched than are in `people`


def search_participants(db: Database, query: str, *, limit: int = 20) -> list[ParticipantView]:
    """Find by mã số BHXH prefix, CCCD prefix, or name typed with or without diacritics,
    best match first (see `find_participants`)."""
    return find_participants(db, query, limit=limit).people


def _words_in_order(tokens: list[str], words: list[str]) -> bool:
    """Every typed word is a prefix of a name word, in the typed order."""
    i = 0
    for word in words:
        if i < len(tokens) and word.startswith(tokens[i]):
            i += 1
    return i == len(tokens)


def _typed_form(text_: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text_).casefold().split())


def find_participants(db: Database, query: str, *, limit: int = 20) -> SearchResult:
    """Ranked search; the limit is applied after ranking.

    Names: the exact full name as typed (with its diacritics) first, then the same name
    without diacritics, then names whose words start with the typed words in the typed order,
    then the rest of the FTS5 matches (words in another order). Numbers: the exact mã số or
    CCCD first, then prefixes. Ties go to whoever paid most recently, then by name.
    `more` says that more people matched than are shown.

    Candidates come from bounded index and FTS5 look-ups; names are ranked and limited in
    the same statement, which returns the shown rows only. It runs on a pooled driver
    connection in autocommit (one statement: one consistent read), without a session: a search
    runs on every pause in typing, and ORM and transaction overhead would dominate.
    """
    q = query.strip()
    if not q:
        return SearchResult([], False)
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            digits = re.sub(r"\s", "", q)
            if digits.isdigit():
                ranked, more = _rank_identifiers(cursor, digits, limit)
                return SearchResult(_views(cursor, ranked), more)
            return _rank_names(connection.driver_connection, cursor, q, limit)
        finally:
            cursor.close()
    finally:
        connection.close()


_VIEW_COLUMNS = (
    "num, id, full_name, ma_so_bhxh, cccd, date_of_birth, sex, address, phone, email, "
    "support_category, prior_support_months, bhyt_card_end"
)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _views(cursor: Any, nums: list[int]) -> list[ParticipantView]:
    if not nums:
        return []
    rows = cursor.execute(
        f"SELECT {_VIEW_COLUMNS} FROM participants WHERE num IN (SELECT value FROM json_each(?))",
        (json.dumps(nums),),
    ).fetchall()
    by_num = {row[0]: _view_of_row(row) for row in rows}
    return [by_num[n] for n in nums if n in by_num]


def _view_of_row(row: Any) -> ParticipantView:
    """A view from a row that starts with `_VIEW_COLUMNS`."""
    return ParticipantView(
        id=row[1],
        full_name=row[2],
        ma_so_bhxh=row[3],
        cccd=row[4],
        date_of_birth=_day(row[5]),
        sex=Sex(row[6]) if row[6] else None,
        address=row[7] or "",
        phone=row[8] or "",
        email=row[9] or "",
        support_category=SupportCategory(row[10]) if row[10] else None,
        prior_support_months=row[11] or 0,
        bhyt_card_end=_day(row[12]),
    )


_LAST_PAID = "(SELECT MAX(y.paid_at) FROM payments y WHERE y.participant_id = p.id)"


def _order(candidates: dict[int, tuple[int, str, str]], limit: int) -> tuple[list[int], bool]:
    """Sort candidates (num → tier, name key, last paid) by tier, most recently paid, name;
    return the first `limit` and whether there were more."""
    ordered = sorted(candidates, key=lambda num: (candidates[num][1], num))
    ordered.sort(key=lambda num: candidates[num][2], reverse=True)
    ordered.sort(key=lambda num: candidates[num][0])
    return ordered[:limit], len(ordered) > limit


def _rank_identifiers(cursor: Any, digits: str, limit: int) -> tuple[list[int], bool]:
    # Ranges instead of LIKE so the unique indexes serve the prefix search.
    rows = cursor.execute(
        f"SELECT p.num, p.ma_so_bhxh, p.cccd, p.name_key, {_LAST_PAID} FROM participants p "
        "WHERE p.num IN (SELECT num FROM (SELECT num FROM participants WHERE ma_so_bhxh >= ?1 "
        "AND ma_so_bhxh < ?2 LIMIT ?3) UNION SELECT num FROM (SELECT num FROM participants "
        "WHERE cccd >= ?1 AND cccd < ?2 LIMIT ?3))",
        (digits, digits + "\x7f", SEARCH_CANDIDATES),
    ).fetchall()
    candidates = {
        num: (0 if digits in (ma_so, cccd) else 1, name_key, paid or "")
        for num, ma_so, cccd, name_key, paid in rows
    }
    ordered, more = _order(candidates, limit)
    return ordered, more or len(rows) >= SEARCH_CANDIDATES


_TYPED_FORM_SQL = "quaythu_typed_form"


def _glob_literal(token: str) -> str:
    """`token` matched literally inside a GLOB pattern."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in token)


def _in_order_pattern(tokens: list[str]) -> str:
    """A GLOB pattern for " " + name key: every typed word starts a name word, in the typed
    order (`_words_in_order`)."""
    return "".join(f"* {_glob_literal(tok)}" for tok in tokens) + "*"


# `wider` is one row saying whether the search must look past the exact namesakes: when more
# than `limit` people have exactly the typed letters, they fill the list (they rank first) and
# already say that more matched, so the prefix range and the FTS5 look-up (most of the time of a
# full name at 1,000,000 names) are skipped. CROSS JOIN keeps `wider` the outer loop, so its
# test comes before the inner look-up starts.
_RANK_NAMES_SQL = f"""
WITH wider AS MATERIALIZED (
  SELECT COUNT(*) <= :limit AS needed FROM (
    SELECT 1 FROM participants WHERE name_key = :key LIMIT :limit + 1)
),
c AS MATERIALIZED (
  SELECT num, MIN(source) AS source FROM (
    SELECT num, 0 AS source FROM (
      SELECT num FROM participants WHERE name_key = :key LIMIT :namesakes)
    UNION ALL SELECT num, 1 FROM (
      SELECT participants.num FROM wider CROSS JOIN participants
      WHERE wider.needed AND name_key > :key AND name_key < :key_end
      LIMIT :candidates)
    UNION ALL SELECT num, 2 FROM (
      SELECT participants_fts.rowid AS num FROM wider CROSS JOIN participants_fts
      WHERE wider.needed AND participants_fts MATCH :match
      LIMIT :candidates)
  ) GROUP BY num
)
SELECT {", ".join(f"p.{c}" for c in _VIEW_COLUMNS.split(", "))},
  CASE
    WHEN p.name_key = :key THEN
      CASE WHEN {_TYPED_FORM_SQL}(p.full_name) = :typed THEN 0 ELSE 1 END
    WHEN ' ' || p.name_key GLOB :in_order THEN 2
    ELSE 3
  END AS tier,
  COALESCE({_LAST_PAID}, '') AS paid,
  (SELECT COUNT(*) FROM c) AS matched,
  (SELECT SUM(source = 0) FROM c) AS exact,
  (SELECT MAX(SUM(source = 1), SUM(source = 2)) FROM c) AS most_other
FROM c JOIN participants p ON p.num = c.num
ORDER BY tier, paid DESC, p.name_key, p.num
LIMIT :limit
"""


def _rank_names(connection: Any, cursor: Any, q: str, limit: int) -> SearchResult:
    """One statement: the candidates (exact folded name by index, names starting with the
    typed text by index range — "nguyen van an" → "nguyen van anh" —, FTS5 prefix matches in
    any order; both skipped when the exact namesakes alone fill the list), ranked
    (`find_participants`) and limited, with the counts that tell whether more matched than are
    shown."""
    key = fold_key(q).replace('"', "")
    match = _fts_query(key)
    if not match:
        return SearchResult([], False)
    params = {
        "key": key,
        "key_end": key + "\x7f",
        "typed": _typed_form(q),
        "in_order": _in_order_pattern(key.split()),
        "match": match,
        "namesakes": EXACT_NAMESAKES,
        "candidates": SEARCH_CANDIDATES,
        "limit": limit,
    }
    try:
        rows = cursor.execute(_RANK_NAMES_SQL, params).fetchall()
    except sqlite3.OperationalError as exc:
        if _TYPED_FORM_SQL not in str(exc):
            raise
        # The exact spelling (diacritics, any case) is compared in SQL by the same function as
        # here, registered once per driver connection — not before every search: defining a
        # function makes SQLite prepare every statement again.
        connection.create_function(_TYPED_FORM_SQL, 1, _typed_form, deterministic=True)
        rows = cursor.execute(_RANK_NAMES_SQL, params).fetchall()
    if not rows:
        return SearchResult([], False)
    _num, *_view, _tier, _paid, matched, exact, most_other = rows[0]
    capped = exact >= EXACT_NAMESAKES or (most_other or 0) >= SEARCH_CANDIDATES
    return SearchResult([_view_of_row(row) for row in rows], matched > limit or capped)


# --- CSV import --------------------------------------------------------------------------------

# Header names are matched after folding, so "Họ và tên", "ho va ten" and "HO_TEN" all work.
_COLUMNS = {
    "full_name": ("ho va ten", "ho ten", "ho_ten", "full_name", "name"),
    "date_of_birth": ("ngay sinh", "ngay_sinh", "date_of_birth", "dob"),
    "sex": ("gioi tinh", "gioi_tinh", "sex"),
    "cccd": ("cccd", "so cccd", "so_cccd", "so dinh danh"),
    "ma_so_bhxh": ("ma so bhxh", "ma_so_bhxh", "ma bhxh", "bhxh"),
    "address": ("dia chi", "dia_chi", "address"),
    "phone": ("dien thoai", "so dien thoai", "dien_thoai", "phone"),
    "email": ("email", "thu dien tu"),
    "support_category": ("doi tuong", "doi_tuong", "support_category"),
}
_CATEGORY_WORDS = {
    "ho ngheo": SupportCategory.POOR,
    "ngheo": SupportCategory.POOR,
    "poor": SupportCategory.POOR,
    "ho can ngheo": SupportCategory.NEAR_POOR,
    "can ngheo": SupportCategory.NEAR_POOR,
    "near_poor": SupportCategory.NEAR_POOR,
    "dan toc thieu so": SupportCategory.ETHNIC_MINORITY,
    "ethnic_minority": SupportCategory.ETHNIC_MINORITY,
    "khac": SupportCategory.OTHER,
    "doi tuong khac": SupportCategory.OTHER,
    "other": SupportCategory.OTHER,
}


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    errors: tuple[tuple[int, str], ...]  # (line number, Vietnamese message)


def _parse_row(row: dict[str, str], line: int) -> ParticipantInput:
    sex_text = fold_key(row.get("sex", ""))
    sex = {"nam": Sex.MALE, "nu": Sex.FEMALE, "": None}.get(sex_text, "bad")
    if sex == "bad":
        raise ValidationError("sex", "Giới tính", "phải là Nam hoặc Nữ", rule_en="Nam or Nữ")
    cat_text = fold_key(row.get("support_category", ""))
    category = _CATEGORY_WORDS.get(cat_text) if cat_text else None
    if cat_text and category is None:
        raise ValidationError(
            "support_category",
            "Đối tượng",
            "phải là Hộ nghèo, Hộ cận nghèo, Dân tộc thiểu số hoặc Khác",
            rule_en="unknown support category",
        )
    assert sex is None or isinstance(sex, Sex)
    return ParticipantInput(
        full_name=row.get("full_name", ""),
        date_of_birth=parse_optional_day(
            row.get("date_of_birth", ""), field="date_of_birth", label="Ngày sinh"
        ),
        sex=sex,
        cccd=row.get("cccd", "").strip() or None,
        ma_so_bhxh=row.get("ma_so_bhxh", "").strip() or None,
        address=row.get("address", ""),
        phone=row.get("phone", ""),
        email=row.get("email", ""),
        support_category=category,
    )


def _map_header(header: Iterable[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for raw in header:
        key = fold_key(raw.replace("_", " "))
        for field, names in _COLUMNS.items():
            if key in {fold_key(n.replace("_", " ")) for n in names}:
                mapping[raw] = field
    if "full_name" not in mapping.values():
        raise UserFacingError(
            "Tệp CSV thiếu cột “Họ và tên” ở dòng tiêu đề.", message_en="missing name column"
        )
    return mapping


def _read_import_file(path: Path) -> str:
    """The file's text, or a Vietnamese refusal naming what is wrong with it."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise ValidationError(
            "file", "Tệp CSV", f"không tìm thấy {path}", rule_en="file not found"
        ) from exc
    except IsADirectoryError as exc:
        raise ValidationError(
            "file", "Tệp CSV", f"{path} là một thư mục, không phải tệp", rule_en="is a folder"
        ) from exc
    except PermissionError as exc:
        raise ValidationError(
            "file", "Tệp CSV", f"không có quyền đọc {path}", rule_en="permission denied"
        ) from exc
    except UnicodeDecodeError as exc:
        raise UserFacingError(
            f"Tệp {path.name} không phải văn bản UTF-8; hãy lưu lại dạng “CSV UTF-8”.",
            message_en="file is not UTF-8",
        ) from exc
    except OSError as exc:
        raise UserFacingError(
            f"Không đọc được tệp {path}: {exc.strerror or exc}",
            message_en=f"cannot read the file: {exc}",
        ) from exc


def _parse_file(raw: str) -> tuple[list[tuple[int, ParticipantInput]], list[tuple[int, str]]]:
    """Every row checked on its own (no database): the cleaned rows and the problems."""
    reader = csv.DictReader(raw.splitlines())
    mapping = _map_header(reader.fieldnames or [])
    parsed: list[tuple[int, ParticipantInput]] = []
    errors: list[tuple[int, str]] = []
    today = now_utc().date()
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(reader, start=2):
        fields_ = {mapping[k]: (v or "") for k, v in row.items() if k in mapping}
        try:
            data = normalise_input(_parse_row(fields_, index), today=today, complete=False)
        except ValidationError as exc:
            errors.append((index, exc.message))
            continue
        clash = False
        for label, value in (("Số CCCD", data.cccd), ("Mã số BHXH", data.ma_so_bhxh)):
            if value is None:
                continue
            first = seen.setdefault((label, value), index)
            if first != index:
                errors.append(
                    (index, f"{label} {value} có ở cả dòng {first} và dòng {index} của tệp")
                )
                clash = True
        if not clash:
            parsed.append((index, data))
    return parsed, errors


# Fields a participant keeps once VSS has assigned a mã số BHXH: VSS knows the person by them.
_SETTLED = (
    ("ma_so_bhxh", "Mã số BHXH"),
    ("full_name", "Họ và tên"),
    ("date_of_birth", "Ngày sinh"),
)


def settled_field_change(
    existing: ParticipantView, data: ParticipantInput
) -> tuple[str, str] | None:
    """(field, label) of the first settled field `data` would change, if any.

    Once VSS has assigned a mã số BHXH, the code, the name and the date of birth are VSS's:
    neither a file imported at the counter nor the edit screen changes or clears them. Blank
    cells in `data` are read as "keep", so they never count as a change."""
    if not existing.ma_so_bhxh:
        return None
    for field, label in _SETTLED:
        new = getattr(data, field)
        if new not in (None, "") and new != getattr(existing, field):
            return field, label
    return None


def _merged(existing: ParticipantView, data: ParticipantInput) -> ParticipantInput:
    """`data` with every blank cell taken from `existing`: an import never clears a value."""
    keep: dict[str, object] = {}
    for f in fields(data):
        if getattr(data, f.name) in (None, "") and hasattr(existing, f.name):
            keep[f.name] = getattr(existing, f.name)
    return replace(data, **keep)  # type: ignore[arg-type]


def _changes(before: ParticipantView, data: ParticipantInput) -> dict[str, list[str]]:
    return {
        f.name: [str(getattr(before, f.name)), str(getattr(data, f.name))]
        for f in fields(data)
        if getattr(before, f.name) != getattr(data, f.name)
    }


@dataclass(frozen=True)
class _Planned:
    line: int
    data: ParticipantInput
    existing: ParticipantView | None
    existing_updated_at: datetime | None
    changed: dict[str, list[str]]


def _known(
    session: Session, column: Any, values: list[str]
) -> dict[str, tuple[ParticipantView, datetime]]:
    out: dict[str, tuple[ParticipantView, datetime]] = {}
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        for p in session.scalars(select(Participant).where(column.in_(chunk))):
            out[getattr(p, column.key)] = (view_of(p), p.updated_at)
    return out


def _plan_row(
    line: int,
    data: ParticipantInput,
    by_code: dict[str, tuple[ParticipantView, datetime]],
    by_cccd: dict[str, tuple[ParticipantView, datetime]],
) -> _Planned:
    """What one row does to the database; raises ValidationError naming the broken rule."""
    found = (by_code.get(data.ma_so_bhxh) if data.ma_so_bhxh else None) or (
        by_cccd.get(data.cccd) if data.cccd else None
    )
    existing, stamp = found if found else (None, None)
    for value, known, field, label in (
        (data.ma_so_bhxh, by_code, "ma_so_bhxh", "Mã số BHXH"),
        (data.cccd, by_cccd, "cccd", "Số CCCD"),
    ):
        other = known.get(value) if value else None
        if other is not None and (existing is None or other[0].id != existing.id):
            raise ValidationError(
                field,
                label,
                f"{value} đã thuộc về người tham gia {other[0].full_name}",
                rule_en="already registered to another participant",
            )
    today = now_utc().date()
    if existing is None:
        return _Planned(line, normalise_input(data, today=today), None, None, {})
    settled = settled_field_change(existing, data)
    if settled is not None:
        raise ValidationError(
            settled[0],
            settled[1],
            f"của {existing.full_name} (mã số BHXH {existing.ma_so_bhxh}) do cơ quan BHXH quản "
            "lý, không sửa qua tệp nhập; liên hệ cơ quan BHXH",
            rule_en="settled by VSS: not changed by an import",
        )
    merged = normalise_input(_merged(existing, data), today=today)
    return _Planned(line, merged, existing, stamp, _changes(existing, merged))


def _plan(
    db: Database, rows: list[tuple[int, ParticipantInput]]
) -> tuple[list[_Planned], list[tuple[int, str]]]:
    """Match every row against the database in a read transaction (no write lock held)."""
    plans: list[_Planned] = []
    errors: list[tuple[int, str]] = []
    with db.read() as session:
        by_code = _known(
            session, Participant.ma_so_bhxh, [d.ma_so_bhxh for _, d in rows if d.ma_so_bhxh]
        )
        by_cccd = _known(session, Participant.cccd, [d.cccd for _, d in rows if d.cccd])
    for line, data in rows:
        try:
            plans.append(_plan_row(line, data, by_code, by_cccd))
        except ValidationError as exc:
            errors.append((line, exc.message))
    return plans, errors


_COLUMNS_WRITTEN = (
    "full_name",
    "name_key",
    "ma_so_bhxh",
    "cccd",
    "date_of_birth",
    "sex",
    "address",
    "phone",
    "email",
    "support_category",
)


def _row_values(data: ParticipantInput) -> tuple[object, ...]:
    """The stored form of `data`, in `_COLUMNS_WRITTEN` order (computed before any lock)."""
    return (
        data.full_name,
        fold_key(data.full_name),
        data.ma_so_bhxh,
        data.cccd,
        data.date_of_birth.isoformat() if data.date_of_birth else None,
        data.sex.value if data.sex else None,
        data.address,
        data.phone,
        data.email,
        data.support_category.value if data.support_category else None,
    )


_CHANGED_MEANWHILE = (
    "Danh sách người tham gia vừa thay đổi trong lúc nhập; không nhập dòng nào. Hãy nhập lại."
)
_INSERT_SQL = (
    f"INSERT INTO participants ({', '.join(_COLUMNS_WRITTEN)}, id, prior_support_months, "
    f"created_at, updated_at) VALUES ({', '.join('?' * len(_COLUMNS_WRITTEN))}, ?, 0, ?, ?)"
)
_UPDATE_SQL = (
    f"UPDATE participants SET {', '.join(f'{c} = ?' for c in _COLUMNS_WRITTEN)}, updated_at = ? "
    "WHERE id = ? AND updated_at = ?"
)
IMPORT_CHUNK = 1000  # rows per write transaction: a payment waits for one chunk at most
IMPORT_GAP_SECONDS = 0.12  # between chunks, for writers waiting on the lock


@dataclass(frozen=True)
class _Prepared:
    """One plan row as statement parameters, ready before the write lock is taken."""

    apply: tuple[object, ...]  # INSERT or UPDATE parameters
    undo: tuple[object, ...] | None  # UPDATE parameters restoring the row (None: a new row)
    audit: tuple[object, ...]


def _prepare(plans: list[_Planned], by: Actor, source: str) -> list[_Prepared]:
    now = utc_iso(now_utc())
    out: list[_Prepared] = []
    details: dict[str, object]
    for p in plans:
        if p.existing is None:
            pid = str(uuid.uuid4())
            action, details = "participant.create", {"name": p.data.full_name}
            apply_: tuple[object, ...] = (*_row_values(p.data), pid, now, now)
            undo = None
        elif p.changed:
            pid = p.existing.id
            action, details = "participant.update", {"changed": p.changed}
            before = _merged(p.existing, replace(p.data, **_blank_all(p.data)))
            stamp = utc_iso(p.existing_updated_at) if p.existing_updated_at else ""
            apply_ = (*_row_values(p.data), now, pid, stamp)
            undo = (*_row_values(before), stamp, pid, now)
        else:
            continue
        details = {**details, "source": source, "line": p.line}
        text_ = json.dumps(details, ensure_ascii=False, sort_keys=True)
        out.append(_Prepared(apply_, undo, (now, by.id, action, pid, text_)))
    return out


def _blank_all(data: ParticipantInput) -> dict[str, Any]:
    """Every field of `data` blank, so `_merged` gives back the stored participant."""
    return {f.name: ("" if isinstance(getattr(data, f.name), str) else None) for f in fields(data)}


_AUDIT_SQL = (
    "INSERT INTO audit_events (at, operator_id, action, subject, details) VALUES (?,?,?,?,?)"
)


def _write_chunk(db: Database, chunk: list[_Prepared], by: Actor) -> None:
    """One short write transaction; refused as a whole when a matched row changed meanwhile."""
    with db.write() as session:
        load_actor(session, by)
        conn = session.connection()
        try:
            inserts = [p.apply for p in chunk if p.undo is None]
            if inserts:
                conn.exec_driver_sql(_INSERT_SQL, inserts)
            for p in chunk:
                if p.undo is not None:
                    done = conn.exec_driver_sql(_UPDATE_SQL, p.apply)
                    if done.rowcount != 1:  # edited since it was matched
                        raise UserFacingError(_CHANGED_MEANWHILE, message_en="changed meanwhile")
        except IntegrityError as exc:  # an identifier taken by someone added meanwhile
            raise UserFacingError(_CHANGED_MEANWHILE, message_en="changed meanwhile") from exc
        conn.exec_driver_sql(_AUDIT_SQL, [p.audit for p in chunk])


def _undo_chunks(db: Database, written: list[_Prepared], by: Actor, source: str) -> None:
    """Take back the chunks already committed, so a failed import leaves nothing behind."""
    with db.write() as session:
        conn = session.connection()
        new_ids = [(p.apply[-3],) for p in written if p.undo is None]
        if new_ids:
            conn.exec_driver_sql("DELETE FROM participants WHERE id = ?", new_ids)
        restores = [p.undo for p in written if p.undo is not None]
        if restores:
            conn.exec_driver_sql(_UPDATE_SQL, restores)
        audit(
            session, "participant.import.undone", actor=by, subject=source[:100], rows=len(written)
        )


def _write_plan(db: Database, plans: list[_Planned], by: Actor, source: str) -> None:
    """Apply checked rows in chunks of `IMPORT_CHUNK`, each its own short write transaction, so
    a payment never waits behind the whole file. All or nothing still: when a chunk is refused
    (a matched participant was edited meanwhile, an identifier taken), the chunks already
    written are taken back before the refusal is raised."""
    prepared = _prepare(plans, by, source)
    written: list[_Prepared] = []
    for start in range(0, len(prepared), IMPORT_CHUNK):
        chunk = prepared[start : start + IMPORT_CHUNK]
        try:
            _write_chunk(db, chunk, by)
        except BaseException:
            if written:
                _undo_chunks(db, written, by, source)
            raise
        written.extend(chunk)
        if start + IMPORT_CHUNK < len(prepared):
            # SQLite's busy handler polls up to every 100 ms: leave a gap that long so a payment
            # waiting for the lock gets it before the next chunk does.
            time.sleep(IMPORT_GAP_SECONDS)


def import_participants_csv(db: Database, path: Path, *, by: Actor) -> ImportResult:
    """Import all rows or none: every row is checked first and all problems are reported.

    A row whose mã số BHXH or CCCD is already known updates that participant (blank cells keep
    what is stored; the mã số BHXH, name and date of birth VSS knows are never changed); others
    are new. Two rows with the same CCCD or mã số BHXH are an error naming both lines. Parsing
    and matching happen before the write lock is taken, so a large file does not hold up a
    payment; the write itself is bulk statements in one transaction, refused as a whole if the
    participants it matched changed in between. Each updated participant gets an audit entry
    listing the changed fields (before, after), and the import one summary entry.
    """
    raw = _read_import_file(path)
    rows, errors = _parse_file(raw)
    if errors:
        return ImportResult(0, 0, tuple(sorted(errors)))
    plans, errors = _plan(db, rows)
    if errors:
        return ImportResult(0, 0, tuple(sorted(errors)))
    created = sum(1 for p in plans if p.existing is None)
    updated = len(plans) - created
    _write_plan(db, plans, by, path.name)
    with db.write() as session:
        audit(
            session,
            "participant.import",
            actor=by,
            subject=path.name[:100],
            created=created,
            updated=updated,
            changed=sum(1 for p in plans if p.changed),
        )
    return ImportResult(created, updated, ())
