"""The HTTP face of the reference central system (FastAPI), API version 1 under `/v1`.

Request and response bodies are the TypedDicts of `sync.protocol`, so the OpenAPI document
(`docs/api/openapi.json`, written by `python -m central.openapi`) describes exactly what the
client sends and reads. Endpoints are plain functions: FastAPI runs them in its thread pool and
`central.store` serialises the writes. The work is in `central.auth` (enrolment, tokens),
`central.ingest` (uploads) and `central.feeds` (rates, participant changes, 01-XN, lookup).

Authentication: `Authorization: Bearer <api token>` from enrolment, except for health, enrolment
and the payer lookup. In production everything runs behind HTTPS — the enrolment call carries the
counter's signing key.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import UserFacingError
from central import auth, feeds
from central.auth import CounterAuth
from central.clock import now_text
from central.errors import CentralError, TooLarge
from central.ingest import ingest
from central.store import CentralStore
from sync.protocol import (
    API_VERSION,
    MAX_BATCH,
    MAX_CHANGES_PAGE,
    PATH_ENROLL,
    PATH_HEALTH,
    PATH_LOOKUP,
    PATH_PARTICIPANT_CHANGES,
    PATH_RATES,
    PATH_RECORDS,
    PATH_XN01,
    EnrollRequest,
    EnrollResponse,
    ErrorResponse,
    HealthResponse,
    LookupResponse,
    ParticipantChangesResponse,
    RatesResponse,
    UploadRequest,
    UploadResponse,
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


_bearer = HTTPBearer(auto_error=False, description="API token issued at enrolment")


def _counter_auth(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CounterAuth:
    store: CentralStore = request.app.state.store
    return auth.authenticate(store, creds.credentials if creds else None)


Counter = Annotated[CounterAuth, Depends(_counter_auth)]


def create_app(store: CentralStore) -> FastAPI:
    app = FastAPI(
        title="QuầyThu central collection API",
        version=f"1.0.0 ({API_VERSION})",
        description=DESCRIPTION,
    )
    app.state.store = store

    @app.exception_handler(CentralError)
    def _central_error(_request: Request, exc: CentralError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(UserFacingError)
    def _user_error(_request: Request, exc: UserFacingError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=400)

    @app.get(PATH_HEALTH, tags=["system"], summary="Liveness probe (cheap; no auth)")
    def health() -> HealthResponse:
        return {"status": "ok", "api_version": API_VERSION, "server_time": now_text()}

    @app.post(
        PATH_ENROLL,
        tags=["counters"],
        summary="Enrol a counter with a one-time enrolment code; register its signing key",
        responses={
            401: {"model": ErrorResponse, "description": "unknown, used or expired code"},
            409: {"model": ErrorResponse, "description": "counter known with another key"},
        },
    )
    def enroll(req: EnrollRequest) -> EnrollResponse:
        return auth.enroll(store, req)

    @app.post(
        PATH_RECORDS,
        tags=["ledger"],
        summary="Upload a batch of ledger records (payments and voids), oldest first",
        description=(
            "One result per record, matched by id: `accepted` (stored now), `duplicate` (already "
            "stored with identical content) or `rejected` with `reason_code` and a Vietnamese "
            "`reason`. Idempotent: a retried batch yields `duplicate` for what was stored. "
            f"At most {MAX_BATCH} records per batch."
        ),
        responses={
            **_ERRORS,
            413: {"model": ErrorResponse, "description": f"more than {MAX_BATCH} records"},
        },
    )
    def upload(batch: UploadRequest, counter: Counter) -> UploadResponse:
        if len(batch["records"]) > MAX_BATCH:
            raise TooLarge(f"tối đa {MAX_BATCH} bản ghi mỗi lần gửi")
        return ingest(store, counter, batch["records"])

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
        cursor: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_CHANGES_PAGE)] = 500,
    ) -> ParticipantChangesResponse:
        return feeds.participant_changes(store, counter, cursor, limit)

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

    return app
