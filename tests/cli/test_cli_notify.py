"""`quaythu notify status | send | retry | resend` against a real SMS gateway on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from app.services.operators import authenticate
from app.storage.db import open_database
from tests.cli.conftest import ADMIN_PASSWORD, Cli
from tests.notify.conftest import enable
from tests.notify.gateway import FakeGateway

U = ("--user", "quantri")


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    yield gw
    gw.close()


@pytest.fixture
def paid(counter: Cli, gateway: FakeGateway) -> Cli:
    """SMS on, one payer with a mobile number, one payment: one SMS queued."""
    db = open_database(counter.db)
    try:
        enable(db, authenticate(db, "quantri", ADMIN_PASSWORD), gateway.url)
    finally:
        db.close()
    added = counter(
        "participant", "add", *U, "--name", "Lê Thị Mỹ Đào", "--dob", "14/03/1985",
        "--sex", "nu", "--cccd", "019185001234", "--phone", "0912345678",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = counter(
        "pay", *U, "--participant", "019185001234", "--scheme", "bhyt_hgd", "--months", "3"
    )
    assert done.returncode == 0, done.stderr
    return counter


def test_status_send_and_nothing_left(paid: Cli, gateway: FakeGateway) -> None:
    before: Any = paid.json("notify", "status")
    assert before["counts"]["queued"] == 1 and before["needs_attention"] == []

    sent = paid("notify", "send")
    assert sent.returncode == 0, sent.stderr
    assert "đã gửi 1" in sent.stdout
    [delivered] = gateway.state.delivered
    assert "0912345678" in str(delivered) or "84912345678" in str(delivered)

    after: Any = paid.json("notify", "status")
    assert after["counts"]["sent"] == 1 and after["counts"]["queued"] == 0
    again = paid("notify", "send")  # nothing due: never a second SMS for the payment
    assert again.returncode == 0 and len(gateway.state.delivered) == 1


def test_unreachable_gateway_is_offline_and_keeps_the_message(
    paid: Cli, gateway: FakeGateway
) -> None:
    gateway.state.default = "503"
    done = paid("notify", "send")
    assert done.returncode == 3, done.stdout + done.stderr
    status: Any = paid.json("notify", "status")
    assert status["counts"]["retrying"] == 1 and gateway.state.delivered == []

    gateway.state.default = "ok"
    retried = paid("notify", "retry", *U)  # due now, then one pass
    assert retried.returncode == 0, retried.stderr
    assert len(gateway.state.delivered) == 1


def test_failed_message_needs_attention_and_resend_is_audited(
    paid: Cli, gateway: FakeGateway
) -> None:
    gateway.state.default = "400"  # the gateway refuses: permanent
    assert paid("notify", "send").returncode == 0
    status = paid("notify", "status")
    assert status.returncode == 1  # a scheduled job notices
    assert "0912345678" in status.stdout or "84912345678" in status.stdout
    listed = paid("notify", "status", "--json")
    [failed] = json.loads(listed.stdout)["needs_attention"]

    gateway.state.default = "ok"
    resend = paid("notify", "resend", str(failed["id"]), *U, "--address", "0987654321")
    assert resend.returncode == 0, resend.stderr
    assert paid("notify", "send").returncode == 0
    assert "84987654321" in str(gateway.state.delivered) or "0987654321" in str(
        gateway.state.delivered
    )
    assert paid("notify", "status").returncode == 0

    missing = paid("notify", "resend", "999999", *U)
    assert missing.returncode == 1 and "999999" in missing.stderr
