"""Why a packet was not decoded: one small code per packet, counted and reported.

A darknet capture is mostly IP, but a sensor on a LAN segment also sees ARP,
LLDP and spanning-tree frames, and real captures contain damaged packets. None
of these is an error: the decoder marks each such packet with a reason code
(``DecodedPackets.reason``), the store leaves it out, and the ingest report says
how many were left out and why.

Codes (stable: they may be stored or compared across runs):

==  =========================================  ============================================
 1  link header truncated                      fewer bytes than the link header (or a
                                               VLAN tag) needs
 2  unsupported link type                      a LINKTYPE the decoder has no rule for
 3  not IP: ARP                                ethertype 0x0806 (ARP) or 0x8035 (RARP)
 4  not IP: LLDP                               ethertype 0x88CC
 5  not IP: 802.3/LLC frame                    length field <= 1500 instead of an ethertype
                                               (STP, CDP, NetBIOS over LLC...)
 6  not IP: MPLS                               ethertype 0x8847/0x8848 (labels not walked)
 7  not IP: PPPoE                              ethertype 0x8863/0x8864
 8  not IP: other ethertype                    any other ethertype / SLL protocol
 9  not IP: other address family               BSD loopback (NULL/LOOP) family not IPv4/6
10  bad IP version                             version nibble is not 4/6, or not the one
                                               the link header announced
11  IP header truncated                        fewer bytes than the IPv4 header (incl.
                                               options) or the 40-byte IPv6 header
12  bad IPv4 header length                     IHL below 5 (20 bytes)
13  bad IPv4 total length                      total length non-zero but below the header
                                               length (zero is accepted: TSO captures)
14  IPv6 extension headers truncated           a hop-by-hop, routing, fragment, destination
                                               options or AH header is cut off
15  transport header truncated                 the snap length cut off the TCP (20 B),
                                               UDP/UDP-Lite (8 B), SCTP/DCCP (12 B) or
                                               ICMP/ICMPv6 (4 B) header
16  timestamp outside 1970..2262               the capture's time for the packet is before
                                               the Unix epoch or past what the store holds
                                               (pcapng: huge ticks, an if_tsoffset out of
                                               range); never wrapped onto a wrong date
==  =========================================  ============================================

A packet cut short by the capture's snap length (caplen < IP total length) is
*not* skipped: whatever headers are present are decoded. A complete IP packet
that is too short for its transport header (nmap ``-sO`` sends empty SCTP and
DCCP probes; RFC 1858 "tiny" first fragments) is decoded too, without
transport fields: the sender, not the capture, left them out.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["DECODED", "SKIP_REASONS", "SkipReason"]

DECODED = 0  # reason code of a decoded packet


class SkipReason(IntEnum):
    """Reason codes of packets that were not decoded (see the module docstring)."""

    LINK_TRUNCATED = 1
    UNSUPPORTED_LINKTYPE = 2
    NOT_IP_ARP = 3
    NOT_IP_LLDP = 4
    NOT_IP_LLC = 5
    NOT_IP_MPLS = 6
    NOT_IP_PPPOE = 7
    NOT_IP_OTHER_ETHERTYPE = 8
    NOT_IP_OTHER_FAMILY = 9
    BAD_IP_VERSION = 10
    IP_TRUNCATED = 11
    BAD_IPV4_HEADER_LENGTH = 12
    BAD_IPV4_TOTAL_LENGTH = 13
    IPV6_EXT_TRUNCATED = 14
    TRANSPORT_TRUNCATED = 15
    BAD_TIMESTAMP = 16


_TEXT: dict[SkipReason, str] = {
    SkipReason.LINK_TRUNCATED: "link header truncated",
    SkipReason.UNSUPPORTED_LINKTYPE: "unsupported link type",
    SkipReason.NOT_IP_ARP: "not IP: ARP",
    SkipReason.NOT_IP_LLDP: "not IP: LLDP",
    SkipReason.NOT_IP_LLC: "not IP: 802.3/LLC frame",
    SkipReason.NOT_IP_MPLS: "not IP: MPLS",
    SkipReason.NOT_IP_PPPOE: "not IP: PPPoE",
    SkipReason.NOT_IP_OTHER_ETHERTYPE: "not IP: other ethertype",
    SkipReason.NOT_IP_OTHER_FAMILY: "not IP: other address family",
    SkipReason.BAD_IP_VERSION: "bad IP version",
    SkipReason.IP_TRUNCATED: "IP header truncated",
    SkipReason.BAD_IPV4_HEADER_LENGTH: "bad IPv4 header length",
    SkipReason.BAD_IPV4_TOTAL_LENGTH: "bad IPv4 total length",
    SkipReason.IPV6_EXT_TRUNCATED: "IPv6 extension headers truncated",
    SkipReason.TRANSPORT_TRUNCATED: "transport header truncated",
    SkipReason.BAD_TIMESTAMP: "timestamp outside 1970..2262",
}

# Plain int keys, so that the mapping reads the same in JSON, logs and reports.
SKIP_REASONS: dict[int, str] = {int(code): text for code, text in _TEXT.items()}
