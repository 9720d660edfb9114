"""The HTTP face of the reference central system (FastAPI), API version 1 under `/v1`.

Request and response bodies are the TypedDicts of `sync.protocol`, so the OpenAPI document
(`docs/api/openapi.json`, written by `python -m central.openapi`) describes exactly what the
client sends and reads. Endpoints are plain functions: FastAPI runs them in its thread pool and
`central.store` serialises the writes; uploads take one of a few slots per worker first
(`UPLOADS_IN_FLIGHT`), waiting in the event loop rather than in a thread. The work is in
`central.auth` (enrolment, tokens), `central.ingest` (uploads) and `central.feeds` (rates,
participant changes, 01-XN, lookup).

Authentication: `Authorization: Bearer <api token>` from enrolment, except for health, identity,
enrolment and the payer lookup. In production everything runs behind HTTPS — the enrolment call
carries the counter's signing key.

Limits (`central.limits`, docs/api/README.md): request bodies are capped per endpoint before they
are parsed; batches hold at most `MAX_BATCH` records; failed enrolments are limited per client
address; a 422 names the field and the rule but never echoes the input back.
"""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import date
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.domain.ledger import PaymentBody, VoidBody
from app.errors import UserFacingError
from central import auth, feeds
from central.auth import CounterAuth
from central.clock import now_text
from central.errors import CentralError, NotReady, TooLarge, TooManyAttempts, Unauthorized
from central.ingest import ingest
from central.limits import BODY_LIMITS, DEFAULT_BODY_LIMIT, AttemptLimit, BodyLimit
from central.masterkey import MasterKeyError
from central.store import CentralStore
from sync.protocol import (
    API_VERSION,
    MAX_BATCH,
    MAX_CHANGES_PAGE,
    MAX_PAID_PERIODS_PEOPLE,
    PATH_ENROLL,
    PATH_HEALTH,
    PATH_IDENTITY,
    PATH_LOOKUP,
    PATH_PAID_PERIODS,
    PATH_PARTICIPANT_CHANGES,
    PATH_RATES,
    PATH_RECORDS,
    PATH_XN01,
    EnrollRequest,
    EnrollResponse,
    ErrorResponse,
    HealthResponse,
    IdentityResponse,
    LookupResponse,
    PaidPeriodsRequest,
    PaidPeriodsResponse,
    ParticipantChangesResponse,
    RatesResponse,
    UploadRequest,
    UploadResponse,
    WireRecord,
    Xn01Response,
)

DESCRIPTION = """\
Reference central collection-management API for QuầyThu counters (BHXH tự nguyện / BHYT hộ gia
đình). Counters record payments offline into a hash-chained, code-signed ledger and upload it
here; central verifies every record with the counter's registered key, stores it once by id, and
serves rate tables, participant directory changes (mã số BHXH assigned to first-time
participants — simulated VSS step in this reference server), its own Mẫu 01-XN per counter and
day, and the payer lookup by Mã xác nhận + mã số BHXH. Money is integer đồng; instants are UTC
text `YYYY-MM-DDTHH:MM:SS.ffffffZ`. Use HTTPS in production.
"""

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "missing, invalid or revoked API token"},
}
INT64_MAX = 2**63 - 1
_MAX_ERRORS = 20


_bearer = HTTPBearer(auto_error=False, description="API token issued at enrolment")


