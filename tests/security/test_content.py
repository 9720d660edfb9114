"""Issue 10.1: central validates content, not only signatures. Records the counter's own key
signed but whose content is nonsense are refused with a reason and flagged, never stored; odd
JSON gets a 4xx with a reason, never a 500; 01-XN and the payer lookup answer whatever central
holds."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import insert, select

from app.domain.canonical import CanonicalValue
from app.domain.codes import format_code
from central.models import Flag, LedgerRecord
from sync.protocol import PATH_LOOKUP, PATH_XN01
from tests.security.conftest import Counter, central_id, pending_wire, post_records, resealed

NONSENSE: list[dict[str, CanonicalValue]] = [
    {"amount": 0},
    {"amount": -50_000},
    {"amount": 10**15},
    {"months": "mười hai"},
    {"scheme": "bhxh_bat_buoc"},
    {"period_to": "2020-01-31"},
    {"payer_name": "A" * 300_000},
    {"payer_name": "Lê\u202eThị"},
    {"business_date": "2026-02-30"},
    {"ma_so_bhxh": "không-có"},
]


@pytest.mark.parametrize("change", NONSENSE, ids=lambda c: next(iter(c)))
def test_signed_nonsense_is_refused_flagged_and_not_stored(
    counter: Counter, change: dict[str, CanonicalValue]
) -> None:
    counter.pay(1)
    [wire] = pending_wire(counter)
    forged = resealed(counter, wire, **change)
    resp = post_records(counter, [forged])
    assert resp.status_code == 200
    [item] = resp.json()["results"]
    assert (item["status"], item["reason_code"]) == ("rejected", "invalid")
    field = next(iter(change))
    assert field in item["reason"]
    with counter.central.store.read() as s:
        assert (
            s.scalar(select(LedgerRecord.id).where(LedgerRecord.id == wire["body"]["id"])) is None
        )
        flags = s.scalars(select(Flag).where(Flag.counter_id == central_id(counter))).all()
    assert [f.kind for f in flags] == ["invalid_content"]
    assert flags[0].evidence is not None and len(flags[0].evidence) <= 8_192
    # the genuine record is still accepted afterwards
    assert post_records(counter, [wire]).json()["results"][0]["status"] == "accepted"


@pytest.mark.parametrize(
    "raw",
    [
        '{"records": [{"seq": 1e999, "kind": "payment", "body": {}, "code": "x", '
        '"prev_hash": "0", "hash": "0"}]}',
        '{"records": [{"seq": NaN, "kind": "payment", "body": {}, "code": "x", '
        '"prev_hash": "0", "hash": "0"}]}',
        '{"records": [{"seq": 123456789012345678901234567890, "kind": "payment", '
        '"body": {"id": "x"}, "code": "ABCDEFGHJKMN", "prev_hash": "' + "0" * 64 + '", '
        '"hash": "' + "0" * 64 + '"}]}',
        '{"records": [{"seq": 1, "kind": "payment", "body": {"amount": 1.5}, '
        '"code": "x", "prev_hash": "0", "hash": "0"}]}',
        '{"records": [{"seq": 1, "kind": "payment", "body": {"a": {"b": 1}}, '
        '"code": "x", "prev_hash": "0", "hash": "0"}]}',
        '{"records": "không phải danh sách"}',
        '{"records": [' + "[" * 5000 + "]" * 5000 + "]}",
        "\xff\xfe not json",
        "",
    ],
    ids=["inf", "nan", "huge-int", "float", "nested", "wrong-type", "deep", "bytes", "empty"],
)
def test_odd_json_gets_a_4xx_with_a_reason_never_a_500(counter: Counter, raw: str) -> None:
    resp = post_records_raw(counter, raw.encode("utf-8", "surrogateescape"))
    assert 400 <= resp.status_code < 500, resp.text
    detail = resp.json()["detail"]
    assert detail
    if isinstance(detail, list):  # 422: per item with its location, or a refused batch
        assert all({"loc", "msg", "type"} <= set(d) for d in detail)


def test_integers_beyond_64_bits_get_a_422_naming_where(counter: Counter) -> None:
    counter.pay(1)
    [wire] = pending_wire(counter)
    big = {**wire, "body": {**wire["body"], "receipt_number": 2**80}}
    resp = post_records(counter, [wire, big])
    assert resp.status_code == 422
    [error] = resp.json()["detail"]
    assert error["loc"] == ["body", "records", 1, "body", "receipt_number"]
    assert str(2**80) not in resp.text
    resp = post_records(counter, [{**wire, "seq": 2**70}])
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "seq"
    # nothing of the batch was stored: the genuine record is still new
    assert post_records(counter, [wire]).json()["results"][0]["status"] == "accepted"


def post_records_raw(c: Counter, data: bytes) -> requests.Response:
    from tests.security.conftest import token_of

    return requests.post(
        c.central.url + "/v1/records",
        data=data,
        headers={"Authorization": f"Bearer {token_of(c)}", "Content-Type": "application/json"},
        timeout=30,
    )


def test_xn01_and_lookup_answer_whatever_central_holds(counter: Counter) -> None:
    """Rows stored before content checks existed (written here straight into central's
    database) never make central's own 01-XN or the payer lookup fail."""
    [good] = counter.pay(1)
    assert post_records(counter, pending_wire(counter)).status_code == 200
    cid = central_id(counter)
    day = good.business_date.isoformat()
    with counter.central.store.write() as s:
        s.execute(
            insert(LedgerRecord),
            [
                {
                    "id": f"00000000-0000-4000-8000-00000000000{i}",
                    "counter_id": cid,
                    "seq": 1000 + i,
                    "kind": "payment",
                    "body": body,
                    "code": "ZZZZZZZZZZZZ"[: 12 - len(str(i))] + str(i),
                    "prev_hash": "0" * 64,
                    "hash": "1" * 64,
                    "received_at": "2026-11-21T03:15:00.000000Z",
                    "business_date": day,
                    "receipt_number": 1000 + i,
                    "amount": 1,
                    "at": "2026-11-21T03:15:00.000000Z",
                    "participant_id": None,
                    "payment_id": None,
                }
                for i, body in enumerate(
                    [
                        "not json at all",
                        json.dumps({"months": "mười hai", "amount": "nhiều"}),
                        json.dumps([1, 2, 3]),
                        json.dumps({"receipt_number": 1, "amount": 10**30}),
                    ]
                )
            ],
        )
    token = post_records.__globals__["token_of"](counter)
    xn = requests.get(
        counter.central.url + PATH_XN01,
        params={"date": day},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert xn.status_code == 200
    assert [r["payment_id"] for r in xn.json()["rows"]] == [good.id]
    assert xn.json()["total"] == good.amount
    found = requests.get(
        counter.central.url + PATH_LOOKUP,
        params={
            "code": format_code(good.confirmation_code),
            "ma_so_bhxh": counter.payer.ma_so_bhxh,
        },
        timeout=10,
    )
    assert found.status_code == 200 and found.json()["status"] == "valid"
    for i in range(4):
        code = "ZZZZZZZZZZZZ"[: 12 - len(str(i))] + str(i)
        resp = requests.get(
            counter.central.url + PATH_LOOKUP,
            params={"code": code, "ma_so_bhxh": "0123456789"},
            timeout=10,
        )
        assert resp.status_code == 404
