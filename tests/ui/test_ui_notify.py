"""The window sends payer notices in the background (docs/NOTIFY.md): a payment taken at the
counter reaches a real SMS gateway on 127.0.0.1 without anyone pressing anything, and a gateway
that does not answer never holds up the next payment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.notify.outbox import list_notifications
from app.services.participants import ParticipantInput, create_participant
from tests.notify.conftest import enable
from tests.notify.gateway import FakeGateway
from tests.sync import conftest as sync_fixtures
from tests.sync.conftest import Counter
from tests.ui.conftest import CASHIER_PASSWORD, wait_ops
from tests.ui.test_ui_changes import bhyt_request
from tests.ui.test_ui_sync import signed_in
from ui.qt.operations import payments

central = sync_fixtures.central
counter = sync_fixtures.counter
cheap_password_hashing = sync_fixtures.cheap_password_hashing


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    yield gw
    gw.close()


def _with_phone(counter: Counter) -> Counter:
    payer = create_participant(
        counter.db,
        ParticipantInput(full_name="Đỗ Thị Lan", ma_so_bhxh="0198765432", phone="0912345678"),
        by=counter.cashier,
    )
    counter.payer = payer
    return counter


def test_a_payment_sms_goes_out_in_the_background(
    qtbot: Any, make_window: Any, counter: Counter, gateway: FakeGateway
) -> None:
    enable(counter.db, counter.admin, gateway.url)
    _with_phone(counter)
    window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    qtbot.waitUntil(lambda: window._notify is not None, timeout=10_000)

    recorded: list[Any] = []
    payments.record(window, window.state, bhyt_request(counter)).success(recorded.append).run()
    wait_ops(qtbot)
    assert recorded, "the payment was recorded"
    qtbot.waitUntil(lambda: len(gateway.state.delivered) == 1, timeout=15_000)
    assert recorded[0].confirmation_code.replace("-", "") in str(
        gateway.state.delivered[0]
    ).replace("-", "")
    qtbot.waitUntil(
        lambda: [m.state for m in list_notifications(counter.db)] == ["sent"], timeout=10_000
    )


def test_a_silent_gateway_never_holds_up_the_counter(
    qtbot: Any, make_window: Any, counter: Counter, gateway: FakeGateway
) -> None:
    gateway.state.default = "timeout:3"  # answers only after the sender gave up
    enable(counter.db, counter.admin, gateway.url)
    _with_phone(counter)
    window = signed_in(qtbot, make_window, "thungan1", CASHIER_PASSWORD)
    qtbot.waitUntil(lambda: window._notify is not None, timeout=10_000)

    done: list[Any] = []
    for _ in range(2):
        payments.record(window, window.state, bhyt_request(counter)).success(done.append).run()
        wait_ops(qtbot)
    assert len(done) == 2  # both payments recorded while the first SMS hangs
    qtbot.waitUntil(lambda: len(gateway.state.requests) >= 1, timeout=15_000)
    states = {m.state for m in list_notifications(counter.db)}
    assert states <= {"queued", "sending", "retrying", "unknown", "sent"}
