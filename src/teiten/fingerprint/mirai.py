"""``mirai``: a TCP SYN whose sequence number is the destination IPv4 address.

Mirai's scanner (``mirai/bot/scanner.c`` of the source published in 2016) builds
each SYN in a raw packet and sets ``tcph->seq = iph->daddr``: the four address
bytes are copied as they are, so read from the wire the sequence number equals
the destination address as the integer the IPv4 header carries. A SYN-ACK that
comes back then acknowledges ``daddr + 1``, which is how the bot matches answers
without keeping state. The rest of the SYN (random IP ID and window, TTL 64, no
TCP options) is ordinary raw-socket noise; the sequence number is the mark.

Every descendant that reuses ``scanner.c`` keeps the mark while changing the
ports: the original scans 23/tcp (2323 one time in ten), and variants found in
leaked and sold sources add 37215 (Huawei HG532, "Satori"/"Okiru"), 52869
(Realtek SDK), 5555 (ADB), 7547, 8080, 80, 443 … so the rule is independent of
the port. It applies to IPv4 TCP packets whose only flag is SYN (scanner.c sets
``tcph->syn`` alone); a random sequence number matches by chance with
probability 2⁻³² per packet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from teiten.fingerprint.base import Fingerprint, TagContext, register
from teiten.fingerprint.headers import ipv4_numbers, is_ipv4, tcp_syn_only

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["MIRAI"]


def match(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    seq_is_dst = packets.tcp_seq == ipv4_numbers(packets.dst)
    return seq_is_dst & is_ipv4(packets) & tcp_syn_only(packets)


MIRAI = register(
    Fingerprint(
        "mirai",
        match,
        "IPv4 TCP SYN, sequence number = destination address (Mirai scanner.c and forks)",
    )
)
