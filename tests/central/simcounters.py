"""Simulated counters for central's concurrency test and bench/bench_central.py: each has its
own key, is enrolled through the real HTTP API with a code issued for it, and uploads a day of
real sealed records (the counter's own sealing code, content priced by the shipped rate table)
in batches over HTTP. No counter database: what central receives is exactly what a counter
would send."""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import requests

from app.domain.chain import GENESIS
from app.domain.ledger import PaymentBody, WireRecord, seal, to_wire
from app.domain.quote import quote_bhyt_hgd
from app.domain.rates import load_default_rate_table
from central import auth
from central.store import CentralStore
from sync.protocol import PATH_ENROLL, PATH_RECORDS

LOCAL_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh has no daylight saving
RATES = load_default_rate_table()


def _day_of(instant: datetime) -> date:
    return (instant + LOCAL_OFFSET).date()


@dataclass
class SimCounter:
    number: int
    key: bytes = field(default_factory=lambda: os.urandom(32))
    counter_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    token: str = ""
    records: list[WireRecord] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"SIM{self.number:05d}"

    def enroll(self, base_url: str, store: CentralStore, session: requests.Session) -> None:
        code = auth.make_enrollment_code(
            store,
            organisation="Bưu điện tỉnh Mô Phỏng",
            collection_point=f"Điểm thu số {self.number}",
            counter_code=self.code,
        )
        resp = session.post(
            base_url + PATH_ENROLL,
            json={
                "enrollment_code": code,
                "counter_id": self.counter_id,
                "counter_code": self.code,
                "organisation": "Bưu điện tỉnh Mô Phỏng",
                "collection_point": f"Điểm thu số {self.number}",
                "receipt_series": "SIM",
                "signing_key": base64.b64encode(self.key).decode("ascii"),
            },
            timeout=60,
        )
        resp.raise_for_status()
        self.token = resp.json()["api_token"]

    def make_day(self, payments: int, *, paid_at: datetime | None = None) -> None:
        """`payments` BHYT hộ gia đình payments, sealed and chained as the counter does."""
        at = paid_at or datetime.now(UTC).replace(microsecond=0)  # one instant: one day
        prev = GENESIS
        for n in range(1, payments + 1):
            record = self.payment(n, prev, paid_at=at)
            prev = record["hash"]
            self.records.append(record)

    def payment(
        self,
        seq: int,
        prev_hash: str,
        *,
        key: bytes | None = None,
        paid_at: datetime | None = None,
        participant_id: str | None = None,
        first_time: bool = False,
    ) -> WireRecord:
        """Payment number `seq` (receipt number too), chained to `prev_hash`, sealed with
        `key` (this counter's own key unless given); `first_time`: no mã số BHXH yet."""
        at = paid_at or datetime.now(UTC).replace(microsecond=0)
        day = _day_of(at)
        start = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        quote = quote_bhyt_hgd(RATES, member_order=1, months=3, start_month=start, paid_on=day)
        body = PaymentBody(
            id=str(uuid.uuid4()),
            counter_id=self.counter_id,
            series="SIM",
            receipt_number=seq,
            participant_id=participant_id or str(uuid.uuid4()),
            payer_name=f"Người nộp {self.number}-{seq}",
            ma_so_bhxh=None if first_time else f"{(self.number * 100_000 + seq) % 10**10:010d}",
            cccd=None,
            scheme="bhyt_hgd",
            method=None,
            months=3,
            period_from=quote.period_from,
            period_to=quote.period_to,
            income=None,
            support_category=None,
            member_order=1,
            amount=quote.total,
            rate_version=RATES.version,
            paid_at=at,
            business_date=day,
            cashier="thungan",
        ).canonical()
        return to_wire(seal(key or self.key, seq, "payment", body, prev_hash))

    def batches(self, size: int) -> Iterator[list[WireRecord]]:
        for i in range(0, len(self.records), size):
            yield self.records[i : i + size]


@dataclass
class Outcome:
    status: int
    seconds: float
    results: list[dict[str, object]]


def upload(
    session: requests.Session,
    base_url: str,
    c: SimCounter,
    batch: list[WireRecord],
    *,
    attempts: int = 30,
    payload: bytes | None = None,
) -> list[Outcome]:
    """POST one batch; a connection dropped (a worker killed) or a 503 is retried like the
    real client retries. Returns every answer received (a 500 among them is a failure).
    `payload`: the batch already encoded as JSON (the benchmark encodes before it times)."""
    answers: list[Outcome] = []
    for attempt in range(attempts):
        started = time.perf_counter()
        try:
            headers = {"Authorization": f"Bearer {c.token}"}
            if payload is None:
                resp = session.post(
                    base_url + PATH_RECORDS, json={"records": batch}, headers=headers, timeout=60
                )
            else:
                headers["Content-Type"] = "application/json"
                resp = session.post(
                    base_url + PATH_RECORDS, data=payload, headers=headers, timeout=60
                )
        except requests.ConnectionError:
            time.sleep(min(0.05 * 2**attempt, 1.0))
            continue
        elapsed = time.perf_counter() - started
        body = (
            resp.json()
            if resp.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        answers.append(Outcome(resp.status_code, elapsed, list(body.get("results", []))))
        if resp.status_code in (429, 502, 503):
            time.sleep(min(0.05 * 2**attempt, 1.0))
            continue
        return answers
    return answers
