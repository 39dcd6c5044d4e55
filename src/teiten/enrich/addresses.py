"""Source addresses by family: keys to deduplicate on, bogon tests, and text for lookups.

Decoded sources are ``uint8[n, 16]`` rows: IPv6, or IPv4-mapped ``::ffff:a.b.c.d``.
Taggers split them so that IPv4 (nearly all darknet traffic) is deduplicated as plain
``uint32`` while IPv6 rows become 16-byte ``V16`` keys. Both key kinds sort in numeric
address order (IPv6 bytes are compared big-endian, as stored), so a sorted cache can be
searched with :func:`numpy.searchsorted`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "IPV4",
    "IPV6",
    "Family",
    "address_rows",
    "as_address_rows",
    "ipv4_bogon",
    "ipv4_distinct",
    "ipv4_mapped",
    "ipv6_bogon",
    "ipv6_distinct",
    "network_spans",
]

_WORD = np.dtype(">u8")

# Never a source a registry can place: IANA IPv4 Special-Purpose Address Registry
# (RFC 6890 and updates), multicast (RFC 5771) and the reserved 240/4 (RFC 1112).
_IPV4_BOGONS = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # private, RFC 1918
    "100.64.0.0/10",  # carrier-grade NAT, RFC 6598
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local, RFC 3927
    "172.16.0.0/12",  # private, RFC 1918
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # TEST-NET-1, RFC 5737
    "192.88.99.0/24",  # 6to4 relay anycast, deprecated by RFC 7526
    "192.168.0.0/16",  # private, RFC 1918
    "198.18.0.0/15",  # benchmarking, RFC 2544
    "198.51.100.0/24",  # TEST-NET-2
    "203.0.113.0/24",  # TEST-NET-3
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
)

# IPv6 outside global unicast 2000::/3 (loopback, unspecified, ::ffff:0:0/96 seen as IPv6,
# link-local fe80::/10, ULA fc00::/7, multicast ff00::/8, NAT64 …) is a bogon, and so are
# these special-purpose blocks inside it (IANA IPv6 Special-Purpose Address Registry).
_IPV6_BOGONS = (
    "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID
    "2001:db8::/32",  # documentation, RFC 3849
    "2002::/16",  # 6to4, deprecated by RFC 7526
    "3fff::/20",  # documentation, RFC 9637
)


def _ipv4_table(prefixes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    nets = [ipaddress.IPv4Network(p) for p in prefixes]
    return (
        np.array([int(n.network_address) for n in nets], np.uint32),
        np.array([int(n.netmask) for n in nets], np.uint32),
    )


def _ipv6_table(prefixes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Upper 64 bits of each network and mask: every prefix here is at most /64."""
    nets = [ipaddress.IPv6Network(p) for p in prefixes]
    return (
        np.array([int(n.network_address) >> 64 for n in nets], np.uint64),
        np.array([int(n.netmask) >> 64 for n in nets], np.uint64),
    )


_V4_NET, _V4_MASK = _ipv4_table(_IPV4_BOGONS)
_V6_NET, _V6_MASK = _ipv6_table(_IPV6_BOGONS)
_GLOBAL_UNICAST_MASK = np.uint64(0xE000_0000_0000_0000)
_GLOBAL_UNICAST = np.uint64(0x2000_0000_0000_0000)


def address_rows(addresses: Iterable[str]) -> np.ndarray:
    """Address strings as decoded rows (IPv4 becomes ``::ffff:a.b.c.d``); for tests and tools."""
    packed = []
    for text in addresses:
        address = ipaddress.ip_address(text)
        if address.version == 4:
            address = ipaddress.IPv6Address(f"::ffff:{address}")
        packed.append(address.packed)
    return np.frombuffer(b"".join(packed), np.uint8).reshape(-1, 16).copy()


def as_address_rows(addrs: np.ndarray) -> np.ndarray:
    """``addrs`` as a C-contiguous ``uint8[n, 16]`` array, or a ValueError saying why not."""
    rows = np.asarray(addrs)
    if rows.dtype != np.uint8 or rows.ndim != 2 or rows.shape[1] != 16:
        raise ValueError(
            f"source addresses must be uint8[n, 16] (IPv6 or IPv4-mapped rows), "
            f"got {rows.dtype}{list(rows.shape)}"
        )
    return np.ascontiguousarray(rows)


def _words(rows: np.ndarray) -> np.ndarray:
    """Each 16-byte row as two native uint64 (upper, lower half of the address)."""
    return rows.view(_WORD).astype(np.uint64)


