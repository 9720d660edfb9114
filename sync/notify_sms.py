"""Sending one SMS through an HTTP gateway described by a `GatewayProfile` (docs/NOTIFY.md).

`HttpSmsSender(profile, secret).send(message)` makes one HTTP request and classifies the answer
for `app.notify.delivery`; it never raises for network trouble.

Guarantees:
- the request is built only from the profile: URL, method, headers, auth (bearer token or basic
  user + password — the secret comes from the keyring, never the profile), and the body template
  (JSON or form; GET sends it as the query string) with placeholders filled as whole strings, so
  a message text cannot break the JSON; our client message id is put in
  `client_message_id_field` when the gateway has one;
- success = a status in `success_status` and, when `success_json_path` is set, the value there
  equal to `success_value`; the provider's id is read from `message_id_path`;
- 429 → retry, honouring Retry-After (seconds or an HTTP date); 408 and 5xx → retry; any other
  4xx, a 2xx whose JSON says it failed, or a 3xx → permanent failure with status and a short
  excerpt of the answer;
- a connection that could not be opened (refused, DNS, connect timeout) → retry: nothing was
  sent. A timeout or a dropped connection after the request went out → `unknown`: the delivery
  loop retries with the same client message id if the gateway has one, and otherwise does not
  re-send. Without a client message id every request uses a fresh connection
  (`Connection: close`), so an idle keep-alive connection closed by the server is never
  mistaken for a lost answer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from string import Formatter
from typing import Any, Final

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from app.errors import ConfigurationError
from app.notify.address import to_international
from app.notify.delivery import Outcome, OutgoingMessage, SendResult
from app.notify.settings import GatewayProfile

EXCERPT: Final = 200
_MISSING: Final = object()


def _fill(template: str, values: dict[str, str]) -> str:
    out = []
    for literal, name, _spec, _conv in Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


def _fill_all(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _fill(value, values)
    if isinstance(value, dict):
        return {k: _fill_all(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_all(v, values) for v in value]
    return value


def _set_path(body: dict[str, Any], path: str, value: str) -> None:
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def json_path(data: Any, path: str) -> Any:
    """`a.b.0.c` into nested dicts/lists; `_MISSING` when absent."""
    node = data
    for key in path.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return _MISSING
    return node


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float | None:
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _never_reached(exc: requests.RequestException) -> bool:
    """True when the connection was never opened, so the request cannot have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


class HttpSmsSender:
    """One gateway, one requests.Session (keep-alive when the gateway is idempotent)."""

    channel = "sms"

    def __init__(
        self,
        profile: GatewayProfile,
        secret: str | None,
        *,
        session: requests.Session | None = None,
    ) -> None:
        if profile.auth != "none" and not secret:
            raise ConfigurationError(
                "Chưa có mật khẩu/token của cổng SMS trong keyring (mục sms-password). "
                "Hãy nhập trong Cài đặt → Thông báo.",
                message_en="no SMS gateway secret in the keyring",
            )
        self.profile = profile
        self._secret = secret or ""
        self.session = session or requests.Session()

    @property
    def idempotent(self) -> bool:
        return self.profile.idempotent

    def close(self) -> None:
        self.session.close()

    def build_request(self, message: OutgoingMessage) -> dict[str, Any]:
        """The keyword arguments of `requests.Session.request` for one message."""
        p = self.profile
        national = message.address
        intl = to_international(national)
        values = {
            **p.params,
            "text": message.body or "",
            "phone": national,
            "phone_e164": intl,
            "phone_84": intl[1:],
            "client_message_id": message.client_message_id,
        }
        body = _fill_all(p.body, values)
        if p.client_message_id_field:
            _set_path(body, p.client_message_id_field, message.client_message_id)
        headers = {k: _fill(v, values) for k, v in p.headers.items()}
        if p.auth == "bearer":
            headers["Authorization"] = f"Bearer {self._secret}"
        if not p.idempotent:
            headers["Connection"] = "close"
        kwargs: dict[str, Any] = {
            "method": p.method,
            "url": _fill(p.url, values),
            "headers": headers,
            "timeout": p.timeout_seconds,
            "allow_redirects": False,
        }
        if p.auth == "basic":
            kwargs["auth"] = (p.username, self._secret)
        if p.method == "GET":
            kwargs["params"] = body
        elif p.body_format == "json":
            kwargs["data"] = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            kwargs["data"] = body
        return kwargs

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            response = self.session.request(**self.build_request(message))
        except requests.RequestException as exc:
            if _never_reached(exc):
                return SendResult(Outcome.RETRY, error=f"Không kết nối được cổng SMS: {exc}")
            kind = (
                "quá thời gian chờ trả lời" if isinstance(exc, requests.Timeout) else "mất kết nối"
            )
            return SendResult(Outcome.UNKNOWN, error=f"Cổng SMS {kind} sau khi đã gửi: {exc}")
        return self.classify(response)

    def classify(self, response: requests.Response) -> SendResult:
        p = self.profile
        status = response.status_code
        excerpt = _excerpt(response.text)
        if status == 429:
            return SendResult(
                Outcome.RETRY,
                error=f"Cổng SMS báo gửi quá nhanh (HTTP 429). {excerpt}".strip(),
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status == 408 or status >= 500:
            return SendResult(
                Outcome.RETRY, error=f"Cổng SMS lỗi tạm thời (HTTP {status}). {excerpt}"
            )
        if status not in p.success_status:
            return SendResult(
                Outcome.PERMANENT, error=f"Cổng SMS từ chối (HTTP {status}): {excerpt}"
            )
        data: Any = None
        if p.success_json_path or p.message_id_path:
            try:
                data = response.json()
            except ValueError:
                return SendResult(
                    Outcome.PERMANENT,
                    error=f"Cổng SMS trả lời không phải JSON (HTTP {status}): {excerpt}",
                )
        if p.success_json_path:
            value = json_path(data, p.success_json_path)
            ok = value is not _MISSING and (
                str(value) == p.success_value if p.success_value is not None else bool(value)
            )
            if not ok:
                return SendResult(
                    Outcome.PERMANENT,
                    error=f"Cổng SMS báo không gửi được ({p.success_json_path}="
                    f"{'không có' if value is _MISSING else value}): {excerpt}",
                )
        provider_id = None
        if p.message_id_path:
            found = json_path(data, p.message_id_path)
            provider_id = None if found is _MISSING or found is None else str(found)[:100]
        return SendResult(Outcome.SENT, provider_message_id=provider_id)


def send_test_sms(profile: GatewayProfile, secret: str | None, phone: str, text: str) -> SendResult:
    """One test SMS (Settings → "Gửi thử") through `profile`, to `phone` (already normalised),
    with a fresh client message id. Raises ConfigurationError when the secret is missing."""
    import uuid

    sender = HttpSmsSender(profile, secret)
    try:
        return sender.send(
            OutgoingMessage(
                id=0,
                payment_id="",
                kind="test",
                channel="sms",
                address=phone,
                body=text,
                client_message_id=uuid.uuid4().hex,
                attempt=1,
            )
        )
    finally:
        sender.close()
