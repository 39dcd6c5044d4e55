"""``bs-*``: which kind of answer a backscatter packet is.

A darknet address never asks for anything, so an answer arriving there was
provoked by a packet that forged the darknet address as its source — usually a
spoofed-source flood against the host that answers (Moore, Voelker & Savage,
"Inferring Internet Denial-of-Service Activity", USENIX Security 2001). What the
victim answers says what it was hit with: SYN-ACKs from a SYN flood on an open
port, RSTs from one on a closed port (or from floods of stray ACKs), echo
replies from a ping flood, ICMP errors from UDP or other floods that a router or
host could not deliver. CAIDA corsaro's ``backscatter`` filter and ``dos``
plugin read the same packets (``libcorsaro_filtering.c``: SYN-ACK, RST, and
ICMP types 0, 3, 4, 5, 11, 12, 14, 16, 18).

Every packet whose traffic kind is backscatter (:mod:`teiten.decode.kinds`)
carries exactly one of these tags; ICMPv6 answers are tagged like their ICMPv4
equivalents:

=========================  ================================  =====================
tag                        ICMPv4 / TCP                      ICMPv6
=========================  ================================  =====================
``bs-synack``              SYN + ACK, no RST                 —
``bs-rst``                 RST (with or without ACK)         —
``bs-icmp-echo-reply``     type 0                            type 129
``bs-icmp-unreachable``    type 3                            type 1
``bs-icmp-time-exceeded``  type 11                           type 3
``bs-icmp-other-error``    4 quench, 5 redirect, 12 param.   2 too big, 4 param.
``bs-icmp-other-reply``    14 timestamp, 16 info, 18 mask    —
=========================  ================================  =====================

Non-first fragments carry no transport header and are never tagged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.base import Fingerprint, TagContext, register
from teiten.fingerprint.headers import ACK, PROTO_ICMP, PROTO_ICMPV6, RST, SYN

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["BACKSCATTER"]

Match = Callable[["DecodedPackets", TagContext], np.ndarray]


def _synack(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    flags = packets.tcp_flags & np.uint8(SYN | ACK | RST)
    return packets.has_tcp & (flags == (SYN | ACK))


def _rst(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    return packets.has_tcp & ((packets.tcp_flags & np.uint8(RST)) != 0)


def _icmp_types(v4: Iterable[int], v6: Iterable[int]) -> Match:
    """A predicate: ICMPv4 types ``v4`` or ICMPv6 types ``v6`` (first fragments only)."""
    table4, table6 = np.zeros(256, bool), np.zeros(256, bool)
    table4[list(v4)] = True
    table6[list(v6)] = True

    def match(packets: DecodedPackets, context: TagContext) -> np.ndarray:
        hit = np.zeros(len(packets.has_icmp), bool)
        w = np.flatnonzero(packets.has_icmp)  # few packets: look only at those
        if len(w):
            proto, icmp_type = packets.proto[w], packets.icmp_type[w]
            v4_hit = (proto == PROTO_ICMP) & table4[icmp_type]
            v6_hit = (proto == PROTO_ICMPV6) & table6[icmp_type]
            hit[w] = v4_hit | v6_hit
        return hit

    return match


BACKSCATTER = [
    register(Fingerprint(label, match, summary))
    for label, match, summary in (
        ("bs-synack", _synack, "TCP SYN-ACK: a SYN flood answered by an open port"),
        ("bs-rst", _rst, "TCP RST: a SYN or ACK flood answered by a closed port"),
        (
            "bs-icmp-echo-reply",
            _icmp_types((0,), (129,)),
            "ICMP echo reply: a ping flood answered",
        ),
        (
            "bs-icmp-unreachable",
            _icmp_types((3,), (1,)),
            "ICMP destination unreachable: a flood that could not be delivered",
        ),
        (
            "bs-icmp-time-exceeded",
            _icmp_types((11,), (3,)),
            "ICMP time exceeded: a flood whose TTL ran out (or a reassembly timeout)",
        ),
        (
            "bs-icmp-other-error",
            _icmp_types((4, 5, 12), (2, 4)),
            "other ICMP errors: source quench, redirect, parameter problem, packet too big",
        ),
        (
            "bs-icmp-other-reply",
            _icmp_types((14, 16, 18), ()),
            "ICMP timestamp, information or address-mask reply",
        ),
    )
]
