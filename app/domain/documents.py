"""Data objects that documents are rendered from: a receipt and the Mẫu 01-XN daily summary.

Services in `app/services` build these from the ledger; `printing/` turns them into PDF, XLSX
or CSV. They are plain frozen values so a renderer needs no database and no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

RECEIPT_NUMBER_DIGITS: Final = 7


def format_receipt_number(number: int) -> str:
    """A receipt number as printed on the receipt and shown everywhere: zero-padded to 7 digits
    ("0000042"); longer numbers are shown whole."""
    return f"{number:0{RECEIPT_NUMBER_DIGITS}d}"


@dataclass(frozen=True)
class VoidInfo:
    reason: str
    voided_at: datetime  # aware UTC
    supervisor: str  # full name of the supervisor who signed the void
    ledger_seq: int  # the void's own position in the ledger chain
    void_id: str


@dataclass(frozen=True)
class ReceiptData:
    organisation: str
    collection_point: str
    counter_code: str
    series: str  # receipt series (ký hiệu), e.g. "C01-2026"
    number: int  # gap-free per counter
    paid_at: datetime  # aware UTC; rendered in Asia/Ho_Chi_Minh
    cashier: str
    payer_name: str
    ma_so_bhxh: str | None  # None → "chưa có mã" with the CCCD
    cccd: str | None
    scheme_label: str  # loại hình, e.g. "BHXH tự nguyện"
    months: int
    period_from: date  # first day of the first month covered
    period_to: date  # last day of the last month covered
    amount: int  # đồng
    amount_words: str  # "Ba triệu một trăm sáu mươi tám nghìn đồng"
    rate_version: str
    confirmation_code: str  # grouped for reading, "7KQ2-9XMD-4TR6"
    qr_payload: str  # ASCII only
    detail_lines: tuple[tuple[str, str], ...] = ()  # (label, value) breakdown lines
    reprint_number: int = 0  # 0 = the original; n ≥ 1 → "BẢN SAO" n
    void: VoidInfo | None = None
    tendered: int | None = None  # cash handed over, when the cashier entered it
    card_from: date | None = None  # BHYT: the card's validity, when known
    card_to: date | None = None


@dataclass(frozen=True)
class Xn01Row:
    """One row of Mẫu 01-XN: one payment, by confirmation code."""

    stt: int
    confirmation_code: str
    full_name: str
    ma_so_bhxh: str  # "" when not yet assigned
    scheme_label: str
    months: int
    period_text: str  # "01/2027 – 12/2027"
    amount: int
    paid_at: datetime  # aware UTC
    cashier: str
    collection_point: str
    receipt_number: int
    voided: bool = False


@dataclass(frozen=True)
class Xn01Report:
    organisation: str
    collection_point: str
    counter_code: str
    business_date: date
    rows: tuple[Xn01Row, ...]
    totals_by_scheme: tuple[
        tuple[str, int, int], ...
    ]  # (scheme label, count, amount), voids excluded
    grand_total: int
    grand_count: int
    generated_at: datetime


QR_PREFIX = "QTXN1"


def receipt_qr_payload(
    *, counter_id: str, series: str, number: int, code: str, amount: int, paid_at: datetime
) -> str:
    """ASCII payload of the receipt's QR code: enough for the central system to verify it.

    `QTXN1|<counter id>|<series>|<number>|<code>|<amount>|<paid at, UTC, YYYYMMDDTHHMMSSZ>`.
    The payer's name is left out on purpose: it is not ASCII and the central system has it.
    """
    payload = "|".join(
        (
            QR_PREFIX,
            counter_id,
            series,
            str(number),
            code.replace("-", ""),
            str(amount),
            paid_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
        )
    )
    if not payload.isascii():
        raise ValueError("QR payload must be ASCII")
    return payload
