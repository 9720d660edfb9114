"""The names a receipt and Mẫu 01-XN print that are not in the ledger (the cashier's and the
supervisor's full names, the organisation, the collection point, the counter's code): each edit
of them with raw SQL is found by `verify`, naming the table, the row and the column
(docs/LEDGER.md, "Printed names"); the changes the program makes are not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.domain.chain import GENESIS, keyed_link
from app.domain.types import Role
from app.services.counter import update_counter_details
from app.services.documents import daily_summary, receipt_data
from app.services.masterdata import COUNTER_STATE, OPERATOR_STATE
from app.services.operators import authenticate, set_active, set_role
from app.services.payments import record_reprint
from app.services.sealing import audit_fields, ledger_key, read_heads, write_anchor
from app.services.verify import verify_ledger
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME, CASHIER
from tests.tamper.conftest import Attack, Books


def _admin(books: Books) -> Any:
    return authenticate(books.db, ADMIN_USERNAME, ADMIN_PASSWORD)


def test_the_cashiers_full_name_edited(books: Books) -> None:
    before = receipt_data(books.db, 1).cashier
    assert before == CASHIER.full_name
    a = books.attack()
    a("UPDATE operators SET full_name = 'Phạm Văn Khác' WHERE id = ?", books.cashier.id)
    a.done()
    # What the edit is for: another person's name on the reprint and on Mẫu 01-XN.
    assert receipt_data(books.db, 1).cashier == "Phạm Văn Khác"
    day = books.pay_view(1).business_date
    assert {r.cashier for r in daily_summary(books.db, day).rows} == {"Phạm Văn Khác"}
    report = books.caught(
        "operator_mismatch", None, "full_name", table="operators", row=books.cashier.id
    )
    assert any("Phạm Văn Khác" in p and CASHIER.full_name in p for p in report.problems)


def test_the_supervisors_full_name_edited(books: Books) -> None:
    a = books.attack()
    a("UPDATE operators SET full_name = 'Ai Đó' WHERE id = ?", books.supervisor.id)
    a.done()
    voided = receipt_data(books.db, 2).void
    assert voided is not None and voided.supervisor == "Ai Đó"
    books.caught("operator_mismatch", None, "full_name", table="operators", row=books.supervisor.id)


@pytest.mark.parametrize(
    ("column", "value"),
    [("username", "nguoikhac"), ("role", Role.ADMIN.value), ("active", 0), ("active", 2)],
)
def test_an_operator_column_edited(books: Books, column: str, value: object) -> None:
    a = books.attack()
    a(f"UPDATE operators SET {column} = ? WHERE id = ?", value, books.cashier.id)
    a.done()
    books.caught("operator_mismatch", None, column, table="operators", row=books.cashier.id)


def test_an_operator_row_slipped_in(books: Books) -> None:
    a = books.attack()
    a(
        "INSERT INTO operators (username, full_name, role, password_hash, active, created_at,"
        " password_changed_at, failed_logins, previous_hashes) SELECT 'gia', 'Người Giả',"
        " 'admin', password_hash, 1, created_at, password_changed_at, 0, '[]' FROM operators"
        " WHERE id = ?",
        books.cashier.id,
    )
    new_id = a.one("SELECT id FROM operators WHERE username = 'gia'")
    a.done()
    books.caught("operator_unsealed", None, table="operators", row=new_id)


def test_an_operator_row_deleted(books: Books) -> None:
    a = books.attack()
    a("DELETE FROM operators WHERE id = ?", books.supervisor.id)
    a.done()
    books.caught("operator_missing", None, table="operators", row=books.supervisor.id)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("organisation", "Công ty Khác"),
        ("collection_point", "Điểm thu Khác"),
        ("counter_code", "QUAY-9"),
        ("receipt_series", "ZZ-2026"),
    ],
)
def test_a_counter_name_edited(books: Books, column: str, value: str) -> None:
    a = books.attack()
    a(f"UPDATE counter SET {column} = ? WHERE id = 1", value)
    a.done()
    books.caught("counter_mismatch", None, column, table="counter", row=1)


def test_the_sealed_state_edited_with_the_name(books: Books) -> None:
    """Edit the audit entry that sealed the name as well: the entry no longer matches its mac."""
    a = books.attack()
    seq, details = a(
        "SELECT seq, details FROM audit_events WHERE action = ? AND subject = ? "
        "ORDER BY id DESC LIMIT 1",
        OPERATOR_STATE,
        str(books.cashier.id),
    )[0]
    forged = json.dumps({**json.loads(details), "full_name": "Phạm Văn Khác"}, sort_keys=True)
    a("UPDATE audit_events SET details = ? WHERE seq = ?", forged, seq)
    a("UPDATE operators SET full_name = 'Phạm Văn Khác' WHERE id = ?", books.cashier.id)
    a.done()
    books.caught("audit_edited", seq)


def test_the_programs_own_changes_are_sealed(books: Books) -> None:
    admin = _admin(books)
    set_role(books.db, CASHIER.username, Role.SUPERVISOR, by=admin)
    set_active(books.db, CASHIER.username, False, by=admin)
    update_counter_details(
        books.db, organisation="Bưu điện Tỉnh Mới", collection_point="Điểm thu Mới", by=admin
    )
    assert verify_ledger(books.db).ok
    assert receipt_data(books.db, 1).organisation == "Bưu điện Tỉnh Mới"
    # …and an edit after them is still found, against the newest sealed state.
    a = books.attack()
    a("UPDATE operators SET active = 1 WHERE id = ?", books.cashier.id)
    a("UPDATE counter SET collection_point = 'Điểm thu Cũ' WHERE id = 1")
    a.done()
    books.caught("operator_mismatch", None, "active", table="operators", row=books.cashier.id)
    books.caught("counter_mismatch", None, "collection_point", table="counter", row=1)


def _as_before_the_rule(books: Books) -> None:
    """Rewrite the audit trail as a database from before the names were sealed would hold it
    (no state entries), re-chained with the key — what the program itself would have written."""
    counter_id, key = ledger_key(books.db)
    a = Attack(books.path)
    a("DELETE FROM audit_events WHERE action IN (?, ?)", OPERATOR_STATE, COUNTER_STATE)
    prev, seq = GENESIS, 0
    rows = a(
        "SELECT id, at, operator_id, action, subject, details FROM audit_events "
        "WHERE seq IS NOT NULL ORDER BY id"
    )
    for row_id, at, operator_id, action, subject, details in rows:
        seq += 1
        mac = keyed_link(key, prev, audit_fields(seq, at, operator_id, action, subject, details))
        a(
            "UPDATE audit_events SET seq = ?, prev_hash = ?, mac = ? WHERE id = ?",
            seq,
            prev,
            mac,
            row_id,
        )
        prev = mac
    a.done()
    with books.db.read() as session:
        write_anchor(counter_id, key, read_heads(session))


def test_a_database_from_before_the_rule(books: Books) -> None:
    _as_before_the_rule(books)
    assert verify_ledger(books.db).ok  # nothing sealed yet: the names are not judged
    _admin(books)  # the first sign-in with the key seals them as they are
    assert verify_ledger(books.db).ok
    a = books.attack()
    a("UPDATE operators SET full_name = 'Phạm Văn Khác' WHERE id = ?", books.cashier.id)
    a.done()
    books.caught("operator_mismatch", None, "full_name", table="operators", row=books.cashier.id)
    _admin(books)  # sealed once only: a later sign-in does not seal the edit
    books.caught("operator_mismatch", None, "full_name", table="operators", row=books.cashier.id)


# --- copies of receipts ("BẢN SAO số n") -------------------------------------------------------


def _with_copies(books: Books) -> int:
    """Two counted copies of receipt 1; returns the first copy's reprints row id."""
    assert record_reprint(books.db, 1, by=books.cashier) == 1
    assert record_reprint(books.db, 1, by=books.cashier) == 2
    assert verify_ledger(books.db).ok
    a = books.attack()
    row_id = int(a.one("SELECT min(id) FROM reprints"))
    a.done()
    return row_id


