"""Counter side of issue 10: local inputs never rewrite what is settled, request ids carry
their content, exports are safe to open, text fields refuse control characters."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from app.domain.text import check_text, spreadsheet_safe
from app.domain.types import Scheme, Sex
from app.errors import UserFacingError, ValidationError
from app.services.common import Actor
from app.services.documents import daily_summary
from app.services.participants import (
    ParticipantInput,
    create_participant,
    find_by_identifier,
    import_participants_csv,
)
from app.services.payments import PaymentRequest, record_payment
from app.storage.db import Database
from app.storage.models import AuditEvent
from printing.xn01 import render_xn01_csv, render_xn01_xlsx

HEADER = "Họ và tên,Ngày sinh,Giới tính,CCCD,Mã số BHXH,Địa chỉ\n"
KNOWN = ParticipantInput(
    full_name="Nguyễn Thị Hằng",
    date_of_birth=date(1978, 5, 2),
    sex=Sex.FEMALE,
    cccd="001178012345",
    ma_so_bhxh="0101234567",
    address="Xóm Trại",
)


def _csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "ds.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_never_changes_a_settled_code_name_or_birth_date(
    db: Database, cashier: Actor, tmp_path: Path
) -> None:
    create_participant(db, KNOWN, by=cashier)
    attempts = [
        ("Nguyễn Thị Hằng,02/05/1978,Nữ,001178012345,0109999999,", "Mã số BHXH"),
        ("Trần Văn Giả,02/05/1978,Nữ,001178012345,0101234567,", "Họ và tên"),
        ("Nguyễn Thị Hằng,03/05/1978,Nữ,001178012345,0101234567,", "Ngày sinh"),
    ]
    for row, field in attempts:
        result = import_participants_csv(db, _csv(tmp_path, row + "\n"), by=cashier)
        assert result.created == result.updated == 0
        assert [line for line, _ in result.errors] == [2]
        assert field in result.errors[0][1] or "cơ quan BHXH" in result.errors[0][1]
    after = find_by_identifier(db, "001178012345")
    assert after is not None
    assert (after.ma_so_bhxh, after.full_name, after.date_of_birth) == (
        "0101234567",
        "Nguyễn Thị Hằng",
        date(1978, 5, 2),
    )


def test_blank_cells_keep_values_and_the_audit_lists_each_change(
    db: Database, cashier: Actor, tmp_path: Path
) -> None:
    p = create_participant(db, KNOWN, by=cashier)
    # no mã số, no date of birth in the file: they are kept, not cleared; the address changes
    result = import_participants_csv(
        db, _csv(tmp_path, "Nguyễn Thị Hằng,,Nữ,001178012345,,Xóm Mới\n"), by=cashier
    )
    assert (result.created, result.updated, result.errors) == (0, 1, ())
    after = find_by_identifier(db, "0101234567")
    assert after is not None and after.address == "Xóm Mới"
    assert after.date_of_birth == date(1978, 5, 2)
    with db.read() as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "participant.update", AuditEvent.subject == p.id
            )
        ).all()
    (event,) = events
    assert json.loads(event.details)["changed"] == {"address": ["Xóm Trại", "Xóm Mới"]}


def test_same_cccd_twice_in_one_file_names_both_lines(
    db: Database, cashier: Actor, tmp_path: Path
) -> None:
    body = (
        "Lê Văn Tám,01/01/1990,Nam,001090000001,,\n"
        "Phạm Thị Mai,02/02/1992,Nữ,001192000002,,\n"
        "Lê Văn Tám B,01/01/1990,Nam,001090000001,,\n"
    )
    result = import_participants_csv(db, _csv(tmp_path, body), by=cashier)
    assert result.created == 0
    assert [line for line, _ in result.errors] == [4]
    assert "dòng 2" in result.errors[0][1] and "dòng 4" in result.errors[0][1]
    assert find_by_identifier(db, "001192000002") is None  # nothing half-imported


def _payer(db: Database, cashier: Actor) -> str:
    return create_participant(db, KNOWN, by=cashier).id


def test_request_id_reused_with_other_content_is_refused(db: Database, cashier: Actor) -> None:
    pid = _payer(db, cashier)
    base = PaymentRequest(
        client_request_id="req-1",
        participant_id=pid,
        scheme=Scheme.BHYT_HGD,
        months=12,
        member_order=1,
    )
    first = record_payment(db, base, by=cashier)
    assert record_payment(db, base, by=cashier).receipt_number == first.receipt_number
    from dataclasses import replace

    for changed in (
        replace(base, months=6),
        replace(base, member_order=2),
        replace(base, scheme=Scheme.BHXH_TN, income=1_500_000, member_order=None),
        replace(base, tendered=10_000_000),
    ):
        with pytest.raises(UserFacingError, match="Mã yêu cầu req-1"):
            record_payment(db, changed, by=cashier)


@pytest.mark.parametrize(
    "bad",
    ["Nguyễn\u202eVăn", "Lê\u200bHồng", "Trần\u200dAn", "Đỗ\tMai", "Vũ\x00Lan", "Hà\x1bB"],
)
def test_names_refuse_control_rtl_and_zero_width(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_text(bad, "full_name", "Họ và tên", name=True)
    assert caught.value.field == "full_name" and "U+" in caught.value.message


def test_address_and_reason_refuse_control_characters(db: Database, cashier: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        create_participant(
            db,
            ParticipantInput(
                full_name="Nguyễn Văn A",
                ma_so_bhxh="0101234500",
                address='Thôn 1\r\n=HYPERLINK("x")',
            ),
            by=cashier,
        )
    assert caught.value.field == "address"
    check_text("Thôn Đông, xã Hóa Thượng", "address", "Địa chỉ")  # ordinary text passes


def test_xn01_csv_and_xlsx_neutralise_formula_cells(db: Database, cashier: Actor) -> None:
    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_safe(lead + "1+1") == "'" + lead + "1+1"
    assert spreadsheet_safe(-5) == -5
    pid = _payer(db, cashier)
    # a name cannot start with "=" any more, but a stored one (older data) must still be safe
    with db.write() as s:
        from app.storage.models import Participant

        p = s.scalar(select(Participant).where(Participant.id == pid))
        assert p is not None
        p.full_name = '=HYPERLINK("http://x","y")'
    paid = record_payment(
        db,
        PaymentRequest("r-x", pid, Scheme.BHYT_HGD, months=12, member_order=1),
        by=cashier,
    )
    report = daily_summary(db, paid.business_date)
    rows = list(csv.reader(io.StringIO(render_xn01_csv(report).decode("utf-8-sig"))))
    assert any('\'=HYPERLINK("http://x","y")' in r for r in rows)
    assert not any(cell.startswith("=") for r in rows for cell in r)
    book = openpyxl.load_workbook(io.BytesIO(render_xn01_xlsx(report)))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert '\'=HYPERLINK("http://x","y")' in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_the_edit_screen_keeps_what_vss_settled(db: Database, cashier: Actor) -> None:
    """The edit service applies the import's rule: with a mã số BHXH, name and date of birth
    are VSS's; other fields (phone, address) may still be corrected."""
    from dataclasses import replace

    from app.services.participants import create_participant, update_participant
    from tests.support.counters import PAYER

    p = create_participant(db, PAYER, by=cashier)
    for change in (
        {"full_name": "Lê Thị Mỹ Dao"},
        {"date_of_birth": date(1985, 3, 15)},
        {"ma_so_bhxh": "0123456780"},
    ):
        with pytest.raises(ValidationError) as refused:
            update_participant(db, p.id, replace(PAYER, **change), by=cashier)  # type: ignore[arg-type]
        assert refused.value.field == next(iter(change))
    moved = update_participant(db, p.id, replace(PAYER, phone="0987654321"), by=cashier)
    assert moved.phone == "0987654321" and moved.full_name == PAYER.full_name


def test_names_printed_on_receipts_refuse_control_characters(db: Database) -> None:
    """Organisation, collection point and operator names reach every receipt and 01-XN file."""
    from app.services.counter import init_counter
    from tests.support.counters import ADMIN_PASSWORD

    for field, value in (
        ("organisation", "Bưu điện\x07 tỉnh"),
        ("collection_point", "Điểm thu \u202eĐồng Hỷ"),
        ("full_name", "Quản\u200b Trị"),
    ):
        args = {
            "organisation": "Bưu điện tỉnh Thái Nguyên",
            "collection_point": "Điểm thu Đồng Hỷ",
            "full_name": "Đặng Văn Quản",
            field: value,
        }
        with pytest.raises(ValidationError) as refused:
            init_counter(
                db,
                organisation=args["organisation"],
                collection_point=args["collection_point"],
                counter_code="TN-DH09",
                admin_username="quantri",
                admin_full_name=args["full_name"],
                admin_password=ADMIN_PASSWORD,
            )
        assert refused.value.field == field
