"""Issue 10.3 (central side and sync.enroll): an enrolment code is issued for one counter and is
useless for any other; single use (but a lost answer may be retried with the same code, counter
and key); bounded validity; failed attempts limited per address; central shows who it is before
the key is sent; the client refuses plain HTTP beyond this machine and takes a timeout."""

from __future__ import annotations

import base64
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from app.errors import UserFacingError, ValidationError
from app.secrets import load_signing_key
from app.services.counter import get_counter
from app.storage.db import Database
from central import auth
from central.limits import AttemptLimit
from central.models import EnrollmentCode
from sync.enroll import (
    check_server_url,
    enroll_counter,
    identify_server,
    is_loopback,
    read_enrollment_code,
)
from sync.errors import SyncError, TransientError
from sync.protocol import PATH_ENROLL, PATH_IDENTITY
from tests.security.conftest import FAST, CentralServer, Counter, make_counter


def request_for(db: Database, code: str, **changes: str) -> dict[str, str]:
    me = get_counter(db)
    req = {
        "enrollment_code": code,
        "counter_id": me.counter_id,
        "counter_code": me.counter_code,
        "organisation": me.organisation,
        "collection_point": me.collection_point,
        "receipt_series": me.receipt_series,
        "signing_key": base64.b64encode(load_signing_key(me.counter_id)).decode(),
    }
    return {**req, **changes}


def code_for(store: object, *, organisation: str, point: str, counter_code: str) -> str:
    return auth.make_enrollment_code(
        store,  # type: ignore[arg-type]
        organisation=organisation,
        collection_point=point,
        counter_code=counter_code,
    )


def test_a_code_issued_for_another_counter_is_useless(
    db: Database, admin: object, central: CentralServer
) -> None:
    c = make_counter(db, admin, central, enroll=False)  # type: ignore[arg-type]
    me = get_counter(c.db)
    elsewhere = code_for(
        central.store,
        organisation=me.organisation,
        point=me.collection_point,
        counter_code="TN-KHAC99",
    )
    resp = requests.post(central.url + PATH_ENROLL, json=request_for(c.db, elsewhere), timeout=10)
    assert resp.status_code == 403 and "quầy khác" in resp.json()["detail"]
    # ... and it stays unused for the counter it was issued for (which says so)
    claimed = request_for(c.db, elsewhere, counter_code="TN-KHAC99")
    ok = requests.post(central.url + PATH_ENROLL, json=claimed, timeout=10)
    assert ok.status_code == 200
    # a code bound to this counter works through the client, once
    mine = code_for(
        central.store,
        organisation=me.organisation,
        point=me.collection_point,
        counter_code=me.counter_code,
    )
    wrong_point = request_for(c.db, mine, collection_point="Điểm thu khác")
    assert requests.post(central.url + PATH_ENROLL, json=wrong_point, timeout=10).status_code == 403
    # the counter is enrolled already (under the code issued for TN-KHAC99 it claimed): the
    # one issued for its real code cannot change what it registered
    with pytest.raises(SyncError, match="quầy này đã đăng ký"):
        enroll_counter(c.db, central.url, mine, config=FAST)


def test_spacing_and_case_of_the_counter_code_do_not_matter(counter: Counter) -> None:
    me = get_counter(counter.db)
    code = code_for(
        counter.central.store,
        organisation=f"  {me.organisation} ",
        point=me.collection_point.replace(" ", "  "),
        counter_code=me.counter_code.lower(),
    )
    enroll_counter(counter.db, counter.central.url, code, config=FAST)


