"""The status bar's rate notice: only when a newer table is due, acknowledged by a supervisor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.errors import PermissionDenied
from app.services.common import Actor
from app.services.rates import acknowledge_rate_notice, current_rate_table, rate_notice
from app.storage.db import Database


def test_no_notice_while_the_table_knows_a_coming_date(db: Database, admin: Actor) -> None:
    table = current_rate_table(db)
    coming = table.newest_effective_from()
    before = coming - timedelta(days=30)
    # The old rule alone (age of the newest row in force) would already warn here.
    assert (before - table.newest_effective_from(as_of=before)).days > 400
    assert rate_notice(db, before).text is None
    # Long after every date the table knows, a newer table should exist: say what and what to do.
    later = date(coming.year + 2, coming.month, coming.day)
    notice = rate_notice(db, later)
    assert notice.text is not None
    assert table.version in notice.text and "Đồng bộ ngay (F12)" in notice.text


def test_a_supervisor_acknowledges_a_cashier_cannot(
    db: Database, admin: Actor, cashier: Actor, supervisor: Actor
) -> None:
    coming = current_rate_table(db).newest_effective_from()
    later = date(coming.year + 2, coming.month, coming.day)
    notice = rate_notice(db, later)
    with pytest.raises(PermissionDenied):
        acknowledge_rate_notice(db, notice.version, by=cashier)
    assert rate_notice(db, later).text is not None
    acknowledge_rate_notice(db, notice.version, by=supervisor)
    assert rate_notice(db, later).text is None
