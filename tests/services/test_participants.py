"""Participants and operators on a real SQLite file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.types import Role, Sex, SupportCategory
from app.errors import PermissionDenied, UserFacingError, ValidationError
from app.services.common import Actor
from app.services.operators import authenticate, create_operator, list_operators
from app.services.participants import (
    ParticipantInput,
    create_participant,
    import_participants_csv,
    search_participants,
    update_participant,
)
from app.storage.db import Database
from app.storage.models import AuditEvent, Operator

FIRST_TIMER = ParticipantInput(
    full_name="Đặng Thị Đào",
    date_of_birth=date(2001, 7, 9),
    sex=Sex.FEMALE,
    cccd="034301000777",  # 3 = female, 2000s; 01 = born 2001
    address="Xóm Đồng, xã Hóa Thượng",
)


def test_first_time_participant_without_code(db: Database, cashier: Actor) -> None:
    view = create_participant(db, FIRST_TIMER, by=cashier)
    assert view.ma_so_bhxh is None and view.cccd == "034301000777"


def test_first_time_needs_cccd_and_matching_digits(db: Database, cashier: Actor) -> None:
    with pytest.raises(ValidationError) as err:
        create_participant(db, ParticipantInput(full_name="Trần Văn Ba"), by=cashier)
    assert err.value.field == "cccd" and "chưa có mã số BHXH" in err.value.message
    wrong_sex = ParticipantInput(
        full_name="Trần Văn Ba",
        date_of_birth=date(2001, 7, 9),
        sex=Sex.MALE,
        cccd="034301000777",
    )
    with pytest.raises(ValidationError) as err:
        create_participant(db, wrong_sex, by=cashier)
    assert err.value.field == "cccd" and "giới tính" in err.value.message


def test_duplicate_cccd_refused(db: Database, cashier: Actor) -> None:
    create_participant(db, FIRST_TIMER, by=cashier)
    with pytest.raises(ValidationError, match="đã thuộc về người tham gia Đặng Thị Đào"):
        create_participant(db, FIRST_TIMER, by=cashier)


def test_search_folds_diacritics_and_d(db: Database, cashier: Actor) -> None:
    create_participant(db, FIRST_TIMER, by=cashier)
    create_participant(
        db,
        ParticipantInput(
            full_name="Nguyễn Thị Hằng",
            ma_so_bhxh="0101234567",
            date_of_birth=date(1978, 5, 2),
            sex=Sex.FEMALE,
        ),
        by=cashier,
    )
    assert [p.full_name for p in search_participants(db, "dang thi d")] == ["Đặng Thị Đào"]
    assert [p.full_name for p in search_participants(db, "DANG dao")] == ["Đặng Thị Đào"]
    assert [p.full_name for p in search_participants(db, "nguyen thi hang")] == ["Nguyễn Thị Hằng"]
    assert [p.full_name for p in search_participants(db, "Nguyễn Thị H")] == ["Nguyễn Thị Hằng"]
    assert [p.full_name for p in search_participants(db, "0101")] == ["Nguyễn Thị Hằng"]
    assert [p.full_name for p in search_participants(db, "034301")] == ["Đặng Thị Đào"]
    assert search_participants(db, "hoang") == []
    assert search_participants(db, '"') == []  # FTS syntax in the input is not an error


def test_update_is_audited_and_reindexed(db: Database, cashier: Actor) -> None:
    view = create_participant(db, FIRST_TIMER, by=cashier)
    from dataclasses import replace

    updated = update_participant(
        db,
        view.id,
        replace(
            FIRST_TIMER,
            full_name="Đặng Thị Đào Hoa",
            phone="0912 345 678",
            support_category=SupportCategory.NEAR_POOR,
        ),
        by=cashier,
    )
    assert updated.phone == "0912345678"
    assert [p.id for p in search_participants(db, "dao hoa")] == [view.id]
    with db.read() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "participant.update"))
        assert event is not None
        changed = json.loads(event.details)["changed"]
        assert set(changed) == {"full_name", "phone", "support_category"}


def test_import_all_or_nothing(db: Database, cashier: Actor, tmp_path: Path) -> None:
    good = tmp_path / "ok.csv"
    good.write_text(
        "Họ và tên,Ngày sinh,Giới tính,CCCD,Mã số BHXH,Đối tượng\n"
        "Nguyễn Thị Hằng,02/05/1978,Nữ,001178012345,0101234567,Hộ cận nghèo\n",
        encoding="utf-8",
    )
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "ho_ten,ngay_sinh,gioi_tinh,cccd\n"
        "Lê Văn Tám,1990-01-01,Nam,001090000001\n"
        "Lê Văn Chín,1990-01-01,Nam,001190000001\n",  # 1 = female: does not match
        encoding="utf-8",
    )
    result = import_participants_csv(db, mixed, by=cashier)
    assert result.created == 0 and [line for line, _ in result.errors] == [3]
    assert search_participants(db, "le van") == []
    assert import_participants_csv(db, good, by=cashier).created == 1
    again = import_participants_csv(db, good, by=cashier)  # known code → update, not duplicate
    assert (again.created, again.updated) == (0, 1)
    hang = search_participants(db, "hang")[0]
    assert hang.support_category is SupportCategory.NEAR_POOR


def test_operators_argon2id_roles_and_failed_login_audit(db: Database, admin: Actor) -> None:
    view = create_operator(
        db,
        username="thungan",
        full_name="Thu Ngân",
        role=Role.CASHIER,
        password="mat-khau-dai",
        by=admin,
    )
    with db.read() as s:
        op = s.get(Operator, view.id)
        assert op is not None and op.password_hash.startswith("$argon2id$")
        assert "mat-khau-dai" not in op.password_hash
    cashier = authenticate(db, "thungan", "mat-khau-dai")
    assert cashier.role is Role.CASHIER
    with pytest.raises(UserFacingError, match="Sai tên đăng nhập hoặc mật khẩu"):
        authenticate(db, "thungan", "sai")
    with db.read() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    with pytest.raises(PermissionDenied):
        create_operator(
            db,
            username="khac",
            full_name="Khác",
            role=Role.ADMIN,
            password="mat-khau-dai",
            by=cashier,
        )
    with pytest.raises(ValidationError) as err:
        create_operator(
            db, username="ngan", full_name="Ngắn", role=Role.CASHIER, password="ngan", by=admin
        )
    assert err.value.field == "password"
    assert [o.username for o in list_operators(db)] == ["quantri", "thungan"]


def test_find_by_identifier_is_exact(db: Database, cashier: Actor) -> None:
    from app.services.participants import find_by_identifier

    view = create_participant(db, FIRST_TIMER, by=cashier)
    assert find_by_identifier(db, "034301000777") == view
    assert find_by_identifier(db, "0343 0100 0777") == view
    assert find_by_identifier(db, "034301") is None  # a prefix is a search, not an identifier
    assert find_by_identifier(db, "0343010007") is None  # no such mã số BHXH
