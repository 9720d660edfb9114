"""A fault-injecting HTTP/1.1 proxy for sync tests (threads; bounded; stops itself).

It sits between the sync client and the real reference server on 127.0.0.1 and, request by
request, either forwards faithfully or injects one fault from a queue:

* `refuse()` / `accept()` — close / reopen the listening socket: connection refused;
* `Fault.reset()` — read part of the request, then reset the connection (RST);
* `Fault.hang()` — read the request, forward nothing, answer nothing: the client times out;
* `Fault.status(500)`, `Fault.status(429, retry_after=1)` — answer at once without forwarding;
* `Fault.drop_response()` — forward, let the server commit, then reset instead of answering:
  the response is lost after the server stored the batch;
* `Fault.slow(seconds)` — forward, then hold the response back for `seconds` (a very slow
  server; with a delay above the client's read timeout the client gives up after the commit).

Every request is logged (time, method, path, fault) so tests can check timing, e.g. that a retry
did not come earlier than Retry-After. Bounds: every socket has a timeout, the proxy shuts down
after `max_lifetime` seconds, and all threads are daemons joined by `close()`.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

_IO_TIMEOUT = 30.0


@dataclass(frozen=True)
class Fault:
    kind: str
    http_status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0
    path_prefix: str = "/v1/records"  # which requests it applies to

    @staticmethod
    def reset(path_prefix: str = "/v1/records") -> Fault:
        return Fault("reset", path_prefix=path_prefix)

    @staticmethod
    def hang(path_prefix: str = "/v1/records") -> Fault:
        return Fault("hang", path_prefix=path_prefix)

    @staticmethod
    def status(
        code: int, retry_after: float | str | None = None, path_prefix: str = "/v1/records"
    ) -> Fault:
        ra = None if retry_after is None else str(retry_after)
        return Fault("status", http_status=code, retry_after=ra, path_prefix=path_prefix)

    @staticmethod
    def drop_response(path_prefix: str = "/v1/records") -> Fault:
        return Fault("drop_response", path_prefix=path_prefix)

    @staticmethod
    def slow(seconds: float, path_prefix: str = "/v1/records") -> Fault:
        return Fault("slow", seconds=seconds, path_prefix=path_prefix)


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic()
    method: str
    path: str
    fault: str  # "pass" or the fault kind


@dataclass
class _Message:
    head: bytes
    body: bytes = b""
    start_line: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class _Closed(Exception):
    pass


def _recv_until(sock: socket.socket, buf: bytearray, marker: bytes, limit: int = 1 << 20) -> int:
    while True:
        i = buf.find(marker)
        if i >= 0:
            return i
        if len(buf) > limit:
            raise _Closed("header too large")
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed("peer closed")
        buf += chunk


def _recv_exact(sock: socket.socket, buf: bytearray, n: int) -> bytes:
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            raise _Closed("peer closed")
        buf += chunk
    out = bytes(buf[:n])
    del buf[:n]
    return out


def _read_message(sock: socket.socket, buf: bytearray) -> _Message:
    end = _recv_until(sock, buf, b"\r\n\r\n")
    head = bytes(buf[: end + 4])
    del buf[: end + 4]
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    msg = _Message(head=head, start_line=lines[0], headers=headers)
    if "content-length" in headers:
        msg.body = _recv_exact(sock, buf, int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            i = _recv_until(sock, buf, b"\r\n")
            size_line = bytes(buf[: i + 2])
            del buf[: i + 2]
            size = int(size_line.split(b";")[0].strip(), 16)
            chunk = _recv_exact(sock, buf, size + 2)
            body += size_line + chunk
            if size == 0:
                break
        msg.body = bytes(body)
    return msg


def _rst_close(sock: socket.socket) -> None:
    """Abort the connection with a TCP reset."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _kill(sock: socket.socket) -> None:
    """Shut a connection down from another thread (wakes a thread blocked reading it)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    _rst_close(sock)


class FaultProxy:
    def __init__(self, upstream_port: int, *, max_lifetime: float = 120.0) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._listen_lock = threading.Lock()
        self.port = 0
        self._listen()
        self._deadline = time.monotonic() + max_lifetime
        self._spawn(self._accept_loop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control -------------------------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults_left(self) -> int:
        with self._lock:
            return len(self._faults)

    def requests_to(self, prefix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.startswith(prefix)]

    def refuse(self) -> None:
        """Stop listening (and drop open connections): new connections are refused."""
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            _kill(c)

    def accept(self) -> None:
        """Listen again on the same port."""
        self._listen()

    def close(self) -> None:
        self._stop.set()
        self.refuse()
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- machinery -----------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _listen(self) -> None:
        with self._listen_lock:
            if self._listener is not None:
                return
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.port))
            s.listen(64)
            s.settimeout(0.1)
            self.port = s.getsockname()[1]
            self._listener = s

    def _alive(self) -> bool:
        if time.monotonic() > self._deadline:
            self._stop.set()
        return not self._stop.is_set()

    def _accept_loop(self) -> None:
        while self._alive():
            with self._listen_lock:
                listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(_IO_TIMEOUT)
            with self._lock:
                self._conns.add(conn)
            self._spawn(self._serve, conn)
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            if self._faults and path.startswith(self._faults[0].path_prefix):
                return self._faults.popleft()
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        buf = bytearray()
        ubuf = bytearray()
        try:
            while self._alive():
                # Peek at the request head first so a reset can hit mid-request.
                end = _recv_until(client, buf, b"\r\n\r\n")
                start = bytes(buf[:end]).decode("latin-1").split("\r\n")[0]
                method, path = ([*start.split(" "), "", ""])[:2]
                fault = self._next_fault(path)
                with self._lock:
                    self.seen.append(
                        Seen(time.monotonic(), method, path, fault.kind if fault else "pass")
                    )
                if fault is not None and fault.kind == "reset":
                    _rst_close(client)
                    return
                request = _read_message(client, buf)
                if fault is not None and fault.kind == "hang":
                    self._hold(client, 15.0)
                    _rst_close(client)
                    return
                if fault is not None and fault.kind == "status":
                    body = b'{"detail":"injected fault"}'
                    extra = f"Retry-After: {fault.retry_after}\r\n" if fault.retry_after else ""
                    reason = {429: "Too Many Requests", 503: "Service Unavailable"}.get(
                        fault.http_status, "Internal Server Error"
                    )
                    client.sendall(
                        (
                            f"HTTP/1.1 {fault.http_status} {reason}\r\n"
                            "Content-Type: application/json\r\n"
                            f"Content-Length: {len(body)}\r\n{extra}\r\n"
                        ).encode("latin-1")
                        + body
                    )
                    continue
                if upstream is None:
                    upstream = socket.create_connection(self.upstream, timeout=_IO_TIMEOUT)
                upstream.sendall(request.head + request.body)
                response = _read_message(upstream, ubuf)
                if fault is not None and fault.kind == "drop_response":
                    _rst_close(client)
                    return
                if fault is not None and fault.kind == "slow":
                    if self._stop.wait(fault.seconds):
                        return
                client.sendall(response.head + response.body)
                if response.headers.get("connection", "").lower() == "close":
                    return
        except (_Closed, OSError):
            return
        finally:
            with self._lock:
                self._conns.discard(client)
            try:
                client.close()
            except OSError:
                pass
            if upstream is not None:
                upstream.close()

    def _hold(self, client: socket.socket, seconds: float) -> None:
        """Say nothing until the client gives up (closes) or `seconds` pass."""
        deadline = time.monotonic() + seconds
        client.settimeout(0.05)
        while self._alive() and time.monotonic() < deadline:
            try:
                if not client.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return
