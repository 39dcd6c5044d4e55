"""A real SMTP server for the delivery tests: aiosmtpd with STARTTLS (a self-signed
certificate) and AUTH required, keeping every message it accepts. It can hold a
transaction at RCPT or DATA (for a test to kill the sender there) and drop the
connection in the middle of a message's DATA."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from conftest import self_signed_certificate

USER, PASSWORD = "feeds@csirt.example.org", "s3cret-pa55-never-shown"


@dataclass
class Mailbox:
    """The server's handler: what it accepted, and the faults it is told to make."""

    messages: list[EmailMessage] = field(default_factory=list)
    sessions: list[tuple[bool, bool]] = field(default_factory=list)  # (TLS, authenticated)
    transactions: int = 0
    hold_at: tuple[str, int] | None = None  # ("RCPT" | "DATA", nth transaction)
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    drop_data: int = 0  # connections to drop in the middle of DATA

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.transactions += 1
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        await self._hold("RCPT")
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Queue the message, then answer (held here: a sender killed now never hears
        that the server took its message)."""
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.sessions.append((session.ssl is not None, bool(session.authenticated)))
        await self._hold("DATA")
        return "250 2.0.0 queued"

    async def _hold(self, phase: str) -> None:
        if self.hold_at == (phase, self.transactions):
            self.reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)


class _DroppingSMTP(SMTP):
    """Drops the connection after the first line of a message while told to."""

    async def smtp_DATA(self, arg: str) -> None:
        mailbox: Mailbox = self.event_handler
        if mailbox.drop_data > 0 and self.envelope is not None and self.envelope.rcpt_tos:
            mailbox.drop_data -= 1
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n")
            assert self.transport is not None
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _DroppingSMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class Server:
    mailbox: Mailbox
    port: int
    certificate: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(folder: Path) -> Iterator[Server]:
    """A running server on 127.0.0.1 (STARTTLS and AUTH required); stopped on exit."""
    cert, key = self_signed_certificate(folder, "smtp")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox, port = Mailbox(), free_port()
    controller = _Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield Server(mailbox, port, cert)
    finally:
        mailbox.release.set()
        controller.stop()


def credentials_file(folder: Path, password: str = PASSWORD, mode: int = 0o600) -> Path:
    path = folder / "smtp-credentials.toml"
    path.write_text(f'username = "{USER}"\npassword = "{password}"\n')
    path.chmod(mode)
    return path
