"""Several household members paid in one cash transaction, on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.errors import UserFacingError, ValidationError
from app.services.common import Actor
from app.services.household_payment import (
    AUDIT_ACTION,
    HouseholdPaymentRequest,
    MemberItem,
    household_group,
    preview_household_payment,
    preview_household_quotes,
    record_household_payment,
)
from app.services.households import add_member, create_household
from app.services.participants import ParticipantView
from app.services.payments import record_payment
from app.services.sealing import check_heads
from app.services.verify import verify_ledger
from app.storage.db import Database
from app.storage.models import AuditEvent, OutboxItem, Payment
from tests.services.test_period_rules import DEC_1, bhyt, person


@pytest.fixture
def family(db: Database, cashier: Actor, payer: ParticipantView) -> list[ParticipantView]:
    second = person(db, cashier, "Lê Văn Hai", "001085002345")
    third = person(db, cashier, "Lê Thị Ba", "001185003456")
    hh = create_household(db, head_participant_id=payer.id, address="Thôn Đông", by=cashier)
    add_member(db, hh.id, second.id, relation="Chồng", by=cashier)
    add_member(db, hh.id, third.id, relation="Con", by=cashier)
    return [payer, second, third]


def group(members: list[ParticipantView], **kw: object) -> HouseholdPaymentRequest:
    return HouseholdPaymentRequest(
        client_request_id=str(uuid.uuid4()),
        items=tuple(MemberItem(m.id, 12) for m in members),
        **kw,  # type: ignore[arg-type]
    )


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Payment)) or 0,
            # the payments' outbox rows (the shift's opening record waits there too)
            s.scalar(select(func.count()).where(OutboxItem.kind == "payment")) or 0,
            s.scalar(select(func.count()).where(AuditEvent.action == AUDIT_ACTION)) or 0,
        )


def test_three_members_one_transaction_one_receipt_each(
    db: Database, cashier: Actor, family: list[ParticipantView]
) -> None:
    req = group(family, tendered=3_000_000)
    shown = preview_household_payment(db, req, by=cashier, now=DEC_1)
    assert [v.member_order for v in shown] == [1, 2, 3]
    assert counts(db) == (0, 0, 0)  # the preview wrote nothing
    notes = [q.notes for q in preview_household_quotes(db, req, by=cashier, now=DEC_1)]
    assert "thành viên thứ 2 của hộ trong năm tài chính 2026" in notes[1][0]
    assert any("30 ngày" in n or "lần đầu" in n for n in notes[0])  # the card rule, said

    done = record_household_payment(db, req, by=cashier, now=DEC_1)
    # 1st 100 %, 2nd 70 %, 3rd 60 % of 4,5 % × 2.340.000 đ, 12 months each
    assert [p.member_order for p in done.payments] == [1, 2, 3]
    assert [p.gross_per_month for p in done.payments] == [105_300, 73_710, 63_180]
    assert [p.amount for p in done.payments] == [v.amount for v in shown]
    assert done.total == (105_300 + 73_710 + 63_180) * 12 == 2_906_280
    assert done.change_due == 3_000_000 - 2_906_280
    receipts = [p.receipt_number for p in done.payments]
    assert receipts == list(range(receipts[0], receipts[0] + 3))  # one receipt per member
    assert len({p.confirmation_code for p in done.payments}) == 3
    assert all(p.tendered is None for p in done.payments)  # the cash is the group's
    assert all(p.card_from == date(2026, 12, 31) for p in done.payments)
    assert counts(db) == (3, 3, 1)

    record = household_group(db, req.client_request_id)
    assert record is not None
    assert record["receipts"] == receipts and record["member_orders"] == [1, 2, 3]
    assert (record["total"], record["tendered"], record["change"]) == (
        2_906_280,
        3_000_000,
        93_720,
    )
    assert verify_ledger(db).ok
    assert check_heads(db) == []  # the anchor took the group record (stored after the commit)

    # the order is the household's for the year: a renewal keeps its place
    later = record_payment(db, bhyt(family[2], 3), by=cashier, now=DEC_1 + timedelta(days=10))
    assert later.member_order == 3


def test_a_retry_records_nothing_twice(
    db: Database, cashier: Actor, family: list[ParticipantView]
) -> None:
    req = group(family, tendered=3_000_000)
    first = record_household_payment(db, req, by=cashier, now=DEC_1)
    again = record_household_payment(db, req, by=cashier, now=DEC_1 + timedelta(seconds=5))
    assert [p.receipt_number for p in again.payments] == [p.receipt_number for p in first.payments]
    assert (again.total, again.tendered, again.change_due) == (first.total, 3_000_000, 93_720)
    assert counts(db) == (3, 3, 1)
    # the same group id with other content is refused
    other = HouseholdPaymentRequest(req.client_request_id, req.items[:2], tendered=3_000_000)
    with pytest.raises(UserFacingError, match="đã dùng"):
        record_household_payment(db, other, by=cashier, now=DEC_1)
    with pytest.raises(UserFacingError, match="tiền khách đưa khác"):
        record_household_payment(
            db, HouseholdPaymentRequest(req.client_request_id, req.items, 5_000_000), by=cashier
        )
    assert counts(db) == (3, 3, 1)


def test_all_or_nothing(db: Database, cashier: Actor, family: list[ParticipantView]) -> None:
    # too little cash for the group: nothing is written
    with pytest.raises(ValidationError) as short:
        record_household_payment(db, group(family, tendered=2_000_000), by=cashier, now=DEC_1)
    assert short.value.field == "tendered" and "2.906.280" in short.value.message
    assert counts(db) == (0, 0, 0)
    # the third member already paid those months: the whole group is refused, naming them
    record_payment(db, bhyt(family[2], 12), by=cashier, now=DEC_1)
    items = (*group(family[:2]).items, MemberItem(family[2].id, 12, start_month=date(2026, 12, 1)))
    with pytest.raises(ValidationError, match="đã đóng các tháng 12/2026"):
        record_household_payment(
            db, HouseholdPaymentRequest("g-overlap", items), by=cashier, now=DEC_1
        )
    assert counts(db) == (1, 1, 0)
    # the total the cashier saw changed: refused
    with pytest.raises(UserFacingError, match="đã thay đổi"):
        record_household_payment(
            db, group(family[:2], expected_total=1), by=cashier, now=DEC_1 + timedelta(hours=1)
        )
    assert counts(db) == (1, 1, 0)


def test_members_must_share_one_household(
    db: Database, cashier: Actor, family: list[ParticipantView]
) -> None:
    stranger = person(db, cashier, "Người Ngoài", "001090004567")
    with pytest.raises(ValidationError, match="thuộc một hộ gia đình đã lập") as e:
        record_household_payment(db, group([family[0], stranger]), by=cashier, now=DEC_1)
    assert e.value.field == "items"
    create_household(db, head_participant_id=stranger.id, by=cashier)
    with pytest.raises(ValidationError, match="cùng một hộ"):
        record_household_payment(db, group([family[0], stranger]), by=cashier, now=DEC_1)
    with pytest.raises(ValidationError, match="một lần"):
        record_household_payment(db, group([family[0], family[0]]), by=cashier, now=DEC_1)
    with pytest.raises(ValidationError, match="ít nhất một"):
        record_household_payment(db, group([]), by=cashier, now=DEC_1)
    assert counts(db) == (0, 0, 0)


def test_editing_the_group_record_is_caught(
    db: Database, db_path: Path, cashier: Actor, family: list[ParticipantView]
) -> None:
    req = group(family, tendered=3_000_000)
    record_household_payment(db, req, by=cashier, now=DEC_1)
    con = sqlite3.connect(db_path)
    con.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    (details,) = con.execute(
        "SELECT details FROM audit_events WHERE action = ?", (AUDIT_ACTION,)
    ).fetchone()
    forged = json.loads(details) | {"tendered": 2_906_280, "change": 0}
    con.execute(
        "UPDATE audit_events SET details = ? WHERE action = ?", (json.dumps(forged), AUDIT_ACTION)
    )
    con.commit()
    con.close()
    report = verify_ledger(db)
    assert not report.ok and any(f.kind == "audit_edited" for f in report.findings)


def test_paid_at_instants_are_distinct_and_in_order(
    db: Database, cashier: Actor, family: list[ParticipantView]
) -> None:
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    done = record_household_payment(db, group(list(reversed(family))), by=cashier, now=at)
    assert [p.paid_at for p in done.payments] == [at + timedelta(microseconds=i) for i in range(3)]
    assert [p.member_order for p in done.payments] == [1, 2, 3]
