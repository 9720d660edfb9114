"""Issue 10.2: no counter acts for another. Two real counters enrolled at one central: the
second one, with its own valid key and token, tries to void, read and relabel the first one's
payment; each attempt is refused or has no effect, and the payer's lookup never changes."""

from __future__ import annotations

import uuid

import requests
from sqlalchemy import select

from app.domain.clock import now_utc
from app.domain.codes import format_code, normalise_code
from app.domain.ledger import VoidBody, seal, to_wire
from app.secrets import load_signing_key
from central.models import CentralParticipant, Flag, LedgerRecord
from sync.protocol import PATH_LOOKUP, PATH_PARTICIPANT_CHANGES, PATH_XN01
from tests.security.conftest import (
    Counter,
    central_id,
    pending_wire,
    post_records,
    resealed,
    token_of,
)


def lookup(c: Counter, code: str, ma_so: str | None) -> requests.Response:
    return requests.get(
        c.central.url + PATH_LOOKUP,
        params={"code": format_code(code), "ma_so_bhxh": ma_so or ""},
        timeout=10,
    )


def void_from(thief: Counter, target_id: str, target_code: str, receipt: int) -> dict[str, object]:
    """A void sealed by `thief`'s own key, in `thief`'s own chain, naming someone's payment."""
    thief.pay(1)
    [own] = pending_wire(thief)
    assert post_records(thief, [own]).json()["results"][0]["status"] == "accepted"
    at = now_utc()
    from app.domain.clock import business_date

    body = VoidBody(
        id=str(uuid.uuid4()),
        counter_id=thief.counter_id,
        payment_id=target_id,
        payment_receipt_number=receipt,
        payment_code=normalise_code(target_code),
        reason="Hủy hộ quầy khác",
        supervisor="giamsat",
        voided_at=at,
        business_date=business_date(at),
    ).canonical()
    key = load_signing_key(thief.counter_id)
    return dict(to_wire(seal(key, int(own["seq"]) + 1, "void", body, own["hash"])))


def test_a_void_of_another_counters_payment_is_refused(counter: Counter, second: Counter) -> None:
    [paid] = counter.pay(1)
    assert post_records(counter, pending_wire(counter)).json()["results"][0]["status"] == "accepted"
    assert lookup(counter, paid.confirmation_code, counter.payer.ma_so_bhxh).json()["status"] == (
        "valid"
    )

    forged = void_from(second, paid.id, paid.confirmation_code, paid.receipt_number)
    [item] = post_records(second, [forged]).json()["results"]
    assert (item["status"], item["reason_code"]) == ("rejected", "wrong_counter")
    with second.central.store.read() as s:
        assert s.scalar(select(LedgerRecord.id).where(LedgerRecord.payment_id == paid.id)) is None
        kinds = s.scalars(select(Flag.kind).where(Flag.counter_id == central_id(second))).all()
    assert "wrong_counter" in kinds
    assert lookup(counter, paid.confirmation_code, counter.payer.ma_so_bhxh).json()["status"] == (
        "valid"
    )


def test_a_void_sent_before_the_payment_arrives_never_voids_another_counters_payment(
    counter: Counter, second: Counter
) -> None:
    [paid] = counter.pay(1)  # not synced yet: central does not know it
    forged = void_from(second, paid.id, paid.confirmation_code, paid.receipt_number)
    [item] = post_records(second, [forged]).json()["results"]
    assert item["status"] == "accepted", item["reason"]  # stored (never lose data) but flagged
    with second.central.store.read() as s:
        kinds = s.scalars(select(Flag.kind).where(Flag.counter_id == central_id(second))).all()
    assert "void_unknown_payment" in kinds
    assert post_records(counter, pending_wire(counter)).json()["results"][0]["status"] == "accepted"
    # the owner's payment stays valid on the lookup and on the owner's 01-XN
    assert lookup(counter, paid.confirmation_code, counter.payer.ma_so_bhxh).json()["status"] == (
        "valid"
    )
    xn = requests.get(
        counter.central.url + PATH_XN01,
        params={"date": paid.business_date.isoformat()},
        headers={"Authorization": f"Bearer {token_of(counter)}"},
        timeout=10,
    ).json()
    assert [(r["payment_id"], r["voided"]) for r in xn["rows"]] == [(paid.id, False)]


def test_01xn_and_feeds_show_only_the_calling_counters_records(
    counter: Counter, second: Counter
) -> None:
    [mine] = counter.pay(1)
    post_records(counter, pending_wire(counter))
    day = mine.business_date.isoformat()
    theirs = requests.get(
        second.central.url + PATH_XN01,
        params={"date": day},
        headers={"Authorization": f"Bearer {token_of(second)}"},
        timeout=10,
    ).json()
    assert theirs["rows"] == [] and theirs["counter_id"] == central_id(second)
    changes = requests.get(
        second.central.url + PATH_PARTICIPANT_CHANGES,
        headers={"Authorization": f"Bearer {token_of(second)}"},
        timeout=10,
    ).json()
    assert changes["changes"] == []


def test_another_counter_cannot_relabel_a_participant(counter: Counter, second: Counter) -> None:
    """A payment of the second counter naming the first counter's participant id (with a mã số
    of its own) neither changes that participant nor makes the first one's payment findable
    under the second counter's mã số."""
    [paid] = counter.pay(1)
    post_records(counter, pending_wire(counter))
    second.pay(1)
    [wire] = pending_wire(second)
    borrowed = resealed(second, wire, participant_id=counter.payer.id, ma_so_bhxh="0999999999")
    assert post_records(second, [borrowed]).json()["results"][0]["status"] == "accepted"
    with counter.central.store.read() as s:
        person = s.get(CentralParticipant, counter.payer.id)
    assert person is not None and person.counter_id == central_id(counter)
    assert person.ma_so_bhxh == counter.payer.ma_so_bhxh
    assert lookup(counter, paid.confirmation_code, "0999999999").status_code == 404
    assert lookup(counter, paid.confirmation_code, counter.payer.ma_so_bhxh).status_code == 200


def test_a_record_naming_another_counter_is_refused(counter: Counter, second: Counter) -> None:
    second.pay(1)
    [wire] = pending_wire(second)
    claimed = resealed(second, wire, counter_id=counter.counter_id)
    [item] = post_records(second, [claimed]).json()["results"]
    assert (item["status"], item["reason_code"]) == ("rejected", "wrong_counter")
