"""mirai: TCP SYN with sequence number = destination IPv4 address."""

from __future__ import annotations

import pytest

from decode.builders import ACK, DST4, RST, SYN, ether, ipv4, ipv6, tcp, udp

from ._packets import ipv4_int, labels

MIRAI_SEQ = ipv4_int(DST4)


@pytest.mark.parametrize("dport", [23, 2323, 37215, 52869, 5555, 7547, 8080, 80, 443])
def test_a_scanner_c_syn_matches_on_any_port(dport):
    assert "mirai" in labels(ether(ipv4(tcp(dport=dport, flags=SYN, seq=MIRAI_SEQ))))


@pytest.mark.parametrize("seq", [MIRAI_SEQ + 1, MIRAI_SEQ - 1, 0, ipv4_int("198.51.100.7")])
def test_another_sequence_number_does_not(seq):
    assert "mirai" not in labels(ether(ipv4(tcp(flags=SYN, seq=seq))))


@pytest.mark.parametrize("flags", [SYN | ACK, RST, ACK, SYN | RST])
def test_only_syn_probes(flags):
    assert "mirai" not in labels(ether(ipv4(tcp(flags=flags, seq=MIRAI_SEQ))))


def test_not_applicable_to_ipv6_or_udp():
    # An IPv6 destination whose last four bytes equal the sequence number.
    v6 = ipv6(tcp(flags=SYN, seq=0x00000009), dst="2001:db8:ffff::9")
    assert "mirai" not in labels(ether(v6, 0x86DD))
    assert not labels(ether(ipv4(udp(dport=23), proto=17)))
