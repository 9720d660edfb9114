from __future__ import annotations

from datetime import date

import pytest

from app.domain.types import Role, Sex
from app.services.common import Actor
from app.services.operators import authenticate, create_operator
from app.services.participants import ParticipantInput, ParticipantView, create_participant
from app.storage.db import Database


@pytest.fixture
def cashier(db: Database, admin: Actor) -> Actor:
    create_operator(
        db,
        username="thungan1",
        full_name="Nguyễn Thị Hằng",
        role=Role.CASHIER,
        password="thungan-pass",
        by=admin,
    )
    return authenticate(db, "thungan1", "thungan-pass")


@pytest.fixture
def supervisor(db: Database, admin: Actor) -> Actor:
    create_operator(
        db,
        username="giamsat",
        full_name="Trần Đức Giám",
        role=Role.SUPERVISOR,
        password="giamsat-pass",
        by=admin,
    )
    return authenticate(db, "giamsat", "giamsat-pass")


@pytest.fixture
def payer(db: Database, cashier: Actor) -> ParticipantView:
    return create_participant(
        db,
        ParticipantInput(
            full_name="Lê Thị Mỹ Đào",
            date_of_birth=date(1985, 3, 14),
            sex=Sex.FEMALE,
            cccd="019185001234",
            ma_so_bhxh="0123456789",
            phone="0912345678",
        ),
        by=cashier,
    )
