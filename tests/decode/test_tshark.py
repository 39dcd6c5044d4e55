"""Cross-check the decoder against tshark, packet by packet, on real captures."""

from __future__ import annotations

import ipaddress
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import pytest

from conftest import capture_path, require_tool
from teiten.decode import SkipReason, decode_batch

from .builders import address, batch_from_capture, batch_from_pcapng_interfaces

FIELDS = [
    "ip.src", "ip.dst", "ip.proto", "ip.ttl", "ip.id", "ip.flags", "ip.frag_offset", "ip.len",
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hlim",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
    "tcp.window_size_value", "tcp.options.mss_val",
    "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
]  # fmt: skip
PORTS = {6: "tcp", 17: "udp", 132: "sctp"}
# Skips where tshark, too, finds no IP addresses.
NO_ADDRESSES = {
    SkipReason.BAD_IP_VERSION,
    SkipReason.BAD_IPV4_HEADER_LENGTH,
    SkipReason.NOT_IP_ARP,
    SkipReason.NOT_IP_LLDP,
    SkipReason.NOT_IP_LLC,
    SkipReason.NOT_IP_MPLS,
    SkipReason.NOT_IP_PPPOE,
    SkipReason.NOT_IP_OTHER_ETHERTYPE,
    SkipReason.LINK_TRUNCATED,
}

# file -> what the decoder must skip (reason text -> count); everything else is decoded.
CAPTURES = {
    "libtrace_100_packets.pcap": {},
    "ppa3e_synscan.pcapng": {},
    "stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng": {},
    "stopddos_amp.UDP.snmp.src161.pcapng": {},
    "sv_community-id-ipv6.pcap": {},
    "pcpp_raw_ip.pcap": {},
    "tcpdump_tcp-handshake-nano.pcap": {},
    "evilfingers_nmap_IP_PROTOCOL_SCAN.pcap": {"not IP: ARP": 3},
    "ndpi_badpackets.pcap": {},
    "pcpp_example2.pcap": {"not IP: 802.3/LLC frame": 6, "not IP: ARP": 4},
    "rusticata_wireshark_samples-test.pcapng": {"not IP: ARP": 1807, "not IP: 802.3/LLC frame": 3},
    "malformed_ndpi_fuzz-2006-06-26-2594.pcap": {
        "not IP: ARP": 43,
        "not IP: other ethertype": 33,
        "bad IP version": 6,
        "not IP: 802.3/LLC frame": 2,
        "bad IPv4 header length": 1,
    },
    "malformed_zeek_trunc-hdr.pcap": {"link header truncated": 1},
}


def _tshark(name: str) -> list[dict[str, str]]:
    command = [require_tool("tshark"), "-n", "-r", str(capture_path(name))]
    command += ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
    command += ["-T", "fields", "-E", "occurrence=f", "-E", "separator=/t"]
    for field in FIELDS:
        command += ["-e", field]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return [dict(zip(FIELDS, line.split("\t"), strict=True)) for line in result.stdout.splitlines()]


