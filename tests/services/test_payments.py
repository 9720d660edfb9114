"""record_payment, void, reprint and verification on a real SQLite file."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from sqlalchemy import func, select

from app.domain.codes import normalise_code
from app.domain.types import PaymentMethod, Scheme, SupportCategory
from app.errors import ConfigurationError, PermissionDenied, UserFacingError, ValidationError
from app.secrets import forget_signing_keys
from app.services.common import Actor
from app.services.documents import daily_summary, receipt_data
from app.services.participants import ParticipantView
from app.services.payments import (
    PaymentRequest,
    PaymentView,
    get_payment,
    list_payments,
    preview_payment,
    record_payment,
    record_reprint,
    void_payment,
)
from app.services.verify import verify_ledger
from app.storage.db import Database
from app.storage.models import AuditEvent, LedgerEntry, OutboxItem, Payment

PAID_AT = datetime(2026, 11, 22, 3, 15, tzinfo=UTC)  # 10:15 in Hà Nội


def bhxh_request(payer: ParticipantView, **kw: object) -> PaymentRequest:
    base: dict[str, object] = dict(
        client_request_id=str(uuid.uuid4()),
        participant_id=payer.id,
        scheme=Scheme.BHXH_TN,
        income=1_500_000,
        support_category=SupportCategory.OTHER,
        method=PaymentMethod.YEARLY,
        start_month=date(2026, 12, 1),
    )
    base.update(kw)
    return PaymentRequest(**base)  # type: ignore[arg-type]


def monthly_series(
    db: Database, cashier: Actor, payer: ParticipantView, n: int
) -> list[PaymentView]:
    """`n` monthly payments a month apart, each continuing the last (no start month given)."""
    return [
        record_payment(
            db,
            bhxh_request(payer, start_month=None, method=PaymentMethod.MONTHLY, income=2_200_000),
            by=cashier,
            now=PAID_AT + timedelta(days=31 * k),
        )
        for k in range(n)
    ]


def test_worked_example_bhxh_tu_nguyen(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    view = record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    assert view.amount == 3_168_000
    assert view.gross_per_month == 330_000
    assert view.support_per_month == 66_000
    assert view.total_support == 792_000
    assert view.months == 12
    assert (view.period_from, view.period_to) == (date(2026, 12, 1), date(2027, 11, 30))
    assert view.receipt_number == 1
    assert view.business_date == date(2026, 11, 22)
    assert view.rate_version  # every payment records the rate version it used
    with db.read() as s:
        assert s.scalar(select(Payment.rate_version)) == view.rate_version


def test_worked_example_bhyt_ho_gia_dinh(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    req = PaymentRequest(
        client_request_id="req-bhyt-1",
        participant_id=payer.id,
        scheme=Scheme.BHYT_HGD,
        member_order=2,
        months=12,
    )
    view = record_payment(db, req, by=cashier, now=PAID_AT)
    assert view.amount == 884_520
    assert view.gross_per_month == 73_710
    # first enrolment: the card starts 30 days after payment
    assert view.period_from.month == 12 and view.period_from.year == 2026


def test_one_transaction_writes_everything(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    view = record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    with db.read() as s:
        # Record 1 opened the cashier's shift (docs/SHIFTS.md); the payment is record 2.
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "payment"))
        assert entry is not None and entry.record_id == view.id and entry.seq == 2
        outbox = s.scalar(select(OutboxItem).where(OutboxItem.kind == "payment"))
        assert outbox is not None and outbox.record_id == view.id and outbox.state == "pending"
        actions = s.scalars(select(AuditEvent.action)).all()
        assert "payment.record" in actions
    assert normalise_code(view.confirmation_code)  # well-formed, check symbol valid


def test_same_request_twice_returns_first_payment(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    req = bhxh_request(payer)
    first = record_payment(db, req, by=cashier, now=PAID_AT)
    again = record_payment(db, req, by=cashier, now=PAID_AT)
    assert again.id == first.id and again.receipt_number == first.receipt_number
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
        assert s.scalar(select(func.count()).where(OutboxItem.kind == "payment")) == 1


def test_receipt_numbers_are_gap_free_and_codes_differ(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    views = monthly_series(db, cashier, payer, 5)
    assert [v.receipt_number for v in views] == [1, 2, 3, 4, 5]
    assert len({v.confirmation_code for v in views}) == 5
    # without start_month each payment continues the participant's last period
    assert views[1].period_from == date(views[0].period_to.year + 1, 1, 1) or (
        views[1].period_from > views[0].period_to
    )
    assert [v.period_from.month for v in views] == [11, 12, 1, 2, 3]


def test_amount_changed_since_shown_is_refused(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    with pytest.raises(UserFacingError, match="đã thay đổi"):
        record_payment(db, bhxh_request(payer, expected_amount=3_000_000), by=cashier)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


def test_bad_income_names_field_and_saves_nothing(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    with pytest.raises(ValidationError) as err:
        record_payment(db, bhxh_request(payer, income=1_520_000), by=cashier, now=PAID_AT)
    assert err.value.field == "income"
    assert "Mức thu nhập" in err.value.message
    with db.read() as s:  # only the shift's opening record
        assert s.scalars(select(LedgerEntry.kind)).all() == ["shift"]


def test_tendered_less_than_due_refused(
    db: Database, cashier: Actor, payer: ParticipantView
) -> None:
    with pytest.raises(ValidationError, match="Tiền khách đưa"):
        record_payment(db, bhxh_request(payer, tendered=3_000_000), by=cashier, now=PAID_AT)
    view = record_payment(db, bhxh_request(payer, tendered=3_200_000), by=cashier, now=PAID_AT)
    assert view.change_due == 32_000


def test_missing_signing_key_saves_nothing(
    db: Database, cashier: Actor, payer: ParticipantView, memory_keyring: object
) -> None:
    keyring.get_keyring().entries.clear()  # type: ignore[attr-defined]
    forget_signing_keys()  # as a fresh process would be: the key is read once, then cached
    with pytest.raises(ConfigurationError, match="khóa ký"):
        record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.scalars(select(LedgerEntry.kind)).all() == ["shift"]  # the shift's opening


def test_void_by_supervisor_is_a_new_chained_record(
    db: Database, cashier: Actor, supervisor: Actor, payer: ParticipantView
) -> None:
    view = record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    voided = void_payment(
        db,
        receipt_number=view.receipt_number,
        reason="Thu nhầm người",
        supervisor=supervisor,
        requested_by=cashier,
    )
    assert voided.voided and voided.void_reason == "Thu nhầm người"
    assert voided.amount == view.amount  # the payment itself is untouched
    with db.read() as s:
        kinds = s.scalars(select(LedgerEntry.kind).order_by(LedgerEntry.seq)).all()
        assert kinds == ["shift", "payment", "void"]  # the shift's opening first
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 3
    assert verify_ledger(db).ok
    with pytest.raises(UserFacingError, match="đã bị hủy"):
        void_payment(db, receipt_number=1, reason="Hủy lần hai", supervisor=supervisor)


def test_cashier_cannot_void_and_reason_is_required(
    db: Database, cashier: Actor, supervisor: Actor, payer: ParticipantView
) -> None:
    record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    with pytest.raises(PermissionDenied, match="hủy khoản thu"):
        void_payment(db, receipt_number=1, reason="Thu nhầm người", supervisor=cashier)
    with pytest.raises(ValidationError) as err:
        void_payment(db, receipt_number=1, reason="  ", supervisor=supervisor)
    assert err.value.field == "reason"
    assert not get_payment(db, 1).voided


def test_ledger_tables_refuse_update_and_delete(
    db: Database, db_path: Path, cashier: Actor, payer: ParticipantView
) -> None:
    record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    con = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE payments SET amount = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM ledger")
    con.close()


def _tamper(db_path: Path, sql: str) -> None:
    """What a person with the file and a SQLite shell could do: drop the guard, then edit."""
    con = sqlite3.connect(db_path)
    for t in ("payments", "ledger"):
        con.execute(f"DROP TRIGGER IF EXISTS {t}_no_update")
        con.execute(f"DROP TRIGGER IF EXISTS {t}_no_delete")
    con.execute(sql)
    con.commit()
    con.close()


def test_verify_finds_edited_amount(
    db: Database, db_path: Path, cashier: Actor, payer: ParticipantView
) -> None:
    monthly_series(db, cashier, payer, 3)
    assert verify_ledger(db).ok
    _tamper(db_path, "UPDATE payments SET amount = 1000 WHERE receipt_number = 2")
    report = verify_ledger(db)
    assert not report.ok
    assert report.first_bad_seq == 3  # receipt 2 is record 3 (record 1 opened the shift)
    assert any("số 3" in p for p in report.problems)


def test_verify_finds_removed_record(
    db: Database, db_path: Path, cashier: Actor, payer: ParticipantView
) -> None:
    monthly_series(db, cashier, payer, 3)
    _tamper(db_path, "PRAGMA foreign_keys=OFF")
    con = sqlite3.connect(db_path)
    con.execute("DROP TRIGGER IF EXISTS payments_no_delete")
    con.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
    con.execute("DELETE FROM outbox WHERE ledger_seq = 2")
    con.execute("DELETE FROM payments WHERE receipt_number = 2")
    con.execute("DELETE FROM ledger WHERE seq = 2")
    con.commit()
    con.close()
    report = verify_ledger(db)
    assert report.first_bad_seq == 2
    assert any("thiếu bản ghi số 2" in p for p in report.problems)
    assert any("số biên lai bị nhảy" in p for p in report.problems)


def test_reprints_are_counted(db: Database, cashier: Actor, payer: ParticipantView) -> None:
    record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    assert record_reprint(db, 1, by=cashier) == 1
    assert record_reprint(db, 1, by=cashier) == 2
    assert get_payment(db, 1).reprints == 2
    data = receipt_data(db, 1, reprint_number=2)
    assert data.reprint_number == 2
    assert data.amount_words == "Ba triệu một trăm sáu mươi tám nghìn đồng"
    assert data.qr_payload.isascii()
    assert normalise_code(data.confirmation_code) in data.qr_payload


def test_daily_summary_by_business_day(
    db: Database, cashier: Actor, supervisor: Actor, payer: ParticipantView
) -> None:
    record_payment(db, bhxh_request(payer), by=cashier, now=PAID_AT)
    record_payment(
        db,
        PaymentRequest(
            client_request_id="bhyt",
            participant_id=payer.id,
            scheme=Scheme.BHYT_HGD,
            member_order=1,
            months=3,
        ),
        by=cashier,
        now=PAID_AT,
    )
    # 11/2026 paid monthly within the month (12/2026–11/2027 is paid already: not again)
    third = record_payment(
        db,
        bhxh_request(payer, method=PaymentMethod.MONTHLY, start_month=date(2026, 11, 1)),
        by=cashier,
        now=PAID_AT,
    )
    void_payment(
        db,
        receipt_number=third.receipt_number,
        reason="Khách đổi ý, trả lại tiền",
        supervisor=supervisor,
    )
    # 23:30 in Hà Nội on 22/11 is 16:30 UTC; 00:30 on 23/11 is 17:30 UTC on the 22nd.
    # the void freed 11/2026, so it can be paid again
    late = record_payment(
        db,
        bhxh_request(payer, method=PaymentMethod.MONTHLY, start_month=date(2026, 11, 1)),
        by=cashier,
        now=datetime(2026, 11, 22, 17, 30, tzinfo=UTC),
    )
    assert late.business_date == date(2026, 11, 23)

    report = daily_summary(db, date(2026, 11, 22))
    assert [r.stt for r in report.rows] == [1, 2, 3]
    assert [r.voided for r in report.rows] == [False, False, True]
    assert report.grand_total == 3_168_000 + 3 * 105_300
    assert report.grand_count == 2
    assert dict((t[0], t[2]) for t in report.totals_by_scheme) == {
        "BHXH tự nguyện": 3_168_000,
        "BHYT hộ gia đình": 315_900,
    }
    assert [p.receipt_number for p in list_payments(db, date(2026, 11, 23))] == [4]


def test_preview_matches_recorded(db: Database, cashier: Actor, payer: ParticipantView) -> None:
    req = bhxh_request(payer, support_category=SupportCategory.POOR, income=2_000_000)
    quote = preview_payment(db, req, now=PAID_AT)
    view = record_payment(db, req, by=cashier, now=PAID_AT)
    assert quote.total == view.amount
    # 22% × 2.000.000 = 440.000; support 50% × 22% × 1.500.000 = 165.000
    assert view.amount == 12 * (440_000 - 165_000)
