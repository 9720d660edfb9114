"""Ledger verification: the signed ledger is the truth; every table is checked against it.

For every ledger record, in `seq` order: no gap, `prev_hash` equal to the previous record's
hash, the record self-consistent under the key (`app.domain.ledger.check_record`, the check
central runs: code, format-2 MAC over the body incl. `seq` and `prev_hash`, link hash). Then
every column of the record's `payments`/`voids` row is recomputed from the signed body and each
difference is reported naming the record and the column (format 1 signed fewer fields: its rows
are checked on those). Then: rows without a record; receipt numbers 1..n, naming the missing
ones; each void names a payment of this ledger by its code; the keyed audit chain (an edited,
removed or inserted entry); and the heads against the anchor kept in the keyring (a removed
tail — `app.services.sealing`).

Every finding has a kind, the record (ledger seq; for `audit_*` kinds the audit entry's seq) and
the column when there is one, and a Vietnamese message. Records are rebuilt with
`app.services.ledger_records.StoredContent`, the same rebuild the outbox uploads.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select, text
from sqlalchemy.orm import Session

from app.domain.chain import GENESIS, Heads, keyed_link
from app.domain.ledger import SealedRecord, body_version, check_record, record_kind
from app.domain.shifts import records_hash, tally
from app.services.ledger_records import StoredContent, stored_body
from app.services.masterdata import (
    COUNTER_FIELDS,
    OPERATOR_FIELDS,
    REPRINT,
    STATE_ACTIONS,
    Difference,
    SealedStates,
    compare_reprints,
    compare_states,
)
from app.services.pricing_state import (
    HOUSEHOLD_ROWS,
    MEMBER_ROWS,
    PERIOD_ROWS,
    PRICING_ACTIONS,
    PricingStates,
    compare_households,
    compare_paid_periods,
)
from app.services.queries import require_counter
from app.services.relocation import key_epoch
from app.services.sealing import (
    Finding,
    audit_fields,
    compare_heads,
    ledger_key,
    read_anchor,
    write_anchor,
)
from app.storage.db import Database
from app.storage.driver import driver
from app.storage.models import Payment, Shift, Void

__all__ = ["Finding", "VerifyReport", "verify_ledger"]

_PAYMENTS = cast(Table, Payment.__table__)
_VOIDS = cast(Table, Void.__table__)
PAYMENT_COLUMNS = tuple(c.name for c in _PAYMENTS.columns)
VOID_COLUMNS = tuple(c.name for c in _VOIDS.columns)
# Columns that are not body fields of the same name: where their value comes from.
_FROM_ENTRY = {"ledger_seq": "seq", "confirmation_code": "code", "signature": "code"}
# (position in the row, column, where the signed value comes from) for each table's columns.
_PAYMENT_SOURCES = tuple((i, c, _FROM_ENTRY.get(c, c)) for i, c in enumerate(PAYMENT_COLUMNS))
_VOID_SOURCES = tuple((i, c, _FROM_ENTRY.get(c, c)) for i, c in enumerate(VOID_COLUMNS))

# Raw stored values (no type conversion): dates and instants are stored in their canonical
# text, so they compare with the body as they are, and a garbled value cannot stop `verify`.
_LEDGER_ROWS = (
    "SELECT seq, kind, record_id, code, prev_hash, hash, body, mac FROM ledger ORDER BY seq"
)
_PAYMENT_ROWS = f"SELECT {', '.join(PAYMENT_COLUMNS)} FROM payments"
_VOID_ROWS = f"SELECT {', '.join(VOID_COLUMNS)} FROM voids"
_AUDIT_ROWS = (
    "SELECT id, seq, prev_hash, mac, at, operator_id, action, subject, details "
    "FROM audit_events ORDER BY id"
)


def _named(session: Session, sql: str) -> Iterator[Any]:
    """The rows of `sql` through the driver (a whole ledger is read: no per-row work of
    SQLAlchemy), each a named tuple of its columns."""
    cursor = driver(session).execute(sql)
    row = namedtuple("row", [d[0] for d in cursor.description])  # type: ignore[misc]
    return map(row._make, cursor)


_REPRINT_ROWS = text("SELECT id, payment_id, number, operator_id FROM reprints ORDER BY id")
_COUNTER_ROW = text(f"SELECT {', '.join(COUNTER_FIELDS)} FROM counter WHERE id = 1")
_OPERATOR_ROWS = text(f"SELECT id, {', '.join(OPERATOR_FIELDS)} FROM operators ORDER BY id")


@dataclass(frozen=True)
class VerifyReport:
    checked: int  # ledger records
    findings: tuple[Finding, ...]
    head_hash: str
    audit_checked: int = 0  # keyed audit entries

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings)

    @property
    def first_bad_seq(self) -> int | None:
        """The lowest ledger record a finding names (audit findings aside), if any."""
        seqs = [
            f.record
            for f in self.findings
            if f.record is not None and not f.kind.startswith("audit_")
        ]
        return min(seqs, default=None)


def numbers_text(numbers: Sequence[int]) -> str:
    """1, 2, 3, 5, 7, 8 → "1–3, 5, 7–8" (sorted input)."""
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        lo, hi = numbers[i], numbers[j]
        parts.append(str(lo) if lo == hi else f"{lo}–{hi}")
        i = j + 1
    return ", ".join(parts)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "có" if value else "không"
    return "(trống)" if value is None else repr(value) if isinstance(value, str) else str(value)


class _Verifier:
    def __init__(self, session: Session, key: bytes | None, seals_from: int = 1) -> None:
        self.key = key
        # After a move to a new PC (app.services.relocation) the records before the key epoch
        # were sealed with the old PC's key, which central holds: chain, hashes and columns are
        # checked for every record, seals only from the epoch on.
        self.seals_from = seals_from
        self.found: list[Finding] = []
        self.payments = {r.ledger_seq: r for r in _named(session, _PAYMENT_ROWS)}
        self.voids = {r.ledger_seq: r for r in _named(session, _VOID_ROWS)}
        self.entries = list(_named(session, _LEDGER_ROWS))
        self.content = self._legacy_content(session)
        self.hashes: dict[int, str] = {}
        self.receipts: dict[int, int] = {}  # receipt number → ledger seq (signed)
        self.payment_codes: dict[str, tuple[str, int]] = {}  # payment id → (code, receipt)
        self.void_targets: list[tuple[int, Mapping[str, Any]]] = []

    def bad(self, kind: str, message: str, record: int | None = None, **more: Any) -> None:
        self.found.append(Finding(kind, message, record, **more))

    def _legacy_content(self, session: Session) -> StoredContent:
        """Typed rows for the format-1 records (their body is rebuilt from columns)."""
        legacy = {e.seq for e in self.entries if e.body is None}
        if not legacy:
            return StoredContent({}, {}, {})
        every = list(session.scalars(select(Payment)))  # no IN (…): old books can be large
        payments = {p.ledger_seq: p for p in every if p.ledger_seq in legacy}
        voids = {v.ledger_seq: v for v in session.scalars(select(Void)) if v.ledger_seq in legacy}
        return StoredContent(payments, voids, {p.id: p for p in every})

    # --- the chain ------------------------------------------------------------------------

    def ledger(self) -> str:
        expected_seq, prev_hash = 1, GENESIS
        for entry in self.entries:
            seq = entry.seq
            if seq != expected_seq:
                missing = f"{expected_seq}" + (f"–{seq - 1}" if seq - 1 > expected_seq else "")
                self.bad(
                    "ledger_gap",
                    f"thiếu bản ghi số {missing} trong chuỗi sổ thu (đã bị xóa)",
                    expected_seq,
                    record_to=seq - 1,
                )
            if entry.prev_hash != prev_hash:
                self.bad("chain_broken", f"bản ghi số {seq}: không nối với bản ghi liền trước", seq)
            self.hashes[seq] = entry.hash
            self._entry(entry)
            expected_seq, prev_hash = seq + 1, entry.hash
        return prev_hash

    def _entry(self, entry: Row[Any]) -> None:
        seq = entry.seq
        if entry.body is None:
            record = self.content.record(entry)
            self._legacy_rows(entry)
        else:
            record = self._stored(entry)
        if record is None:
            self.bad(
                "content_missing",
                f"bản ghi số {seq}: mất nội dung ({entry.kind}) hoặc nội dung không đọc được",
                seq,
            )
            return
        self._remember(record)  # even if invalid: its number is not missing, it is forged
        why = check_record(self.key if seq >= self.seals_from else None, record)
        if why:
            self.bad("record_invalid", why, seq)
            return
        if body_version(record.body) >= 2 and record.kind != "shift":  # shifts: verify_shifts
            self._columns(record, entry.record_id)

    def _stored(self, entry: Row[Any]) -> SealedRecord | None:
        body = stored_body(entry.body)
        if body is None or entry.kind not in ("payment", "void", "shift"):
            return None
        return SealedRecord(
            entry.seq,
            record_kind(entry.kind),
            body,
            entry.code,
            entry.prev_hash,
            entry.hash,
            entry.mac,
        )

    def _remember(self, record: SealedRecord) -> None:
        body = record.body
        if record.kind == "payment":
            number = body.get("receipt_number")
            if isinstance(number, int):
                if number in self.receipts:
                    self.bad(
                        "receipt_duplicate",
                        f"bản ghi số {record.seq}: số biên lai {number} đã dùng ở bản ghi số "
                        f"{self.receipts[number]}",
                        record.seq,
                    )
                self.receipts[number] = record.seq
                self.payment_codes[str(body.get("id"))] = (record.code, number)
        elif record.kind == "void":
            self.void_targets.append((record.seq, body))

    def _legacy_rows(self, entry: Row[Any]) -> None:
        """Format 1: the row must at least be this record's (id and code)."""
        seq = entry.seq
        p = self.payments.get(seq) if entry.kind == "payment" else None
        if p is not None and (p.id != entry.record_id or p.confirmation_code != entry.code):
            self.bad("column_mismatch", f"bản ghi số {seq}: khoản thu không khớp sổ cái", seq)
        v = self.voids.get(seq) if entry.kind == "void" else None
        if v is not None and (v.id != entry.record_id or v.signature != entry.code):
            self.bad("column_mismatch", f"bản ghi số {seq}: lệnh hủy không khớp sổ cái", seq)

    # --- the tables as views of the ledger ------------------------------------------------

    def _columns(self, record: SealedRecord, record_id: str) -> None:
        """Every column of the record's row against the value the signed record gives it."""
        seq = record.seq
        if record.kind == "payment":
            row, columns, table = self.payments.get(seq), _PAYMENT_SOURCES, "payments"
        else:
            row, columns, table = self.voids.get(seq), _VOID_SOURCES, "voids"
        if row is None:
            self.bad("row_missing", f"bản ghi số {seq}: không còn dòng trong bảng {table}", seq)
            return
        if record.body.get("id") != record_id:
            self.bad("column_mismatch", f"bản ghi số {seq}: sổ cái ghi id khác", seq, column="id")
        body, code = record.body, record.code
        for i, column, source in columns:
            want = (
                seq
                if source == "seq"
                else code
                if source == "code"
                else body.get(source, _UNSIGNED)
            )
            got = row[i]
            if got == want and type(got) is type(want):
                continue  # the common case, first
            if want is _UNSIGNED:
                self.bad(
                    "column_unsigned",
                    f"bản ghi số {seq}: cột {table}.{column} không có trong nội dung đã ký",
                    seq,
                    column=column,
                )
            elif got != want:
                self.bad(
                    "column_mismatch",
                    f"bản ghi số {seq}: cột {table}.{column} là {_show(got)}, "
                    f"sổ cái đã ký ghi {_show(want)} (đã bị sửa)",
                    seq,
                    column=column,
                )

    def orphans(self) -> None:
        kinds = {e.seq: e.kind for e in self.entries}
        tables = (("payments", self.payments, "payment"), ("voids", self.voids, "void"))
        for table, rows, kind in tables:
            for seq in sorted(s for s in rows if kinds.get(s) != kind):
                self.bad(
                    "row_without_record",
                    f"bảng {table} có dòng gắn với bản ghi số {seq} nhưng sổ cái không có "
                    f"{'khoản thu' if kind == 'payment' else 'lệnh hủy'} đó (dòng bị thêm)",
                    seq,
                )

    def receipt_numbers(self) -> None:
        numbers = sorted(self.receipts)
        if not numbers:
            return
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        if missing:
            self.bad(
                "receipt_gap",
                f"số biên lai bị nhảy: thiếu số {numbers_text(missing)} "
                f"(có {len(numbers)} biên lai, số lớn nhất {numbers[-1]})",
                self.receipts.get(missing[-1] + 1),
            )

    def voids_name_payments(self) -> None:
        for seq, body in self.void_targets:
            target = self.payment_codes.get(str(body.get("payment_id")))
            code, number = target if target else (None, None)
            if code != body.get("payment_code") or number != body.get("payment_receipt_number"):
                self.bad(
                    "void_target",
                    f"bản ghi số {seq}: lệnh hủy không khớp khoản thu nó hủy "
                    f"(biên lai số {_show(body.get('payment_receipt_number'))})",
                    seq,
                )


