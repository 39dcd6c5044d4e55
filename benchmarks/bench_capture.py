"""Capture benchmark: the highest packet rate one sensor captures over veth with 0 drops.

Run with ``.venv/bin/python benchmarks/bench_capture.py [--seconds 30] [--rates ...]``
as root. It builds two network namespaces joined by a veth pair, replays SYN frames
to the sensor's /24 from the sender namespace with tcpreplay at each rate for
``--seconds``, captures them with ``teiten sensor run --no-upload`` (live AF_PACKET
ring → decode → prefix check → spool) and reads the kernel's drop counter and the
packets spooled. The same stream is then captured by tcpdump (``-w /dev/null``) as the
peer. Target: ≥ 200 k packets/s with 0 drops (the goal is 1 M).

Exits 0 when the target is met, 1 when not, 2 when it cannot run (not root, no
tcpreplay/tcpdump).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TARGET = 200_000
PREFIX = "192.0.2.0/24"


def sh(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def frames(path: Path, n: int = 2000) -> None:
    """``n`` distinct SYN frames to the sensor's /24 (written with scapy, not timed)."""
    from scapy.all import IP, TCP, Ether, wrpcap

    eth = Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:02")
    wrpcap(
        str(path),
        [
            eth
            / IP(src=f"203.0.113.{i % 200 + 1}", dst=f"192.0.2.{i % 254 + 1}")
            / TCP(sport=1024 + i, dport=(23, 445, 3389, 22)[i % 4], flags="S", seq=i)
            for i in range(n)
        ],
    )


def run_rate(ns, iface_send, iface_sense, pcap, rate, seconds, work) -> dict:  # type: ignore[no-untyped-def]
    send_ns, sense_ns = ns
    spool = work / f"spool-{rate}"
    token = work / "token"
    token.write_text("unused")
    os.chmod(token, 0o600)
    config = work / f"sensor-{rate}.toml"
    config.write_text(
        '[sensor]\nname = "bench"\n[collector]\nurl = "http://127.0.0.1:9"\n'
        f'token_file = "{token}"\n[spool]\npath = "{spool}"\nmax_bytes = 68719476736\n'
        f'[capture]\ninterface = "{iface_sense}"\nprefixes = ["{PREFIX}"]\n'
    )
    sensor = subprocess.Popen(
        ["ip", "netns", "exec", sense_ns, sys.executable, "-m", "teiten.cli", "sensor", "run",
         "--config", str(config), "--no-upload"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(3)
    loops = max(1, int(rate * seconds / 2000))
    started = time.monotonic()
    replay = sh("ip", "netns", "exec", send_ns, "tcpreplay", "-i", iface_send,
                f"--pps={rate}", f"--loop={loops}", str(pcap), check=False)  # fmt: skip
    elapsed = time.monotonic() - started
    time.sleep(2)
    sensor.send_signal(signal.SIGTERM)
    out, err = sensor.communicate(timeout=120)
    sent = loops * 2000
    match = re.search(r"([\d,]+) packets to our prefixes spooled.*kernel drops ([\d,]+)", out)
    if not match:
        raise RuntimeError(f"sensor output not understood: {out}\n{err}\n{replay.stderr}")
    spooled, drops = (int(g.replace(",", "")) for g in match.groups())
    shutil.rmtree(spool, ignore_errors=True)
    return {"rate": rate, "sent": sent, "achieved": sent / elapsed, "spooled": spooled,
            "drops": drops}  # fmt: skip


def tcpdump_rate(ns, iface_send, iface_sense, pcap, rate, seconds) -> dict:  # type: ignore[no-untyped-def]
    send_ns, sense_ns = ns
    dump = subprocess.Popen(
        ["ip", "netns", "exec", sense_ns, "tcpdump", "-i", iface_sense, "-B", "65536", "-w",
         "/dev/null", "dst", "net", PREFIX],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2)
    loops = max(1, int(rate * seconds / 2000))
    started = time.monotonic()
    sh("ip", "netns", "exec", send_ns, "tcpreplay", "-i", iface_send, f"--pps={rate}",
       f"--loop={loops}", str(pcap), check=False)  # fmt: skip
    elapsed = time.monotonic() - started
    time.sleep(1)
    dump.send_signal(signal.SIGINT)
    _, err = dump.communicate(timeout=60)
    got = re.search(r"(\d+) packets captured", err)
    dropped = re.search(r"(\d+) packets dropped by kernel", err)
    return {"rate": rate, "sent": loops * 2000, "achieved": loops * 2000 / elapsed,
            "captured": int(got.group(1)) if got else -1,
            "drops": int(dropped.group(1)) if dropped else -1}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--rates", type=int, nargs="+", default=[200_000, 400_000, 800_000, 1_200_000]
    )
    args = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("tcpreplay") or not shutil.which("tcpdump"):
        print("bench_capture: needs root, tcpreplay and tcpdump (make bench installs them)")
        return 2
    tag = uuid.uuid4().hex[:6]
    ns = (f"bcs{tag}", f"bcr{tag}")
    a, b = f"bva{tag}", f"bvb{tag}"
    try:
        for cmd in (["ip", "netns", "add", ns[0]], ["ip", "netns", "add", ns[1]],
                    ["ip", "link", "add", a, "type", "veth", "peer", "name", b],
                    ["ip", "link", "set", a, "netns", ns[0]],
                    ["ip", "link", "set", b, "netns", ns[1]],
                    ["ip", "-n", ns[0], "link", "set", a, "up"],
                    ["ip", "-n", ns[1], "link", "set", b, "up"]):  # fmt: skip
            sh(*cmd)
        with tempfile.TemporaryDirectory(prefix="teiten-bench-capture-") as tmp:
            work = Path(tmp)
            pcap = work / "syn.pcap"
            frames(pcap)
            print(f"capture over veth, {args.seconds:.0f} s per rate (tcpreplay sender)")
            head = ("who", "asked pps", "sent pps", "sent", "captured", "drops")
            print(f"{head[0]:<8} " + " ".join(f"{h:>10}" for h in head[1:]))
            best = 0
            results = []
            for rate in args.rates:
                r = run_rate(ns, a, b, pcap, rate, args.seconds, work)
                results.append(r)
                print(f"{'teiten':<8} {rate:>10,} {r['achieved']:>10,.0f} {r['sent']:>10,} "
                      f"{r['spooled']:>10,} {r['drops']:>8,}")  # fmt: skip
                if r["drops"] == 0 and r["spooled"] == r["sent"]:
                    best = max(best, int(r["achieved"]))
                t = tcpdump_rate(ns, a, b, pcap, rate, args.seconds)
                print(f"{'tcpdump':<8} {rate:>10,} {t['achieved']:>10,.0f} {t['sent']:>10,} "
                      f"{t['captured']:>10,} {t['drops']:>8,}")  # fmt: skip
    finally:
        for n in ns:
            sh("ip", "netns", "del", n, check=False)
    ok = best >= TARGET
    print(f"highest rate with 0 drops and every packet spooled: {best:,} packets/s "
          f"(target ≥ {TARGET:,}: {'PASS' if ok else 'FAIL'}; goal 1,000,000)")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
