"""Issue 10.4 and 10.5: request bodies are capped before parsing, batches are capped, a 422
never echoes the input, stored tamper evidence is bounded; confirmation codes are stored and
looked up in one canonical form."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlparse

import requests
from sqlalchemy import select

from app.domain.codes import format_code, normalise_code
from central.ingest.pipeline import MAX_EVIDENCE_CHARS
from central.limits import BODY_LIMITS, DEFAULT_BODY_LIMIT
from central.models import Flag, LedgerRecord
from sync.protocol import MAX_BATCH, PATH_ENROLL, PATH_LOOKUP, PATH_RECORDS
from tests.security.conftest import (
    Counter,
    central_id,
    pending_wire,
    post_records,
    resealed,
    token_of,
)


def test_a_body_over_the_limit_is_refused_before_parsing(counter: Counter) -> None:
    limit = BODY_LIMITS[PATH_RECORDS]
    # declared: refused on the Content-Length alone — the answer comes before any body is sent
    where = urlparse(counter.central.url)
    declared = http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
    declared.putrequest("POST", PATH_RECORDS)
    declared.putheader("Content-Type", "application/json")
    declared.putheader("Authorization", f"Bearer {token_of(counter)}")
    declared.putheader("Content-Length", str(limit + 2))
    declared.endheaders()
    answer = declared.getresponse()
    assert answer.status == 413 and "quá lớn" in json.loads(answer.read())["detail"]
    declared.close()
    # streamed without a length: cut off as it passes the limit
    chunk = b" " * 65536

    def body() -> Iterator[bytes]:
        yield b'{"records": ['
        for _ in range(limit // len(chunk) + 2):
            yield chunk

    try:
        resp = requests.post(
            counter.central.url + PATH_RECORDS,
            data=body(),
            headers={"Authorization": f"Bearer {token_of(counter)}"},
            timeout=30,
        )
        assert resp.status_code == 413
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
        # The server answered 413 and closed while the client was still streaming the body:
        # the client may see the connection cut before it reads the answer. Refused either way.
        pass
    assert requests.get(counter.central.url + "/v1/health", timeout=10).status_code == 200
    # enrolment takes a few KiB at most; a GET takes none
    big = {"enrollment_code": "x" * (BODY_LIMITS[PATH_ENROLL] + 1)}
    assert requests.post(counter.central.url + PATH_ENROLL, json=big, timeout=10).status_code == 413
    url = urlparse(counter.central.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    conn.request("GET", "/v1/health", body=b"x" * (DEFAULT_BODY_LIMIT + 1))
    assert conn.getresponse().status == 413
    conn.close()


def test_a_batch_over_the_cap_is_refused(counter: Counter) -> None:
    counter.pay(1)
    [wire] = pending_wire(counter)
    resp = post_records(counter, [wire] * (MAX_BATCH + 1))
    assert resp.status_code == 413 and str(MAX_BATCH) in resp.json()["detail"]
    with counter.central.store.read() as s:
        assert (
            s.scalar(select(LedgerRecord.id).where(LedgerRecord.id == wire["body"]["id"])) is None
        )


def test_a_422_never_echoes_the_input(counter: Counter) -> None:
    marker = "BÍ-MẬT-<script>alert(1)</script>-" + "Z" * 50
    cases = [
        {
            "records": [
                {
                    "seq": marker,
                    "kind": "payment",
                    "body": {},
                    "code": "",
                    "prev_hash": "",
                    "hash": "",
                }
            ]
        },
        {"records": marker},
        {"records": [{"seq": 1, "kind": marker, "body": {marker: {"a": marker}}}]},
    ]
    for payload in cases:
        resp = post_records_json(counter, payload)
        assert resp.status_code == 422
        assert "BÍ-MẬT" not in resp.text and "script" not in resp.text and "ZZZZ" not in resp.text
        for error in resp.json()["detail"]:
            assert set(error) == {"loc", "msg", "type"}
    resp = requests.post(
        counter.central.url + PATH_ENROLL, json={"enrollment_code": marker}, timeout=10
    )
    assert resp.status_code == 422 and "BÍ-MẬT" not in resp.text


def post_records_json(c: Counter, payload: object) -> requests.Response:
    return requests.post(
        c.central.url + PATH_RECORDS,
        data=json.dumps(payload),
        headers={"Authorization": f"Bearer {token_of(c)}", "Content-Type": "application/json"},
        timeout=30,
    )


def test_stored_tamper_evidence_is_bounded(counter: Counter) -> None:
    counter.pay(1)
    [wire] = pending_wire(counter)
    huge = {**wire, "body": {**wire["body"], "payer_name": "N" * 1_000_000}}  # hash now wrong
    forged = resealed(counter, wire, payer_name="M" * 1_000_000)  # signed, content invalid
    resp = post_records(counter, [huge, forged])
    assert [r["reason_code"] for r in resp.json()["results"]] == ["tampered", "invalid"]
    with counter.central.store.read() as s:
        evidence = s.scalars(
            select(Flag.evidence).where(Flag.counter_id == central_id(counter))
        ).all()
    assert evidence and all(e is not None and len(e) <= MAX_EVIDENCE_CHARS for e in evidence)
    assert all("cắt bớt" in (e or "") and "sha256" in (e or "") for e in evidence)


def test_codes_are_stored_and_found_in_one_canonical_form(counter: Counter) -> None:
    [paid] = counter.pay(1)
    assert post_records(counter, pending_wire(counter)).json()["results"][0]["status"] == "accepted"
    compact = normalise_code(paid.confirmation_code)
    with counter.central.store.read() as s:
        stored = s.scalar(select(LedgerRecord.code).where(LedgerRecord.id == paid.id))
    assert stored == compact
    grouped = format_code(compact)
    spellings = [
        compact,
        grouped,
        grouped.lower(),
        " ".join(grouped.split("-")),
        compact.lower().replace("0", "o").replace("1", "l"),
    ]
    for spelling in spellings:
        resp = requests.get(
            counter.central.url + PATH_LOOKUP,
            params={"code": spelling, "ma_so_bhxh": counter.payer.ma_so_bhxh or ""},
            timeout=10,
        )
        assert resp.status_code == 200, spelling
        assert resp.json()["confirmation_code"] == compact
