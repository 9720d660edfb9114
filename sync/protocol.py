"""The wire contract between a counter and the central collection system (API version 1).

These shapes are the single definition both ends use: the client builds and reads them, and the
reference server in `central/` declares its FastAPI endpoints with them, so the OpenAPI document
in `docs/api/openapi.json` is generated from exactly these types. Everything is plain JSON: money
is integer đồng, instants are canonical UTC text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), dates ISO.

A ledger record travels as its canonical body (the very mapping the code and the hash are
computed over, see `app.domain.ledger`) plus its sequence number, kind, code and chain link, so
the server can check everything the counter sealed without trusting anything else it was told.
That shape, `WireRecord`, and its two conversions (`to_wire`, `from_wire`) live with the sealed
record in `app.domain.ledger`; it is re-exported here as part of the contract.

Changing a field here is a protocol change: add a new API version instead of editing v1.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from app.domain.ledger import WireRecord as WireRecord  # re-exported: part of the contract

API_VERSION = "v1"
PREFIX = "/v1"
PATH_HEALTH = f"{PREFIX}/health"
PATH_ENROLL = f"{PREFIX}/enroll"
PATH_RECORDS = f"{PREFIX}/records"
PATH_RATES = f"{PREFIX}/rates"
PATH_PARTICIPANT_CHANGES = f"{PREFIX}/participants/changes"
PATH_XN01 = f"{PREFIX}/xn01"
PATH_LOOKUP = f"{PREFIX}/lookup"
PATH_IDENTITY = f"{PREFIX}/identity"
PATH_PAID_PERIODS = f"{PREFIX}/paid-periods"

DEFAULT_BATCH = 200
MAX_BATCH = 1000
MAX_CHANGES_PAGE = 1000
MAX_PAID_PERIODS_PEOPLE = 500

ResultStatus = Literal["accepted", "duplicate", "rejected"]
RejectReason = Literal["invalid", "wrong_counter", "conflict", "tampered", "fork"]
"""Why central refused a record:

* `invalid` — malformed (missing fields, wrong types, unknown kind);
* `wrong_counter` — the body names another counter than the token's;
* `conflict` — a record with this id is already stored with different content;
* `tampered` — the hash or the confirmation code does not match the body;
* `fork` — another record already holds this sequence number for this counter.
"""


class UploadRequest(TypedDict):
    """A batch of records, oldest first (ascending `seq`)."""

    records: list[WireRecord]


class ItemResult(TypedDict):
    """Central's verdict on one uploaded record; matched to the record by `id`."""

    id: str
    seq: int
    status: ResultStatus
    reason_code: RejectReason | None
    reason: str | None  # Vietnamese, safe to show a supervisor


class UploadResponse(TypedDict):
    results: list[ItemResult]
    head_seq: int  # highest sequence number central holds for this counter


class EnrollRequest(TypedDict):
    """Sent once per counter with a one-time enrolment code from the central admin.

    `signing_key` is the counter's code-signing key (base64). Central keeps it so it can verify
    every confirmation code; it must only ever travel over HTTPS in production.

    A counter moved to a new PC (docs/BACKUP.md) sends its new key with `key_from_seq` (the
    first record sealed with it) and the restored head it continues from
    (`continues_from_seq` = `key_from_seq` - 1 and that record's hash; GENESIS for an empty
    ledger). Central records the key as pending until its admin approves the move.
    """

    enrollment_code: str
    counter_id: str  # the counter's own id, as it appears in every record body
    counter_code: str
    organisation: str
    collection_point: str
    receipt_series: str
    signing_key: str
    key_from_seq: NotRequired[int]
    continues_from_seq: NotRequired[int]
    continues_from_hash: NotRequired[str]


KeyStatus = Literal["active", "pending"]


class EnrollResponse(TypedDict):
    central_counter_id: str
    api_token: str  # bearer token for every later call; the counter keeps it in the keyring
    server_time: str
    # `pending`: the key sent (a moved counter's new key) waits for central's admin; records
    # sealed with it are refused (HTTP 423) until then. Absent from older servers.
    key_status: NotRequired[KeyStatus]


class IdentityResponse(TypedDict):
    """Who the central server is: shown to the counter's administrator before enrolment sends
    the signing key (compare `fingerprint` with the one the central admin gave out)."""

    name: str
    instance_id: str
    fingerprint: str
    api_version: str


class HealthResponse(TypedDict):
    status: Literal["ok"]
    api_version: str
    server_time: str


class RateTableItem(TypedDict):
    version: str
    published_at: str
    body: str  # the rate table JSON document (app.domain.rates schema 1), as text


class RatesResponse(TypedDict):
    """Rate tables published after the version asked about, oldest first."""

    tables: list[RateTableItem]
    latest: str | None


class ParticipantChange(TypedDict):
    """A directory change; `assigned` = a mã số BHXH newly assigned to a first-time participant."""

    cursor: int
    participant_id: str
    change: Literal["assigned"]
    ma_so_bhxh: str
    changed_at: str


class ParticipantChangesResponse(TypedDict):
    changes: list[ParticipantChange]
    next_cursor: int  # pass back as `cursor` next time
    more: bool


class CentralXn01Row(TypedDict):
    """One row of central's Mẫu 01-XN for a counter and business day."""

    payment_id: str
    receipt_number: int
    confirmation_code: str  # compact, 12 symbols
    full_name: str
    ma_so_bhxh: str | None
    scheme: str
    months: int
    period_from: str
    period_to: str
    amount: int
    paid_at: str
    cashier: str
    voided: bool
    received_at: str


class Xn01Response(TypedDict):
    counter_id: str
    business_date: str
    rows: list[CentralXn01Row]
    count: int  # payments not voided
    total: int  # their amount, đồng


class LookupResponse(TypedDict):
    """What a payer sees when checking a payment (the VSS portal lookup, simulated)."""

    confirmation_code: str
    full_name: str
    ma_so_bhxh: str
    scheme: str
    months: int
    period_from: str
    period_to: str
    amount: int
    paid_at: str
    collection_point: str
    status: Literal["valid", "voided"]
    received_at: str


class PersonRef(TypedDict):
    """A participant the counter knows, by mã số BHXH and/or CCCD (at least one)."""

    ma_so_bhxh: str | None  # 10 digits
    cccd: str | None  # 12 digits


class PaidPeriodsRequest(TypedDict):
    """The participants a counter asks about (at most `MAX_PAID_PERIODS_PEOPLE`)."""

    people: list[PersonRef]


class PaidPeriod(TypedDict):
    """A period another counter recorded (not voided) for a person asked about; the
    identifier(s) it matched are echoed so the counter finds its own participant."""

    ma_so_bhxh: str | None
    cccd: str | None
    scheme: str
    period_from: str  # YYYY-MM-DD, first day of the first month
    period_to: str  # YYYY-MM-DD, first day of the last month
    collection_point: str


class PaidPeriodsResponse(TypedDict):
    periods: list[PaidPeriod]


class ErrorResponse(TypedDict):
    detail: str