def test_a_copy_deleted(books: Books) -> None:
    _with_copies(books)
    a = books.attack()
    a("DELETE FROM reprints WHERE number = 2")
    a.done()
    report = books.caught("reprint_missing", None, table="reprints", row=None)
    assert any("biên lai số 1, bản sao số 2" in p for p in report.problems)
    # What the edit is for: the next copy is printed as "BẢN SAO số 2" a second time.
    assert record_reprint(books.db, 1, by=books.cashier) == 2
    a = books.attack()
    again = a.one("SELECT id FROM reprints WHERE number = 2")
    a.done()
    books.caught("reprint_duplicate", None, table="reprints", row=again)


def test_a_copy_slipped_in(books: Books) -> None:
    _with_copies(books)
    a = books.attack()
    a(
        "INSERT INTO reprints (payment_id, number, operator_id, at) SELECT payment_id, 3,"
        " operator_id, at FROM reprints WHERE number = 1"
    )
    new_id = a.one("SELECT max(id) FROM reprints")
    a.done()
    books.caught("reprint_unsealed", None, table="reprints", row=new_id)


def test_a_copys_operator_edited(books: Books) -> None:
    row_id = _with_copies(books)
    a = books.attack()
    a("UPDATE reprints SET operator_id = ? WHERE id = ?", books.supervisor.id, row_id)
    a.done()
    books.caught("reprint_mismatch", None, "operator_id", table="reprints", row=row_id)
