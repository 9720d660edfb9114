"""Shifts and the cash drawer on a real SQLite file: open, payments inside, drops, close with a
count, the guard on payments, verify over the shift records (docs/SHIFTS.md)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.domain.cash import DENOMINATIONS
from app.domain.ledger import check_record
from app.domain.shifts import records_hash
from app.domain.types import Role, Scheme
from app.errors import PermissionDenied, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.ledger_records import stored_body
from app.services.outbox import pending_batch
from app.services.participants import ParticipantView, create_participant
from app.services.payments import PaymentRequest, record_payment, void_payment
from app.services.sealing import ledger_key
from app.services.shifts import (
    DEFAULT_THRESHOLD,
    cash_move,
    close_shift,
    current_shift,
    difference_threshold,
    get_shift,
    open_shift,
    record_zreport_print,
    set_difference_threshold,
)
from app.services.verify import verify_ledger
from app.storage.db import Database
from app.storage.models import LedgerEntry, OutboxItem, Shift
from tests.support.counters import CASHIER, PAYER, Staff, add_staff

OTHER = Staff("thungan2", "Phạm Văn Bình", Role.CASHIER, "dongxuan-quay2-26")


@pytest.fixture
def clerk(db: Database, admin: Actor) -> Actor:
    """The cashier, signed in, with no shift open yet."""
    return add_staff(db, admin, CASHIER)


@pytest.fixture
def person(db: Database, clerk: Actor) -> ParticipantView:
    return create_participant(db, PAYER, by=clerk)


def bhyt(person: ParticipantView) -> PaymentRequest:
    return PaymentRequest(
        client_request_id=str(uuid.uuid4()),
        participant_id=person.id,
        scheme=Scheme.BHYT_HGD,
        member_order=1,
        months=3,
    )


def exact(amount: int) -> dict[int, int]:
    """The fewest pieces that make `amount`."""
    counts: dict[int, int] = {}
    for d in DENOMINATIONS:
        counts[d], amount = amount // d, amount % d
    assert amount == 0
    return counts


def test_no_payment_without_an_open_shift(
    db: Database, clerk: Actor, person: ParticipantView
) -> None:
    with pytest.raises(UserFacingError, match="Chưa mở ca"):
        record_payment(db, bhyt(person), by=clerk)
    with db.read() as s:
        assert s.scalar(select(LedgerEntry.seq)) is None  # nothing half-saved


def test_open_float_by_denomination_and_payments_belong_to_it(
    db: Database, clerk: Actor, person: ParticipantView
) -> None:
    opened = open_shift(db, by=clerk, counts={500_000: 1, 200_000: 2, 1_000: 0, 500: 4})
    assert opened.float_amount == 902_000
    assert dict(opened.float_counts) == {500_000: 1, 200_000: 2, 500: 4}
    first = record_payment(db, bhyt(person), by=clerk)
    second = record_payment(db, bhyt(person), by=clerk)
    now = current_shift(db)
    assert now is not None and now.id == opened.id
    assert now.payments == 2
    assert now.payment_total == first.amount + second.amount
    assert now.by_scheme == {"bhyt_hgd": (2, first.amount + second.amount)}
    assert now.expected == 902_000 + first.amount + second.amount
    assert (now.first_receipt, now.last_receipt) == (1, 2)
    assert now.unsynced_now == 2


def test_open_float_as_a_total_and_bad_floats_refused(db: Database, clerk: Actor) -> None:
    with pytest.raises(ValidationError, match="mệnh giá 300 đ"):
        open_shift(db, by=clerk, counts={300: 1})
    with pytest.raises(ValidationError, match="Tiền đầu ca"):
        open_shift(db, by=clerk, total=-5)
    with pytest.raises(ValidationError, match="mệnh giá hoặc tổng"):
        open_shift(db, by=clerk)
    assert current_shift(db) is None
    opened = open_shift(db, by=clerk, total=1_250_000)
    assert (opened.float_amount, dict(opened.float_counts)) == (1_250_000, {})


def test_one_open_shift_per_counter_and_only_its_owner_takes_payments(
    db: Database, clerk: Actor, admin: Actor, person: ParticipantView
) -> None:
    open_shift(db, by=clerk, total=0)
    other = add_staff(db, admin, OTHER)
    with pytest.raises(UserFacingError, match="đang có ca mở của thungan1"):
        open_shift(db, by=other, total=0)
    with pytest.raises(UserFacingError, match="Hãy giao ca") as refused:
        record_payment(db, bhyt(person), by=other)
    assert "Nguyễn Thị Hằng" in refused.value.message


def test_retry_of_a_recorded_payment_returns_it_after_the_shift_closed(
    db: Database, clerk: Actor, supervisor: Actor, person: ParticipantView
) -> None:
    open_shift(db, by=clerk, total=0)
    req = bhyt(person)
    paid = record_payment(db, req, by=clerk)
    close_shift(db, by=clerk, counts={}, reason="chưa đếm tiền", supervisor=supervisor)
    again = record_payment(db, req, by=clerk)
    assert again.receipt_number == paid.receipt_number


def test_drop_needs_a_supervisor_a_reason_and_cash_in_the_drawer(
    db: Database, clerk: Actor, supervisor: Actor, person: ParticipantView
) -> None:
    open_shift(db, by=clerk, counts={500_000: 2})
    paid = record_payment(db, bhyt(person), by=clerk)
    with pytest.raises(PermissionDenied):
        cash_move(
            db, event="drop", amount=500_000, reason="nộp két giữa ca", supervisor=clerk, by=clerk
        )
    with pytest.raises(ValidationError, match="lý do"):
        cash_move(db, event="drop", amount=500_000, reason="  ", supervisor=supervisor, by=clerk)
    with pytest.raises(ValidationError, match="lớn hơn tiền trong ngăn kéo"):
        cash_move(
            db,
            event="drop",
            amount=1_000_000 + paid.amount + 1,
            reason="nộp két giữa ca",
            supervisor=supervisor,
            by=clerk,
        )
    after = cash_move(
        db, event="drop", amount=800_000, reason="nộp két giữa ca", supervisor=supervisor, by=clerk
    )
    after = cash_move(
        db, event="pickup", amount=100_000, reason="đổi tiền lẻ", supervisor=supervisor, by=clerk
    )
    assert (after.drops, after.pickups) == (800_000, 100_000)
    assert after.expected == 1_000_000 + paid.amount - 800_000 + 100_000
    assert [m.supervisor for m in after.moves] == ["giamsat", "giamsat"]


def test_void_in_the_shift_refunds_from_the_drawer(
    db: Database, clerk: Actor, supervisor: Actor, person: ParticipantView
) -> None:
    open_shift(db, by=clerk, counts={500_000: 2})
    paid = record_payment(db, bhyt(person), by=clerk)
    void_payment(
        db, receipt_number=paid.receipt_number, reason="nhập sai người", supervisor=supervisor
    )
    now = current_shift(db)
    assert now is not None
    assert (now.voids, now.void_total) == (1, paid.amount)
    assert now.expected == 1_000_000


def test_no_void_without_an_open_shift_and_the_next_shift_refunds(
    db: Database, admin: Actor, clerk: Actor, supervisor: Actor, person: ParticipantView
) -> None:
    """The cash handed back leaves a drawer: with no shift open the void is refused and nothing
    is written; the next shift (another cashier's too) pays the refund and counts it."""
    _closed_shift(db, clerk, person)
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(UserFacingError, match=r"Chưa mở ca.*biên lai số 1"):
        void_payment(db, receipt_number=1, reason="nhập sai người", supervisor=supervisor)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == before
    open_shift(db, by=add_staff(db, admin, OTHER), counts={500_000: 2})
    voided = void_payment(db, receipt_number=1, reason="nhập sai người", supervisor=supervisor)
    now = current_shift(db)
    assert now is not None
    assert (now.voids, now.void_total) == (1, voided.amount)
    assert now.expected == 1_000_000 - voided.amount
    assert verify_ledger(db).ok


def test_verify_finds_a_void_outside_any_shift(
    db: Database, db_path: Path, clerk: Actor, supervisor: Actor, person: ParticipantView
) -> None:
    """A void sealed after the close (possible only by editing the shifts table so the guard
    saw an open shift) is named."""
    shift_id = _closed_shift(db, clerk, person)
    _raw(db_path, "UPDATE shifts SET close_seq = NULL WHERE id = ?", shift_id)
    voided = void_payment(db, receipt_number=1, reason="nhập sai người", supervisor=supervisor)
    found = verify_ledger(db).findings
    outside = [f for f in found if f.kind == "void_outside_shift"]
    with db.read() as s:
        void_seq = s.scalar(select(func.max(LedgerEntry.seq)))
    assert voided.voided and [f.record for f in outside] == [void_seq]


def test_close_exact_count_needs_no_reason(
    db: Database, clerk: Actor, person: ParticipantView
) -> None:
    open_shift(db, by=clerk, counts={500_000: 2})
    record_payment(db, bhyt(person), by=clerk)  # BHYT member 1, 3 months
    expected = current_shift(db).expected  # type: ignore[union-attr]
    closed = close_shift(db, by=clerk, counts=exact(expected))
    assert (closed.counted, closed.difference, closed.reason) == (expected, 0, None)
    assert closed.unsynced_at_close == 1 and closed.payments == 1
    assert current_shift(db) is None
    assert verify_ledger(db).ok


def test_close_difference_needs_reason_and_above_threshold_a_supervisor(
    db: Database, clerk: Actor, supervisor: Actor, admin: Actor
) -> None:
    open_shift(db, by=clerk, counts={500_000: 2})
    assert difference_threshold(db) == DEFAULT_THRESHOLD
    with pytest.raises(ValidationError, match="Lý do chênh lệch"):
        close_shift(
            db, by=clerk, counts={500_000: 1, 200_000: 2, 50_000: 1, 20_000: 2}
        )  # 10.000 đ short
    with pytest.raises(UserFacingError, match="cần giám sát xác nhận"):
        close_shift(db, by=clerk, counts={500_000: 1, 200_000: 2}, reason="thiếu tiền lẻ")
    with pytest.raises(PermissionDenied):
        close_shift(db, by=clerk, counts={500_000: 1}, reason="thiếu tiền lẻ", supervisor=clerk)
    set_difference_threshold(db, 200_000, by=admin)
    closed = close_shift(db, by=clerk, counts={500_000: 1, 200_000: 2}, reason="thiếu tiền lẻ")
    assert (closed.expected, closed.counted, closed.difference) == (1_000_000, 900_000, -100_000)
    assert closed.supervisor is None and closed.reason == "thiếu tiền lẻ"


def test_close_of_another_cashiers_shift_needs_a_supervisor(
    db: Database, clerk: Actor, supervisor: Actor, admin: Actor
) -> None:
    open_shift(db, by=clerk, total=0)
    other = add_staff(db, admin, OTHER)
    with pytest.raises(PermissionDenied, match="cần giám sát"):
        close_shift(db, by=other, counts={})
    closed = close_shift(db, by=other, counts={}, supervisor=supervisor)
    assert (closed.cashier, closed.closed_by, closed.supervisor) == (
        "thungan1",
        "thungan2",
        "giamsat",
    )
    # Handover: the next cashier opens their own shift and takes payments in it.
    opened = open_shift(db, by=other, total=0)
    assert opened.cashier == "thungan2"


def test_shift_records_are_signed_chained_and_queued_for_sync(
    db: Database, clerk: Actor, supervisor: Actor, person: ParticipantView
) -> None:
    open_shift(db, by=clerk, counts={500_000: 2})
    record_payment(db, bhyt(person), by=clerk)
    cash_move(
        db, event="drop", amount=500_000, reason="nộp két giữa ca", supervisor=supervisor, by=clerk
    )
    closed = close_shift(
        db, by=clerk, counts={500_000: 3}, reason="thừa tiền khách gửi", supervisor=supervisor
    )
    _, key = ledger_key(db)
    batch = pending_batch(db, 10)
    kinds = [(r.record.kind, r.record.body.get("event")) for r in batch.records]
    assert kinds == [("shift", "open"), ("payment", None), ("shift", "drop"), ("shift", "close")]
    for r in batch.records:
        assert check_record(key, r.record) is None
    close_body = batch.records[-1].record.body
    assert (
        close_body["expected"] == closed.expected and close_body["difference"] == closed.difference
    )
    assert close_body["supervisor"] == "giamsat" and close_body["unsynced"] == 1
    # The hash over the shift's records: their chain hashes, open to the one before the close.
    assert close_body["records_hash"] == records_hash([r.record.hash for r in batch.records[:-1]])
    assert verify_ledger(db).ok
    with db.read() as s:
        assert s.scalar(select(OutboxItem.kind).where(OutboxItem.ledger_seq == 4)) == "shift"


def test_z_report_prints_are_counted(db: Database, clerk: Actor) -> None:
    opened = open_shift(db, by=clerk, total=0)
    with pytest.raises(UserFacingError, match="ca đã đóng"):
        record_zreport_print(db, opened.id, by=clerk)
    close_shift(db, by=clerk, counts={})
    assert [record_zreport_print(db, opened.id, by=clerk) for _ in range(3)] == [1, 2, 3]
    assert get_shift(db).id == opened.id
    assert get_shift(db, opened.id[:8]).id == opened.id


# --- verify: the shifts table is a view of the signed records ----------------------------------


def _closed_shift(db: Database, clerk: Actor, person: ParticipantView) -> str:
    open_shift(db, by=clerk, counts={500_000: 2})
    paid = record_payment(db, bhyt(person), by=clerk)
    shift = close_shift(
        db, by=clerk, counts=exact(1_000_000 + paid.amount - 10_000), reason="thiếu tiền lẻ"
    )
    return shift.id


def _raw(db_path: Path, sql: str, *args: object) -> None:
    con = sqlite3.connect(db_path)
    con.execute(sql, args)
    con.commit()
    con.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [("counted", 1), ("float_amount", 5), ("expected", 0), ("difference", 0), ("cashier", "x")],
)
def test_verify_names_an_edited_shift_column(
    db: Database, db_path: Path, clerk: Actor, person: ParticipantView, column: str, value: object
) -> None:
    shift_id = _closed_shift(db, clerk, person)
    _raw(db_path, f"UPDATE shifts SET {column} = ? WHERE id = ?", value, shift_id)
    report = verify_ledger(db)
    assert [(f.kind, f.column) for f in report.findings] == [("column_mismatch", column)]
    assert "shifts" in report.findings[0].message


