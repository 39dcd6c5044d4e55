"""`teiten notify send` to a directory and by HTTPS POST (a server started here): once
each, retried with backoff, an interrupted delivery resolved from the sent-log; the
files teiten keeps are its owner's alone."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from notify.conftest import DAYS, NotifyStore, fresh_store, toml_config
from teiten.cli import main
from teiten.notify.sentlog import FeedKey, SentLog

TOKEN = "bearer-token-never-shown-51c"


def _run(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _prepare(notify_store: NotifyStore, folder: Path, delivery: dict[str, Any]) -> list[str]:
    """A store with both days' feeds built for two recipients; the common options."""
    store = fresh_store(notify_store, folder)
    recipients = [
        {"name": "isp-a", "asns": [64507], "delivery": delivery},
        {"name": "isp-b", "asns": [64511], "delivery": delivery},
    ]
    config = toml_config(folder, recipients)
    options = ["--store", str(store), "--config", str(config)]
    for day in DAYS:
        _run("notify", "build", *options, "--period", day)
    return options


def test_a_directory_gets_each_feed_once(notify_store: NotifyStore, tmp_path: Path) -> None:
    options = _prepare(notify_store, tmp_path, {"kind": "directory", "path": "inbox"})
    store = Path(options[1])
    sent = _run("notify", "send", *options)
    assert [(o["recipient"], o["period"], o["action"]) for o in sent] == [
        (name, day, "sent") for name in ("isp-a", "isp-b") for day in DAYS
    ]
    inbox = tmp_path / "inbox"
    names = sorted(p.name for p in inbox.iterdir())
    assert names == sorted(
        f"teiten-{n}-{d}.{x}" for n in ("isp-a", "isp-b") for d in DAYS for x in ("csv", "json")
    )
    feed = store / "notify" / "feeds" / "isp-a" / f"{DAYS[1]}.json"
    assert (inbox / f"teiten-isp-a-{DAYS[1]}.json").read_bytes() == feed.read_bytes()
    assert [o["action"] for o in _run("notify", "send", *options)] == ["already-sent"] * 4

    # A delivery interrupted after its commit point: the directory tells whether it arrived.
    first, second = (FeedKey(o["recipient"], o["period"], o["digest"]) for o in sent[:2])
    with SentLog(store) as log:
        log.committing(first)  # as a kill -9 after the rename would leave it
        log.committing(second)
    (inbox / f"teiten-isp-a-{DAYS[1]}.json").unlink()  # ... and one before the rename
    again = _run("notify", "send", *options)
    assert [o["action"] for o in again] == ["found-delivered", "sent", *["already-sent"] * 2]
    assert (inbox / f"teiten-isp-a-{DAYS[1]}.json").read_bytes() == feed.read_bytes()


def test_what_teiten_keeps_is_its_owners_alone(notify_store: NotifyStore, tmp_path: Path) -> None:
    options = _prepare(notify_store, tmp_path, {"kind": "directory", "path": "inbox"})
    _run("notify", "send", *options)
    notify = Path(options[1]) / "notify"
    for path in [notify, *notify.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.name == "send.lock" or path.is_file():
            assert mode == 0o600, path
        else:
            assert mode == 0o700, path


class _Receiver(BaseHTTPRequestHandler):
    answers: list[int]
    requests: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append({"headers": dict(self.headers), "body": body})
        status = self.answers.pop(0) if self.answers else 201
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"answers": [], "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feeds", handler
    finally:
        server.shutdown()
        server.server_close()


def test_https_posts_each_feed_once_with_its_digest_as_idempotency_key(
    notify_store: NotifyStore, tmp_path: Path, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    token = tmp_path / "token.toml"
    token.write_text(f'token = "{TOKEN}"\n')
    token.chmod(0o600)
    delivery = {"kind": "https", "url": url, "credentials": token, "backoff_seconds": 0.01}
    options = _prepare(notify_store, tmp_path, delivery)
    handler.answers[:] = [503, 429]  # the first feed twice, then it is taken
    result = CliRunner().invoke(main, ["notify", "send", *options, "--json"])
    assert result.exit_code == 0 and TOKEN not in result.output
    sent = json.loads(result.stdout)
    assert [o["action"] for o in sent] == ["sent"] * 4
    assert sent[0]["attempts"] == 3 and "answered 503" in sent[0]["detail"]
    requests = handler.requests
    assert len(requests) == 6
    assert [r["headers"]["Idempotency-Key"] for r in requests[2:]] == [o["digest"] for o in sent]
    assert all(r["headers"]["Authorization"] == f"Bearer {TOKEN}" for r in requests)
    assert json.loads(requests[2]["body"])["digest"] == sent[0]["digest"]
    assert [o["action"] for o in _run("notify", "send", *options)] == ["already-sent"] * 4
    assert len(handler.requests) == 6


def test_a_refusal_for_good_is_not_retried(
    notify_store: NotifyStore, tmp_path: Path, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    options = _prepare(notify_store, tmp_path, {"kind": "https", "url": url})
    handler.answers[:] = [403]
    result = CliRunner().invoke(main, ["notify", "send", *options, "--json"])
    assert result.exit_code == 1
    outcomes = json.loads(result.stdout)
    assert [(o["action"], o["attempts"]) for o in outcomes] == [("failed", 1)] + [("sent", 1)] * 3
    assert "answered 403 Forbidden" in outcomes[0]["detail"]
    assert "1 feeds not delivered (isp-a 2024-03-01)" in result.stderr
    assert [o["action"] for o in _run("notify", "send", *options)] == ["sent"] + [
        "already-sent"
    ] * 3
