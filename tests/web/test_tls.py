"""``teiten serve`` over HTTPS, end to end: a real process with a self-signed certificate.

A client that trusts the certificate is answered, and the sign-in cookie is ``Secure``;
plain HTTP on that port, or a client that trusts another CA, fails with a clear error
and the server serves on; a certificate or key that cannot serve is refused when the
configuration loads, naming the key and the file, never with a traceback (before, an
unreadable key stopped ``teiten serve`` with OpenSSL's "[SSL] PEM lib").
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import self_signed_certificate
from teiten.store import Store
from teiten.web.tokens import Tokens

from ._server import WebServer

TEITEN = [sys.executable, "-m", "teiten.cli"]


class Served:
    """A running HTTPS server, the CA that signed its certificate, an operator token."""

    def __init__(self, server: WebServer, ca: Path, token: str) -> None:
        self.server, self.ca, self.token = server, ca, token

    @property
    def trusted(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``teiten serve`` with a self-signed certificate over a new store with one token."""
    folder = tmp_path_factory.mktemp("tls")
    Store(folder / "store").close()
    token = Tokens(folder / "store").add("analyst")
    tls = self_signed_certificate(folder, "web")
    server = WebServer(folder / "server", folder / "store", tls=tls).start()
    try:
        yield Served(server, tls[0], token)
    finally:
        server.stop()


def test_a_client_trusting_the_certificate_is_answered(served):
    assert served.server.url.startswith("https://")
    health = httpx.get(served.server.url + "/api/v1/health", verify=served.trusted)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.http_version == "HTTP/1.1"
    auth = {"Authorization": f"Bearer {served.token}"}
    store = httpx.get(served.server.url + "/api/v1/store", headers=auth, verify=served.trusted)
    assert store.status_code == 200, store.text


def test_the_sign_in_cookie_is_secure_over_https(served):
    signed = httpx.post(
        served.server.url + "/signin",
        content=f"token={served.token}&lang=en",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        verify=served.trusted,
    )
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"].lower()
    assert cookie.startswith("teiten_token=") and "; secure" in cookie and "httponly" in cookie


def test_plain_http_and_another_ca_fail_clearly_and_the_server_serves_on(served, tmp_path):
    plain = served.server.url.replace("https://", "http://")
    with pytest.raises(httpx.RemoteProtocolError, match="disconnected without sending"):
        httpx.get(plain + "/api/v1/health")
    other, _ = self_signed_certificate(tmp_path, "other")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(
            served.server.url + "/api/v1/health", verify=ssl.create_default_context(cafile=other)
        )
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(served.server.url + "/api/v1/health")  # the system's CAs do not know it
    health = httpx.get(served.server.url + "/api/v1/health", verify=served.trusted)
    assert health.status_code == 200
    assert served.server.process is not None and served.server.process.poll() is None
    assert "Traceback" not in served.server.log_text()


# (the file that breaks, what it holds, what the error says)
BROKEN = [
    ("keyfile", "nothing", r"listen\.keyfile: no such file .*broken\.pem"),
    ("keyfile", "garbage", r"listen\.keyfile: .*broken\.pem is not an unencrypted PEM private key"),
    (
        "keyfile",
        "another key",
        r"listen\.keyfile: .*broken\.pem is not the private key of the certificate in .*web\.crt",
    ),
    ("certfile", "garbage", r"listen\.certfile: .*broken\.pem is not a PEM certificate"),
]


@pytest.mark.parametrize(("broken", "holding", "says"), BROKEN)
def test_a_tls_file_that_cannot_serve_is_a_clear_cli_error(tmp_path, broken, holding, says):
    Store(tmp_path / "store").close()
    cert, key = self_signed_certificate(tmp_path, "web")
    files = {"certfile": cert, "keyfile": key, broken: tmp_path / "broken.pem"}
    if holding == "garbage":
        files[broken].write_text("not a PEM file\n")
    elif holding == "another key":
        self_signed_certificate(tmp_path, "other")[1].rename(files[broken])
    config = tmp_path / "web.toml"
    config.write_text(
        '[store]\npath = "store"\n[listen]\nport = 0\n'
        + "".join(f'{name} = "{file}"\n' for name, file in files.items())
    )
    for command in (["serve"], ["web", "check"]):
        done = subprocess.run(
            [*TEITEN, *command, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,  # a server that started anyway would run until then
        )
        assert done.returncode == 1, (command, done.stderr)
        assert "Traceback" not in done.stderr
        (error,) = [line for line in done.stderr.splitlines() if line.startswith("Error")]
        assert error.startswith(f"Error: {config}: ")
        assert re.search(says, error), error
