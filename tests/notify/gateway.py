"""A real HTTP server on 127.0.0.1 that plays a brand-name SMS gateway for the tests and bench.

Behaviour is scripted per request (`script`, consumed in order; `default` afterwards):
"ok", "500", "503", "429:<retry-after>", "400", "json-fail", "timeout:<seconds>" (sleeps before
answering), "lost" (reads the request, then closes the connection without an answer).
Like a real idempotent gateway it delivers a `request_id` once: a repeat returns the first
answer and is not delivered again. `delivered` lists what reached "phones"; `requests` every
request as received.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class GatewayState:
    script: deque[str] = field(default_factory=deque)
    default: str = "ok"
    requests: list[Received] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # request_id → message id
    lock: threading.Lock = field(default_factory=threading.Lock)
    record: bool = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one answer, no 40 ms delayed-ACK stall per request
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout tests)

    def do_POST(self) -> None:
        st = self.server.state
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Type", "").startswith("application/json"):
            body = json.loads(raw)
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with st.lock:
            if st.record:
                st.requests.append(Received(self.path, dict(self.headers.items()), body))
            action = st.script.popleft() if st.script else st.default
        if action == "lost":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if action.startswith("timeout:"):
            time.sleep(float(action.split(":")[1]))
            action = "ok"
        if action.startswith("429"):
            self._answer(429, {"code": "29", "message": "too many"}, {"Retry-After": action[4:]})
        elif action in ("500", "503"):
            self._answer(int(action), {"code": "99", "message": "server error"})
        elif action == "400":
            self._answer(400, {"code": "10", "message": "so dien thoai khong hop le"})
        elif action == "json-fail":
            self._answer(200, {"code": "12", "message": "brandname chua dang ky"})
        else:
            rid = body.get("request_id")
            with st.lock:
                if rid and rid in st.answers:
                    mid = st.answers[rid]
                else:
                    mid = f"GW{len(st.delivered) + 1:06d}"
                    st.delivered.append(body)
                    if rid:
                        st.answers[rid] = mid
            self._answer(200, {"code": "00", "data": {"message_id": mid}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: GatewayState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeGateway:
    def __init__(self) -> None:
        self.state = GatewayState()
        self.server = _Server(self.state)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/sms/send"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def profile_json(url: str, *, idempotent: bool = True, timeout: float = 2.0) -> dict[str, Any]:
    """The shipped JSON profile's shape, pointed at the local gateway."""
    body: dict[str, Any] = {
        "brandname": "{brandname}",
        "to": "{phone_84}",
        "content": "{text}",
    }
    if idempotent:
        body["request_id"] = "{client_message_id}"
    return {
        "name": "test gateway",
        "url": url,
        "method": "POST",
        "auth": "bearer",
        "body_format": "json",
        "body": body,
        "params": {"brandname": "DIEMTHU-TEST"},
        "success_status": [200],
        "success_json_path": "code",
        "success_value": "00",
        "message_id_path": "data.message_id",
        "client_message_id_field": "request_id" if idempotent else None,
        "timeout_seconds": timeout,
    }
