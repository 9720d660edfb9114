"""Issue 10.1: a property test over the request models drives the live central app on 127.0.0.1
(hypothesis; bounded: `QUAYTHU_FUZZ_EXAMPLES` examples per endpoint, 150 by default) and finds
no 5xx and no answer that breaks the API's own schema: every 2xx body validates against the
response type the OpenAPI document is generated from, every 4xx is `{"detail": …}`.

Uploads are drawn three ways: arbitrary JSON shaped like the request model, a genuine record
with one field replaced by an arbitrary value (left as is, so the signature check refuses it),
and the same re-sealed with the counter's real key (so it reaches the content rules)."""

from __future__ import annotations

import os
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.domain.ledger import WireRecord
from sync.protocol import (
    PATH_ENROLL,
    PATH_LOOKUP,
    PATH_PARTICIPANT_CHANGES,
    PATH_RATES,
    PATH_RECORDS,
    PATH_XN01,
    EnrollResponse,
    LookupResponse,
    ParticipantChangesResponse,
    RatesResponse,
    UploadResponse,
    Xn01Response,
)
from tests.security.conftest import Counter, pending_wire, resealed, token_of

EXAMPLES = int(os.environ.get("QUAYTHU_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
ANSWERS: dict[str, TypeAdapter[Any]] = {
    PATH_RECORDS: TypeAdapter(UploadResponse),
    PATH_ENROLL: TypeAdapter(EnrollResponse),
    PATH_LOOKUP: TypeAdapter(LookupResponse),
    PATH_XN01: TypeAdapter(Xn01Response),
    PATH_RATES: TypeAdapter(RatesResponse),
    PATH_PARTICIPANT_CHANGES: TypeAdapter(ParticipantChangesResponse),
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(["", "bhxh_tn", "bhyt_hgd", "12", "lump", "2026-11-21", "0" * 64]),
)
json_values = st.recursive(
    scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "seq",
    "kind",
    "code",
    "prev_hash",
    "hash",
    "amount",
    "months",
    "scheme",
    "method",
    "income",
    "member_order",
    "period_from",
    "period_to",
    "paid_at",
    "business_date",
    "payer_name",
    "ma_so_bhxh",
    "cccd",
    "participant_id",
    "id",
    "counter_id",
    "rate_version",
    "receipt_number",
    "support_category",
    "v",
    "type",
]
shaped_records = st.fixed_dictionaries(
    {
        "seq": st.integers(min_value=-5, max_value=2**64),
        "kind": st.sampled_from(["payment", "void", "other"]),
        "body": st.dictionaries(
            st.sampled_from(FIELDS) | st.text(max_size=10), scalars, max_size=8
        ),
        "code": st.text(max_size=14),
        "prev_hash": st.sampled_from(["0" * 64, "g" * 64, ""]),
        "hash": st.sampled_from(["0" * 64, "f" * 64]),
    },
    optional={"extra": json_values},
)


def check_answer(path: str, resp: requests.Response) -> None:
    assert resp.status_code < 500, f"{path}: {resp.status_code} {resp.text[:300]}"
    data = resp.json()
    if resp.status_code < 300:
        ANSWERS[path].validate_python(data, strict=True)
    else:
        assert isinstance(data, dict) and data.get("detail"), resp.text[:300]


def mutate(c: Counter, wire: WireRecord, field: str, value: Any, seal_again: bool) -> object:
    if field in ("seq", "kind", "code", "prev_hash", "hash"):
        return {**wire, field: value}
    if seal_again and (value is None or isinstance(value, str | int | bool)):
        try:
            return resealed(c, wire, **{field: value})
        except (TypeError, ValueError):
            pass
    return {**wire, "body": {**wire["body"], field: value}}


@FUZZ
@given(data=st.data())
def test_uploads_never_break_central(counter: Counter, data: st.DataObject) -> None:
    if not pending_wire(counter):
        counter.pay(2)
    genuine = pending_wire(counter)
    how = data.draw(st.sampled_from(["shaped", "mutated", "resealed", "batch-of-json"]))
    if how == "shaped":
        records: object = data.draw(st.lists(shaped_records, max_size=3))
    elif how == "batch-of-json":
        records = data.draw(json_values)
    else:
        wire = data.draw(st.sampled_from(genuine))
        field = data.draw(st.sampled_from(FIELDS))
        value = data.draw(json_values)
        records = [mutate(counter, wire, field, value, how == "resealed")]
    resp = requests.post(
        counter.central.url + PATH_RECORDS,
        json={"records": records},
        headers={"Authorization": f"Bearer {token_of(counter)}"},
        timeout=30,
    )
    check_answer(PATH_RECORDS, resp)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "enrollment_code",
                "counter_id",
                "counter_code",
                "organisation",
                "collection_point",
                "receipt_series",
                "signing_key",
            ]
        ),
        scalars,
    )
)
def test_enrolment_never_breaks_central(counter: Counter, fields: dict[str, object]) -> None:
    base = {
        "enrollment_code": "AAAA-BBBB-CCCC-DDDD",
        "counter_id": counter.counter_id,
        "counter_code": "X",
        "organisation": "O",
        "collection_point": "P",
        "receipt_series": "S",
        "signing_key": "A" * 44,
    }
    resp = requests.post(counter.central.url + PATH_ENROLL, json={**base, **fields}, timeout=30)
    assert resp.status_code != 200  # no such code: never enrolled
    check_answer(PATH_ENROLL, resp)


@FUZZ
@given(
    path=st.sampled_from([PATH_LOOKUP, PATH_XN01, PATH_RATES, PATH_PARTICIPANT_CHANGES]),
    params=st.dictionaries(
        st.sampled_from(["code", "ma_so_bhxh", "date", "since", "cursor", "limit"]),
        st.one_of(
            st.text(max_size=30),
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.dates().map(str),
            st.from_regex(r"\A\d{10}\Z"),
        ),
    ),
)
def test_reads_never_break_central(counter: Counter, path: str, params: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {token_of(counter)}"}
    resp = requests.get(counter.central.url + path, params=params, headers=headers, timeout=30)
    check_answer(path, resp)
