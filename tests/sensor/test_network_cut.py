"""A cut between sensor and collector: capture goes on into the spool, and when the link
comes back the spool drains — every packet stored once."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pyarrow.dataset as ds
import pytest

from collector._server import CollectorServer, free_port

from .test_live import FETCH, SENDER, pytestmark  # noqa: F401 - same namespaces rules

PREFIXES = ["192.0.2.0/24", "2001:db8:7e1::/48"]


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def two_links():
    """Sender/collector namespace and sensor namespace, joined by a darknet link (a-b) and
    a management link (c-d, 10.213.0.1 ↔ 10.213.0.2)."""
    tag = uuid.uuid4().hex[:6]
    send, sense = f"tcs{tag}", f"tcr{tag}"
    a, b, c, d = (f"t{x}{tag}" for x in "abcd")
    try:
        ip("netns", "add", send)
        ip("netns", "add", sense)
        ip("link", "add", a, "type", "veth", "peer", "name", b)
        ip("link", "add", c, "type", "veth", "peer", "name", d)
        for link, ns in ((a, send), (c, send), (b, sense), (d, sense)):
            ip("link", "set", link, "netns", ns)
            ip("-n", ns, "link", "set", link, "up")
        for ns in (send, sense):
            ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", send, "addr", "add", "10.213.0.1/30", "dev", c)
        ip("-n", sense, "addr", "add", "10.213.0.2/30", "dev", d)
        yield send, sense, a, b, d
    finally:
        for ns in (send, sense):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _stored(store):
    files = sorted(store.glob("packets/*/*.parquet"))
    if not files:
        return []
    return ds.dataset(files).to_table(columns=["sport"]).column("sport").to_pylist()


def _health(sense):
    out = subprocess.run(
        ["ip", "netns", "exec", sense, sys.executable, "-c", FETCH, "/health"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    return json.loads(out)


def _wait(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_a_cut_link_queues_in_the_spool_and_drains_after(tmp_path, two_links):
    send, sense, a, b, d = two_links
    (tmp_path / "collector").mkdir()
    server = CollectorServer(tmp_path / "collector")
    token = server.register("tokyo-1", PREFIXES)
    port = free_port()
    server.config.write_text(
        server.config.read_text()
        .replace('host = "127.0.0.1"', 'host = "10.213.0.1"')
        .replace(f"port = {server.port}", f"port = {port}")
    )
    collector = subprocess.Popen(
        ["ip", "netns", "exec", send, sys.executable, "-m", "teiten.cli", "collector", "serve",
         "--config", str(server.config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    token_file = tmp_path / "token"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    config = tmp_path / "sensor.toml"
    config.write_text(
        f'[sensor]\nname = "tokyo-1"\n[collector]\nurl = "http://10.213.0.1:{port}"\n'
        'token_file = "token"\ntimeout_seconds = 2\n[spool]\npath = "spool"\n'
        f'[batch]\nmax_seconds = 0.5\n[capture]\ninterface = "{b}"\n'
        'prefixes = ["192.0.2.0/24", "2001:db8:7e1::/48"]\n'
    )
    sensor = subprocess.Popen(
        ["ip", "netns", "exec", sense, sys.executable, "-m", "teiten.cli", "sensor", "run",
         "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(3)
        ip("-n", sense, "link", "set", d, "down")  # the cut
        subprocess.run(
            ["ip", "netns", "exec", send, sys.executable, "-c", SENDER, a],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        assert _wait(lambda: _health(sense)["spooled"] == 260, 20)
        time.sleep(3)  # uploads fail meanwhile
        during = _health(sense)
        assert during["spool_batches"] >= 1 and _stored(server.store) == []
        ip("-n", sense, "link", "set", d, "up")
        ip("-n", sense, "addr", "replace", "10.213.0.2/30", "dev", d)
        assert _wait(lambda: _health(sense)["spool_batches"] == 0, 90), _health(sense)
    finally:
        sensor.send_signal(signal.SIGTERM)
        out, err = sensor.communicate(timeout=60)
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=60)
    assert sensor.returncode == 0, err
    assert sorted(_stored(server.store)) == sorted(
        [40000 + i for i in range(200)]
        + [50000 + i for i in range(40)]
        + [60000 + i for i in range(20)]
    )
    assert token not in out + err


SECOND = """
import sys
from scapy.all import Ether, IP, TCP, sendp
eth = Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:02")
sendp([eth / IP(src="203.0.113.88", dst="192.0.2.99") / TCP(sport=61000 + i, dport=445,
       flags="S", seq=i) for i in range(50)], iface=sys.argv[1], verbose=False)
"""


def test_a_sensor_killed_and_restarted_loses_and_doubles_nothing(tmp_path, two_links):
    """kill -9 of `teiten sensor run` right after it spooled the first packets; restarted,
    it uploads what its spool holds and captures on: everything sent while it ran is
    stored once."""
    send, sense, a, b, d = two_links
    (tmp_path / "collector").mkdir()
    server = CollectorServer(tmp_path / "collector")
    token = server.register("tokyo-1", PREFIXES)
    port = free_port()
    server.config.write_text(
        server.config.read_text()
        .replace('host = "127.0.0.1"', 'host = "10.213.0.1"')
        .replace(f"port = {server.port}", f"port = {port}")
    )
    collector = subprocess.Popen(
        ["ip", "netns", "exec", send, sys.executable, "-m", "teiten.cli", "collector", "serve",
         "--config", str(server.config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    token_file = tmp_path / "token"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    config = tmp_path / "sensor.toml"
    config.write_text(
        f'[sensor]\nname = "tokyo-1"\n[collector]\nurl = "http://10.213.0.1:{port}"\n'
        'token_file = "token"\ntimeout_seconds = 2\n[spool]\npath = "spool"\n'
        f'[batch]\nmax_seconds = 0.5\n[capture]\ninterface = "{b}"\n'
        'prefixes = ["192.0.2.0/24", "2001:db8:7e1::/48"]\n'
    )
    command = ["ip", "netns", "exec", sense, sys.executable, "-m", "teiten.cli", "sensor", "run",
               "--config", str(config)]  # fmt: skip
    ip("-n", sense, "link", "set", d, "down")  # keep the first batches in the spool
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second = None
    try:
        time.sleep(3)
        subprocess.run(
            ["ip", "netns", "exec", send, sys.executable, "-c", SENDER, a],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        assert _wait(lambda: _health(sense)["spooled"] == 260, 20)
        first.kill()  # SIGKILL of `ip netns exec`, which is the sensor itself (exec)
        first.wait()
        subprocess.run(["pkill", "-9", "-f", str(config)], capture_output=True)
        ip("-n", sense, "link", "set", d, "up")
        ip("-n", sense, "addr", "replace", "10.213.0.2/30", "dev", d)
        second = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(3)
        subprocess.run(
            ["ip", "netns", "exec", send, sys.executable, "-c", SECOND, a],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        assert _wait(lambda: len(_stored(server.store)) >= 310, 90), len(_stored(server.store))
        time.sleep(2)
    finally:
        if second is not None:
            second.send_signal(signal.SIGTERM)
            second.communicate(timeout=60)
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=60)
    expected = [40000 + i for i in range(200)] + [50000 + i for i in range(40)]
    expected += [60000 + i for i in range(20)] + [61000 + i for i in range(50)]
    assert sorted(_stored(server.store)) == sorted(expected)
