"""Arbitrary bytes never crash the decoder, never make it read outside a packet,
and always decode the same way."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teiten.capture.linktypes import SUPPORTED
from teiten.decode import SKIP_REASONS, DecodedPackets, decode_batch

from .builders import (
    RST,
    SYN,
    ah6,
    ether,
    ext6,
    frag6,
    icmp,
    ipv4,
    ipv6,
    make_batch,
    mss,
    null,
    sll,
    sll2,
    tcp,
    udp,
)

LINKTYPES = sorted(SUPPORTED)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Valid packets to mutate: random bytes alone rarely get past the link header.
_IP = [
    ipv4(tcp(options=mss(1460) + b"\x01\x03\x03\x07")),
    ipv4(udp(), proto=17, flags=1),
    ipv4(icmp(3, 1) + ipv4(udp(), proto=17), proto=1),
    ipv4(tcp(flags=RST), options=b"\x01" * 8),
    ipv6(ext6(43, bytes(14)) + ext6(44) + frag6(60) + ext6(6) + tcp(flags=SYN), nxt=0),
    ipv6(ah6(17) + udp(), nxt=51),
    ipv6(frag6(58, offset=9) + icmp(128), nxt=44),
]
TEMPLATES = [(ether(p, 0x0800 if p[0] >> 4 == 4 else 0x86DD), 1) for p in _IP]
TEMPLATES += [(ether(_IP[0], 0x0800, (0x88A8, 0x8100)), 1), (sll(_IP[1]), 113)]
TEMPLATES += [(sll2(_IP[4], 0x86DD), 276), (null(_IP[0], 2), 0), (null(_IP[5], 30, ">"), 108)]
TEMPLATES += [(p, 101) for p in _IP]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, int]:
    packet, linktype = draw(st.sampled_from(TEMPLATES))
    raw = bytearray(packet)
    for _ in range(draw(st.integers(0, 4))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw[: draw(st.integers(0, len(raw)))]), linktype


arbitrary = st.tuples(
    st.binary(max_size=96),
    st.one_of(st.sampled_from(LINKTYPES), st.integers(0, 0xFFFF)),
)
packets = st.lists(st.one_of(arbitrary, mutated()), min_size=1, max_size=12)


def columns(decoded: DecodedPackets) -> dict[str, np.ndarray]:
    return {f.name: getattr(decoded, f.name) for f in dataclasses.fields(decoded)}


def assert_same(a: DecodedPackets, b: DecodedPackets) -> None:
    for name, column in columns(a).items():
        np.testing.assert_array_equal(column, getattr(b, name), err_msg=name)


@FUZZ
@given(packets)
def test_never_reads_outside_the_packet(items: list[tuple[bytes, int]]) -> None:
    data = [p for p, _ in items]
    linktypes = [lt for _, lt in items]
    # If the decoder read one byte before or after a packet, the guards would show.
    zeros = decode_batch(make_batch(data, linktypes, guard=b"\x00" * 64))
    ones = decode_batch(make_batch(data, linktypes, guard=b"\xff" * 64))
    assert_same(zeros, ones)
    assert set(np.unique(zeros.reason)) <= {0, *SKIP_REASONS}
    decoded = zeros.decoded
    assert set(np.unique(zeros.ip_version[decoded])) <= {4, 6}
    assert not zeros.ip_version[~decoded].any() and not zeros.src[~decoded].any()
    assert set(np.unique(zeros.kind)) <= {0, 1, 2}


@FUZZ
@given(packets)
def test_decoding_is_deterministic_and_row_independent(items: list[tuple[bytes, int]]) -> None:
    data = [p for p, _ in items]
    linktypes = [lt for _, lt in items]
    batch = make_batch(data, linktypes)
    first = decode_batch(batch)
    assert_same(first, decode_batch(batch))
    for i, (packet, linktype) in enumerate(items):
        alone = decode_batch(make_batch([packet], linktype))
        for name, column in columns(alone).items():
            if name != "ts_ns":
                np.testing.assert_array_equal(column[0], getattr(first, name)[i], err_msg=name)
