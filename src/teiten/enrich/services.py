"""Names for ports, IP protocol numbers and ICMP types, for tables people read.

Port names come from the system services database (``/etc/services``, as
``socket.getservbyport`` sees it); protocol names from a fixed table of the numbers a
darknet sees most, then ``/etc/protocols``. The fixed table keeps stored labels the same
on every machine ("icmpv6", not the file's "ipv6-icmp").
"""

from __future__ import annotations

import socket
from functools import cache
from pathlib import Path

__all__ = ["icmp_type_name", "protocol_name", "service_name"]

PROTOCOLS_FILE = Path("/etc/protocols")

# IANA "Assigned Internet Protocol Numbers" keywords, lowercased, with the common
# spellings "icmpv6" (58) and "ospf" (89).
_PROTOCOLS = {
    0: "hopopt",
    1: "icmp",
    2: "igmp",
    4: "ipv4",
    6: "tcp",
    8: "egp",
    17: "udp",
    33: "dccp",
    41: "ipv6",
    43: "ipv6-route",
    44: "ipv6-frag",
    46: "rsvp",
    47: "gre",
    50: "esp",
    51: "ah",
    58: "icmpv6",
    59: "ipv6-nonxt",
    60: "ipv6-opts",
    88: "eigrp",
    89: "ospf",
    103: "pim",
    112: "vrrp",
    115: "l2tp",
    132: "sctp",
    136: "udplite",
    137: "mpls-in-ip",
}

# IANA "ICMP Type Numbers" and "ICMPv6 Parameters" registries, common types only.
_ICMP_TYPES = {
    4: {
        0: "echo-reply",
        3: "destination-unreachable",
        4: "source-quench",
        5: "redirect",
        8: "echo-request",
        9: "router-advertisement",
        10: "router-solicitation",
        11: "time-exceeded",
        12: "parameter-problem",
        13: "timestamp-request",
        14: "timestamp-reply",
        15: "information-request",
        16: "information-reply",
        17: "address-mask-request",
        18: "address-mask-reply",
        30: "traceroute",
        42: "extended-echo-request",
        43: "extended-echo-reply",
    },
    6: {
        1: "destination-unreachable",
        2: "packet-too-big",
        3: "time-exceeded",
        4: "parameter-problem",
        128: "echo-request",
        129: "echo-reply",
        130: "mld-query",
        131: "mld-report",
        132: "mld-done",
        133: "router-solicitation",
        134: "router-advertisement",
        135: "neighbor-solicitation",
        136: "neighbor-advertisement",
        137: "redirect",
        143: "mldv2-report",
        160: "extended-echo-request",
        161: "extended-echo-reply",
    },
}


@cache
def service_name(proto: str, port: int | None) -> str | None:
    """Registered service on ``port`` for ``proto`` ("tcp", "udp", …), or None.

    ``service_name("tcp", 23)`` is ``"telnet"``; protocols the services database does
    not list (often "sctp") and unnamed ports give None.
    """
    if port is None or not 0 <= port <= 0xFFFF:
        return None
    try:
        return socket.getservbyport(port, proto.lower())
    except OSError:
        return None


@cache
def _system_protocols() -> dict[int, str]:
    """Number → keyword from ``/etc/protocols``; empty when the file is missing."""
    try:
        text = PROTOCOLS_FILE.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    names: dict[int, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[1].isdecimal():
            names.setdefault(int(fields[1]), fields[0].lower())
    return names


def protocol_name(number: int) -> str:
    """Keyword of an IP protocol number (6 → "tcp"); unnamed ones are ``ip-proto-N``."""
    if not 0 <= number <= 255:
        raise ValueError(f"IP protocol numbers are 0-255, got {number}")
    return _PROTOCOLS.get(number) or _system_protocols().get(number) or f"ip-proto-{number}"


def icmp_type_name(version: int, type: int) -> str | None:
    """Name of an ICMP (``version`` 4) or ICMPv6 (6) message type, or None if uncommon."""
    return _ICMP_TYPES.get(version, {}).get(type)
