"""Setting up a counter: its identity, its signing key (in the keyring), its first admin.

`init_counter` is the one way a database becomes a working counter; it runs once. The signing key
is made here and stored only in the OS keyring; the database holds the counter's id, by which
the key is found.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain.clock import now_utc
from app.domain.rates import load_default_rate_table
from app.domain.text import check_text
from app.domain.types import Role
from app.errors import UserFacingError, ValidationError
from app.secrets import make_signing_key, store_signing_key
from app.services.common import Actor, actor_of
from app.services.masterdata import seal_counter, seal_operator
from app.services.operators import validate_account
from app.services.pricing_state import seal_unsealed_pricing
from app.services.queries import add_operator_row, audit, install_table, require_counter
from app.services.sealing import provide_key
from app.storage.db import Database
from app.storage.models import Counter

_CODE = re.compile(r"^[A-Z0-9-]{2,20}$")


@dataclass(frozen=True)
class CounterView:
    counter_id: str
    counter_code: str
    organisation: str
    collection_point: str
    receipt_series: str
    created_at: datetime
    central_url: str | None
    central_counter_id: str | None


def _view(c: Counter) -> CounterView:
    return CounterView(
        c.counter_id,
        c.counter_code,
        c.organisation,
        c.collection_point,
        c.receipt_series,
        c.created_at,
        c.central_url,
        c.central_counter_id,
    )


def init_counter(
    db: Database,
    *,
    organisation: str,
    collection_point: str,
    counter_code: str,
    admin_username: str,
    admin_full_name: str,
    admin_password: str,
    receipt_series: str | None = None,
    central_url: str | None = None,
) -> tuple[CounterView, Actor]:
    # Printed on every receipt and report: one line, no control or invisible characters.
    organisation = check_text(
        " ".join(organisation.split()), "organisation", "Tên tổ chức dịch vụ thu", name=True
    )
    collection_point = check_text(
        " ".join(collection_point.split()), "collection_point", "Tên điểm thu", name=True
    )
    counter_code = counter_code.strip().upper()
    if not organisation:
        raise ValidationError(
            "organisation", "Tên tổ chức dịch vụ thu", "không được để trống", rule_en="required"
        )
    if not collection_point:
        raise ValidationError(
            "collection_point", "Tên điểm thu", "không được để trống", rule_en="required"
        )
    if not _CODE.match(counter_code):
        raise ValidationError(
            "counter_code",
            "Mã quầy",
            "gồm 2–20 chữ in hoa không dấu, chữ số hoặc gạch ngang",
            rule_en="2-20 of A-Z, 0-9, '-'",
        )
    series = (receipt_series or counter_code).strip().upper()
    if not _CODE.match(series):
        raise ValidationError(
            "receipt_series",
            "Ký hiệu biên lai",
            "gồm 2–20 chữ in hoa không dấu, chữ số hoặc gạch ngang",
            rule_en="2-20 of A-Z, 0-9, '-'",
        )
    validate_account(admin_username, admin_full_name, admin_password)
    with db.write() as session:
        if session.scalar(select(Counter).where(Counter.id == 1)) is not None:
            raise UserFacingError(
                "Cơ sở dữ liệu này đã được khởi tạo cho một quầy; không khởi tạo lại.",
                message_en="this database already belongs to a counter",
            )
        counter = Counter(
            id=1,
            counter_id=str(uuid.uuid4()),
            counter_code=counter_code,
            organisation=organisation,
            collection_point=collection_point,
            receipt_series=series,
            created_at=now_utc(),
            central_url=central_url or None,
            central_counter_id=None,
        )
        session.add(counter)
        key = make_signing_key()  # seals the audit entries below; stored in the keyring last
        provide_key(session, counter.counter_id, key, new=True)
        admin_row = add_operator_row(
            session, admin_username, admin_full_name, Role.ADMIN, admin_password
        )
        admin = actor_of(admin_row)
        # The names every receipt prints, sealed in the audit trail (app.services.masterdata).
        seal_counter(session, counter, actor=admin)
        seal_operator(session, admin_row, actor=admin)
        # No household, no central period yet: they are sealed from here on (pricing_state).
        seal_unsealed_pricing(session, actor=admin)
        install_table(session, load_default_rate_table(), source="shipped", by=admin)
        audit(
            session,
            "counter.init",
            actor=admin,
            subject=counter.counter_id,
            counter_code=counter_code,
            organisation=organisation,
        )
        # The key goes to the keyring last: if anything above failed, no orphan key is left.
        # If storing the key fails, the transaction rolls back and nothing is half-initialised.
        store_signing_key(counter.counter_id, key)
        return _view(counter), admin


def get_counter(db: Database) -> CounterView:
    with db.read() as session:
        return _view(require_counter(session))


def is_initialised(db: Database) -> bool:
    with db.read() as session:
        return session.scalar(select(Counter).where(Counter.id == 1)) is not None


def update_counter_details(
    db: Database, *, organisation: str, collection_point: str, by: Actor
) -> CounterView:
    by.require(Role.ADMIN, action="sửa thông tin tổ chức")
    with db.write() as session:
        counter = require_counter(session)
        before = (counter.organisation, counter.collection_point)
        counter.organisation = " ".join(organisation.split()) or counter.organisation
        counter.collection_point = " ".join(collection_point.split()) or counter.collection_point
        seal_counter(session, counter, actor=by)
        audit(
            session,
            "counter.update",
            actor=by,
            subject=counter.counter_id,
            before=before,
            after=(counter.organisation, counter.collection_point),
        )
        return _view(counter)
