"""The transports a feed travels by: a directory, SMTP, an HTTPS POST.

Each makes one attempt (:mod:`teiten.notify.send` retries) and calls ``commit`` at the
point past which the receiver may have the feed — before that point a failure means it
did not arrive; after it, a failure without an answer means it may have
(:class:`~teiten.errors.DeliveryError` ``maybe_delivered``):

* ``directory``: the CSV, then the JSON, each written beside its name and renamed into
  place; the JSON's rename is the commit. It can always tell whether an interrupted
  attempt arrived: the JSON with the feed's digest is there or not.
* ``smtp``: STARTTLS (or implicit TLS), a login from the credentials file, MAIL, RCPT,
  DATA and the message; the commit is the final ``.`` line, after which only the
  server's reply says whether it took the message (RFC 5321 6.1). The ``Message-ID``
  is derived from the feed's digest.
* ``https``: a POST of the feed's JSON with ``Idempotency-Key: <digest>`` and, with
  credentials, ``Authorization: Bearer <token>``; the commit is sending the request.

Secrets are read from the credentials file for each attempt and never appear in a
message or a log line.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from teiten.errors import DeliveryError
from teiten.notify.archive import write_atomically
from teiten.notify.config import Delivery, Recipient
from teiten.notify.feeds import Feed, parse_json, render_csv, render_json
from teiten.notify.mail import feed_message, message_id, smtp_data

__all__ = ["DirectoryTransport", "HttpsTransport", "SmtpTransport", "Transport", "transport_for"]

Commit = Callable[[], None]


class Transport(Protocol):
    """One way to deliver a recipient's feeds."""

    kind: str

    def identity(self, feed: Feed) -> str:
        """What the receiver can tell this feed (and a duplicate of it) by."""
        ...

    def deliver(self, feed: Feed, commit: Commit) -> str:
        """One attempt; the receiver's answer, or a :class:`DeliveryError`."""
        ...

    def delivered(self, feed: Feed) -> bool | None:
        """Whether an interrupted attempt arrived, when the transport can tell (else None)."""
        ...


def transport_for(recipient: Recipient) -> Transport:
    d = recipient.delivery
    if d.kind == "directory":
        return DirectoryTransport(d)
    if d.kind == "smtp":
        return SmtpTransport(d, recipient.name)
    return HttpsTransport(d, recipient.name)


class DirectoryTransport:
    """Feeds written into a folder as ``teiten-<recipient>-<period>.csv`` and ``.json``."""

    kind = "directory"

    def __init__(self, delivery: Delivery) -> None:
        assert delivery.path is not None
        self.folder = delivery.path

    def _path(self, feed: Feed, suffix: str) -> Path:
        return self.folder / f"teiten-{feed.recipient}-{feed.period_label}{suffix}"

    def identity(self, feed: Feed) -> str:
        return str(self._path(feed, ".json"))

    def deliver(self, feed: Feed, commit: Commit) -> str:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self._path(feed, ".csv"), render_csv(feed), 0o640)
            commit()
            write_atomically(self._path(feed, ".json"), render_json(feed), 0o640)
        except OSError as exc:
            raise DeliveryError(
                f"{feed.recipient}: cannot write into {self.folder}: {exc.strerror or exc}"
            ) from exc
        return f"written to {self.folder}"

    def delivered(self, feed: Feed) -> bool | None:
        try:
            return parse_json(self._path(feed, ".json").read_bytes()).digest == feed.digest
        except (OSError, ValueError, KeyError):
            return False