class _Unsigned:
    pass


_UNSIGNED = _Unsigned()


@dataclass
class _AuditState:
    checked: int = 0
    head_seq: int = 0
    head_mac: str = GENESIS


def _verify_audit(
    session: Session,
    key: bytes | None,
    found: list[Finding],
    keyed_from: int = 1,
    states: SealedStates | None = None,
    pricing: PricingStates | None = None,
) -> tuple[_AuditState, dict[int, str]]:
    """The keyed audit chain: entries before the first keyed one are the unsealed past. The
    sealed states of the printed names (`app.services.masterdata`) are gathered on the way."""
    state = _AuditState()
    macs: dict[int, str] = {}
    expected, prev = 1, GENESIS
    for row in _named(session, _AUDIT_ROWS):
        if states is not None and row.action == REPRINT:
            states.take_reprint(row.seq, row.subject, row.operator_id, row.details)
        if row.seq is None:
            if state.checked:
                found.append(
                    Finding(
                        "audit_unsealed",
                        f"nhật ký: mục (id {row.id}, {row.action}) không có khóa, "
                        "chen vào sau các mục có khóa (mục bị thêm)",
                    )
                )
            continue
        state.checked += 1
        seq = row.seq
        if seq != expected:
            lost = f"{expected}" + (f"–{seq - 1}" if seq - 1 > expected else "")
            message = (
                f"nhật ký: thiếu mục số {lost} (đã bị xóa)"
                if seq > expected
                else f"nhật ký: mục số {seq} trùng hoặc sai thứ tự"
            )
            found.append(
                Finding("audit_gap", message, expected, record_to=seq - 1)
                if seq > expected
                else Finding("audit_gap", message, seq)
            )
        elif row.prev_hash != prev:
            found.append(
                Finding("audit_chain_broken", f"nhật ký: mục số {seq} không nối với mục trước", seq)
            )
        if (
            key is not None
            and seq >= keyed_from
            and (
                row.prev_hash is None
                or row.mac
                != keyed_link(
                    key,
                    row.prev_hash,
                    audit_fields(
                        seq, row.at, row.operator_id, row.action, row.subject, row.details
                    ),
                )
            )
        ):
            found.append(
                Finding(
                    "audit_edited",
                    f"nhật ký: mục số {seq} ({row.action}) không khớp khóa (đã bị sửa)",
                    seq,
                )
            )
        if states is not None and row.action in STATE_ACTIONS:
            states.take(seq, row.action, row.subject, row.details)
        if pricing is not None and row.action in PRICING_ACTIONS:
            pricing.take(seq, row.action, row.subject, row.details)
        macs[seq] = row.mac
        expected, prev = seq + 1, row.mac or GENESIS
        state.head_seq, state.head_mac = seq, row.mac or GENESIS
    return state, macs


