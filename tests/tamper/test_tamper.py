"""Every edit of the books that someone with the file but not the key could make, and the
finding `verify` names it by (docs/LEDGER.md, "What verify catches" — one row per test here).

Each test edits the file with raw SQL (`Attack`) and asserts, through the service and through
`quaythu verify` in-process, exit 1 and a finding naming the record (and column).
"""

from __future__ import annotations

import json
from typing import Any

import keyring
import pytest

from app.domain.canonical import canonical_bytes
from app.domain.chain import link_hash
from app.errors import UserFacingError
from app.services.operators import authenticate
from app.services.verify import PAYMENT_COLUMNS, VOID_COLUMNS, verify_ledger
from tests.support.counters import SUPERVISOR
from tests.tamper.conftest import Attack, Books

# --- removing records ------------------------------------------------------------------------


def _drop_tail(a: Attack, first_seq: int) -> int:
    """Remove ledger records from `first_seq` on, with their rows, outbox items and the audit
    entries written since — everything the file says about them. Returns the first audit
    entry (seq) removed."""
    since = a.one(
        "SELECT min(id) FROM audit_events WHERE subject IN "
        "(SELECT record_id FROM ledger WHERE seq >= ?) "
        "OR subject IN (SELECT payment_id FROM voids WHERE ledger_seq >= ?)",
        first_seq,
        first_seq,
    )
    first_audit = a.one("SELECT seq FROM audit_events WHERE id = ?", since)
    a("DELETE FROM outbox WHERE ledger_seq >= ?", first_seq)
    a("DELETE FROM voids WHERE ledger_seq >= ?", first_seq)
    a("DELETE FROM payments WHERE ledger_seq >= ?", first_seq)
    a("DELETE FROM ledger WHERE seq >= ?", first_seq)
    a("DELETE FROM audit_events WHERE id >= ?", since)
    return int(first_audit)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_deleting_the_newest_payments(books: Books, k: int) -> None:
    a = books.attack()
    lost_audit = _drop_tail(a, 14 - k)
    a.done()
    books.caught("ledger_truncated", 14 - k, record_to=13)
    books.caught("audit_truncated", lost_audit)
    # The counter goes on and reissues the same receipt number with another code: the anchor
    # is not moved over the evidence, and verify keeps failing.
    assert books.pay() == 11 - k
    if k == 1:
        books.caught("ledger_rewritten", 13)
    else:
        books.caught("ledger_truncated", 15 - k, record_to=13)


def test_deleting_the_last_void(books: Books) -> None:
    books.void(9)  # seq 14
    assert verify_ledger(books.db).ok
    a = books.attack()
    _drop_tail(a, 14)
    a.done()
    assert not books.pay_view(9).voided  # what the fraud is for: #9 counts again
    books.caught("ledger_truncated", 14, record_to=14)


def _renumber_without_key(a: Attack, gone: int) -> None:
    """Close the gap a removed record left: shift later records down one, rewrite their seq
    and prev_hash in the stored body and recompute every link hash — all that needs no key."""
    prev = a.one("SELECT hash FROM ledger WHERE seq = ?", gone - 1)
    rows = a("SELECT seq, body, code, mac FROM ledger WHERE seq > ? ORDER BY seq", gone)
    for seq, text, code, mac in rows:
        body = {**json.loads(text), "seq": seq - 1, "prev_hash": prev}
        link = link_hash(prev, {**body, "code": code, "mac": mac})
        a(
            "UPDATE ledger SET seq = ?, body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            seq - 1,
            canonical_bytes(body).decode(),
            prev,
            link,
            seq,
        )
        a("UPDATE payments SET ledger_seq = ? WHERE ledger_seq = ?", seq - 1, seq)
        a("UPDATE voids SET ledger_seq = ? WHERE ledger_seq = ?", seq - 1, seq)
        a("UPDATE outbox SET ledger_seq = ? WHERE ledger_seq = ?", seq - 1, seq)
        prev = link


def test_deleting_a_middle_void_renumbered_and_rechained(books: Books) -> None:
    a = books.attack()
    a("DELETE FROM outbox WHERE ledger_seq = 8")
    a("DELETE FROM voids WHERE ledger_seq = 8")
    a("DELETE FROM ledger WHERE seq = 8")
    _renumber_without_key(a, 8)
    a.done()
    assert not books.pay_view(4).voided  # #4 counts again
    books.caught("record_invalid", 8)  # its code and MAC covered seq 9 and the old prev_hash
    books.caught("ledger_truncated", 13, record_to=13)  # and the anchor says 13 records


