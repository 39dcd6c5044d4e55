"""`teiten notify send` by SMTP to a real server started here (aiosmtpd: STARTTLS with a
self-signed certificate, AUTH): each feed mailed once with its CSV attached, also when
the server drops the connection mid-DATA and when the sender is killed (kill -9) in
the middle of a run; credentials others may read are refused, a password never shown;
no sensor address in any mail."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import teiten
from notify._smtp import PASSWORD, Server, credentials_file, smtp_server
from notify.conftest import DAYS, NotifyStore, destinations, fresh_store, toml_config
from teiten.cli import main

DAY = DAYS[0]
SENDER = "feeds@csirt.example.org"
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")


@dataclass
class Setup:
    store: Path
    config: Path
    server: Server
    folder: Path


def _recipients(server: Server, credentials: Path, **delivery: Any) -> list[dict[str, Any]]:
    smtp = {
        "kind": "smtp",
        "host": "127.0.0.1",
        "port": server.port,
        "from": SENDER,
        "credentials": credentials,
        "ca_file": server.certificate,
        "timeout_seconds": 20.0,
        "retries": 2,
        "backoff_seconds": 0.05,
    } | delivery
    to = {"isp-a": ["abuse@isp-a.example"], "isp-b": ["soc@isp-b.example"],
          "cert-br": ["cert@br.example", "x@br.example"]}  # fmt: skip
    return [
        {"name": "isp-a", "asns": [64507], "delivery": smtp | {"to": to["isp-a"]}},
        {"name": "isp-b", "prefixes": ["170.0.0.0/8"], "delivery": smtp | {"to": to["isp-b"]}},
        {"name": "cert-br", "countries": ["BR"], "delivery": smtp | {"to": to["cert-br"]}},
    ]


def _setup(notify_store: NotifyStore, folder: Path, server: Server, **delivery: Any) -> Setup:
    store = fresh_store(notify_store, folder)
    config = toml_config(folder, _recipients(server, credentials_file(folder), **delivery))
    args = ["notify", "build", "--store", str(store), "--config", str(config), "--period", DAY]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return Setup(store, config, server, folder)


def _send(setup: Setup, *extra: str) -> Result:
    args = ["notify", "send", "--store", str(setup.store), "--config", str(setup.config)]
    return CliRunner().invoke(main, [*args, *extra])


def _sent(setup: Setup, *extra: str) -> list[dict[str, Any]]:
    result = _send(setup, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _feed_csv(setup: Setup, recipient: str) -> bytes:
    return (setup.store / "notify" / "feeds" / recipient / f"{DAY}.csv").read_bytes()


def _per_recipient(setup: Setup) -> Counter[str]:
    return Counter(str(m["X-Teiten-Feed"]).split()[0] for m in setup.server.mailbox.messages)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with smtp_server(tmp_path) as running:
        yield running


def test_each_feed_is_mailed_once_with_its_csv(
    notify_store: NotifyStore, tmp_path: Path, server: Server
) -> None:
    setup = _setup(notify_store, tmp_path, server)
    first = _sent(setup)
    assert [o["action"] for o in first] == ["sent"] * 3
    box = server.mailbox
    assert _per_recipient(setup) == {"isp-a": 1, "isp-b": 1, "cert-br": 1}
    assert box.sessions == [(True, True)] * 3  # STARTTLS, then AUTH, every time
    for outcome, message in zip(first, box.messages, strict=True):
        name = outcome["recipient"]
        assert message["Message-ID"] == outcome["identity"]
        assert str(message["Subject"]).startswith(f"[TLP:AMBER] teiten darknet feed for {name}")
        csv_part, json_part = list(message.iter_attachments())
        assert csv_part.get_filename() == f"teiten-{name}-{DAY}.csv"
        assert csv_part.get_content().encode() == _feed_csv(setup, name)
        assert json.loads(json_part.get_content())["digest"] == outcome["digest"]
    assert box.messages[2]["To"] == "cert@br.example, x@br.example"
    again = _sent(setup)
    assert [o["action"] for o in again] == ["already-sent"] * 3
    assert len(box.messages) == 3
    sensors = destinations(setup.store)
    for message in box.messages:
        text = "".join(
            str(part.get_content()) for part in message.walk() if not part.is_multipart()
        )
        assert not set(_IPV4.findall(text)) & sensors
        assert PASSWORD not in text


def test_a_dry_run_sends_and_records_nothing(
    notify_store: NotifyStore, tmp_path: Path, server: Server
) -> None:
    setup = _setup(notify_store, tmp_path, server)
    planned = _sent(setup, "--dry-run")
    assert [o["action"] for o in planned] == ["would-send"] * 3
    assert all(o["identity"].startswith("<teiten-feed.") for o in planned)
    human = _send(setup, "--dry-run")
    assert human.exit_code == 0 and "dry run: would be sent" in human.output
    assert server.mailbox.messages == []
    assert not (setup.store / "notify" / "sent.sqlite").exists()
    assert [o["identity"] for o in _sent(setup)] == [o["identity"] for o in planned]


def test_a_connection_dropped_mid_data_is_retried_and_delivered_once(
    notify_store: NotifyStore, tmp_path: Path, server: Server
) -> None:
    setup = _setup(notify_store, tmp_path, server)
    server.mailbox.drop_data = 2  # the first message twice
    outcomes = _sent(setup)
    assert [o["action"] for o in outcomes] == ["sent"] * 3
    assert outcomes[0]["attempts"] == 3 and "attempt 1 failed" in outcomes[0]["detail"]
    assert _per_recipient(setup) == {"isp-a": 1, "isp-b": 1, "cert-br": 1}


def test_credentials_others_may_read_are_refused(
    notify_store: NotifyStore, tmp_path: Path, server: Server
) -> None:
    setup = _setup(notify_store, tmp_path, server)
    credentials = tmp_path / "smtp-credentials.toml"
    credentials.chmod(0o640)
    for command in (["send"], ["check"]):
        args = ["notify", *command, "--config", str(setup.config)]
        if command == ["send"]:
            args += ["--store", str(setup.store)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert f"can be read by others; run: chmod 600 {credentials}" in result.output
        assert PASSWORD not in result.output
    assert server.mailbox.messages == []


def test_a_refused_login_names_the_file_never_the_password(
    notify_store: NotifyStore, tmp_path: Path, server: Server
) -> None:
    setup = _setup(notify_store, tmp_path, server)
    credentials_file(tmp_path, password="wrong-" + PASSWORD)
    result = _send(setup, "--json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    outcomes = json.loads(result.stdout)
    assert [(o["action"], o["attempts"]) for o in outcomes] == [("failed", 1)] * 3, outcomes[0][
        "detail"
    ]
    assert "refused the login in" in outcomes[0]["detail"]
    assert "3 feeds not delivered" in result.output
    assert PASSWORD not in result.output
    assert server.mailbox.messages == []
    credentials_file(tmp_path)
    assert [o["action"] for o in _sent(setup)] == ["sent"] * 3  # fixed: delivered now


def _kill_sender_at(setup: Setup, phase: str) -> None:
    """Run `teiten notify send` in a process, hold its 2nd message at ``phase`` and
    kill -9 it there."""
    box = setup.server.mailbox
    box.hold_at = (phase, 2)
    env = os.environ | {"PYTHONPATH": str(Path(teiten.__file__).parents[1])}
    args = ["notify", "send", "--store", str(setup.store), "--config", str(setup.config)]
    process = subprocess.Popen(
        [sys.executable, "-m", "teiten.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert box.reached.wait(60), "the sender never reached the 2nd message"
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        box.hold_at = None
        box.release.set()


def test_kill_9_before_the_message_is_sent_then_rerun_delivers_each_feed_once(
    notify_store: NotifyStore, tmp_path: Path, server: Server
) -> None:
    setup = _setup(notify_store, tmp_path, server)
    _kill_sender_at(setup, "RCPT")
    assert _per_recipient(setup) == {"isp-a": 1}
    outcomes = _sent(setup)
    assert [o["action"] for o in outcomes] == ["already-sent", "sent", "sent"]
    assert "earlier attempt" not in outcomes[1]["detail"]  # it cannot have arrived
    assert _per_recipient(setup) == {"isp-a": 1, "isp-b": 1, "cert-br": 1}
    assert len(set(server.mailbox.message_ids())) == 3


@pytest.mark.parametrize("policy", ["resend", "hold"])
def test_kill_9_after_the_final_dot_is_resent_with_the_same_message_id_or_held(
    notify_store: NotifyStore, tmp_path: Path, server: Server, policy: str
) -> None:
    """The server has the whole message and has not answered when the sender dies: it
    takes the message. Whether it arrived, the sender cannot know (SMTP has no way to
    ask): ``resend`` sends it again, a duplicate with the same Message-ID; ``hold``
    does not, until the operator says so."""
    setup = _setup(notify_store, tmp_path, server, on_uncertain=policy)
    _kill_sender_at(setup, "DATA")
    box = server.mailbox
    assert _per_recipient(setup) == {"isp-a": 1, "isp-b": 1}  # the server took the 2nd
    if policy == "resend":
        outcomes = _sent(setup)
        assert [o["action"] for o in outcomes] == ["already-sent", "sent", "sent"]
        assert outcomes[1]["detail"].startswith("sent again: an earlier attempt may have")
        assert box.message_ids().count(outcomes[1]["identity"]) == 2
        assert box.messages[1].as_bytes() == box.messages[2].as_bytes()
    else:
        planned = _sent(setup, "--dry-run")  # shows it, exits 0: nothing was attempted
        assert [o["action"] for o in planned] == ["already-sent", "held", "would-send"]
        result = _send(setup, "--json")
        assert result.exit_code == 1
        assert [o["action"] for o in json.loads(result.stdout)] == ["already-sent", "held", "sent"]
        assert "held ones need --resend-uncertain" in result.stderr
        assert _per_recipient(setup) == {"isp-a": 1, "isp-b": 1, "cert-br": 1}
        outcomes = _sent(setup, "--resend-uncertain")
        assert [o["action"] for o in outcomes] == ["already-sent", "sent", "already-sent"]
    assert _per_recipient(setup) == {"isp-a": 1, "isp-b": 2, "cert-br": 1}
    assert len(set(box.message_ids())) == 3
    assert [o["action"] for o in _sent(setup)] == ["already-sent"] * 3


def test_a_server_without_starttls_never_gets_the_credentials(
    notify_store: NotifyStore, tmp_path: Path
) -> None:
    from aiosmtpd.controller import Controller

    from notify._smtp import Mailbox, free_port

    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)  # plain SMTP only
    controller.start()
    try:
        plain = Server(mailbox, port, server_cert(tmp_path))
        setup = _setup(notify_store, tmp_path, plain)
        result = _send(setup, "--json")
    finally:
        controller.stop()
    assert result.exit_code == 1
    outcomes = json.loads(result.stdout)
    assert [(o["action"], o["attempts"]) for o in outcomes] == [("failed", 1)] * 3
    assert "the server does not offer STARTTLS" in outcomes[0]["detail"]
    assert mailbox.messages == [] and mailbox.transactions == 0


def server_cert(folder: Path) -> Path:
    """Any readable PEM file for ca_file (the connection never gets to TLS)."""
    from conftest import self_signed_certificate

    return self_signed_certificate(folder, "unused")[0]