def verify_ledger(
    db: Database, *, with_key: bool = True, against_anchor: bool = True
) -> VerifyReport:
    """Every check of docs/LEDGER.md. `against_anchor=False` for a copy (a backup): it is behind
    the live head by design, so only its own chain, seals and columns are judged."""
    sealing = ledger_key(db) if with_key else None
    key = sealing[1] if sealing else None
    with db.read() as session:
        require_counter(session)
        epoch = key_epoch(session)
        v = _Verifier(session, key, epoch.from_seq if epoch else 1)
        head_hash = v.ledger()
        v.orphans()
        v.receipt_numbers()
        v.voids_name_payments()
        verify_shifts(session, v.entries, v.payments, v.found)
        states, pricing = SealedStates(), PricingStates()
        audit, macs = _verify_audit(
            session, key, v.found, epoch.audit_from_seq if epoch else 1, states, pricing
        )
        counter_row = session.execute(_COUNTER_ROW).first()
        operator_rows = [r._mapping for r in session.execute(_OPERATOR_ROWS)]
        differences = compare_states(
            states, counter_row._mapping if counter_row else None, operator_rows
        )
        receipts = {p.id: p.receipt_number for p in v.payments.values()}
        reprint_rows = [r._mapping for r in session.execute(_REPRINT_ROWS)]
        differences += compare_reprints(states, reprint_rows, receipts)
        differences += compare_households(
            pricing,
            [r._mapping for r in session.execute(text(HOUSEHOLD_ROWS))],
            [r._mapping for r in session.execute(text(MEMBER_ROWS))],
        )
        differences += compare_paid_periods(
            pricing, [r._mapping for r in session.execute(text(PERIOD_ROWS))]
        )
        names = _participant_names(session, differences)
        for difference in differences:
            v.found.append(_printed_finding(difference, names))
    heads = Heads(v.entries[-1].seq if v.entries else 0, head_hash, audit.head_seq, audit.head_mac)
    if sealing is not None and against_anchor:
        _against_anchor(sealing, heads, v, macs)
    return VerifyReport(len(v.entries), tuple(v.found), head_hash, audit.checked)


