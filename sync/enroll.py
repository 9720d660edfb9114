"""Enrolling a counter with the central system: one-time code in, API token (keyring) out.

The counter sends its code-signing key with the enrolment request so that central — the other
key holder by design — can verify every Mã xác nhận it receives. So, before that:

1. `check_server_url` refuses plain `http://` to anything but this machine (the loopback
   addresses and `localhost`, for the reference server and tests) — there is no override;
2. `identify_server(url)` asks central who it is (`GET /v1/identity`: name and fingerprint,
   plus the SHA-256 of its TLS certificate over HTTPS) so the front end can show it and let the
   administrator compare it with what the central admin gave out, before any key leaves;
3. `enroll_counter(db, url, code, expected=identity)` checks central still says the same
   identity, then sends the code and the key, and keeps the token in the OS keyring.

Enrolment is idempotent at central for the same code, counter and key while the code is valid,
so an answer lost on the way can be retried with the same code. Every network call takes a
`timeout` (seconds). The enrolment code is only ever a function argument here: front ends read
it from a prompt or standard input, never from the command line (`read_enrollment_code`).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlparse

import requests

from app.errors import UserFacingError, ValidationError
from app.secrets import load_signing_key, set_secret
from app.services.counter import get_counter
from app.services.registration import record_enrollment
from app.services.relocation import key_epoch
from app.storage.db import Database
from sync.client import CentralClient
from sync.config import SyncConfig
from sync.connection import token_name
from sync.protocol import PATH_IDENTITY, EnrollRequest

DEFAULT_TIMEOUT = 15.0
_FIELD, _LABEL = "server", "Địa chỉ máy chủ trung tâm"


@dataclass(frozen=True)
class EnrollmentResult:
    central_url: str
    central_counter_id: str
    # A counter moved to a new PC: its new key waits for central's admin to approve the move;
    # records sealed with it stay queued until then (docs/BACKUP.md).
    key_pending: bool = False


@dataclass(frozen=True)
class ServerIdentity:
    """Who answers at `url`: what a front end shows before the key is sent."""

    url: str
    name: str
    fingerprint: str  # central's own fingerprint (`quaythu-central identity`)
    tls_sha256: str | None  # SHA-256 of the server's TLS certificate; None over loopback HTTP

    def lines(self) -> list[str]:
        """Vietnamese lines to show the administrator."""
        out = [
            f"Máy chủ: {self.url}",
            f"Tên: {self.name}",
            f"Dấu nhận dạng trung tâm: {self.fingerprint}",
        ]
        if self.tls_sha256:
            out.append(f"Chứng chỉ TLS (SHA-256): {self.tls_sha256}")
        else:
            out.append("Kết nối: HTTP trong chính máy này (không mã hóa)")
        return out


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, *, allow_insecure: bool = False) -> str:
    """The server URL, cleaned; plain HTTP only to this machine.

    `allow_insecure` is accepted for compatibility and ignored: the key never travels over
    plain HTTP across a network."""
    del allow_insecure
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValidationError(
            _FIELD,
            _LABEL,
            "phải có dạng https://ten-may-chu[:cổng]",
            rule_en="expected https://host[:port]",
        )
    if parsed.username or parsed.password or parsed.query or parsed.fragment:
        raise ValidationError(
            _FIELD,
            _LABEL,
            "không được chứa tên đăng nhập, mật khẩu, tham số hay #",
            rule_en="no credentials, query or fragment",
        )
    if parsed.scheme == "http" and not is_loopback(parsed.hostname):
        raise ValidationError(
            _FIELD,
            _LABEL,
            "phải dùng https:// (việc đăng ký gửi khóa ký của quầy); http:// chỉ dùng được "
            "với máy chủ chạy ngay trên máy này",
            rule_en="must be https:// (enrolment sends the signing key); http only to loopback",
        )
    return url.strip().rstrip("/")


def _check_timeout(timeout: float) -> float:
    if not 0 < timeout <= 600:
        raise ValidationError(
            "timeout", "Thời gian chờ", "phải từ 0 đến 600 giây", rule_en="must be in (0, 600]"
        )
    return float(timeout)


def _tls_fingerprint(url: str, timeout: float) -> str:
    parsed = urlparse(url)
    host, port = parsed.hostname or "", parsed.port or 443
    context = ssl.create_default_context()
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise UserFacingError(
            f"Không kiểm tra được chứng chỉ TLS của máy chủ trung tâm: {exc}",
            message_en=f"TLS check failed: {type(exc).__name__}",
        ) from exc
    if not der:
        raise UserFacingError("Máy chủ trung tâm không gửi chứng chỉ TLS.")
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def identify_server(
    server_url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
) -> ServerIdentity:
    """Ask central who it is (no key, no code sent). Raises `UserFacingError` when it cannot
    be reached or does not answer like a QuầyThu central."""
    url = check_server_url(server_url)
    wait = _check_timeout(timeout)
    tls = _tls_fingerprint(url, wait) if url.startswith("https://") else None
    http = session or requests.Session()
    try:
        resp = http.get(url + PATH_IDENTITY, timeout=(wait, wait))
        data = resp.json() if resp.status_code == 200 else None
    except (requests.RequestException, ValueError) as exc:
        raise UserFacingError(
            "Không kết nối được máy chủ trung tâm để kiểm tra danh tính.",
            message_en=f"identity request failed: {type(exc).__name__}",
        ) from exc
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("name", "fingerprint")
    ):
        raise UserFacingError(
            "Máy chủ này không trả lời như máy chủ trung tâm QuầyThu (không có danh tính).",
            message_en="not a QuầyThu central (no identity)",
        )
    return ServerIdentity(url, data["name"][:200], data["fingerprint"][:64], tls)


def read_enrollment_code(stream: TextIO, *, prompt: Callable[[str], str] | None = None) -> str:
    """The enrolment code from a prompt (an interactive terminal: `getpass.getpass`, nothing
    echoed) or else the first line of `stream` (standard input) — never from argv."""
    text = prompt("Mã đăng ký: ") if prompt is not None else stream.readline()
    code = text.strip()
    if not code:
        raise ValidationError("code", "Mã đăng ký", "không được để trống", rule_en="required")
    if len(code) > 64 or not code.isprintable():
        raise ValidationError("code", "Mã đăng ký", "không đúng dạng", rule_en="malformed")
    return code


def enroll_counter(
    db: Database,
    server_url: str,
    enrollment_code: str,
    *,
    config: SyncConfig | None = None,
    session: requests.Session | None = None,
    allow_insecure: bool = False,
    timeout: float | None = None,
    expected: ServerIdentity | None = None,
) -> EnrollmentResult:
    """Enrol this counter. With `expected` (what `identify_server` returned and the
    administrator confirmed), central must still show that identity, or nothing is sent."""
    del allow_insecure  # see check_server_url: plain HTTP is refused beyond this machine
    config = config or SyncConfig()
    url = check_server_url(server_url)
    code = enrollment_code.strip()
    if not code:
        raise ValidationError("code", "Mã đăng ký", "không được để trống", rule_en="required")
    wait = _check_timeout(timeout) if timeout is not None else None
    if expected is not None:
        now = identify_server(url, timeout=wait or DEFAULT_TIMEOUT, session=session)
        if (now.url, now.fingerprint, now.tls_sha256) != (
            expected.url,
            expected.fingerprint,
            expected.tls_sha256,
        ):
            raise UserFacingError(
                "Danh tính máy chủ trung tâm đã thay đổi kể từ khi kiểm tra; không gửi khóa.",
                message_en="central identity changed since it was checked; key not sent",
            )
    counter = get_counter(db)
    key = load_signing_key(counter.counter_id)
    client = CentralClient(
        url,
        session=session,
        connect_timeout=wait or config.connect_timeout,
        read_timeout=wait or config.read_timeout,
    )
    request: EnrollRequest = {
        "enrollment_code": code,
        "counter_id": counter.counter_id,
        "counter_code": counter.counter_code,
        "organisation": counter.organisation,
        "collection_point": counter.collection_point,
        "receipt_series": counter.receipt_series,
        "signing_key": base64.b64encode(key).decode("ascii"),
    }
    with db.read() as s:
        epoch = key_epoch(s)
    if epoch is not None:  # moved to this PC: the new key continues the chain from here
        request["key_from_seq"] = epoch.from_seq
        request["continues_from_seq"] = epoch.from_seq - 1
        request["continues_from_hash"] = epoch.continues_from_hash
    resp = client.enroll(request)
    set_secret(token_name(counter.counter_id), resp["api_token"])
    record_enrollment(db, central_url=url, central_counter_id=resp["central_counter_id"])
    return EnrollmentResult(
        url, resp["central_counter_id"], key_pending=resp.get("key_status") == "pending"
    )
