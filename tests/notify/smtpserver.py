"""A real SMTP server (aiosmtpd) on 127.0.0.1 with a self-signed certificate, STARTTLS or
implicit TLS, and LOGIN/PLAIN authentication — for the email tests."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.tls import self_signed

USER, PASSWORD = "diemthu01", "smtp-mat-khau"


@dataclass
class Mailbox:
    messages: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    drop_data: bool = False  # close the connection when the message arrives (a lost answer)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.endswith("@khongton.test"):
            return "550 5.1.1 mailbox unavailable"
        if address.endswith("@daybox.test"):
            return "452 4.2.2 mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if self.drop_data:
            server.transport.close()
        return "250 Message accepted for delivery"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, folder: Path, *, implicit_tls: bool = False) -> None:
        cert, key = self_signed(folder)
        self.cafile = cert
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        self.mailbox = Mailbox()
        self.port = free_port()
        kwargs: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": self.port,
            "authenticator": _auth,
        }
        if implicit_tls:
            kwargs.update(ssl_context=server_ctx, auth_require_tls=False)  # TLS from the start
        else:
            kwargs.update(tls_context=server_ctx, require_starttls=True, auth_require_tls=True)
        self.controller = Controller(self.mailbox, **kwargs)
        self.controller.start()

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def stop(self) -> None:
        self.controller.stop()
