"""What prices a later payment without being in the ledger: household membership (the BHYT
member order) and central's paid periods (the rule that a month is not paid twice). Each edit of
them with raw SQL is found by `verify`, naming the table, the row and the column
(docs/LEDGER.md, "Households and central's paid periods"); the changes the program makes are not.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date
from pathlib import Path

import pytest

from app.domain.types import Scheme
from app.services.history import (
    CentralPeriod,
    paid_spans,
    record_central_paid_periods,
    replace_central_paid_periods,
)
from app.services.households import add_member, create_household, household_of
from app.services.operators import authenticate
from app.services.pricing_state import HOUSEHOLD_STATE, PAID_PERIODS, SEALED_MARK
from app.services.verify import verify_ledger
from app.storage.db import open_database
from tests.services.test_ledger_formats import _old_counter
from tests.support.counters import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.tamper.conftest import Books


@pytest.fixture
def homes(books: Books) -> tuple[str, str]:
    """Two households: the payer's (with two members) and another's (its head alone); central
    reports two paid periods for the payer and one for the first member."""
    one, two, three = books.others[0], books.others[1], books.others[2]
    h1 = create_household(books.db, head_participant_id=books.payer.id, by=books.cashier).id
    add_member(books.db, h1, one.id, relation="Con", by=books.cashier)
    add_member(books.db, h1, two.id, relation="Con", by=books.cashier)
    h2 = create_household(books.db, head_participant_id=three.id, by=books.cashier).id
    replace_central_paid_periods(
        books.db,
        [books.payer.id, one.id],
        [
            CentralPeriod(books.payer.id, Scheme.BHYT_HGD, date(2025, 1, 1), date(2025, 12, 31)),
            CentralPeriod(books.payer.id, Scheme.BHXH_TN, date(2024, 1, 1), date(2024, 6, 30)),
            CentralPeriod(one.id, Scheme.BHYT_HGD, date(2025, 1, 1), date(2025, 6, 30)),
        ],
    )
    report = verify_ledger(books.db)
    assert report.ok, report.problems
    return h1, h2


def _actions(books: Books) -> list[str]:
    con = sqlite3.connect(books.path)
    try:
        return [r[0] for r in con.execute("SELECT action FROM audit_events ORDER BY id")]
    finally:
        con.close()


# --- the program's own changes verify clean ------------------------------------------------------


def test_the_programs_changes_verify_clean(books: Books, homes: tuple[str, str]) -> None:
    h1, h2 = homes
    moved = books.others[1]
    # A move rewrites both households; the head of a household left alone may move too.
    add_member(books.db, h1, books.others[2].id, relation="Em", by=books.cashier)
    add_member(books.db, h2, moved.id, relation="Cháu", by=books.cashier)
    # Central drops a period (voided at the other counter) and reports a new one; the older
    # additive store as well.
    replace_central_paid_periods(
        books.db,
        [books.payer.id, books.others[0].id],
        [CentralPeriod(books.payer.id, Scheme.BHYT_HGD, date(2025, 1, 1), date(2025, 12, 31))],
    )
    record_central_paid_periods(
        books.db,
        [CentralPeriod(books.others[3].id, Scheme.BHXH_TN, date(2023, 1, 1), date(2023, 3, 31))],
        by=books.cashier,
    )
    report = verify_ledger(books.db)
    assert report.ok, report.problems
    assert books.cli("verify").returncode == 0
    actions = _actions(books)
    assert actions.count(SEALED_MARK) == 1  # written at init, not again
    assert actions.count(HOUSEHOLD_STATE) == 2 + 2 + 2 + 2  # create, add, add, create; 2 moves
    assert actions.count(PAID_PERIODS) == 3
    # A later sign-in seals nothing again.
    authenticate(books.db, ADMIN_USERNAME, ADMIN_PASSWORD)
    assert _actions(books).count(SEALED_MARK) == 1
    assert verify_ledger(books.db).ok


# --- households ----------------------------------------------------------------------------------


def test_a_member_moved_to_another_household(books: Books, homes: tuple[str, str]) -> None:
    h1, h2 = homes
    moved = books.others[0]
    a = books.attack()
    a("UPDATE household_members SET household_id = ? WHERE participant_id = ?", h2, moved.id)
    a.done()
    # What the edit is for: the member is priced in the other household (another order).
    view = household_of(books.db, moved.id)
    assert view is not None and view.id == h2
    report = books.caught(
        "household_mismatch", None, "household_id", table="household_members", row=moved.id
    )
    assert any(h2 in p and h1 in p and moved.full_name in p for p in report.problems)


def test_a_member_deleted(books: Books, homes: tuple[str, str]) -> None:
    gone = books.others[1]
    a = books.attack()
    a("DELETE FROM household_members WHERE participant_id = ?", gone.id)
    a.done()
    assert household_of(books.db, gone.id) is None  # now priced as a first member
    books.caught("household_missing", None, table="household_members", row=gone.id)


def test_a_member_slipped_in(books: Books, homes: tuple[str, str]) -> None:
    newcomer = books.others[5]
    a = books.attack()
    a(
        "INSERT INTO household_members (participant_id, household_id, relation, joined_at)"
        " SELECT ?, household_id, 'Con', joined_at FROM household_members WHERE participant_id = ?",
        newcomer.id,
        books.payer.id,
    )
    a.done()
    books.caught("household_unsealed", None, table="household_members", row=newcomer.id)


def test_a_members_joining_time_edited(books: Books, homes: tuple[str, str]) -> None:
    one = books.others[0]
    a = books.attack()
    a(
        "UPDATE household_members SET joined_at = '2020-01-01T00:00:00.000000Z'"
        " WHERE participant_id = ?",
        one.id,
    )
    a.done()
    books.caught("household_mismatch", None, "joined_at", table="household_members", row=one.id)


def test_a_households_head_edited(books: Books, homes: tuple[str, str]) -> None:
    h1 = homes[0]
    a = books.attack()
    a("UPDATE households SET head_participant_id = ? WHERE id = ?", books.others[0].id, h1)
    a.done()
    books.caught("household_mismatch", None, "head_participant_id", table="households", row=h1)


def test_a_household_deleted_with_its_members(books: Books, homes: tuple[str, str]) -> None:
    _, h2 = homes
    a = books.attack()
    a("DELETE FROM household_members WHERE household_id = ?", h2)
    a("DELETE FROM households WHERE id = ?", h2)
    a.done()
    books.caught("household_missing", None, table="households", row=h2)
    books.caught("household_missing", None, table="household_members", row=books.others[2].id)


def test_a_household_slipped_in(books: Books, homes: tuple[str, str]) -> None:
    fake = str(uuid.uuid4())
    a = books.attack()
    a(
        "INSERT INTO households (id, head_participant_id, address, created_at, updated_at)"
        " SELECT ?, ?, address, created_at, updated_at FROM households LIMIT 1",
        fake,
        books.others[6].id,
    )
    a.done()
    books.caught("household_unsealed", None, table="households", row=fake)


# --- central's paid periods ----------------------------------------------------------------------


def test_a_fake_central_period_inserted(books: Books, homes: tuple[str, str]) -> None:
    who = books.others[4]
    a = books.attack()
    a(
        "INSERT INTO central_paid_periods (participant_id, scheme, period_from, period_to,"
        " source, received_at) VALUES (?, 'bhxh_tn', '2026-01-01', '2030-12-31', 'central',"
        " '2026-11-20T02:00:00.000000Z')",
        who.id,
    )
    row = a.one("SELECT max(id) FROM central_paid_periods")
    a.done()
    # What the edit is for: the months count as paid, so a later quote refuses or skips them.
    with books.db.read() as session:
        assert any(s.last.year == 2030 for s in paid_spans(session, who.id, Scheme.BHXH_TN))
    report = books.caught("paid_periods_unsealed", None, table="central_paid_periods", row=row)
    assert any(who.full_name in p for p in report.problems)


def test_a_central_period_deleted(books: Books, homes: tuple[str, str]) -> None:
    a = books.attack()
    a(
        "DELETE FROM central_paid_periods WHERE participant_id = ? AND scheme = 'bhxh_tn'",
        books.payer.id,
    )
    a.done()
    report = books.caught("paid_periods_missing", None, table="central_paid_periods", row=None)
    assert any(
        "2024-01-01" in p and "2024-06-30" in p and books.payer.full_name in p
        for p in report.problems
    )


def test_a_central_periods_end_edited(books: Books, homes: tuple[str, str]) -> None:
    one = books.others[0]
    a = books.attack()
    row = a.one("SELECT id FROM central_paid_periods WHERE participant_id = ?", one.id)
    a("UPDATE central_paid_periods SET period_to = '2026-12-31' WHERE id = ?", row)
    a.done()
    report = books.caught(
        "paid_periods_mismatch", None, "period_to", table="central_paid_periods", row=row
    )
    assert any("2026-12-31" in p and "2025-06-30" in p for p in report.problems)


def test_a_central_period_given_to_another_participant(
    books: Books, homes: tuple[str, str]
) -> None:
    one, other = books.others[0], books.others[7]
    a = books.attack()
    row = a.one("SELECT id FROM central_paid_periods WHERE participant_id = ?", one.id)
    a("UPDATE central_paid_periods SET participant_id = ? WHERE id = ?", other.id, row)
    a.done()
    books.caught("paid_periods_unsealed", None, table="central_paid_periods", row=row)
    books.caught("paid_periods_missing", None, table="central_paid_periods", row=None)


# --- a database from before the rule ------------------------------------------------------------


def test_an_old_database_is_sealed_at_the_first_sign_in(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    pid, _ = _old_counter(path, 1)
    db = open_database(path)
    try:
        # Written by the earlier program (no audit entry seals them).
        con = sqlite3.connect(path)
        hid = str(uuid.uuid4())
        now = "2026-11-20T02:00:00.000000Z"
        con.execute("INSERT INTO households VALUES (?, ?, '', ?, ?)", (hid, pid, now, now))
        con.execute("INSERT INTO household_members VALUES (?, ?, 'Chủ hộ', ?)", (pid, hid, now))
        con.execute(
            "INSERT INTO central_paid_periods (participant_id, scheme, period_from, period_to,"
            " source, received_at) VALUES (?, 'bhyt_hgd', '2025-01-01', '2025-12-31', '', ?)",
            (pid, now),
        )
        con.commit()
        con.close()
        assert verify_ledger(db).ok  # not judged before the first sign-in
        authenticate(db, ADMIN_USERNAME, ADMIN_PASSWORD)  # seals them as they are
        report = verify_ledger(db)
        assert report.ok, report.problems
        con = sqlite3.connect(path)
        con.execute("DELETE FROM central_paid_periods")
        con.execute("UPDATE household_members SET relation = 'Con'")
        con.commit()
        con.close()
        found = {(f.kind, f.table, f.row, f.column) for f in verify_ledger(db).findings}
        assert ("paid_periods_missing", "central_paid_periods", None, None) in found
        assert ("household_mismatch", "household_members", pid, "relation") in found
    finally:
        db.close()
