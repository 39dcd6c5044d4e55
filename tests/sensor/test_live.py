"""Live capture end to end in network namespaces built by the test.

A sender namespace sends known packets over a veth pair to the sensor namespace,
where `teiten sensor run` captures them; the spooled batches are then uploaded to a
real collector, and the store must hold exactly the packets sent to the sensor's
prefixes — compared packet by packet — and none of those sent elsewhere.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest
from click.testing import CliRunner

from collector._server import CollectorServer
from teiten.cli import main
from teiten.store import DuckDBEngine, Store

PREFIXES = ["192.0.2.0/24", "2001:db8:7e1::/48"]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="network namespaces need root and iproute2 (CI runs as root)",
)


@pytest.fixture
def veth():
    """(sender namespace, sensor namespace, sensor interface), removed afterwards."""
    tag = uuid.uuid4().hex[:6]
    send, sense = f"tts{tag}", f"ttr{tag}"
    a, b = f"tva{tag}", f"tvb{tag}"
    steps = [
        ["ip", "netns", "add", send],
        ["ip", "netns", "add", sense],
        ["ip", "link", "add", a, "type", "veth", "peer", "name", b],
        ["ip", "link", "set", a, "netns", send],
        ["ip", "link", "set", b, "netns", sense],
        ["ip", "-n", send, "link", "set", a, "up"],
        ["ip", "-n", sense, "link", "set", b, "up"],
        ["ip", "-n", sense, "link", "set", "lo", "up"],  # the sensor's /health and /metrics
    ]
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True)
        yield send, sense, a, b
    finally:
        for ns in (send, sense):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


FETCH = """
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:8751" + sys.argv[1], timeout=10).read().decode())
"""

SENDER = """
import sys
from scapy.all import Dot1Q, Ether, IP, IPv6, TCP, UDP, sendp
iface = sys.argv[1]
eth = Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:02")
packets = []
for i in range(200):
    ip = IP(src="203.0.113.%d" % (i % 50 + 1), dst="192.0.2.%d" % (i % 254 + 1), ttl=50)
    tcp = TCP(sport=40000 + i, dport=(23, 445, 3389)[i % 3], flags="S", seq=1000 + i)
    packets.append(eth / ip / tcp)
for i in range(40):
    packets.append(eth / IPv6(src="2001:db8:ffff::%x" % (i + 1), dst="2001:db8:7e1::%x" % (i + 1))
                   / UDP(sport=50000 + i, dport=53))
for i in range(20):  # 802.1Q-tagged
    packets.append(eth / Dot1Q(vlan=7) / IP(src="203.0.113.77", dst="192.0.2.200", ttl=50)
                   / TCP(sport=60000 + i, dport=23, flags="S", seq=5000 + i))
for i in range(60):  # not ours: must not be stored
    packets.append(eth / IP(src="203.0.113.9", dst="198.51.100.%d" % (i + 1))
                   / TCP(dport=22, flags="S", seq=9000 + i))
sendp(packets, iface=iface, verbose=False, inter=0.001)
"""


def test_packets_sent_to_the_darknet_are_stored_exactly(tmp_path, veth):
    send, sense, a, b = veth
    (tmp_path / "collector").mkdir()
    server = CollectorServer(tmp_path / "collector")
    token = server.register("tokyo-1", PREFIXES)
    token_file = tmp_path / "token"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    config = tmp_path / "sensor.toml"
    config.write_text(
        f'[sensor]\nname = "tokyo-1"\n[collector]\nurl = "{server.url}"\ntoken_file = "token"\n'
        f'[spool]\npath = "spool"\n[batch]\nmax_seconds = 0.5\n'
        f'[capture]\ninterface = "{b}"\nprefixes = {PREFIXES!r}\n'
        '[pcap]\npath = "pcap"\nkeep = 3\n'.replace("'", '"')
    )
    sensor = subprocess.Popen(
        ["ip", "netns", "exec", sense, sys.executable, "-m", "teiten.cli", "sensor", "run",
         "--config", str(config), "--no-upload"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(3)  # the ring is set up
        assert sensor.poll() is None, sensor.stderr.read()
        subprocess.run(
            ["ip", "netns", "exec", send, sys.executable, "-c", SENDER, a],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        time.sleep(2)
        health, metrics = (
            subprocess.run(
                ["ip", "netns", "exec", sense, sys.executable, "-c", FETCH, f"/{what}"],
                check=True, capture_output=True, text=True, timeout=30,
            ).stdout
            for what in ("health", "metrics")
        )  # fmt: skip
    finally:
        sensor.send_signal(signal.SIGTERM)
        out, err = sensor.communicate(timeout=60)
    assert sensor.returncode == 0, err
    assert "260 packets to our prefixes spooled" in out and "kernel drops 0" in out
    assert "captured 260 frames" in out  # the kernel BPF filter let nothing else through
    assert json.loads(health)["status"] == "ok" and json.loads(health)["spooled"] == 260
    assert 'teiten_sensor_packets_spooled_total{sensor="tokyo-1"} 260' in metrics
    assert 'teiten_sensor_kernel_drops_total{sensor="tokyo-1"} 0' in metrics
    for secret in ("192.0.2", "2001:db8:7e1", token):  # prefixes and token stay secret
        assert secret not in health + metrics + out + err
    server.start()
    try:
        result = CliRunner().invoke(main, ["sensor", "upload", "--config", str(config)])
        assert result.exit_code == 0, result.output
    finally:
        server.stop()
    with DuckDBEngine(Store(server.store)) as engine:
        rows = engine.rows(
            "SELECT ip_version, proto, sport, dport, tcp_seq, ttl, kind FROM packets ORDER BY sport"
        )
    expected = [
        (4, 6, 40000 + i, (23, 445, 3389)[i % 3], 1000 + i, 50, "probe") for i in range(200)
    ]
    expected += [(6, 17, 50000 + i, 53, None, 64, "probe") for i in range(40)]
    expected += [(4, 6, 60000 + i, 23, 5000 + i, 50, "probe") for i in range(20)]
    got = [
        (r["ip_version"], r["proto"], r["sport"], r["dport"], r["tcp_seq"], r["ttl"], r["kind"])
        for r in rows
    ]
    assert got == sorted(expected, key=lambda e: e[2])
    # the raw frames were kept too, as a finished pcap file the readers read back
    from teiten.capture import open_capture

    (kept,) = (tmp_path / "pcap").glob("tokyo-1-*.pcap")
    with open_capture(kept) as reader:
        assert sum(len(batch) for batch in reader) == 260
