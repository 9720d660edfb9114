"""Enrolling a counter with the central system: one-time code in, API token (keyring) out.

The counter sends its code-signing key with the enrolment request so that central — the other
key holder by design — can verify every Mã xác nhận it receives. That request must travel over
HTTPS in production; `enroll_counter` refuses plain `http://` except to this machine
(`localhost`/`127.0.0.1`, for the reference server and tests) unless `allow_insecure` is set.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlparse

import requests

from app.errors import ValidationError
from app.secrets import load_signing_key, set_secret
from app.services.counter import get_counter
from app.services.registration import record_enrollment
from app.storage.db import Database
from sync.client import CentralClient
from sync.config import SyncConfig
from sync.connection import token_name

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class EnrollmentResult:
    central_url: str
    central_counter_id: str


def check_server_url(url: str, *, allow_insecure: bool = False) -> str:
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValidationError(
            "server",
            "Địa chỉ máy chủ trung tâm",
            "phải có dạng https://ten-may-chu[:cổng]",
            rule_en="expected https://host[:port]",
        )
    if parsed.scheme == "http" and parsed.hostname not in _LOCAL_HOSTS and not allow_insecure:
        raise ValidationError(
            "server",
            "Địa chỉ máy chủ trung tâm",
            "phải dùng https:// (việc đăng ký gửi khóa ký của quầy)",
            rule_en="must be https:// (enrolment sends the signing key)",
        )
    return url.strip().rstrip("/")


def enroll_counter(
    db: Database,
    server_url: str,
    enrollment_code: str,
    *,
    config: SyncConfig | None = None,
    session: requests.Session | None = None,
    allow_insecure: bool = False,
) -> EnrollmentResult:
    config = config or SyncConfig()
    url = check_server_url(server_url, allow_insecure=allow_insecure)
    code = enrollment_code.strip()
    if not code:
        raise ValidationError("code", "Mã đăng ký", "không được để trống", rule_en="required")
    counter = get_counter(db)
    key = load_signing_key(counter.counter_id)
    client = CentralClient(
        url,
        session=session,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
    )
    resp = client.enroll(
        {
            "enrollment_code": code,
            "counter_id": counter.counter_id,
            "counter_code": counter.counter_code,
            "organisation": counter.organisation,
            "collection_point": counter.collection_point,
            "receipt_series": counter.receipt_series,
            "signing_key": base64.b64encode(key).decode("ascii"),
        }
    )
    set_secret(token_name(counter.counter_id), resp["api_token"])
    record_enrollment(db, central_url=url, central_counter_id=resp["central_counter_id"])
    return EnrollmentResult(url, resp["central_counter_id"])