def test_a_used_code_is_refused_to_anyone_else_but_a_retry_succeeds(counter: Counter) -> None:
    me = get_counter(counter.db)
    code = code_for(
        counter.central.store,
        organisation=me.organisation,
        point=me.collection_point,
        counter_code=me.counter_code,
    )
    first = requests.post(
        counter.central.url + PATH_ENROLL, json=request_for(counter.db, code), timeout=10
    )
    assert first.status_code == 200
    # the answer was lost: the same code, counter and key again — the same enrolment
    retry = enroll_counter(counter.db, counter.central.url, code, config=FAST, timeout=5)
    assert retry.central_counter_id == first.json()["central_counter_id"]
    # the same code with another counter id, or another key: refused
    other_id = request_for(counter.db, code, counter_id=str(uuid.uuid4()))
    assert (
        requests.post(counter.central.url + PATH_ENROLL, json=other_id, timeout=10).status_code
        == 401
    )
    other_key = request_for(counter.db, code, signing_key=base64.b64encode(b"k" * 32).decode())
    assert requests.post(
        counter.central.url + PATH_ENROLL, json=other_key, timeout=10
    ).status_code in (
        401,
        409,
    )


def test_expired_codes_are_refused_and_validity_is_bounded(counter: Counter) -> None:
    me = get_counter(counter.db)
    code = code_for(
        counter.central.store,
        organisation=me.organisation,
        point=me.collection_point,
        counter_code=me.counter_code,
    )
    with counter.central.store.write() as s:
        s.execute(update(EnrollmentCode).values(expires_at="2000-01-01T00:00:00.000000Z"))
    resp = requests.post(
        counter.central.url + PATH_ENROLL, json=request_for(counter.db, code), timeout=10
    )
    assert resp.status_code == 401
    for hours in (0, -1, 24 * 365, 10**9):
        with pytest.raises(UserFacingError, match="Thời hạn"):
            auth.make_enrollment_code(
                counter.central.store,
                organisation=me.organisation,
                collection_point=me.collection_point,
                counter_code=me.counter_code,
                valid_hours=hours,
            )


@pytest.fixture
def strict_central(tmp_path: Path) -> Iterator[CentralServer]:
    server = CentralServer(
        tmp_path / "strict.sqlite3", enroll_limit=AttemptLimit(attempts=3, window=60)
    )
    yield server
    server.stop()


def test_failed_attempts_are_limited_per_address(
    strict_central: CentralServer, db: Database, admin: object
) -> None:
    c = make_counter(db, admin, strict_central, enroll=False)  # type: ignore[arg-type]
    guesses = [f"AAAA-BBBB-CCCC-{i:04d}" for i in range(3)]
    for guess in guesses:
        resp = requests.post(
            strict_central.url + PATH_ENROLL, json=request_for(c.db, guess), timeout=10
        )
        assert resp.status_code == 401
    me = get_counter(c.db)
    real = code_for(
        strict_central.store,
        organisation=me.organisation,
        point=me.collection_point,
        counter_code=me.counter_code,
    )
    blocked = requests.post(
        strict_central.url + PATH_ENROLL, json=request_for(c.db, real), timeout=10
    )
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 61
    with pytest.raises(TransientError):
        enroll_counter(c.db, strict_central.url, real, config=FAST)


def test_central_shows_its_identity_before_the_key_is_sent(counter: Counter) -> None:
    ident = identify_server(counter.central.url, timeout=5)
    served = requests.get(counter.central.url + PATH_IDENTITY, timeout=5).json()
    assert (
        ident.fingerprint
        == served["fingerprint"]
        == auth.identity(counter.central.store)["fingerprint"]
    )
    assert ident.tls_sha256 is None and any("HTTP" in line for line in ident.lines())
    # the client re-checks it just before sending the key
    me = get_counter(counter.db)
    code = code_for(
        counter.central.store,
        organisation=me.organisation,
        point=me.collection_point,
        counter_code=me.counter_code,
    )
    impostor = type(ident)(ident.url, ident.name, "0000-0000-0000-0000-0000", None)
    with pytest.raises(UserFacingError, match="Danh tính"):
        enroll_counter(counter.db, counter.central.url, code, config=FAST, expected=impostor)
    enroll_counter(counter.db, counter.central.url, code, config=FAST, expected=ident)


