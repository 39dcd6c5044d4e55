"""Names for ports, IP protocol numbers and ICMP types, for tables people read.

A port's name is the knowledge base's (:mod:`teiten.knowledge`: ``telnet-alt`` for
2323/tcp, ``upnp-tr064`` for 37215/tcp), else IANA's from the registry snapshot packaged
here (``data/iana-ports.tsv``, made by ``scripts/build_iana_ports.py``, dated by
:func:`port_registry`), else none: never the host's ``/etc/services``, so every machine
prints the same names. Protocol names come from a fixed table of the numbers a darknet
sees most, then ``/etc/protocols``; the fixed table keeps stored labels the same on every
machine ("icmpv6", not the file's "ipv6-icmp").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from teiten.errors import ReferenceDataError
from teiten.knowledge import load_knowledge

__all__ = ["PortRegistry", "icmp_type_name", "port_registry", "protocol_name", "service_name"]

PROTOCOLS_FILE = Path("/etc/protocols")
REGISTRY_FILE = "data/iana-ports.tsv"
UNNAMED = "unassigned"  # the knowledge base's service for a port nobody has named

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


@dataclass(frozen=True, slots=True)
class PortRegistry:
    """IANA's Service Name and Transport Protocol Port Number Registry, as packaged.

    ``names`` maps ``(proto, port)`` to the first service name IANA lists for it;
    ``edition`` is the latest registration or modification date in the registry copy
    the snapshot was made from (IANA's CSV has no date of its own).
    """

    edition: date
    source: str
    path: str
    names: Mapping[tuple[str, int], str]

    def name(self, proto: str, port: int) -> str | None:
        """IANA's service name for ``port`` over ``proto`` ("tcp", "udp", "sctp", "dccp")."""
        return self.names.get((proto.lower(), port))

    def describe(self) -> dict[str, Any]:
        """``{"title", "edition", "source", "ports"}`` for reports and ``--json`` output."""
        return {
            "title": "IANA Service Name and Transport Protocol Port Number Registry",
            "edition": self.edition.isoformat(),
            "source": self.source,
            "ports": len(self.names),
        }


@cache
def port_registry() -> PortRegistry:
    """The packaged IANA registry snapshot, read once per process."""
    resource = resources.files("teiten.enrich").joinpath(REGISTRY_FILE)
    return parse_port_registry(resource.read_text(encoding="utf-8"), str(resource))


def parse_port_registry(text: str, path: str) -> PortRegistry:
    """A :class:`PortRegistry` from the text ``scripts/build_iana_ports.py`` writes:
    ``# key: value`` header lines, then ``port<TAB>proto,proto<TAB>name`` rows."""
    header: dict[str, str] = {}
    names: dict[tuple[str, int], str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                header.setdefault(key.strip(), value.strip())
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0].isdecimal() or not fields[2]:
            raise ReferenceDataError(
                path,
                "not a port<TAB>protocols<TAB>name row; regenerate the file with "
                "scripts/build_iana_ports.py or reinstall teiten",
                line=number,
            )
        port = int(fields[0])
        for proto in fields[1].split(","):
            names[(proto, port)] = fields[2]
    try:
        edition = date.fromisoformat(header["edition"])
    except (KeyError, ValueError) as exc:
        raise ReferenceDataError(path, "the header has no '# edition: YYYY-MM-DD' line") from exc
    return PortRegistry(
        edition=edition, source=header.get("source", ""), path=path, names=MappingProxyType(names)
    )


@cache
def service_name(proto: str, port: int | None) -> str | None:
    """Name of the service on ``port`` over ``proto`` ("tcp", "udp", …), or None.

    The knowledge base's name first (``service_name("tcp", 2323)`` is ``"telnet-alt"``,
    where IANA registers ``3d-nfsd``), then IANA's (``("tcp", 5432)`` → ``"postgresql"``);
    ports neither names (the knowledge base says ``unassigned``), and protocols without
    ports, give None.
    """
    if port is None or not 0 <= port <= 0xFFFF:
        return None
    entry = load_knowledge().for_port(proto, port)
    if entry is not None and entry.service != UNNAMED:
        return entry.service
    return port_registry().name(proto, port)


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
