"""Traffic kind: one matching and one non-matching packet for every rule."""

from __future__ import annotations

import pytest

from teiten.decode.kinds import (
    ICMP_BACKSCATTER_TYPES,
    ICMP_PROBE_TYPES,
    ICMPV6_BACKSCATTER_TYPES,
    ICMPV6_PROBE_TYPES,
    KIND_BACKSCATTER,
    KIND_NAMES,
    KIND_OTHER,
    KIND_PROBE,
    classify,
)

from .builders import (
    ACK,
    CWR,
    ECE,
    FIN,
    PSH,
    RST,
    SYN,
    decode_one,
    ether,
    frag6,
    icmp,
    ipv4,
    ipv6,
    tcp,
    udp,
)


def kind_of(packet: bytes) -> str:
    r = decode_one(packet)
    assert r["reason"] == 0
    return KIND_NAMES[int(r["kind"])]  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (SYN, "probe"),
        (SYN | ECE | CWR, "probe"),  # ECN-setup SYN (e.g. the DOMINATE flood)
        (SYN | PSH, "probe"),
        (SYN | ACK, "backscatter"),
        (RST, "backscatter"),
        (RST | ACK, "backscatter"),
        (SYN | RST, "backscatter"),
        (ACK, "other"),
        (FIN | ACK, "other"),
        (PSH | ACK, "other"),
        (0, "other"),  # null scan
        (FIN | PSH | 0x20, "other"),  # xmas scan
    ],
)
def test_tcp_flags(flags: int, expected: str) -> None:
    assert kind_of(ether(ipv4(tcp(flags=flags)))) == expected
    assert kind_of(ether(ipv6(tcp(flags=flags)), 0x86DD)) == expected


def test_udp_is_probe_even_as_a_non_first_fragment() -> None:
    assert kind_of(ether(ipv4(udp(), proto=17))) == "probe"
    assert kind_of(ether(ipv4(b"\0" * 16, proto=17, frag=100))) == "probe"
    assert kind_of(ether(ipv6(frag6(17, offset=100) + b"\0" * 16, nxt=44), 0x86DD)) == "probe"


def test_non_first_fragments_of_tcp_and_icmp_are_other() -> None:
    assert kind_of(ether(ipv4(tcp(flags=SYN), frag=3))) == "other"
    assert kind_of(ether(ipv4(icmp(8), proto=1, frag=3))) == "other"
    assert kind_of(ether(ipv6(frag6(58, offset=3) + icmp(128), nxt=44), 0x86DD)) == "other"


@pytest.mark.parametrize("icmp_type", range(256))
def test_icmp_types(icmp_type: int) -> None:
    expected = (
        "probe"
        if icmp_type in ICMP_PROBE_TYPES
        else "backscatter"
        if icmp_type in ICMP_BACKSCATTER_TYPES
        else "other"
    )
    assert kind_of(ether(ipv4(icmp(icmp_type), proto=1))) == expected


def test_icmp_examples() -> None:
    assert kind_of(ether(ipv4(icmp(8), proto=1))) == "probe"  # echo request
    assert kind_of(ether(ipv4(icmp(0), proto=1))) == "backscatter"  # echo reply
    # unreachable quoting a UDP probe: the outer ICMP is what counts
    quoted = ipv4(udp(33333, 161), proto=17)
    assert kind_of(ether(ipv4(icmp(3, 3) + quoted, proto=1))) == "backscatter"
    assert kind_of(ether(ipv4(icmp(9), proto=1))) == "other"  # router advertisement


@pytest.mark.parametrize("icmp_type", [*range(0, 8), 127, *range(128, 160), 255])
def test_icmpv6_types(icmp_type: int) -> None:
    expected = (
        "probe"
        if icmp_type in ICMPV6_PROBE_TYPES
        else "backscatter"
        if icmp_type in ICMPV6_BACKSCATTER_TYPES
        else "other"
    )
    assert kind_of(ether(ipv6(icmp(icmp_type), nxt=58), 0x86DD)) == expected


def test_rule_sets_match_the_brief() -> None:
    assert {8, 13, 15, 17, 10} == ICMP_PROBE_TYPES
    assert {0, 3, 4, 5, 11, 12, 14, 16, 18} == ICMP_BACKSCATTER_TYPES
    assert {128, 133, 135, 139} == ICMPV6_PROBE_TYPES
    assert {1, 2, 3, 4, 129} == ICMPV6_BACKSCATTER_TYPES


def test_other_protocols_are_other() -> None:
    assert kind_of(ether(ipv4(b"\0" * 8, proto=47))) == "other"  # GRE
    assert kind_of(ether(ipv4(b"\0" * 12, proto=132))) == "other"  # SCTP


def test_classify_directly() -> None:
    assert classify(6, True, SYN, False, 0) == KIND_PROBE
    assert classify(6, False, SYN, False, 0) == KIND_OTHER  # no TCP header read
    assert classify(1, False, 0, True, 3) == KIND_BACKSCATTER
    assert classify(58, False, 0, True, 3) == KIND_BACKSCATTER
    assert classify(1, False, 0, False, 8) == KIND_OTHER  # no ICMP header read
    assert classify(17, False, 0, False, 0) == KIND_PROBE
