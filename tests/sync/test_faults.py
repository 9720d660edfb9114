"""Network faults between the counter and the real central server, injected by a proxy.

After recovery, in every case: every local payment is at central exactly once with the same
amount and code, and nothing is marked synced that central does not have (`assert_consistent`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.services.payments import void_payment
from app.services.registration import record_enrollment
from sync.engine import Syncer, read_status
from sync.errors import TransientError
from tests.sync.conftest import FAST, Counter, assert_consistent, central_payments
from tests.sync.faultproxy import Fault, FaultProxy


@pytest.fixture
def proxy(counter: Counter) -> Iterator[FaultProxy]:
    with FaultProxy(counter.central.port, max_lifetime=90) as p:
        record_enrollment(
            counter.db, central_url=p.url, central_counter_id=counter.central_counter_id()
        )
        yield p


def sync(counter: Counter, **changes: object) -> object:
    return Syncer(counter.db, config=replace(FAST, **changes)).run("test")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([Fault.reset(), Fault.reset()], id="reset-mid-request"),
        pytest.param([Fault.status(500), Fault.status(503), Fault.status(500)], id="http-5xx"),
        pytest.param(
            [Fault.drop_response(), Fault.drop_response()], id="response-lost-after-commit"
        ),
        pytest.param([Fault.hang()], id="timeout"),
        pytest.param([Fault.slow(1.2), Fault.slow(1.2)], id="slow-beyond-read-timeout"),
        pytest.param([Fault.slow(0.3)] * 3, id="slow-within-read-timeout"),
    ],
)
def test_recovers_from_fault(counter: Counter, proxy: FaultProxy, faults: list[Fault]) -> None:
    counter.pay(7)
    void_payment(
        counter.db, receipt_number=3, reason="Thu nhầm số tiền", supervisor=counter.supervisor
    )
    proxy.inject(*faults)
    report = sync(counter, read_timeout=0.8)
    assert proxy.faults_left == 0  # every fault was really hit
    assert report.pending == 0  # type: ignore[attr-defined]
    assert_consistent(counter)
    assert not counter.flags()


def test_lost_response_means_duplicates_not_double_storage(
    counter: Counter, proxy: FaultProxy
) -> None:
    counter.pay(3)
    proxy.inject(Fault.drop_response())
    report = sync(counter)
    assert (report.accepted, report.duplicate) == (0, 3)  # type: ignore[attr-defined]
    assert len(central_payments(counter)) == 3
    assert_consistent(counter)


def test_connection_refused_then_back(counter: Counter, proxy: FaultProxy) -> None:
    counter.pay(4)
    proxy.refuse()
    with pytest.raises(TransientError) as err:
        sync(counter)
    assert err.value.offline
    assert counter.states() == {"pending": 4}
    assert read_status(counter.db).state == "offline"
    assert_consistent(counter, complete=False)
    # the network comes back while a pass is retrying: that pass finishes the job
    threading.Timer(0.3, proxy.accept).start()
    sync(counter, retry=replace(FAST.retry, base=0.2, cap=0.5, attempts=10))
    assert_consistent(counter)
    assert read_status(counter.db).state == "idle"


def test_server_errors_beyond_the_retry_budget_leave_items_pending(
    counter: Counter, proxy: FaultProxy
) -> None:
    counter.pay(2)
    proxy.inject(*[Fault.status(500)] * FAST.retry.attempts)
    with pytest.raises(TransientError) as err:
        sync(counter)
    assert not err.value.offline
    assert counter.states() == {"pending": 2}
    assert read_status(counter.db).state == "server_error"
    assert_consistent(counter, complete=False)
    sync(counter)
    assert_consistent(counter)


def test_429_retry_after_is_honoured(counter: Counter, proxy: FaultProxy) -> None:
    counter.pay(1)
    proxy.inject(Fault.status(429, retry_after=1))
    sync(counter)
    uploads = proxy.requests_to("/v1/records")
    assert [s.fault for s in uploads] == ["status", "pass"]
    assert uploads[1].at - uploads[0].at >= 1.0  # never earlier than Retry-After
    assert_consistent(counter)


def test_a_storm_of_mixed_faults(counter: Counter, proxy: FaultProxy) -> None:
    counter.pay(12)
    proxy.inject(
        Fault.reset(),
        Fault.drop_response(),
        Fault.status(500),
        Fault.status(429, retry_after=0),
        Fault.slow(1.0),
        Fault.reset("/v1/rates"),
        Fault.status(502, path_prefix="/v1/participants"),
    )
    sync(counter, read_timeout=0.6, retry=replace(FAST.retry, attempts=8))
    assert proxy.faults_left == 0
    assert_consistent(counter)


def test_slow_server_does_not_stall_forever(counter: Counter, proxy: FaultProxy) -> None:
    counter.pay(1)
    proxy.inject(*[Fault.hang()] * 3)
    started = time.monotonic()
    with pytest.raises(TransientError):
        sync(counter, read_timeout=0.3, retry=replace(FAST.retry, attempts=3))
    assert time.monotonic() - started < 5  # bounded by timeouts × attempts + backoff
    assert_consistent(counter, complete=False)
