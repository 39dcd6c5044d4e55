"""Traffic kind of a darknet packet: probe, backscatter or other.

A darknet (network telescope) announces unused address space, so nothing it
receives was asked for. Two very different things arrive:

* **probes** — packets that *start* a conversation: scanners and worms looking
  for hosts (TCP SYN, UDP, ICMP requests);
* **backscatter** — packets that *answer* one: replies from victims of
  spoofed-source floods that happened to pick a darknet address as the forged
  source (SYN-ACK, RST, ICMP replies and errors).

The split follows Moore, Voelker & Savage, "Inferring Internet Denial-of-Service
Activity" (USENIX Security 2001; ACM TOCS 2006), which reads DoS attacks out of
backscatter, and the conventions of CAIDA's telescope reports (corsaro
``dos`` plugin) and NICT's NICTER, which count scans and backscatter apart.

Rule (one uint8 per packet, computed once at decode time):

* UDP is a probe, including non-first fragments (a UDP reply to a darknet
  address that never sent anything is indistinguishable from a probe, and is
  counted as one by CAIDA/NICTER too).
* TCP: SYN without ACK and without RST is a probe (ECN bits ECE/CWR do not
  matter); SYN-ACK or any RST is backscatter; everything else is other.
* ICMP (proto 1): requests (:data:`ICMP_PROBE_TYPES`) are probes, replies and
  errors (:data:`ICMP_BACKSCATTER_TYPES`) are backscatter.
* ICMPv6 (proto 58): :data:`ICMPV6_PROBE_TYPES` / :data:`ICMPV6_BACKSCATTER_TYPES`.
* Anything else, including non-first fragments of TCP/ICMP (their header is in
  another fragment), is other.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "ICMPV6_BACKSCATTER_TYPES",
    "ICMPV6_PROBE_TYPES",
    "ICMP_BACKSCATTER_TYPES",
    "ICMP_PROBE_TYPES",
    "KIND_BACKSCATTER",
    "KIND_NAMES",
    "KIND_OTHER",
    "KIND_PROBE",
    "classify",
]

KIND_OTHER = 0
KIND_PROBE = 1
KIND_BACKSCATTER = 2

KIND_NAMES: dict[int, str] = {
    KIND_OTHER: "other",
    KIND_PROBE: "probe",
    KIND_BACKSCATTER: "backscatter",
}

# echo (8), router solicitation (10), timestamp (13), information (15), address mask (17)
ICMP_PROBE_TYPES = frozenset({8, 10, 13, 15, 17})
# echo reply (0), unreachable (3), source quench (4), redirect (5), time exceeded (11),
# parameter problem (12), timestamp/information/address-mask replies (14, 16, 18)
ICMP_BACKSCATTER_TYPES = frozenset({0, 3, 4, 5, 11, 12, 14, 16, 18})
# echo request (128), router solicitation (133), neighbour solicitation (135),
# node information query (139)
ICMPV6_PROBE_TYPES = frozenset({128, 133, 135, 139})
# unreachable (1), packet too big (2), time exceeded (3), parameter problem (4), echo reply (129)
ICMPV6_BACKSCATTER_TYPES = frozenset({1, 2, 3, 4, 129})

_PROTO_ICMP = 1
_PROTO_TCP = 6
_PROTO_UDP = 17
_PROTO_ICMPV6 = 58
_SYN = 0x02
_RST = 0x04
_ACK = 0x10


def _type_table(probe: frozenset[int], backscatter: frozenset[int]) -> np.ndarray:
    table = np.full(256, KIND_OTHER, dtype=np.uint8)
    table[list(probe)] = KIND_PROBE
    table[list(backscatter)] = KIND_BACKSCATTER
    return table


# Looked up by the compiled kernel (numba freezes global arrays as constants).
_ICMP_KIND = _type_table(ICMP_PROBE_TYPES, ICMP_BACKSCATTER_TYPES)
_ICMPV6_KIND = _type_table(ICMPV6_PROBE_TYPES, ICMPV6_BACKSCATTER_TYPES)


@numba.njit(cache=True, nogil=True)
def classify(proto: int, has_tcp: bool, tcp_flags: int, has_icmp: bool, icmp_type: int) -> int:
    """Kind of one packet from its decoded fields (see the module docstring).

    ``has_tcp`` / ``has_icmp`` are false for non-first fragments, which is what
    makes their TCP/ICMP kind "other".
    """
    if proto == _PROTO_UDP:
        return KIND_PROBE
    if has_tcp:
        if tcp_flags & _RST:
            return KIND_BACKSCATTER
        if tcp_flags & _SYN:
            return KIND_BACKSCATTER if tcp_flags & _ACK else KIND_PROBE
        return KIND_OTHER
    if has_icmp:
        if proto == _PROTO_ICMP:
            return _ICMP_KIND[icmp_type]
        if proto == _PROTO_ICMPV6:
            return _ICMPV6_KIND[icmp_type]
    return KIND_OTHER