def _counter_auth(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CounterAuth:
    store: CentralStore = request.app.state.store
    return auth.authenticate(store, creds.credentials if creds else None)


Counter = Annotated[CounterAuth, Depends(_counter_auth)]


async def _bearer_token(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The bearer token, not yet checked: the upload checks it in its own transaction.
    (`async`: no trip through the thread pool for a dictionary look-up.)"""
    if creds is None or not creds.credentials:
        raise Unauthorized(auth.MISSING_TOKEN)
    return creds.credentials


Token = Annotated[str, Depends(_bearer_token)]


# Names a 422 may show in a location: the request models' own fields and parameters, and
# pydantic's names for the kinds of value. Anything else in a location came from the request
# (a key of a record body, say) and is shown as "…".
_KNOWN_NAMES = frozenset(
    {
        "body",
        "query",
        "header",
        "path",
        *UploadRequest.__annotations__,
        *WireRecord.__annotations__,
        *EnrollRequest.__annotations__,
        *(f.name for f in fields(PaymentBody)),
        *(f.name for f in fields(VoidBody)),
        "type",
        "v",
        "since",
        "cursor",
        "limit",
        "date",
        "code",
        "ma_so_bhxh",
        "people",
        "cccd",
        "str",
        "int",
        "bool",
        "none",
        "float",
        "list",
        "dict",
    }
)


def _location(part: object) -> int | str:
    if isinstance(part, int):
        return part
    return part if isinstance(part, str) and part in _KNOWN_NAMES else "…"


def _validation_detail(exc: RequestValidationError) -> list[dict[str, object]]:
    """Pydantic's errors without the `input` (and `ctx`, `url`) they carry: location, message
    and type only, each bounded — a 422 never echoes what was sent."""
    out: list[dict[str, object]] = []
    for error in exc.errors()[:_MAX_ERRORS]:
        loc = [_location(part) for part in error["loc"]][:8]
        out.append({"loc": loc, "msg": str(error["msg"])[:200], "type": str(error["type"])[:64]})
    return out


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CentralError)
    def _central_error(_request: Request, exc: CentralError) -> JSONResponse:
        headers: dict[str, str] = {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(UserFacingError)
    def _user_error(_request: Request, exc: UserFacingError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=400)

    @app.exception_handler(MasterKeyError)
    def _master_key(_request: Request, exc: MasterKeyError) -> JSONResponse:
        # Central's own configuration is wrong (the master key): retry later, nothing stored.
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "60"})

    @app.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_detail(exc)}, status_code=422)


def _refuse_wide_integers(batch: UploadRequest) -> None:
    """422 for an integer no database column of central can hold (beyond 64 bits), like any
    other value of the wrong type — before anything is looked up or stored."""
    for index, record in enumerate(batch["records"]):
        wide = [
            (["body", str(k)[:64]], v)
            for k, v in record["body"].items()
            if type(v) is int and not -INT64_MAX <= v <= INT64_MAX
        ]
        seq = record["seq"]
        if not -INT64_MAX <= seq <= INT64_MAX:
            wide.insert(0, (["seq"], seq))
        if wide:
            loc = wide[0][0]
            raise RequestValidationError(
                [
                    {
                        "loc": ["body", "records", index, *loc],
                        "msg": "số nguyên vượt quá 64 bit",
                        "type": "int_out_of_range",
                    }
                ]
            )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _add_system_routes(app: FastAPI, store: CentralStore, limit: AttemptLimit) -> None:
    @app.get(PATH_HEALTH, tags=["system"], summary="Liveness probe (cheap; no auth)")
    def health() -> HealthResponse:
        return {"status": "ok", "api_version": API_VERSION, "server_time": now_text()}

    @app.get(
        PATH_IDENTITY,
        tags=["system"],
        summary="Who this central server is (shown before a counter sends its key; no auth)",
    )
    def identity() -> IdentityResponse:
        return auth.identity(store)

    @app.post(
        PATH_ENROLL,
        tags=["counters"],
        summary="Enrol a counter with a one-time enrolment code; register its signing key",
        description=(
            "The code must have been issued for this counter (organisation, collection point, "
            "counter code). Idempotent for the same code, counter and key while the code is "
            "valid. Failed attempts are limited per client address (429 with `Retry-After`)."
        ),
        responses={
            401: {"model": ErrorResponse, "description": "unknown, used or expired code"},
            403: {"model": ErrorResponse, "description": "code issued for another counter"},
            409: {"model": ErrorResponse, "description": "counter known with another key"},
            413: {"model": ErrorResponse, "description": "request body too large"},
            429: {"model": ErrorResponse, "description": "too many failed attempts"},
        },
    )
    def enroll(req: EnrollRequest, request: Request) -> EnrollResponse:
        address = _client_address(request)
        wait = limit.retry_after(address)
        if wait is not None:
            raise TooManyAttempts("quá nhiều lần đăng ký sai; hãy thử lại sau", wait)
        try:
            return auth.enroll(store, req)
        except (CentralError, UserFacingError):
            limit.failed(address)
            raise


class _UploadSlots:
    """At most `UPLOADS_IN_FLIGHT` uploads of this worker in the database at once; the others
    wait their turn in the event loop. An upload is mostly CPU under one interpreter lock:
    more at once only adds switching between threads and PostgreSQL backends, while a few
    keep the database's commits overlapping."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._limiter: anyio.CapacityLimiter | None = None

    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made in the worker's event loop
            self._limiter = anyio.CapacityLimiter(self.slots)
        return self._limiter


UPLOADS_IN_FLIGHT = 8  # per worker; within the database pool (central.store.POOL_SIZE)


def _add_ledger_routes(app: FastAPI, store: CentralStore) -> None:
    uploads = _UploadSlots(UPLOADS_IN_FLIGHT)

    @app.post(
        PATH_RECORDS,
        tags=["ledger"],
        summary="Upload a batch of ledger records (payments and voids), oldest first",
        description=(
            "One result per record, matched by id: `accepted` (stored now), `duplicate` (already "
            "stored with identical content) or `rejected` with `reason_code` and a Vietnamese "
            "`reason`. Idempotent: a retried batch yields `duplicate` for what was stored. "
            f"At most {MAX_BATCH} records and {BODY_LIMITS[PATH_RECORDS]} bytes per batch."
        ),
        responses={
            **_ERRORS,
            413: {"model": ErrorResponse, "description": f"more than {MAX_BATCH} records"},
        },
    )
    async def upload(batch: UploadRequest, token: Token) -> UploadResponse:
        if len(batch["records"]) > MAX_BATCH:
            raise TooLarge(f"tối đa {MAX_BATCH} bản ghi mỗi lần gửi")
        _refuse_wide_integers(batch)
        return await anyio.to_thread.run_sync(
            ingest, store, token, batch["records"], limiter=uploads.limiter()
        )


def _add_feed_routes(app: FastAPI, store: CentralStore) -> None:
    @app.get(
        PATH_RATES,
        tags=["feeds"],
        summary="Rate tables published after a version (all when omitted or unknown)",
        responses=_ERRORS,
    )
    def rates(
        _counter: Counter,
        since: Annotated[str | None, Query(max_length=40)] = None,
    ) -> RatesResponse:
        return feeds.rates_since(store, since)

    @app.get(
        PATH_PARTICIPANT_CHANGES,
        tags=["feeds"],
        summary="Participant directory changes after a cursor (mã số BHXH newly assigned)",
        responses=_ERRORS,
    )
    def participant_changes(
        counter: Counter,
        cursor: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_CHANGES_PAGE)] = 500,
    ) -> ParticipantChangesResponse:
        return feeds.participant_changes(store, counter, cursor, limit)

    @app.post(
        PATH_PAID_PERIODS,
        tags=["feeds"],
        summary="Periods other counters recorded for people this counter knows (not voided)",
        description=(
            "By mã số BHXH (typed or assigned here) or CCCD; at most "
            f"{MAX_PAID_PERIODS_PEOPLE} people per request. Only periods are answered (scheme, "
            "months, collection point); the caller's own records are left out."
        ),
        responses={
            **_ERRORS,
            413: {"model": ErrorResponse, "description": "too many people in one request"},
        },
    )
    def paid_periods(req: PaidPeriodsRequest, counter: Counter) -> PaidPeriodsResponse:
        return feeds.paid_periods(store, counter, req["people"])

    @app.get(
        PATH_XN01,
        tags=["reconciliation"],
        summary="Central's Mẫu 01-XN rows for the calling counter and a business day",
        responses=_ERRORS,
    )
    def xn01(
        counter: Counter,
        day: Annotated[date, Query(alias="date", description="business day, YYYY-MM-DD")],
    ) -> Xn01Response:
        return feeds.xn01(store, counter, day)

    @app.get(
        PATH_LOOKUP,
        tags=["payers"],
        summary="Payer lookup by Mã xác nhận and mã số BHXH (what the VSS portal would show)",
        responses={404: {"model": ErrorResponse, "description": "no such payment"}},
    )
    def lookup(
        code: Annotated[str, Query(min_length=12, max_length=20)],
        ma_so_bhxh: Annotated[str, Query(pattern=r"^\d{10}$")],
    ) -> LookupResponse:
        return feeds.lookup(store, code, ma_so_bhxh)


