"""``zmap``: an IPv4 probe with IP ID 54321.

ZMap writes every probe's IPv4 header in ``make_ip_header``
(``src/probe_modules/packet.c``): ``ip_id = htons(54321)``, TTL 255, no
fragment flags. Its TCP SYN module adds a fixed window of 65535
(``make_tcp_header``), no TCP options before 3.0.0 and an MSS of 1460 since
3.0.0 (2023, zmap/zmap#673); the ICMP echo and UDP modules share the IP header.
So versions 1.0 – 4.0.x (2013 – 2024) are caught on TCP SYN, ICMP echo request
and UDP probes alike.

ZMap ≥ 4.1.0 (2024-03-21, zmap/zmap#798) randomises the IP ID "to prevent
fingerprinting of scan traffic" (4.1.0 also sends Ubuntu's TCP options by default
and 4.1.1 Ubuntu's TTL), so current releases are **not** caught: this tag counts
the long tail of older deployments and forks, not all ZMap traffic.

For TCP the rule also requires what ``make_tcp_header`` writes besides: the SYN
flag alone and the window of 65535. The IP ID alone matches one in 65,536 SYNs
of anyone with random IP IDs (every large Mirai botnet does that thousands of
times a day); hand-written raw-socket scanners that copy the same 54321 from
well-known tutorials use other windows; and crafted floods that look like ZMap
otherwise (the "DOMINATE" SYN flood in the shared captures: window 65535, TTL
255, random IP IDs — one of its 9,639 SYNs carries 54321) set ECN flags. UDP and
ICMP echo probes carry nothing else as distinctive but the TTL: ZMap sends 255
(``MAXTTL``, unless ``--probe-ttl`` says otherwise), so they arrive with TTL ≥
200 (the threshold of corsaro's ``ttl-200`` filter), while operating systems
start at 64 or 128. There the rule requires TTL ≥ 200, and a random IP ID still
matches by chance once in 65,536 such packets (in the 5 M-packet benchmark
simulation: 9 UDP and ICMP probes carry 54321 by chance, 1 of them with TTL ≥ 200).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.base import Fingerprint, TagContext, register
from teiten.fingerprint.headers import PROTO_ICMP, PROTO_UDP, is_ipv4, tcp_syn_only

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["ZMAP", "ZMAP_IP_ID", "ZMAP_MIN_TTL", "ZMAP_TCP_WINDOW"]

ZMAP_IP_ID = 54321
ZMAP_TCP_WINDOW = 65535
ZMAP_MIN_TTL = 200  # sent with 255; fewer than 55 hops away
_ICMP_ECHO = 8


def match(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    p = packets
    marked = (p.ip_id == ZMAP_IP_ID) & is_ipv4(p)
    if not marked.any():
        return marked
    syn = tcp_syn_only(p) & (p.tcp_window == ZMAP_TCP_WINDOW)
    echo = p.has_icmp & (p.proto == PROTO_ICMP) & (p.icmp_type == _ICMP_ECHO)
    udp = p.has_ports & (p.proto == PROTO_UDP)
    return marked & (syn | ((echo | udp) & (p.ttl >= ZMAP_MIN_TTL)))


ZMAP = register(
    Fingerprint(
        "zmap",
        match,
        "IPv4 probe with IP ID 54321 (SYN: window 65535; UDP, ICMP echo: TTL ≥ 200), ZMap < 4.1",
    )
)
