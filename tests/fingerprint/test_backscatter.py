"""bs-*: the kind of answer each backscatter packet is; exactly one per backscatter packet."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from decode.builders import (
    ACK,
    ECE,
    FIN,
    PSH,
    RST,
    SYN,
    ether,
    frag6,
    icmp,
    ipv4,
    ipv6,
    tcp,
    udp,
)
from teiten.decode import KIND_BACKSCATTER, decode_batch
from teiten.fingerprint import TAG_BITS, tag_packets

from ._packets import decoded, labels

BS_TAGS = [label for label in TAG_BITS if label.startswith("bs-")]
BS_MASK = sum(1 << TAG_BITS[label] for label in BS_TAGS)


def v4icmp(type_: int, code: int = 0) -> bytes:
    return ether(ipv4(icmp(type_, code), proto=1))


def v6icmp(type_: int, code: int = 0) -> bytes:
    return ether(ipv6(icmp(type_, code), nxt=58), 0x86DD)


@pytest.mark.parametrize(
    ("packet", "expected"),
    [
        (ether(ipv4(tcp(flags=SYN | ACK))), "bs-synack"),
        (ether(ipv6(tcp(flags=SYN | ACK | ECE)), 0x86DD), "bs-synack"),
        (ether(ipv4(tcp(flags=RST))), "bs-rst"),
        (ether(ipv4(tcp(flags=RST | ACK))), "bs-rst"),
        (ether(ipv4(tcp(flags=SYN | RST))), "bs-rst"),
        (v4icmp(0), "bs-icmp-echo-reply"),
        (v6icmp(129), "bs-icmp-echo-reply"),
        (v4icmp(3, 3), "bs-icmp-unreachable"),
        (v6icmp(1, 4), "bs-icmp-unreachable"),
        (v4icmp(11), "bs-icmp-time-exceeded"),
        (v6icmp(3), "bs-icmp-time-exceeded"),
        (v4icmp(4), "bs-icmp-other-error"),
        (v4icmp(5), "bs-icmp-other-error"),
        (v4icmp(12), "bs-icmp-other-error"),
        (v6icmp(2), "bs-icmp-other-error"),
        (v6icmp(4), "bs-icmp-other-error"),
        (v4icmp(14), "bs-icmp-other-reply"),
        (v4icmp(16), "bs-icmp-other-reply"),
        (v4icmp(18), "bs-icmp-other-reply"),
    ],
)
def test_each_answer_gets_its_kind(packet, expected):
    assert {t for t in labels(packet) if t.startswith("bs-")} == {expected}


@pytest.mark.parametrize(
    "packet",
    [
        ether(ipv4(tcp(flags=SYN))),
        ether(ipv4(tcp(flags=ACK | PSH))),
        ether(ipv4(tcp(flags=FIN | ACK))),
        v4icmp(8),
        v6icmp(128),
        v6icmp(135),
        ether(ipv4(udp(sport=53), proto=17)),
    ],
)
def test_probes_and_other_packets_are_not_backscatter(packet):
    assert not {t for t in labels(packet) if t.startswith("bs-")}


def test_not_applicable_to_non_first_fragments():
    # The TCP/ICMP header is in the first fragment; a later one carries no flags or type.
    later = ether(ipv4(tcp(flags=SYN | ACK), frag=100))
    later6 = ether(ipv6(frag6(58, offset=100) + icmp(1), nxt=44), 0x86DD)
    assert not labels(later) and not labels(later6)


@given(
    flags=st.integers(0, 255),
    icmp_type=st.integers(0, 255),
    family=st.sampled_from(["tcp4", "tcp6", "icmp4", "icmp6"]),
)
def test_exactly_one_kind_for_every_backscatter_packet(flags, icmp_type, family):
    packet = {
        "tcp4": lambda: ether(ipv4(tcp(flags=flags))),
        "tcp6": lambda: ether(ipv6(tcp(flags=flags)), 0x86DD),
        "icmp4": lambda: v4icmp(icmp_type),
        "icmp6": lambda: v6icmp(icmp_type),
    }[family]()
    d = decoded([packet])
    bs = int(tag_packets(d)[0]) & BS_MASK
    if d.kind[0] == KIND_BACKSCATTER:
        assert bs and bs & (bs - 1) == 0, f"{family} {flags:#x}/{icmp_type}: bits {bs:#x}"
    else:
        assert bs == 0


def test_the_table_covers_every_backscatter_icmp_type():
    from teiten.decode.kinds import ICMP_BACKSCATTER_TYPES, ICMPV6_BACKSCATTER_TYPES

    frames = [v4icmp(t) for t in sorted(ICMP_BACKSCATTER_TYPES)]
    frames += [v6icmp(t) for t in sorted(ICMPV6_BACKSCATTER_TYPES)]
    from decode.builders import make_batch

    tags = tag_packets(decode_batch(make_batch(frames)))
    assert np.all(tags & BS_MASK)