@pytest.mark.parametrize(
    "url",
    [
        "http://trung-tam.example.vn",
        "http://10.0.0.5:8700",
        "http://127.0.0.1.example.com",
        "ftp://127.0.0.1",
        "https://user:pass@trung-tam.example.vn",
    ],
)
def test_plain_http_beyond_this_machine_is_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        check_server_url(url)
    with pytest.raises(ValidationError):
        check_server_url(url, allow_insecure=True)  # no override


def test_loopback_http_and_https_are_accepted() -> None:
    for url in ("http://127.0.0.1:8700", "http://localhost", "http://[::1]:9", "https://a.vn"):
        assert check_server_url(url + "/") == url
    assert is_loopback("127.8.9.10") and not is_loopback("10.0.0.1")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    sock.close()


def test_enrolment_takes_a_timeout(counter: Counter, silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises((SyncError, UserFacingError)):
        enroll_counter(counter.db, silent_server, "AAAA-BBBB-CCCC-DDDD", timeout=0.5)
    with pytest.raises(UserFacingError):
        identify_server(silent_server, timeout=0.5)
    assert time.monotonic() - started < 10
    with pytest.raises(ValidationError):
        enroll_counter(counter.db, silent_server, "X", timeout=-1)


def test_the_code_is_read_from_a_prompt_or_stdin_never_argv() -> None:
    import io

    assert read_enrollment_code(io.StringIO(" ABCD-EFGH-JKMN-PQRS \n")) == "ABCD-EFGH-JKMN-PQRS"
    assert read_enrollment_code(io.StringIO(""), prompt=lambda _p: "WXYZ") == "WXYZ"
    with pytest.raises(ValidationError):
        read_enrollment_code(io.StringIO("\n"))


@pytest.fixture
def impostor_tls(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate no trust store knows: what
    someone on the network answering for central would have."""
    import ssl

    from tests.support.tls import self_signed

    cert_file, key_file = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.1)
    stop = threading.Event()
    seen: list[bytes] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(2)
                    seen.append(tls.recv(65536))  # anything the client would send
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join(2)
    sock.close()
    assert all(b"signing_key" not in s for s in seen)  # the key never reached it


def test_an_impostor_without_a_trusted_certificate_gets_nothing(
    counter: Counter, impostor_tls: str
) -> None:
    with pytest.raises(UserFacingError, match="TLS"):
        identify_server(impostor_tls, timeout=5)
    with pytest.raises((SyncError, UserFacingError)):
        enroll_counter(counter.db, impostor_tls, "AAAA-BBBB-CCCC-DDDD", timeout=5)


def test_two_enrolments_racing_with_one_code_let_only_one_in(counter: Counter) -> None:
    """Single use holds under concurrency (several API workers on PostgreSQL): two requests
    with one code and two different would-be counters, released together — one is enrolled."""
    me = get_counter(counter.db)
    for _ in range(8):
        code = code_for(
            counter.central.store,
            organisation=me.organisation,
            point=me.collection_point,
            counter_code=me.counter_code,
        )
        gate = threading.Barrier(2)
        answers: list[int] = []

        def attempt(
            code: str = code, gate: threading.Barrier = gate, answers: list[int] = answers
        ) -> None:
            req = request_for(
                counter.db,
                code,
                counter_id=str(uuid.uuid4()),
                signing_key=base64.b64encode(uuid.uuid4().bytes * 2).decode(),
            )
            gate.wait()
            answers.append(
                requests.post(counter.central.url + PATH_ENROLL, json=req, timeout=20).status_code
            )

        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(answers) == [200, 401], answers


def test_a_wrong_code_is_named_as_the_code(counter: Counter) -> None:
    """A refused code says what is wrong (the code), not "enrol again" (that is for a token)."""
    with pytest.raises(SyncError) as refused:
        enroll_counter(counter.db, counter.central.url, "ABCD-EFGH-JKMN-PQRS", config=FAST)
    assert "Mã đăng ký" in refused.value.message
