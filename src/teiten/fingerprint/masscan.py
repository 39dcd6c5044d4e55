"""``masscan``: a TCP SYN whose IP ID is ``(dst ^ dport ^ seq) & 0xFFFF``, window 1024.

masscan fills each probe from a packet template (``src/templ-pkt.c``,
``template_set_target`` / ``tcp_create_packet``): ``ip_id = ip_them ^ port_them ^
seqno``, written as its low 16 bits, where ``seqno`` is the stateless SYN cookie
(``src/syn-cookie.c``, a SipHash of the two endpoints). Any packet masscan sends
carries the relation, and no operating system produces it.

The default TCP template fixes the window at 1024 ("window fixed to 1024", since
January 2014, masscan#67) and the TTL at 255 (so SYNs arrive with TTL ≥ 200, the
raw-tool hint of CAIDA corsaro's ``large scale scan`` filter). Releases up to
1.3.0 send no TCP options — the template's ``mss 1460`` bytes were cut off by its
length fields (masscan#327, #621; a 1.3.0 SYN in masscan#641 has none) — and
later ones (≥ 1.3.1) send the MSS option; neither matters to the rule.

The rule is the IP ID relation on IPv4 TCP packets whose only flag is SYN (the
template's flags byte is ``0x02``), **and** the window of 1024. The relation
alone holds by chance for one in 65,536 SYNs with a random IP ID — every Mirai
bot produces such a SYN sooner or later, which would mark thousands of bots as
masscan in per-source views — while SYNs with a window of 1024 come from few
tools (nmap's SYN scan uses it too, with random IP IDs: one in 65,536 of those
still matches). The TTL is left out: it depends on the path length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.base import Fingerprint, TagContext, register
from teiten.fingerprint.headers import ipv4_numbers, is_ipv4, tcp_syn_only

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["MASSCAN", "MASSCAN_TCP_WINDOW", "masscan_ip_id"]

MASSCAN_TCP_WINDOW = 1024


def masscan_ip_id(dst: np.ndarray, dport: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """The IP ID masscan would send: ``(dst ^ dport ^ seq) & 0xFFFF`` (all uint32)."""
    return (dst ^ dport.astype(np.uint32) ^ seq) & np.uint32(0xFFFF)


def match(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    p = packets
    candidates = (p.tcp_window == MASSCAN_TCP_WINDOW) & is_ipv4(p) & tcp_syn_only(p)
    if not candidates.any():
        return candidates
    # On every row: cheaper than gathering the candidates' 16-byte addresses first.
    return candidates & (p.ip_id == masscan_ip_id(ipv4_numbers(p.dst), p.dport, p.tcp_seq))


MASSCAN = register(
    Fingerprint(
        "masscan",
        match,
        "IPv4 TCP SYN, window 1024, IP ID = (dst ^ dport ^ seq) & 0xFFFF (masscan templ-pkt.c)",
    )
)