def _tls_context(delivery: Delivery) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=delivery.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class SmtpTransport:
    """A message to ``delivery.to`` through the SMTP server ``delivery.host``."""

    kind = "smtp"

    def __init__(self, delivery: Delivery, recipient: str) -> None:
        assert delivery.host is not None and delivery.sender is not None and delivery.port
        self.d = delivery
        self.sender = delivery.sender
        self.where = f"{recipient}: SMTP {delivery.host}:{delivery.port}"

    def identity(self, feed: Feed) -> str:
        return message_id(feed, self.sender)

    def delivered(self, feed: Feed) -> bool | None:
        return None  # SMTP cannot be asked whether a message arrived

    def deliver(self, feed: Feed, commit: Commit) -> str:
        secrets = self.d.credentials.read() if self.d.credentials else None
        data = smtp_data(feed_message(feed, self.sender, self.d.to))
        committed = False

        def past_the_point() -> None:
            nonlocal committed
            commit()
            committed = True

        try:
            smtp = self._connect()
            try:
                code, reply = self._transaction(smtp, secrets, data, past_the_point)
                _quit(smtp)
            finally:
                smtp.close()
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            file = self.d.credentials.path if self.d.credentials else "?"
            raise DeliveryError(
                f"{self.where}: the server refused the login in {file} ({exc.smtp_code})",
                permanent=True,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"{self.where}: the server does not offer {exc} (set delivery.security)",
                permanent=True,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"{self.where}: {_what(exc)}"
                + (" after the whole message was sent: it may have arrived" if committed else ""),
                maybe_delivered=committed,
            ) from None
        return f"{code} {reply.decode(errors='replace')}"

    def _transaction(
        self, smtp: smtplib.SMTP, secrets: dict[str, str] | None, data: bytes, commit: Commit
    ) -> tuple[int, bytes]:
        """Hello, TLS, login, MAIL, RCPT, DATA and the message; the server's last reply."""
        self._hello(smtp, secrets)
        _expect(smtp.mail(self.sender), (250,), f"{self.where}: MAIL FROM refused")
        for address in self.d.to:
            _expect(smtp.rcpt(address), (250, 251), f"{self.where}: RCPT TO {address} refused")
        _expect(smtp.docmd("DATA"), (354,), f"{self.where}: DATA refused")
        smtp.send(data)
        commit()
        smtp.send(b".\r\n")
        answer = smtp.getreply()
        _expect(answer, (250,), f"{self.where}: the message was refused")
        return answer

    def _connect(self) -> smtplib.SMTP:
        host, port, timeout = self.d.host or "", self.d.port or 0, self.d.timeout_seconds
        local = socket.gethostname()
        if self.d.security == "tls":
            return smtplib.SMTP_SSL(
                host, port, local, timeout=timeout, context=_tls_context(self.d)
            )
        return smtplib.SMTP(host, port, local, timeout=timeout)

    def _hello(self, smtp: smtplib.SMTP, secrets: dict[str, str] | None) -> None:
        smtp.ehlo()
        if self.d.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("STARTTLS")
            smtp.starttls(context=_tls_context(self.d))
            smtp.ehlo()
        if secrets is not None:
            smtp.login(secrets["username"], secrets["password"])


def _expect(answer: tuple[int, bytes], codes: tuple[int, ...], what: str) -> None:
    """A :class:`DeliveryError` unless the server's reply code is one of ``codes``: the
    server answered, so the feed did not arrive (5xx: permanently refused)."""
    code, reply = answer
    if code not in codes:
        text = reply.decode(errors="replace").replace("\n", " ")
        raise DeliveryError(f"{what}: {code} {text}", permanent=500 <= code < 600)


def _quit(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()  # delivered already: a lost goodbye changes nothing


def _what(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer within the timeout"
    if isinstance(exc, OSError):
        return f"cannot reach the server ({exc.strerror or exc})"
    return f"{type(exc).__name__}: {exc}"


class HttpsTransport:
    """The feed's JSON POSTed to ``delivery.url``."""

    kind = "https"

    def __init__(self, delivery: Delivery, recipient: str) -> None:
        assert delivery.url is not None
        self.d = delivery
        self.url = delivery.url
        self.where = f"{recipient}: POST {delivery.url}"

    def identity(self, feed: Feed) -> str:
        return feed.digest  # sent as Idempotency-Key

    def delivered(self, feed: Feed) -> bool | None:
        return None

    def deliver(self, feed: Feed, commit: Commit) -> str:
        import httpx

        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": feed.digest,
            "X-Teiten-Feed": f"{feed.recipient} {feed.period_label}",
        }
        if self.d.credentials is not None:
            headers["Authorization"] = f"Bearer {self.d.credentials.read()['token']}"
        verify: ssl.SSLContext | bool = _tls_context(self.d)
        try:
            with httpx.Client(verify=verify, timeout=self.d.timeout_seconds) as client:
                commit()
                answer = client.post(self.url, content=render_json(feed), headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
            raise DeliveryError(f"{self.where}: cannot connect ({exc or 'timeout'})") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(
                f"{self.where}: {type(exc).__name__} after the request was sent: it may have "
                "arrived",
                maybe_delivered=True,
            ) from None
        if answer.is_success:
            return f"{answer.status_code} {answer.reason_phrase}"
        retry = answer.status_code in (408, 425, 429) or answer.status_code >= 500
        raise DeliveryError(
            f"{self.where}: answered {answer.status_code} {answer.reason_phrase}",
            permanent=not retry,
        )
