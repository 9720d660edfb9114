"""Request limits of the central API: body size per endpoint, capped *before* anything parses
it, and a per-address limit on failed enrolment attempts.

Body limits (bytes; documented in docs/api/README.md): a request whose `Content-Length` is over
the limit is answered 413 at once; a body streamed without one is counted as it arrives and cut
off with 413 as soon as it passes the limit, so a 50 MB upload never reaches the JSON parser.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import PATH_ENROLL, PATH_PAID_PERIODS, PATH_RECORDS

KIB = 1024
BODY_LIMITS: Mapping[str, int] = {
    PATH_RECORDS: 4 * KIB * KIB,  # 1000 records of about 1–3 KB each
    PATH_ENROLL: 4 * KIB,
    PATH_PAID_PERIODS: 64 * KIB,  # 500 people of about 60 bytes each
}
DEFAULT_BODY_LIMIT = 1 * KIB  # every other endpoint takes no body
TOO_LARGE = "nội dung yêu cầu quá lớn"


class BodyLimit:
    """ASGI middleware: 413 for a body over the endpoint's limit, before it is parsed."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Mapping[str, int] = BODY_LIMITS,
        default: int = DEFAULT_BODY_LIMIT,
    ) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, f"{TOO_LARGE} (tối đa {limit} byte)")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI passes an HTTPException raised while reading the body through.
                    raise HTTPException(413, f"{TOO_LARGE} (tối đa {limit} byte)")
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else 2**62
    return None


async def _refuse(send: Send, detail: str) -> None:
    body = ('{"detail":"' + detail + '"}').encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class AttemptLimit:
    """At most `attempts` failed enrolment attempts per client address in `window` seconds.

    Only failures count: a supervisor enrolling many counters from one office (one NAT
    address) is not slowed down, while guessing codes is. Kept in memory per API process.
    """

    attempts: int = 10
    window: float = 600.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        now = time.monotonic()
        with self._lock:
            seen = self._failures.get(address)
            if seen is None:
                return None
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if not seen:
                del self._failures[address]
                return None
            if len(seen) < self.attempts:
                return None
            return max(1, int(seen[0] + self.window - now) + 1)

    def failed(self, address: str) -> None:
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
                self._failures.clear()
            self._failures.setdefault(address, deque()).append(time.monotonic())
