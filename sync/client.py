"""HTTP client of the central API v1 (`requests`), mapping every failure to a sync error.

* connect and read timeouts on every call (no call can hang a sync);
* connection refused / reset / timeout → `TransientError(offline=True)`;
  5xx and 429 → `TransientError(offline=False, retry_after=…)`; 401 → `AuthError`;
  other 4xx or an answer that is not what the protocol says → `ProtocolError`;
* the API token is sent as a bearer token and never logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import requests

from sync.backoff import parse_retry_after
from sync.errors import NEEDS_ENROLLMENT_MESSAGE, AuthError, ProtocolError, TransientError
from sync.protocol import (
    PATH_ENROLL,
    PATH_HEALTH,
    PATH_LOOKUP,
    PATH_PAID_PERIODS,
    PATH_PARTICIPANT_CHANGES,
    PATH_RATES,
    PATH_RECORDS,
    PATH_XN01,
    EnrollRequest,
    EnrollResponse,
    HealthResponse,
    ItemResult,
    LookupResponse,
    PaidPeriod,
    PaidPeriodsResponse,
    ParticipantChangesResponse,
    PersonRef,
    RatesResponse,
    UploadResponse,
    WireRecord,
    Xn01Response,
)

log = logging.getLogger("quaythu.sync.client")

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
_STATUSES = {"accepted", "duplicate", "rejected"}


class CentralClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.session = session or requests.Session()
        self.timeout = (connect_timeout, read_timeout)

    def _request(
        self,
        method: str,
        path: str,
        *,
        payload: Any = None,
        params: dict[str, str | int] | None = None,
        auth: bool = True,
        timeout: tuple[float, float] | None = None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if auth and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        url = self.base_url + path
        try:
            resp = self.session.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                timeout=timeout or self.timeout,
            )
        except requests.Timeout as exc:
            raise TransientError(
                "Máy chủ trung tâm không trả lời kịp (quá thời gian chờ).",
                offline=True,
                message_en=f"timeout: {type(exc).__name__}",
            ) from exc
        except requests.RequestException as exc:
            raise TransientError(
                "Không kết nối được máy chủ trung tâm (mất mạng hoặc máy chủ tắt).",
                offline=True,
                message_en=f"network error: {type(exc).__name__}",
            ) from exc
        status = resp.status_code
        if status == 401:
            raise AuthError(NEEDS_ENROLLMENT_MESSAGE, message_en="401 unauthorized: enrol again")
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            busy = "đang quá tải" if status in (429, 503) else f"gặp lỗi (HTTP {status})"
            raise TransientError(
                f"Máy chủ trung tâm {busy}; sẽ thử lại sau.",
                offline=False,
                retry_after=retry_after,
                message_en=f"HTTP {status}",
            )
        if status >= 400:
            raise ProtocolError(
                f"Máy chủ trung tâm từ chối yêu cầu (HTTP {status}): {_detail(resp)}",
                message_en=f"HTTP {status}",
            )
        try:
            return resp.json()
        except ValueError as exc:
            # A cut-off body after a 200 is a network fault; retrying is safe (idempotent).
            raise TransientError(
                "Câu trả lời của máy chủ trung tâm bị cắt ngang.",
                offline=True,
                message_en="unreadable response body",
            ) from exc

    # --- endpoints -----------------------------------------------------------------------------

    def health(self, *, timeout: float | None = None) -> HealthResponse:
        t = (timeout, timeout) if timeout else None
        body = self._request("GET", PATH_HEALTH, auth=False, timeout=t)
        if not isinstance(body, dict) or body.get("status") != "ok":
            raise ProtocolError("Máy chủ trung tâm trả lời kiểm tra sức khỏe không đúng.")
        return cast(HealthResponse, body)

    def enroll(self, request: EnrollRequest) -> EnrollResponse:
        try:
            body = self._request("POST", PATH_ENROLL, payload=request, auth=False)
        except AuthError as exc:  # 401 here is about the code, not a token: say so
            raise AuthError(
                "Mã đăng ký không đúng, đã được dùng hoặc đã hết hạn. Hãy xin quản trị trung tâm "
                "cấp mã mới cho đúng quầy này.",
                message_en="enrolment code wrong, used or expired",
            ) from exc
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("api_token"), str)
            or not isinstance(body.get("central_counter_id"), str)
        ):
            raise ProtocolError("Máy chủ trung tâm trả lời đăng ký không đúng định dạng.")
        return cast(EnrollResponse, body)

    def upload(self, records: Sequence[WireRecord]) -> list[ItemResult]:
        body = self._request("POST", PATH_RECORDS, payload={"records": list(records)})
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise ProtocolError("Máy chủ trung tâm trả lời tải lên không đúng định dạng.")
        results: list[ItemResult] = []
        for item in cast(UploadResponse, body)["results"]:
            if (
                isinstance(item, dict)
                and isinstance(item.get("id"), str)
                and isinstance(item.get("seq"), int)
                and item.get("status") in _STATUSES
            ):
                results.append(item)
        return results

    def rates_since(self, version: str | None) -> RatesResponse:
        params: dict[str, str | int] = {"since": version} if version else {}
        body = self._request("GET", PATH_RATES, params=params)
        if not isinstance(body, dict) or not isinstance(body.get("tables"), list):
            raise ProtocolError("Máy chủ trung tâm trả bảng mức đóng không đúng định dạng.")
        return cast(RatesResponse, body)

    def participant_changes(self, cursor: int, limit: int) -> ParticipantChangesResponse:
        body = self._request(
            "GET", PATH_PARTICIPANT_CHANGES, params={"cursor": cursor, "limit": limit}
        )
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("changes"), list)
            or not isinstance(body.get("next_cursor"), int)
        ):
            raise ProtocolError("Máy chủ trung tâm trả danh sách thay đổi không đúng định dạng.")
        return cast(ParticipantChangesResponse, body)

    def paid_periods(self, people: Sequence[PersonRef]) -> list[PaidPeriod]:
        body = self._request("POST", PATH_PAID_PERIODS, payload={"people": list(people)})
        if not isinstance(body, dict) or not isinstance(body.get("periods"), list):
            raise ProtocolError("Máy chủ trung tâm trả kỳ đã đóng không đúng định dạng.")
        return [
            item
            for item in cast(PaidPeriodsResponse, body)["periods"]
            if isinstance(item, dict)
            and all(isinstance(item.get(k), str) for k in ("scheme", "period_from", "period_to"))
        ]

    def xn01(self, day: date) -> Xn01Response:
        body = self._request("GET", PATH_XN01, params={"date": day.isoformat()})
        if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
            raise ProtocolError("Máy chủ trung tâm trả Mẫu 01-XN không đúng định dạng.")
        return cast(Xn01Response, body)

    def lookup(self, code: str, ma_so_bhxh: str) -> LookupResponse:
        body = self._request(
            "GET", PATH_LOOKUP, params={"code": code, "ma_so_bhxh": ma_so_bhxh}, auth=False
        )
        return cast(LookupResponse, body)

    def close(self) -> None:
        self.session.close()


def _detail(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])[:300]
    return str(body)[:200]