def ipv4_mapped(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of IPv4-mapped rows, and their IPv4 addresses as uint32 (in mask order)."""
    words = _words(rows)
    upper, lower = words[:, 0], words[:, 1]
    mapped = (upper == 0) & ((lower >> np.uint64(32)) == 0xFFFF)
    keys = (lower[mapped] & np.uint64(0xFFFF_FFFF)).astype(np.uint32)
    return mapped, keys


def ipv4_distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct IPv4 keys, and the position of each input key among them."""
    return np.unique(keys, return_inverse=True)


def ipv6_distinct(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct IPv6 rows as 16-byte keys, and each row's position among them.

    Sorting 16-byte keys directly is slow (a generic byte comparison per step), so
    each half is ranked on its own as uint64 and the pair of ranks, which sorts like
    the address, is deduplicated as one uint64.
    """
    words = _words(rows)
    upper, upper_rank = np.unique(words[:, 0], return_inverse=True)
    lower, lower_rank = np.unique(words[:, 1], return_inverse=True)
    width = np.uint64(len(lower))
    pair = upper_rank.astype(np.uint64) * width + lower_rank.astype(np.uint64)
    distinct, inverse = np.unique(pair, return_inverse=True)
    keys = np.empty((len(distinct), 2), _WORD)
    keys[:, 0] = upper[distinct // width]
    keys[:, 1] = lower[distinct % width]
    return keys.view("V16").ravel(), inverse


def ipv4_bogon(keys: np.ndarray) -> np.ndarray:
    """True where an IPv4 address (uint32) is private, reserved, loopback or multicast."""
    bogon = np.zeros(keys.shape, bool)
    for net, mask in zip(_V4_NET, _V4_MASK, strict=True):
        bogon |= (keys & mask) == net
    return bogon


def ipv6_bogon(keys: np.ndarray) -> np.ndarray:
    """True where an IPv6 key (V16) is outside global unicast or special-purpose."""
    upper = _words(keys.view(np.uint8).reshape(-1, 16))[:, 0]
    bogon = (upper & _GLOBAL_UNICAST_MASK) != _GLOBAL_UNICAST
    for net, mask in zip(_V6_NET, _V6_MASK, strict=True):
        bogon |= (upper & mask) == net
    return bogon


def _ipv4_text(keys: np.ndarray) -> list[str]:
    packed = keys.astype(">u4").tobytes()
    return [socket.inet_ntoa(packed[i : i + 4]) for i in range(0, len(packed), 4)]


def _ipv6_text(keys: np.ndarray) -> list[str]:
    return [socket.inet_ntop(socket.AF_INET6, key) for key in keys.tolist()]


def _ipv6_numbers(keys: np.ndarray) -> list[int]:
    return [int.from_bytes(key, "big") for key in keys.tolist()]


@dataclass(frozen=True, slots=True)
class Family:
    """What a tagger needs to know about one address family's keys."""

    name: str
    bits: int
    dtype: np.dtype
    distinct: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    bogon: Callable[[np.ndarray], np.ndarray]
    text: Callable[[np.ndarray], list[str]]
    numbers: Callable[[np.ndarray], list[int]]
    address: Callable[[int], ipaddress.IPv4Address | ipaddress.IPv6Address]


IPV4 = Family(
    "IPv4",
    32,
    np.dtype(np.uint32),
    ipv4_distinct,
    ipv4_bogon,
    _ipv4_text,
    np.ndarray.tolist,
    ipaddress.IPv4Address,
)
IPV6 = Family(
    "IPv6",
    128,
    np.dtype("V16"),
    ipv6_distinct,
    ipv6_bogon,
    _ipv6_text,
    _ipv6_numbers,
    ipaddress.IPv6Address,
)


_MAPPED = ipaddress.ip_network("::ffff:0:0/96")  # where the store keeps IPv4 addresses


def network_spans(prefixes: Iterable[str]) -> list[tuple[bytes, bytes]]:
    """The first and last stored (16-byte) address of each part of the networks written
    as CIDR (``192.0.2.0/24``, ``2001:db8::/32``; a bare address is its own /32 or /128;
    host bits are ignored), IPv4 as ``::ffff:a.b.c.d``; a ValueError saying why not. An
    IPv6 network holding ``::ffff:0:0/96`` (``::/0``, ``::/1`` …) leaves that range out:
    it holds IPv6 sources only, never the IPv4 ones stored there."""
    spans = []
    for text in prefixes:
        network = ipaddress.ip_network(text.strip(), strict=False)
        if network.version == 4:
            network = ipaddress.ip_network(
                f"::ffff:{network.network_address}/{96 + network.prefixlen}"
            )
        first, last = int(network.network_address), int(network.broadcast_address)
        if network.prefixlen < 96 and network.supernet_of(_MAPPED):  # type: ignore[arg-type]
            low, high = int(_MAPPED.network_address), int(_MAPPED.broadcast_address)
            parts = [(first, low - 1), (high + 1, last)]
        else:
            parts = [(first, last)]
        spans += [(a.to_bytes(16, "big"), b.to_bytes(16, "big")) for a, b in parts if a <= b]
    return spans
