"""Payloads of the probes scanners send, built so that dissectors parse them cleanly.

Each is the request a scanner sends when hunting for a service or an amplifier
(open resolvers, NTP monlist, SSDP, SIP, SNMP, memcached, NetBIOS).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["PING_LINUX", "UDP_PROBES"]


def _dns_query(name: str, qtype: int) -> bytes:
    labels = b"".join(bytes((len(p),)) + p.encode() for p in name.split(".")) + b"\x00"
    return (
        struct.pack(">HHHHHH", 0x1A2B, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", qtype, 1)
    )


def _ber(tag: int, content: bytes) -> bytes:
    assert len(content) < 128  # short-form lengths are enough here
    return bytes((tag, len(content))) + content


def _snmp_get(community: str, oid: tuple[int, ...]) -> bytes:
    encoded_oid = bytes((40 * oid[0] + oid[1], *oid[2:]))  # arcs < 128 only
    varbind = _ber(0x30, _ber(0x06, encoded_oid) + b"\x05\x00")
    pdu = _ber(
        0xA0, _ber(0x02, b"\x12\x34\x56\x78") + b"\x02\x01\x00\x02\x01\x00" + _ber(0x30, varbind)
    )
    return _ber(0x30, b"\x02\x01\x01" + _ber(0x04, community.encode()) + pdu)


def _netbios_name(name: bytes) -> bytes:
    padded = name.ljust(16, b"\x00")
    return b"\x20" + bytes(c for b in padded for c in (0x41 + (b >> 4), 0x41 + (b & 15))) + b"\x00"


_SIP_OPTIONS = (
    b"OPTIONS sip:100@192.0.2.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-2711;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b'To: "sipvicious"<sip:100@192.0.2.1>\r\n'
    b'From: "sipvicious"<sip:100@192.0.2.1>;tag=3438326233\r\n'
    b"User-Agent: friendly-scanner\r\n"
    b"Call-ID: 849517396\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Contact: <sip:100@192.0.2.99:5060>\r\n"
    b"Accept: application/sdp\r\n"
    b"Content-Length: 0\r\n\r\n"
)

_SSDP_SEARCH = (
    b"M-SEARCH * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b'MAN: "ssdp:discover"\r\n'
    b"MX: 1\r\n"
    b"ST: ssdp:all\r\n\r\n"
)

UDP_PROBES: Mapping[int, bytes] = MappingProxyType(
    {
        53: _dns_query("example.com", 255),  # ANY: the amplification favourite
        123: b"\x17\x00\x03\x2a" + bytes(4),  # NTP mode 7 MON_GETLIST_1 (monlist)
        1900: _SSDP_SEARCH,
        5060: _SIP_OPTIONS,
        161: _snmp_get("public", (1, 3, 6, 1, 2, 1, 1, 1, 0)),  # sysDescr.0, SNMPv2c
        11211: b"\x00\x01\x00\x00\x00\x01\x00\x00stats\r\n",  # memcached UDP frame + stats
        137: struct.pack(">HHHHHH", 0x5C3E, 0, 1, 0, 0, 0)
        + _netbios_name(b"*")
        + struct.pack(">HH", 0x21, 1),  # NBSTAT query
    }
)

# What Linux ping puts after the ICMP header: 8 bytes of time, then 0x10, 0x11, …
PING_LINUX = bytes(8) + bytes(range(0x10, 0x40))