_PARTICIPANT_NAMES = text("SELECT id, full_name FROM participants WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def _participant_names(session: Session, differences: list[Difference]) -> dict[str, str]:
    """The full names of the participants the household and paid-period findings name."""
    ids = sorted(
        {str(d.row) for d in differences if d.table == "household_members"}
        | {d.label for d in differences if d.table == "central_paid_periods"}
    )
    if not ids:
        return {}
    return {r.id: r.full_name for r in session.execute(_PARTICIPANT_NAMES, {"ids": ids})}


def _pricing_message(d: Difference, names: Mapping[str, str]) -> str:
    """A household's or a central period's row against its sealed state, in words."""
    entry = "" if d.audit_seq is None else f" (mục số {d.audit_seq})"
    if d.table == "households":
        what = f"hộ gia đình {d.row}"
    elif d.table == "household_members":
        who = names.get(str(d.row), "?")
        what = f"thành viên {who} (người tham gia {d.row}) của hộ {d.label or '?'}"
    else:
        who = names.get(d.label, "?")
        row = "" if d.row is None else f"dòng {d.row}, "
        what = f"kỳ đã đóng do hệ thống trung tâm báo ({row}người tham gia {who}, {d.label})"
    if d.kind.endswith("_unsealed"):
        return (
            f"{what}: không có mục nhật ký có khóa nào ghi dòng này của bảng {d.table} "
            "(dòng bị thêm bằng tay: làm sai giá hoặc quy tắc trùng kỳ của lần thu sau)"
        )
    if d.kind.endswith("_missing"):
        period = (
            f" {d.want[0]} {d.want[1]}–{d.want[2]}"
            if isinstance(d.want, list) and len(d.want) == 3
            else ""
        )
        return (
            f"{what}: nhật ký{entry} ghi dòng{period} này nhưng bảng {d.table} không còn "
            "(đã bị xóa: làm sai giá hoặc quy tắc trùng kỳ của lần thu sau)"
        )
    return (
        f"{what}: cột {d.table}.{d.column} là {_show(d.got)}, nhật ký đã ký{entry} ghi "
        f"{_show(d.want)} (đã bị sửa)"
    )


def _printed_finding(d: Difference, names: Mapping[str, str]) -> Finding:
    """A printed name's (or a pricing row's) row against its sealed state, in words."""
    if d.table in ("households", "household_members", "central_paid_periods"):
        message = _pricing_message(d, names)
        return Finding(d.kind, message, None, column=d.column, table=d.table, row=d.row)
    if d.table == "counter":
        what = "thông tin quầy"
    elif d.table == "reprints":
        what = d.label
    else:
        what = f"người dùng số {d.row}" + (f" ({d.label})" if d.label else "")
    if d.kind == "reprint_unsealed":
        message = f"{what}: dòng bảng reprints không có mục nhật ký in bản sao nào (dòng bị thêm)"
    elif d.kind == "reprint_missing":
        entry = "" if d.audit_seq is None else f" (mục số {d.audit_seq})"
        message = (
            f"{what}: nhật ký{entry} ghi bản sao này nhưng bảng reprints không còn dòng đó "
            "(đã bị xóa: bản sao sau sẽ in trùng số)"
        )
    elif d.kind == "reprint_duplicate":
        message = (
            f"{what}: số bản sao này đã in hai lần (mục nhật ký số {_show(d.audit_seq)} là lần "
            "sau): dòng của lần trước đã bị xóa khỏi bảng reprints"
        )
    elif d.kind == "operator_unsealed":
        message = (
            f"{what}: không có mục nhật ký có khóa nào ghi tài khoản này (dòng bị thêm vào bảng "
            "operators bằng tay)"
        )
    elif d.kind == "operator_missing":
        message = (
            f"{what}: nhật ký (mục số {d.audit_seq}) ghi tài khoản này nhưng bảng operators không "
            "còn dòng đó (đã bị xóa)"
        )
    else:
        message = (
            f"{what}: cột {d.table}.{d.column} là {_show(d.got)}, nhật ký đã ký (mục số "
            f"{d.audit_seq}) ghi {_show(d.want)} (đã bị sửa)"
        )
    return Finding(d.kind, message, None, column=d.column, table=d.table, row=d.row)


def _against_anchor(
    sealing: tuple[str, bytes], heads: Heads, v: _Verifier, macs: dict[int, str]
) -> None:
    counter_id, key = sealing
    anchor, problem = read_anchor(counter_id, key)
    if problem is not None:
        if problem.kind == "anchor_missing" and heads.audit_seq == 0:
            write_anchor(counter_id, key, heads)  # nothing keyed yet: start anchoring now
        else:
            v.found.append(problem)
        return
    assert anchor is not None
    against = compare_heads(anchor, heads, v.hashes.get, macs.get)
    v.found.extend(against)
    if not v.found and heads != anchor:
        write_anchor(counter_id, key, heads)  # ahead and consistent: advance the anchor


# --- shifts (docs/SHIFTS.md) -------------------------------------------------------------------

SHIFT_COLUMNS = tuple(c.name for c in cast(Table, Shift.__table__).columns)
_SHIFT_ROWS = text(f"SELECT {', '.join(SHIFT_COLUMNS)} FROM shifts")
# Shift columns set by the opening record and by the closing record, from their signed bodies.
_OPEN_COLUMNS = {
    "id": "id",
    "operator_id": "operator_id",
    "cashier": "operator",
    "opened_at": "at",
    "float_amount": "amount",
    "float_counts": "counts",
}
_CLOSE_COLUMNS = {
    "closed_at": "at",
    "closed_by_id": "operator_id",
    "closed_by": "operator",
    "counted": "amount",
    "counted_counts": "counts",
    "expected": "expected",
    "difference": "difference",
    "reason": "reason",
    "supervisor_id": "supervisor_id",
    "supervisor": "supervisor",
    "payments": "payments",
    "first_receipt": "first_receipt",
    "last_receipt": "last_receipt",
    "unsynced": "unsynced",
    "records_hash": "records_hash",
}


@dataclass
class _OpenShift:
    id: str
    owner: object
    stretch: list[tuple[int, str, Mapping[str, Any]]]
    hashes: list[str]


def _close_sums(
    shift: _OpenShift, seq: int, body: Mapping[str, Any], amounts: Mapping[str, int]
) -> list[Finding]:
    """A close's signed sums against the shift's records: what it says it was judged on."""
    t = tally(shift.stretch, amounts)
    want = {
        "expected": t.expected,
        "payments": t.payments,
        "first_receipt": t.first_receipt,
        "last_receipt": t.last_receipt,
        "records_hash": records_hash(shift.hashes),
    }
    found = [
        Finding(
            "shift_close_mismatch",
            f"bản ghi số {seq}: đóng ca ghi {name} = {_show(body.get(name))}, các bản ghi của ca "
            f"cho {_show(value)}",
            seq,
            column=name,
        )
        for name, value in want.items()
        if body.get(name) != value
    ]
    counted, expected = body.get("amount"), body.get("expected")
    if isinstance(counted, int) and isinstance(expected, int):
        if body.get("difference") != counted - expected:
            found.append(
                Finding(
                    "shift_close_mismatch",
                    f"bản ghi số {seq}: chênh lệch đã ký khác tiền đếm trừ tiền theo sổ",
                    seq,
                    column="difference",
                )
            )
    return found


def _shift_views(
    entries: Sequence[Row[Any]], amounts: Mapping[str, int], found: list[Finding]
) -> dict[str, dict[str, tuple[int, object]]]:
    """Walk the ledger from the first shift record on: each shift's row as its signed records
    give it (column → (seq, value)), and findings for records out of place (a second open
    shift, an event outside its shift, a payment outside its cashier's open shift).
    `amounts`: payment id → amount (the `payments` rows, which `verify` checks against the
    signed bodies), for voids of payments taken before the shift."""
    views: dict[str, dict[str, tuple[int, object]]] = {}
    current: _OpenShift | None = None
    seen = False
    first = next((i for i, e in enumerate(entries) if e.kind == "shift"), len(entries))
    for e in entries[first:]:  # records before the first shift: nothing to judge, not parsed
        body = stored_body(e.body) if e.body is not None else None
        if body is None:
            continue
        if e.kind == "payment":
            if seen and (current is None or body.get("operator_id") != current.owner):
                found.append(
                    Finding(
                        "payment_outside_shift",
                        f"bản ghi số {e.seq}: khoản thu không nằm trong ca đang mở của chính "
                        "người thu",
                        e.seq,
                    )
                )
        elif e.kind == "void":
            if seen and current is None:
                found.append(
                    Finding(
                        "void_outside_shift",
                        f"bản ghi số {e.seq}: lệnh hủy không nằm trong ca nào đang mở (tiền trả "
                        "lại không thuộc két của ca nào)",
                        e.seq,
                    )
                )
        elif e.kind == "shift":
            event, shift_id = body.get("event"), str(body.get("shift_id"))
            if event == "open":
                if current is not None:
                    found.append(
                        Finding(
                            "shift_overlap",
                            f"bản ghi số {e.seq}: mở ca khi ca trước chưa đóng",
                            e.seq,
                        )
                    )
                seen = True
                current = _OpenShift(shift_id, body.get("operator_id"), [], [])
                views[shift_id] = {"open_seq": (e.seq, e.seq)} | {
                    col: (e.seq, body.get(name)) for col, name in _OPEN_COLUMNS.items()
                }
                views[shift_id] |= {col: (e.seq, None) for col in _CLOSE_COLUMNS}
                views[shift_id]["close_seq"] = (e.seq, None)
            elif current is None or shift_id != current.id:
                found.append(
                    Finding(
                        "shift_sequence",
                        f"bản ghi số {e.seq}: sự kiện ca ({event}) không thuộc ca đang mở",
                        e.seq,
                    )
                )
                continue
            elif event == "close":
                found.extend(_close_sums(current, e.seq, body, amounts))
                views[shift_id]["close_seq"] = (e.seq, e.seq)
                views[shift_id] |= {
                    col: (e.seq, body.get(name)) for col, name in _CLOSE_COLUMNS.items()
                }
                current = None
                continue
        if current is not None:
            current.stretch.append((e.seq, e.kind, body))
            current.hashes.append(e.hash)
    return views


def verify_shifts(
    session: Session,
    entries: Sequence[Row[Any]],
    payments: Mapping[int, Row[Any]],
    found: list[Finding],
) -> None:
    """The `shifts` table as a view of the signed shift records (docs/SHIFTS.md): every column
    recomputed, rows missing or without a record, each close's signed sums recomputed from its
    shift's records, and every payment inside its cashier's open shift."""
    amounts = {p.id: p.amount for p in payments.values()}
    views = _shift_views(entries, amounts, found)
    rows = {r.id: r._mapping for r in session.execute(_SHIFT_ROWS)}
    for shift_id, view in views.items():
        row = rows.get(shift_id)
        open_seq = view["open_seq"][0]
        if row is None:
            found.append(
                Finding(
                    "row_missing",
                    f"bản ghi số {open_seq}: không còn dòng trong bảng shifts",
                    open_seq,
                )
            )
            continue
        for column in SHIFT_COLUMNS:
            seq, want = view[column]
            if row[column] != want:
                found.append(
                    Finding(
                        "column_mismatch",
                        f"bản ghi số {seq}: cột shifts.{column} là {_show(row[column])}, sổ cái "
                        f"đã ký ghi {_show(want)} (đã bị sửa)",
                        seq,
                        column=column,
                    )
                )
    for shift_id in sorted(set(rows) - set(views)):
        found.append(
            Finding(
                "row_without_record",
                f"bảng shifts có ca {shift_id} nhưng sổ cái không có bản ghi mở ca đó (dòng bị "
                "thêm)",
                None,
            )
        )