@cache
def tshark_fields() -> dict[str, list[dict[str, str]]]:
    """tshark's view of every capture, run in parallel once per session."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CAPTURES, pool.map(_tshark, CAPTURES), strict=True))


def number(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)


def same_address(text: str, raw: np.ndarray, version: int) -> bool:
    return ipaddress.ip_address(text) == ipaddress.ip_address(address(raw, version))


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_decoder_agrees_with_tshark(name: str) -> None:
    batch = batch_from_capture(capture_path(name))
    decoded = decode_batch(batch)
    reference = tshark_fields()[name]
    assert len(reference) == len(batch)
    assert decoded.skip_counts() == CAPTURES[name]
    for i, ts in enumerate(reference):
        where = f"{name} packet {i + 1}"
        reason = int(decoded.reason[i])
        if reason != 0:
            if reason in NO_ADDRESSES:
                assert not ts["ip.src"], where
                # tshark hands an IPv6 header behind ethertype IPv4 to its IPv6
                # dissector; teiten counts it as a bad version.
                assert reason == SkipReason.BAD_IP_VERSION or not ts["ipv6.src"], where
            continue
        version = int(decoded.ip_version[i])
        proto = int(decoded.proto[i])
        if version == 4:
            assert same_address(ts["ip.src"], decoded.src[i], 4), where
            assert same_address(ts["ip.dst"], decoded.dst[i], 4), where
            expected = (ts["ip.proto"], ts["ip.ttl"], ts["ip.id"], ts["ip.flags"], ts["ip.len"])
            got = (proto, decoded.ttl[i], decoded.ip_id[i], decoded.ip_flags[i], decoded.ip_len[i])
            assert tuple(map(number, expected)) == tuple(map(int, got)), where
            assert number(ts["ip.frag_offset"]) == decoded.frag_offset[i], where
        else:
            assert same_address(ts["ipv6.src"], decoded.src[i], 6), where
            assert same_address(ts["ipv6.dst"], decoded.dst[i], 6), where
            assert number(ts["ipv6.hlim"]) == decoded.ttl[i], where
            if number(ts["ipv6.nxt"]) not in (0, 43, 44, 51, 60):
                assert number(ts["ipv6.nxt"]) == proto, where
        if decoded.has_ports[i] and proto in PORTS:
            layer = PORTS[proto]
            ports = (number(ts[f"{layer}.srcport"]), number(ts[f"{layer}.dstport"]))
            assert ports == (decoded.sport[i], decoded.dport[i]), where
        if decoded.has_tcp[i]:
            assert number(ts["tcp.flags"]) & 0xFF == decoded.tcp_flags[i], where
            assert number(ts["tcp.seq_raw"]) == decoded.tcp_seq[i], where
            assert number(ts["tcp.ack_raw"]) == decoded.tcp_ack[i], where
            assert number(ts["tcp.window_size_value"]) == decoded.tcp_window[i], where
            mss = ts["tcp.options.mss_val"]
            assert bool(mss) == decoded.has_mss[i], where
            assert not mss or number(mss) == decoded.tcp_mss[i], where
        if decoded.has_icmp[i]:
            layer = "icmp" if proto == 1 else "icmpv6"
            assert number(ts[f"{layer}.type"]) == decoded.icmp_type[i], where
            assert number(ts[f"{layer}.code"]) == decoded.icmp_code[i], where


def test_mixed_link_types_in_one_batch() -> None:
    """macOS capture on 11 interfaces: Ethernet packets plus two BSD-loopback (NULL) ones."""
    batch = batch_from_pcapng_interfaces(capture_path("pcpp_many_interfaces-1.pcapng"))
    decoded = decode_batch(batch)
    assert len(batch) == 64 and sorted(set(batch.linktype.tolist())) == [0, 1]
    loopback = batch.linktype == 0
    assert loopback.sum() == 2 and (decoded.reason[loopback] == 0).all()
    assert {address(a, 4) for a in decoded.src[loopback]} == {"192.168.1.139"}
    assert (decoded.proto[loopback] == 17).all()
    assert decoded.skip_counts() == {}


def test_real_traffic_kinds() -> None:
    """Counts published in tests/data/captures/INDEX.tsv, read back as kinds."""
    synscan = decode_batch(batch_from_capture(capture_path("ppa3e_synscan.pcapng")))
    assert np.bincount(synscan.kind, minlength=3).tolist() == [0, 1994, 12 + 5]
    flood = decode_batch(
        batch_from_capture(capture_path("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"))
    )
    ece_cwr_syn = flood.tcp_flags == 0xC2
    assert ece_cwr_syn.sum() == 9639 and (flood.kind[ece_cwr_syn] == 1).all()
    snmp = decode_batch(batch_from_capture(capture_path("stopddos_amp.UDP.snmp.src161.pcapng")))
    unreachable = snmp.has_icmp & (snmp.icmp_type == 3)
    assert unreachable.any() and (snmp.kind[unreachable] == 2).all()
    assert not snmp.has_ports[unreachable].any()  # the quoted UDP header is not the packet's
