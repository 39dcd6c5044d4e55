"""src-eq-dst, port-zero, ip-reserved-flag (CAIDA corsaro3's spoofing filters)."""

from __future__ import annotations

import pytest

from decode.builders import DST4, DST6, SYN, ether, icmp, ipv4, ipv6, tcp, udp

from ._packets import labels

DF = 2  # IPv4 flag bits: 4 reserved, 2 DF, 1 MF


def test_src_eq_dst():
    assert "src-eq-dst" in labels(ether(ipv4(tcp(), src=DST4, dst=DST4)))
    assert "src-eq-dst" in labels(ether(ipv6(tcp(), src=DST6, dst=DST6), 0x86DD))
    assert "src-eq-dst" not in labels(ether(ipv4(tcp())))
    # Same last four bytes, different families or prefixes: not the same address.
    assert "src-eq-dst" not in labels(
        ether(ipv6(tcp(), src="2001:db8::9", dst="2001:db9::9"), 0x86DD)
    )


@pytest.mark.parametrize(
    "packet",
    [
        ether(ipv4(tcp(sport=0, dport=80))),
        ether(ipv4(tcp(sport=40000, dport=0))),
        ether(ipv4(udp(sport=0, dport=53), proto=17)),
        ether(ipv6(udp(sport=53, dport=0), nxt=17), 0x86DD),
    ],
)
def test_port_zero(packet):
    assert "port-zero" in labels(packet)


def test_port_zero_needs_tcp_or_udp_ports():
    assert "port-zero" not in labels(ether(ipv4(tcp(sport=1, dport=80))))
    assert "port-zero" not in labels(ether(ipv4(icmp(8), proto=1)))  # no ports at all
    sctp = b"\x00\x00\x00\x50" + bytes(8)  # SCTP common header, source port 0
    assert "port-zero" not in labels(ether(ipv4(sctp, proto=132)))


def test_ip_reserved_flag():
    assert "ip-reserved-flag" in labels(ether(ipv4(tcp(flags=SYN), flags=4)))
    assert "ip-reserved-flag" in labels(ether(ipv4(tcp(flags=SYN), flags=4 | DF)))
    assert "ip-reserved-flag" not in labels(ether(ipv4(tcp(flags=SYN), flags=DF)))
    assert "ip-reserved-flag" not in labels(ether(ipv6(tcp(flags=SYN)), 0x86DD))