PATH_READY = "/v1/ready"
ENV_DATABASE_URL = "QUAYTHU_CENTRAL_DATABASE_URL"
ENV_NAME = "QUAYTHU_CENTRAL_NAME"


def _add_readiness(app: FastAPI, store: CentralStore) -> None:
    @app.get(
        PATH_READY,
        tags=["system"],
        summary="Readiness probe: the database answers at the expected schema (no auth)",
        responses={503: {"model": ErrorResponse, "description": "database not ready"}},
    )
    def ready() -> HealthResponse:
        if not store.ready():
            raise NotReady("cơ sở dữ liệu trung tâm chưa sẵn sàng")
        return {"status": "ok", "api_version": API_VERSION, "server_time": now_text()}


def app_from_environment() -> FastAPI:
    """The app of one API worker process (`serve --workers N`): the database named by
    `QUAYTHU_CENTRAL_DATABASE_URL`, already migrated by the serving command."""
    store = CentralStore(
        os.environ[ENV_DATABASE_URL], name=os.environ.get(ENV_NAME, ""), prepare=False
    )
    return create_app(store)


def create_app(store: CentralStore, *, enroll_limit: AttemptLimit | None = None) -> FastAPI:
    app = FastAPI(
        title="QuầyThu central collection API",
        version=f"1.0.0 ({API_VERSION})",
        description=DESCRIPTION,
    )
    app.state.store = store
    app.add_middleware(BodyLimit, limits=BODY_LIMITS, default=DEFAULT_BODY_LIMIT)
    _install_error_handlers(app)
    _add_system_routes(app, store, enroll_limit or AttemptLimit())
    _add_readiness(app, store)
    _add_ledger_routes(app, store)
    _add_feed_routes(app, store)
    return app