def test_verify_finds_a_deleted_or_reopened_shift_row(
    db: Database, db_path: Path, clerk: Actor, person: ParticipantView
) -> None:
    shift_id = _closed_shift(db, clerk, person)
    _raw(db_path, "UPDATE shifts SET close_seq = NULL, closed_at = NULL WHERE id = ?", shift_id)
    kinds = {(f.kind, f.column) for f in verify_ledger(db).findings}
    assert ("column_mismatch", "close_seq") in kinds
    _raw(db_path, "DELETE FROM shifts WHERE id = ?", shift_id)
    assert [f.kind for f in verify_ledger(db).findings] == ["row_missing"]


def test_verify_finds_a_payment_outside_the_shift(
    db: Database, db_path: Path, clerk: Actor, person: ParticipantView
) -> None:
    """A payment sealed after the close (made possible only by editing the shifts table so the
    guard saw an open shift) is named."""
    shift_id = _closed_shift(db, clerk, person)
    _raw(db_path, "UPDATE shifts SET close_seq = NULL WHERE id = ?", shift_id)
    late = record_payment(db, bhyt(person), by=clerk)
    found = verify_ledger(db).findings
    outside = [f for f in found if f.kind == "payment_outside_shift"]
    assert [f.record for f in outside] == [late.ledger_seq]


def test_verify_recomputes_the_signed_close(
    db: Database, clerk: Actor, person: ParticipantView
) -> None:
    shift_id = _closed_shift(db, clerk, person)
    with db.read() as s:
        shift = s.get(Shift, shift_id)
        assert shift is not None and shift.close_seq is not None
        entry = s.get(LedgerEntry, shift.close_seq)
        assert entry is not None and entry.body is not None
        body = stored_body(entry.body)
    assert body is not None
    assert body["event"] == "close" and body["difference"] == -10_000
    assert json.loads(entry.body)["records_hash"] == shift.records_hash


def test_a_difference_below_the_smallest_note_needs_no_reason(db: Database, clerk: Actor) -> None:
    """Contributions are computed to the đồng; what no note makes up (< 100 đ) is signed as it
    is, without a reason."""
    open_shift(db, by=clerk, total=1_000_020)
    closed = close_shift(db, by=clerk, counts=exact(1_000_000))
    assert (closed.difference, closed.reason) == (-20, None)
    assert verify_ledger(db).ok
