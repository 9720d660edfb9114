"""A counter to test against, built through the real services: the one set of made-up names,
staff and passwords that the test fixtures, the benchmarks and the screenshot script share.

Nothing here is pytest-specific, so benches and scripts import it as well as conftests.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher

from app.domain import passwords
from app.domain.types import Role, Scheme, Sex
from app.services.common import Actor
from app.services.counter import init_counter
from app.services.operators import authenticate, change_password, create_operator
from app.services.participants import ParticipantInput, create_participant
from app.services.payments import PaymentRequest, record_payment
from app.services.shifts import current_shift, open_shift
from app.storage.db import Database

ORGANISATION = "Bưu điện tỉnh Thái Nguyên"
COLLECTION_POINT = "Điểm thu Bưu điện xã Đồng Hỷ"
COUNTER_CODE = "TN-DH01"
ADMIN_USERNAME = "quantri"
ADMIN_FULL_NAME = "Đặng Văn Quản"
ADMIN_PASSWORD = "songcau-tn-2026"


@dataclass(frozen=True)
class Staff:
    username: str
    full_name: str
    role: Role
    password: str


CASHIER = Staff("thungan1", "Nguyễn Thị Hằng", Role.CASHIER, "hoasen-quay1-26")
SUPERVISOR = Staff("giamsat", "Trần Đức Giám", Role.SUPERVISOR, "nuicoc-kiemtra-26")

PAYER = ParticipantInput(
    full_name="Lê Thị Mỹ Đào",
    date_of_birth=date(1985, 3, 14),
    sex=Sex.FEMALE,
    cccd="019185001234",
    ma_so_bhxh="0123456789",
    phone="0912345678",
)
"""The usual payer: a woman with a CCCD and a mã số BHXH."""


def init_test_counter(
    db: Database,
    *,
    counter_code: str = COUNTER_CODE,
    collection_point: str = COLLECTION_POINT,
    admin_password: str = ADMIN_PASSWORD,
) -> Actor:
    """Initialise `db` as a counter; returns its first admin."""
    _, admin = init_counter(
        db,
        organisation=ORGANISATION,
        collection_point=collection_point,
        counter_code=counter_code,
        admin_username=ADMIN_USERNAME,
        admin_full_name=ADMIN_FULL_NAME,
        admin_password=admin_password,
    )
    return admin


def first_password(staff: Staff) -> str:
    """The password an admin gives `staff` when making the account (owed a change)."""
    return f"{staff.password}-dau"


def add_staff(db: Database, admin: Actor, staff: Staff, *, log_in: bool = True) -> Actor:
    """Create the account (with a first password the admin chose) and let its owner change it to
    `staff.password`, as at their first sign-in; with `log_in` the actor comes from a real login
    (as the window's)."""
    view = create_operator(
        db,
        username=staff.username,
        full_name=staff.full_name,
        role=staff.role,
        password=first_password(staff),
        by=admin,
    )
    change_password(db, staff.username, first_password(staff), staff.password)
    if log_in:
        return authenticate(db, staff.username, staff.password)
    return Actor(view.id, view.username, view.full_name, view.role)


TEST_FLOAT = 1_000_000
"""The float a test shift opens with (đ): two 500.000 đ notes."""


def open_test_shift(db: Database, by: Actor) -> None:
    """Open `by`'s shift on the counter (payments need one, docs/SHIFTS.md), unless `by`
    already holds the open shift."""
    held = current_shift(db)
    if held is None or held.operator_id != by.id:
        open_shift(db, by=by, counts={500_000: 2})


def cheap_password_hasher() -> PasswordHasher:
    """argon2 at its lowest cost: for set-ups that create accounts but do not test hashing."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@contextmanager
def cheap_password_hashing() -> Iterator[None]:
    previous = passwords._hasher
    passwords._hasher = cheap_password_hasher()
    try:
        yield
    finally:
        passwords._hasher = previous


_NAMES = ("An", "Bình", "Chi", "Dũng", "Hà", "Hằng", "Lan", "Minh", "Nam", "Đào")


def seed_payments(db: Database, by: Actor, n: int) -> float:
    """Record `n` BHYT payments for 100 payers through record_payment; returns seconds taken
    (the payers' creation not included)."""
    payers = [
        create_participant(
            db,
            ParticipantInput(
                full_name=f"Người Nộp {_NAMES[i % 10]} {_NAMES[i // 10]}",
                ma_so_bhxh=f"79{i:08d}",
            ),
            by=by,
        )
        for i in range(100)
    ]
    open_test_shift(db, by)
    t0 = time.perf_counter()
    for i in range(n):
        record_payment(
            db,
            PaymentRequest(
                client_request_id=str(uuid.uuid4()),
                participant_id=payers[i % len(payers)].id,
                scheme=Scheme.BHYT_HGD,
                member_order=1 + i % 5,
                months=3,  # no start month: each card runs on from the one before
            ),
            by=by,
        )
    return time.perf_counter() - t0
