"""``abnormal-tcp-flags``: a TCP flag combination no TCP stack sends.

The rule is Linux netfilter's table of valid combinations
(``net/netfilter/nf_conntrack_proto_tcp.c``, ``tcp_valid_flags``): after
ignoring PSH, ECE and CWR ("always valid"), the combination of FIN, SYN, RST,
ACK and URG must be one of

    SYN, SYN+URG, SYN+ACK, RST, RST+ACK, FIN+ACK, FIN+ACK+URG, ACK, ACK+URG

and conntrack marks anything else INVALID. What that leaves out is what scanners
and crafted floods send: the NULL scan (no flags, or PSH alone), FIN scans (FIN
without ACK), Xmas scans (FIN+PSH+URG), SYN+FIN, SYN+RST, FIN+RST, all flags …

CAIDA corsaro's ``abnormal-protocol`` filter (``libcorsaro_filtering.c``) makes
a similar list but accepts bare FIN and SYN+FIN and rejects RST+ACK and URG;
netfilter's table is used here because RST+ACK is the ordinary answer of a
closed port (it is backscatter, tagged ``bs-rst``) while SYN+FIN is a classic
scanner trick (used by nmap-era tools to slip past filters that look for SYN
alone). Non-first fragments carry no TCP header and are never tagged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.base import Fingerprint, TagContext, register
from teiten.fingerprint.headers import ACK, FIN, RST, SYN, URG

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["ABNORMAL_TCP_FLAGS", "VALID_TCP_FLAGS"]

VALID_TCP_FLAGS = frozenset(
    {SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK, ACK | URG}
)
_CHECKED = FIN | SYN | RST | ACK | URG  # PSH, ECE and CWR never make a combination invalid
_ABNORMAL = np.array([(f & _CHECKED) not in VALID_TCP_FLAGS for f in range(256)], bool)


def _abnormal(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    return packets.has_tcp & _ABNORMAL.take(packets.tcp_flags)


ABNORMAL_TCP_FLAGS = register(
    Fingerprint(
        "abnormal-tcp-flags",
        _abnormal,
        "TCP flags outside netfilter's valid combinations (NULL, FIN, Xmas, SYN+FIN, SYN+RST …)",
    )
)
