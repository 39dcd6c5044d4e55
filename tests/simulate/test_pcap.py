"""Written captures, cross-checked with tshark and iptocc against truth.json."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import iptocc
import pytest

from teiten.simulate import TRUTH_FILE, simulate_to_pcap

from ._sim import small_config, tshark, tshark_fields

# In Wireshark a checksum status is 0 Bad, 1 Good, 2 Unverified, 3 Not present.
BAD = (
    'ip.checksum.status == "Bad" || tcp.checksum.status == "Bad" || '
    'udp.checksum.status == "Bad" || icmp.checksum.status == "Bad" || '
    "_ws.malformed || _ws.expert.severity == error"
)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    paths = simulate_to_pcap(small_config(8_000), out, per="file")
    truth = json.loads((out / TRUTH_FILE).read_text())
    return out, paths, truth


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_layout_and_truth(written):
    out, paths, truth = written
    assert [p.relative_to(out).as_posix() for p in paths] == ["east/east.pcap", "west/west.pcap"]
    assert sum(truth["files"].values()) == truth["packets"] == 8_000
    assert sum(truth["by_sensor"].values()) == sum(truth["by_kind"].values()) == 8_000
    assert sum(b["packets"] for b in truth["by_behaviour"].values()) == 8_000
    assert sum(c["packets"] for c in truth["by_country"].values()) == 8_000


def test_same_seed_same_files(written, tmp_path):
    out, _, _ = written
    simulate_to_pcap(small_config(8_000), tmp_path, per="file")
    assert _digest(tmp_path) == _digest(out)


def test_tshark_reads_every_packet_without_errors(written):
    out, paths, truth = written
    for path in paths:
        name = path.relative_to(out).as_posix()
        assert len(tshark(path)) == truth["files"][name]
        assert tshark(path, "-Y", BAD) == []


def test_the_error_filter_catches_a_bad_checksum(written, tmp_path):
    _, paths, _ = written
    data = bytearray(paths[0].read_bytes())
    data[24 + 16 + 14 + 8] ^= 0x01  # first packet's IPv4 TTL, checksum left stale
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(bytes(data))
    assert len(tshark(broken, "-Y", BAD)) == 1


def test_port_counts_match_tshark(written):
    _, paths, truth = written
    got: Counter[tuple[str, str]] = Counter()
    for path in paths:
        for proto, tport, uport in tshark_fields(path, "ip.proto", "tcp.dstport", "udp.dstport"):
            if proto == "6":
                got["tcp", tport] += 1
            elif proto == "17":
                got["udp", uport] += 1
    want = {(p, port): n for p, table in truth["by_port"].items() for port, n in table.items()}
    assert dict(got) == want


def test_fingerprint_counts_match_tshark(written):
    _, paths, truth = written
    behaviours = truth["by_behaviour"]
    zmap = masscan = mirai = 0
    for path in paths:
        rows = tshark_fields(
            path,
            "ip.id",
            "ip.dst",
            "tcp.seq_raw",
            "tcp.dstport",
            "tcp.window_size_value",
            "tcp.hdr_len",
            display_filter="tcp.flags == 0x002",
        )
        for ip_id, dst, seq, dport, window, hdr_len in rows:
            a, b, c, d = (int(x) for x in dst.split("."))
            dst_int, seq_int = a << 24 | b << 16 | c << 8 | d, int(seq)
            no_options = hdr_len == "20"
            zmap += no_options and int(ip_id, 16) == 54321 and window == "65535"
            masscan += no_options and window == "1024"
            mirai += no_options and seq_int == dst_int
            if window == "1024":
                assert int(ip_id, 16) == (dst_int ^ int(dport) ^ seq_int) & 0xFFFF
    assert zmap == behaviours["zmap"]["packets"]
    assert masscan == behaviours["masscan"]["packets"]
    assert mirai == behaviours["mirai"]["packets"]


def test_source_countries_match_iptocc(written):
    _, paths, truth = written
    sources = [row[0] for path in paths for row in tshark_fields(path, "ip.src")]
    countries = iptocc.country_code(sources)
    assert None not in countries
    packets = Counter(countries)
    distinct = Counter(iptocc.country_code(sorted(set(sources))))
    assert dict(packets) == {cc: c["packets"] for cc, c in truth["by_country"].items()}
    assert dict(distinct) == {cc: c["sources"] for cc, c in truth["by_country"].items()}


def test_hourly_files_rotate_on_the_hour(tmp_path):
    paths = simulate_to_pcap(small_config(3_000), tmp_path, per="hour")
    truth = json.loads((tmp_path / TRUTH_FILE).read_text())
    assert len(paths) == 2 * 6  # two sensors, six hours, quiet hours included
    first = paths[0]
    assert first.name == "east-20240301T00.pcap"
    stamps = tshark_fields(first, "frame.time_epoch")
    assert stamps and all(1709251200 <= float(t) < 1709254800 for (t,) in stamps)
    assert sum(truth["files"].values()) == 3_000


def test_raw_ip_files(tmp_path):
    paths = simulate_to_pcap(small_config(1_000), tmp_path, per="day", linktype="raw")
    assert [p.name for p in paths] == ["east-20240301.pcap", "west-20240301.pcap"]
    assert tshark(paths[0], "-Y", BAD) == []
    assert tshark_fields(paths[0], "frame.protocols")[0][0].startswith("raw:ip")
