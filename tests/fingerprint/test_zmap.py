"""zmap: IPv4 probes with IP ID 54321 (TCP SYN with window 65535, ICMP echo, UDP)."""

from __future__ import annotations

import pytest

from decode.builders import ACK, CWR, ECE, SYN, ether, frag6, icmp, ipv4, ipv6, tcp, udp

from ._packets import labels


def test_tcp_syn_probe_matches():
    assert "zmap" in labels(ether(ipv4(tcp(flags=SYN, window=65535), ident=54321, ttl=250)))


def test_icmp_echo_and_udp_probes_match():
    assert "zmap" in labels(ether(ipv4(icmp(8), proto=1, ident=54321, ttl=240)))
    assert "zmap" in labels(ether(ipv4(udp(dport=53), proto=17, ident=54321, ttl=200)))


def test_icmp_and_udp_need_zmaps_ttl():
    # An operating system's TTL (64, 128) minus hops: a random IP ID that happens to be 54321.
    assert "zmap" not in labels(ether(ipv4(icmp(8), proto=1, ident=54321, ttl=117)))
    assert "zmap" not in labels(ether(ipv4(udp(dport=53), proto=17, ident=54321, ttl=199)))


@pytest.mark.parametrize(
    "packet",
    [
        ether(ipv4(tcp(flags=SYN, window=65535), ident=54320)),  # another IP ID
        ether(ipv4(tcp(flags=SYN, window=1024), ident=54321)),  # not ZMap's window
        ether(ipv4(tcp(flags=SYN | ACK, window=65535), ident=54321)),  # an answer
        ether(ipv4(tcp(flags=SYN | ECE | CWR, window=65535), ident=54321)),  # ECN: not ZMap
        ether(ipv4(icmp(0), proto=1, ident=54321, ttl=240)),  # echo reply
    ],
)
def test_other_packets_do_not(packet):
    assert "zmap" not in labels(packet)


def test_not_applicable_to_ipv6():
    # IPv6 has no IP ID; the decoder's ip_id is the fragment header's identification.
    packet = ipv6(frag6(17, ident=54321) + udp(dport=53), nxt=44)
    assert "zmap" not in labels(ether(packet, 0x86DD))