def test_deleting_a_middle_payment(books: Books) -> None:
    a = books.attack()
    a("DELETE FROM outbox WHERE ledger_seq = 6")
    a("DELETE FROM payments WHERE ledger_seq = 6")
    a("DELETE FROM ledger WHERE seq = 6")
    a.done()
    books.caught("ledger_gap", 6, record_to=6)
    report = books.caught("receipt_gap", 7)  # the record after the gap: receipt #5 at seq 7
    assert any("thiếu số 4" in p for p in report.problems)


def test_deleting_two_middle_payments_names_both_receipt_numbers(books: Books) -> None:
    a = books.attack()
    for seq in (6, 10):
        a("DELETE FROM outbox WHERE ledger_seq = ?", seq)
        a("DELETE FROM payments WHERE ledger_seq = ?", seq)
        a("DELETE FROM ledger WHERE seq = ?", seq)
    a.done()
    report = books.caught("ledger_gap", 10, record_to=10)
    assert any("thiếu số 4, 7" in p for p in report.problems)


def test_deleting_only_the_payment_row(books: Books) -> None:
    a = books.attack()
    a("DELETE FROM payments WHERE ledger_seq = 7")
    a.done()
    books.caught("row_missing", 7)


def test_a_payment_row_without_a_record(books: Books) -> None:
    a = books.attack()
    a(
        "INSERT INTO payments SELECT 'forged-id', 99, 99, series, 'forged-request', counter_id,"
        " participant_id, payer_name, ma_so_bhxh, cccd, scheme, method, months, period_from,"
        " period_to, income, support_category, member_order, gross_per_month,"
        " support_per_month, total_gross, total_support, support_months, amount, tendered,"
        " rate_version, paid_at, business_date, operator_id, cashier, confirmation_code"
        " FROM payments WHERE ledger_seq = 2"
    )
    a.done()
    books.caught("row_without_record", 99)


# --- changing columns ------------------------------------------------------------------------


def _changed(value: Any, column: str) -> Any:
    if column == "receipt_number":
        return 99  # unique: another payment's number is refused by the database itself
    if value is None or isinstance(value, int):
        return (value or 0) + 1
    return f"{value}X"


@pytest.mark.parametrize("column", [c for c in PAYMENT_COLUMNS if c != "ledger_seq"])
def test_changing_any_payment_column(books: Books, column: str) -> None:
    a = books.attack()
    old = a.one(f"SELECT {column} FROM payments WHERE ledger_seq = 4")
    a(f"UPDATE payments SET {column} = ? WHERE ledger_seq = 4", _changed(old, column))
    a.done()
    books.caught("column_mismatch", 4, column)


@pytest.mark.parametrize("column", [c for c in VOID_COLUMNS if c != "ledger_seq"])
def test_changing_any_void_column(books: Books, column: str) -> None:
    a = books.attack()
    old = a.one(f"SELECT {column} FROM voids WHERE ledger_seq = 5")
    a(f"UPDATE voids SET {column} = ? WHERE ledger_seq = 5", _changed(old, column))
    a.done()
    books.caught("column_mismatch", 5, column)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("operator_id", "supervisor"),  # another cashier's name on receipts and Mẫu 01-XN
        ("tendered", 9_999_999),
        ("gross_per_month", 1),
        ("total_support", 0),
        ("total_gross", 1),
        ("support_months", 0),  # feeds later quotes: support months used
        ("client_request_id", "a-retry-that-records-twice"),
        ("amount", 1_000),
    ],
)
def test_changing_a_column_outside_the_format_1_signature(
    books: Books, column: str, value: Any
) -> None:
    if value == "supervisor":
        value = books.supervisor.id
    a = books.attack()
    a(f"UPDATE payments SET {column} = ? WHERE ledger_seq = 4", value)
    a.done()
    books.caught("column_mismatch", 4, column)


def test_changing_the_void_supervisor(books: Books) -> None:
    a = books.attack()
    a("UPDATE voids SET supervisor_id = ? WHERE ledger_seq = 8", books.cashier.id)
    a.done()
    books.caught("column_mismatch", 8, "supervisor_id")


def test_moving_a_row_to_another_record(books: Books) -> None:
    a = books.attack()
    a("UPDATE payments SET ledger_seq = 5 WHERE ledger_seq = 4")  # 5 is a void
    a.done()
    books.caught("row_missing", 4)
    books.caught("row_without_record", 5)


# --- changing the ledger itself --------------------------------------------------------------


def test_changing_the_signed_body(books: Books) -> None:
    a = books.attack()
    a("UPDATE ledger SET body = json_set(body, '$.amount', 1000) WHERE seq = 4")
    a("UPDATE payments SET amount = 1000 WHERE ledger_seq = 4")
    a.done()
    books.caught("record_invalid", 4)


