"""Real captures: every header fingerprint recomputed from tshark's fields, packet by packet.

tshark decodes each file independently of teiten; the rules are written out
again here in plain Python over its fields, so a decoder or vectorisation slip
in either the fields or the predicates shows up as a differing packet.
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections import Counter
from functools import cache

import pytest

from conftest import capture_path, require_tool
from decode.builders import batch_from_capture
from teiten.decode import decode_batch
from teiten.fingerprint import TAG_BITS, tag_labels, tag_packets

CAPTURES = [
    "ppa3e_synscan.pcapng",
    "stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng",
    "stopddos_amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
    "stopddos_amp.UDP.snmp.src161.pcapng",
    "stopddos_amp.UDP.isakmp.pcap",
    "ppa1e_dosattack.pcap",
    "libtrace_100_packets.pcap",
    "evilfingers_nmap_IP_PROTOCOL_SCAN.pcap",
    "sv_community-id-ipv6.pcap",
    "pcpp_raw_ip.pcap",
    "pcpp_example2.pcap",
    "honeynet_fc2010_attack-trace.pcap",
    "malformed_ndpi_fuzz-2006-06-26-2594.pcap",
]
FIELDS = [
    "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.id", "ip.flags.rb", "ip.ttl",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.window_size_value",
    "udp.srcport", "udp.dstport", "icmp.type", "icmpv6.type",
]  # fmt: skip
HEADER_TAGS = [label for label in TAG_BITS if label != "research"]
NETFILTER_VALID = {0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30}
BS_ICMP = {
    ("icmp", 0): "bs-icmp-echo-reply",
    ("icmpv6", 129): "bs-icmp-echo-reply",
    ("icmp", 3): "bs-icmp-unreachable",
    ("icmpv6", 1): "bs-icmp-unreachable",
    ("icmp", 11): "bs-icmp-time-exceeded",
    ("icmpv6", 3): "bs-icmp-time-exceeded",
    **{("icmp", t): "bs-icmp-other-error" for t in (4, 5, 12)},
    **{("icmpv6", t): "bs-icmp-other-error" for t in (2, 4)},
    **{("icmp", t): "bs-icmp-other-reply" for t in (14, 16, 18)},
}


@cache
def tshark(name: str) -> list[dict[str, str]]:
    command = [require_tool("tshark"), "-n", "-r", str(capture_path(name))]
    command += ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
    command += ["-T", "fields", "-E", "occurrence=f", "-E", "separator=/t"]
    for field in FIELDS:
        command += ["-e", field]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return [dict(zip(FIELDS, line.split("\t"), strict=True)) for line in done.stdout.splitlines()]


def expected_tags(f: dict[str, str]) -> set[str]:
    """The rules of the fingerprint modules, over tshark's fields of one packet."""
    layers = f["frame.protocols"].split(":")
    net = next((layer for layer in layers if layer in ("ip", "ipv6")), None)
    if net is None:
        return set()
    after = layers[layers.index(net) + 1 :]
    transport = next((x for x in after if x in ("tcp", "udp", "icmp", "icmpv6", "ip", "ipv6")), "")
    needs = {"tcp": "tcp.flags", "udp": "udp.dstport", "icmp": "icmp.type", "icmpv6": "icmpv6.type"}
    if transport in needs and not f[needs[transport]]:
        transport = ""  # tshark found the layer but could not read its header
    v4 = net == "ip"
    src, dst = (f["ip.src"], f["ip.dst"]) if v4 else (f["ipv6.src"], f["ipv6.dst"])
    tags = set()
    if ipaddress.ip_address(src) == ipaddress.ip_address(dst):
        tags.add("src-eq-dst")
    if v4 and f["ip.flags.rb"] in ("1", "True"):
        tags.add("ip-reserved-flag")
    ip_id = int(f["ip.id"], 16) if v4 and f["ip.id"] else None
    if transport in ("tcp", "udp"):
        sport, dport = int(f[f"{transport}.srcport"]), int(f[f"{transport}.dstport"])
        if 0 in (sport, dport):
            tags.add("port-zero")
    ttl = int(f["ip.ttl"]) if v4 and f["ip.ttl"] else 0
    if transport == "udp" and ip_id == 54321 and ttl >= 200:
        tags.add("zmap")
    if transport == "tcp":
        flags, window = int(f["tcp.flags"], 16), int(f["tcp.window_size_value"])
        seq = int(f["tcp.seq_raw"])
        syn = flags == 0x02  # the tools set SYN alone
        if flags & 0x37 not in NETFILTER_VALID:
            tags.add("abnormal-tcp-flags")
        if flags & 0x16 == 0x12:
            tags.add("bs-synack")
        if flags & 0x04:
            tags.add("bs-rst")
        if v4 and syn:
            dst4 = int(ipaddress.IPv4Address(dst))
            if seq == dst4:
                tags.add("mirai")
            if window == 65535 and ip_id == 54321:
                tags.add("zmap")
            if window == 1024 and ip_id == (dst4 ^ dport ^ seq) & 0xFFFF:
                tags.add("masscan")
    if transport in ("icmp", "icmpv6"):
        icmp_type = int(f[f"{transport}.type"])
        if (transport, icmp_type) in BS_ICMP:
            tags.add(BS_ICMP[transport, icmp_type])
        if transport == "icmp" and icmp_type == 8 and ip_id == 54321 and ttl >= 200:
            tags.add("zmap")
    return tags


