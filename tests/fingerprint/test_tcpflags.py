"""abnormal-tcp-flags: combinations outside netfilter's table of valid TCP flags."""

from __future__ import annotations

import pytest

from decode.builders import ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, ether, ipv4, ipv6, tcp, udp
from teiten.fingerprint.tcpflags import VALID_TCP_FLAGS

from ._packets import decoded, labels


@pytest.mark.parametrize(
    "flags",
    [
        0,  # NULL scan
        PSH,
        FIN,  # FIN scan
        FIN | PSH | URG,  # Xmas scan
        SYN | FIN,
        SYN | RST,
        FIN | RST,
        SYN | FIN | RST | PSH | ACK | URG,
        RST | URG,
    ],
)
def test_abnormal(flags):
    assert "abnormal-tcp-flags" in labels(ether(ipv4(tcp(flags=flags))))


@pytest.mark.parametrize(
    "flags",
    [
        SYN,
        SYN | ECE | CWR,  # ECN setup: ECE and CWR never matter
        SYN | PSH,
        SYN | ACK,
        RST,
        RST | ACK,
        ACK,
        ACK | PSH,
        FIN | ACK,
        FIN | ACK | PSH,
        ACK | URG,
    ],
)
def test_normal(flags):
    assert "abnormal-tcp-flags" not in labels(ether(ipv4(tcp(flags=flags))))


def test_not_applicable_without_a_tcp_header():
    assert not labels(ether(ipv4(udp(), proto=17)))
    assert "abnormal-tcp-flags" not in labels(ether(ipv4(tcp(flags=0), frag=10)))


def test_every_combination_against_netfilters_table():
    # nf_conntrack_proto_tcp.c: valid after masking PSH/ECE/CWR, written out independently.
    netfilter = {0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30}
    assert set(VALID_TCP_FLAGS) == netfilter
    frames = [ether(ipv4(tcp(flags=f))) for f in range(256)]
    frames += [ether(ipv6(tcp(flags=f)), 0x86DD) for f in range(256)]
    from teiten.fingerprint import TAG_BITS, tag_packets

    tags = tag_packets(decoded(frames))
    bit = 1 << TAG_BITS["abnormal-tcp-flags"]
    for i, f in enumerate(list(range(256)) * 2):
        assert bool(tags[i] & bit) == ((f & 0x37) not in netfilter), hex(f)