def test_changing_the_signed_body_and_its_hash(books: Books) -> None:
    a = books.attack()
    text, code, mac, prev = a("SELECT body, code, mac, prev_hash FROM ledger WHERE seq = 4")[0]
    body = {**json.loads(text), "amount": 1000}
    link = link_hash(prev, {**body, "code": code, "mac": mac})
    a(
        "UPDATE ledger SET body = ?, hash = ? WHERE seq = 4",
        canonical_bytes(body).decode(),
        link,
    )
    a("UPDATE ledger SET prev_hash = ? WHERE seq = 5", link)
    a.done()
    books.caught("record_invalid", 4)  # the code and the MAC need the key
    books.caught("record_invalid", 5)  # seq 5's MAC covers its old prev_hash


def test_changing_a_code(books: Books) -> None:
    a = books.attack()
    other = a.one("SELECT code FROM ledger WHERE seq = 6")
    a("UPDATE ledger SET code = ? WHERE seq = 4", other)
    a.done()
    books.caught("record_invalid", 4)


def test_a_void_pointed_at_another_payment(books: Books) -> None:
    a = books.attack()
    pid = a.one("SELECT id FROM payments WHERE receipt_number = 9")
    a("UPDATE voids SET payment_id = ? WHERE ledger_seq = 5", pid)
    a.done()
    books.caught("column_mismatch", 5, "payment_id")


# --- the audit trail -------------------------------------------------------------------------


def _audit_seq(a: Attack, action: str, last: bool = False) -> int:
    order = "DESC" if last else "ASC"
    return int(a.one(f"SELECT seq FROM audit_events WHERE action = ? ORDER BY id {order}", action))


def test_editing_an_audit_entry(books: Books) -> None:
    a = books.attack()
    seq = _audit_seq(a, "payment.void")
    a("UPDATE audit_events SET details = '{}' WHERE seq = ?", seq)
    a.done()
    books.caught("audit_edited", seq)


def test_editing_a_failed_login_entry(books: Books) -> None:
    with pytest.raises(UserFacingError):
        authenticate(books.db, "giamsat", "đoán-mật-khẩu")
    authenticate(books.db, SUPERVISOR.username, SUPERVISOR.password)
    a = books.attack()
    seq = _audit_seq(a, "login.failed")
    assert a.one("SELECT operator_id FROM audit_events WHERE seq = ?", seq) is None
    a("UPDATE audit_events SET subject = 'ai-do' WHERE seq = ?", seq)
    a.done()
    books.caught("audit_edited", seq)


def test_deleting_a_middle_audit_entry(books: Books) -> None:
    a = books.attack()
    seq = _audit_seq(a, "login")
    a("DELETE FROM audit_events WHERE seq = ?", seq)
    a.done()
    books.caught("audit_gap", seq, record_to=seq)


def test_deleting_the_newest_audit_entries(books: Books) -> None:
    for _ in range(2):
        with pytest.raises(UserFacingError):
            authenticate(books.db, "giamsat", "đoán-mật-khẩu")
    a = books.attack()
    first = _audit_seq(a, "login.failed")
    last = _audit_seq(a, "login.failed", last=True)
    a("DELETE FROM audit_events WHERE seq >= ?", first)
    a.done()
    books.caught("audit_truncated", first, record_to=last)


def test_an_audit_entry_slipped_in(books: Books) -> None:
    a = books.attack()
    a(
        "INSERT INTO audit_events (at, operator_id, action, subject, details) "
        "VALUES ('2026-12-01T00:00:00.000000Z', NULL, 'login', 'quantri', '{}')"
    )
    a.done()
    books.caught("audit_unsealed", None)


def test_an_audit_entry_forged_with_a_guessed_mac(books: Books) -> None:
    a = books.attack()
    seq, mac = a("SELECT seq, mac FROM audit_events ORDER BY id DESC LIMIT 1")[0]
    a(
        "INSERT INTO audit_events (at, operator_id, action, subject, details, seq, prev_hash,"
        " mac) VALUES ('2026-12-01T00:00:00.000000Z', NULL, 'login', 'quantri', '{}', ?, ?, ?)",
        seq + 1,
        mac,
        "0" * 64,
    )
    a.done()
    books.caught("audit_edited", seq + 1)


# --- the anchor ------------------------------------------------------------------------------


def test_a_forged_anchor(books: Books, memory_keyring: Any) -> None:
    name = next(k for k in memory_keyring.entries if k[1].startswith("ledger-anchor:"))
    keyring.set_password(
        name[0], name[1], "QTA1|99|" + "0" * 64 + "|1|" + "0" * 64 + "|" + "0" * 64
    )
    books.caught("anchor_invalid", None)


def test_nothing_changed_nothing_found(books: Books) -> None:
    report = verify_ledger(books.db)
    assert report.ok and report.checked == 13 and report.audit_checked > 13