@cache
def teiten_tags(name: str) -> tuple[list[set[str]], list[bool]]:
    decoded = decode_batch(batch_from_capture(capture_path(name)))
    tags = tag_packets(decoded)
    return [set(tag_labels(int(t))) for t in tags], (decoded.reason == 0).tolist()


@pytest.mark.parametrize("name", CAPTURES)
def test_every_packet_agrees_with_tshark(name):
    fields = tshark(name)
    ours, decoded = teiten_tags(name)
    assert len(fields) == len(ours)
    differ = [
        (i + 1, sorted(mine), sorted(expected_tags(f)))
        for i, (f, mine, ok) in enumerate(zip(fields, ours, decoded, strict=True))
        if ok and mine != expected_tags(f)
    ]
    assert not differ, f"{len(differ)} packets differ, first: {differ[:5]}"


def count(name: str) -> Counter[str]:
    ours, decoded = teiten_tags(name)
    return Counter(t for tags, ok in zip(ours, decoded, strict=True) if ok for t in tags)


def test_nmap_syn_scan_is_no_scanner_tool():
    # nmap's SYN scan: window 1024 and an MSS option, random IP IDs and sequence numbers.
    counts = count("ppa3e_synscan.pcapng")
    assert not {"mirai", "zmap", "masscan"} & set(counts)
    assert counts["bs-synack"] == 12 and counts["bs-rst"] == 5  # the INDEX's SYN-ACKs, RST-ACKs


SYNACK = "!icmp && tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.reset == 0"


@pytest.mark.parametrize(
    ("name", "display_filter", "label"),
    [
        ("stopddos_amp.TCP.syn.optionallyACK.optionallysamePort.pcapng", SYNACK, "bs-synack"),
        ("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng", "!icmp && tcp.flags.reset == 1",
         "bs-rst"),
        ("stopddos_amp.UDP.snmp.src161.pcapng", "icmp.type == 3", "bs-icmp-unreachable"),
        ("stopddos_amp.UDP.snmp.src161.pcapng", "icmp.type == 11", "bs-icmp-time-exceeded"),
        ("stopddos_amp.UDP.snmp.src161.pcapng", "icmp.type == 5", "bs-icmp-other-error"),
        ("evilfingers_nmap_IP_PROTOCOL_SCAN.pcap", "icmp.type == 3", "bs-icmp-unreachable"),
    ],
)  # fmt: skip
def test_backscatter_kinds_match_tshark_counts(name, display_filter, label):
    command = [require_tool("tshark"), "-n", "-r", str(capture_path(name))]
    command += ["-o", "ip.defragment:FALSE", "-Y", display_filter]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    expected = len(done.stdout.splitlines())
    assert expected > 0 and count(name)[label] == expected


def test_the_dominate_flood_is_no_scanner_tool():
    # 9,639 SYNs with ECE+CWR, window 65535, TTL 255, random IP IDs: ZMap-like but for
    # the ECN flags, which keep frame 5860 (IP ID 54321 by chance) out of `zmap`.
    counts = count("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng")
    assert not {"mirai", "zmap", "masscan", "abnormal-tcp-flags"} & set(counts)
    assert counts["bs-rst"] == 239
