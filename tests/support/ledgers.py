"""Simulated counters for central at scale: each has its own counter id, code-signing key and
receipt series, and seals a business day of BHYT hộ gia đình payments with the counter's own
sealing code (`app.domain.ledger.seal`), quoted from the shipped rate table — the records a real
counter would upload, without a counter database each (hundreds of them are cheap).

Used by central's concurrency test and `bench/bench_central.py`; enrolment goes through the
real HTTP API (`enroll_request` is the body a counter sends).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app.domain.chain import GENESIS
from app.domain.ledger import PaymentBody, SealedRecord, WireRecord, seal, to_wire
from app.domain.quote import quote_bhyt_hgd
from app.domain.rates import load_default_rate_table
from sync.protocol import EnrollRequest
from tests.support.counters import ORGANISATION

DAY = date(2026, 11, 21)
_NAMES = ("Lê Thị Mỹ Đào", "Nguyễn Văn An", "Trần Thị Bình", "Phạm Đức Chí", "Hoàng Thị Hà")


@dataclass
class SimulatedCounter:
    number: int
    ledger_counter_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    token: str = ""  # set after enrolment

    @property
    def counter_code(self) -> str:
        return f"SIM-{self.number:05d}"

    def enroll_request(self, enrollment_code: str) -> EnrollRequest:
        return {
            "enrollment_code": enrollment_code,
            "counter_id": self.ledger_counter_id,
            "counter_code": self.counter_code,
            "organisation": ORGANISATION,
            "collection_point": f"Điểm thu mô phỏng số {self.number}",
            "receipt_series": f"S{self.number:05d}",
            "signing_key": base64.b64encode(self.key).decode("ascii"),
        }

    def day(self, payments: int, *, business_day: date = DAY) -> list[SealedRecord]:
        """`payments` payments of one business day, sequence numbers 1…, chained from genesis."""
        table = load_default_rate_table()
        opened = datetime(business_day.year, business_day.month, business_day.day, 1, tzinfo=UTC)
        quotes = {
            member: quote_bhyt_hgd(
                table,
                member_order=member,
                months=3,
                start_month=business_day.replace(day=1),
                paid_on=business_day,
            )
            for member in (1, 2, 3)
        }
        records: list[SealedRecord] = []
        prev = GENESIS
        for n in range(1, payments + 1):
            member = 1 + (n - 1) % 3
            quote = quotes[member]
            body = PaymentBody(
                id=str(uuid.uuid4()),
                counter_id=self.ledger_counter_id,
                series=f"S{self.number:05d}",
                receipt_number=n,
                participant_id=str(uuid.uuid4()),
                payer_name=_NAMES[n % len(_NAMES)],
                ma_so_bhxh=f"{secrets.randbelow(10**10):010d}",
                cccd=None,
                scheme="bhyt_hgd",
                method=None,
                months=quote.months,
                period_from=quote.period_from,
                period_to=quote.period_to,
                income=None,
                support_category=None,
                member_order=member,
                amount=quote.total,
                rate_version=quote.rate_version,
                paid_at=opened + timedelta(seconds=20 * n),
                business_date=business_day,
                cashier="thungan1",
            )
            record = seal(self.key, n, "payment", body.canonical(), prev)
            records.append(record)
            prev = record.hash
        return records


def wire_batches(records: list[SealedRecord], size: int) -> list[list[WireRecord]]:
    """The records as a counter uploads them: oldest first, `size` per batch."""
    wire = [to_wire(r) for r in records]
    return [wire[i : i + size] for i in range(0, len(wire), size)]
