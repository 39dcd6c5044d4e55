"""``research``: the source is in the user's list of research / benign scanner networks.

Internet-wide research scanners (Censys, Shodan, university measurement
projects, CERTs) make up a large, stable share of what a darknet receives and
publish where they scan from. Reports usually rank them apart from malicious
traffic, so teiten tags their packets at ingest and rankings can leave them out
(``--exclude-tag research``) or show their share.

The list is the user's (teiten ships none: such lists change often and each
operator trusts different ones). Format, one entry per line::

    # comment lines and blank lines are ignored
    192.0.2.0/24        Example research scanner     # a trailing comment
    2001:db8:1234::/48  Example research scanner (IPv6)
    198.51.100.7        a single address (/32 or /128)
    AS64496             Example Scanning Inc.

An entry is an IPv4 or IPv6 network in CIDR notation (host bits must be zero)
or ``AS<number>``, optionally followed by a name. A line that is neither raises
:class:`teiten.errors.ReferenceDataError` naming the file and line. IPv4
networks match IPv4 sources, IPv6 networks IPv6 sources. ``AS`` entries match
the source's AS number, which ingest knows only when its ``--geoip`` database
has AS numbers (GeoLite2-ASN, DB-IP ASN, IPinfo); with the built-in RIR data
they match nothing.

Matching is vectorised: networks are merged into sorted, disjoint address
ranges (``uint32`` for IPv4, 16-byte big-endian keys for IPv6) searched with
:func:`numpy.searchsorted`. For IPv4, the hot path, a table of the 65,536 /16
blocks first says whether a block lies outside every range, inside one, or
partly in one, so only sources in the few partial blocks are searched (numpy's
binary search costs ~50 ns per unsorted key; the table lookup ~1 ns).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from teiten.enrich.addresses import ipv4_mapped
from teiten.errors import ReferenceDataError
from teiten.fingerprint.base import Fingerprint, TagContext, register

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets

__all__ = ["RESEARCH", "ResearchEntry", "ResearchNetworks"]

_AS = re.compile(r"(?i)AS(\d+)")
_MAX_ASN = 2**32 - 1
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ResearchEntry:
    """One line of the list, normalised: ``192.0.2.0/24`` or ``AS64496``, and its name."""

    kind: Literal["ipv4", "ipv6", "asn"]
    value: str
    name: str
    line: int

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "value": self.value, "name": self.name, "line": self.line}


def _parse_line(text: str, line: int, source: str) -> ResearchEntry | None:
    body = text.split("#", 1)[0].strip()
    if not body:
        return None
    token, *rest = body.split(None, 1)
    name = " ".join(rest[0].split()) if rest else ""
    if m := _AS.fullmatch(token):
        number = int(m.group(1))
        if number > _MAX_ASN:
            raise ReferenceDataError(
                source, f"AS number {number} is larger than 4294967295", line=line
            )
        return ResearchEntry("asn", f"AS{number}", name, line)
    try:
        network = ipaddress.ip_network(token, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(token, strict=False)
            hint = f"; did you mean {loose}?"
        except ValueError:
            hint = (
                "; write an IPv4/IPv6 network such as 192.0.2.0/24 or an AS number such as AS64496"
            )
        raise ReferenceDataError(
            source, f"{token!r} is not a network or AS number ({exc}){hint}", line=line
        ) from exc
    kind: Literal["ipv4", "ipv6"] = "ipv4" if network.version == 4 else "ipv6"
    return ResearchEntry(kind, str(network), name, line)


def _ranges(networks: Sequence[Network]) -> list[tuple[int, int]]:
    """Sorted disjoint (first, last) address pairs covering ``networks`` (one family)."""
    merged: list[tuple[int, int]] = []
    spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in networks)
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


_OUT, _IN, _PARTLY = 0, 1, 2  # where a /16 block lies relative to the ranges


def _blocks(ranges: list[tuple[int, int]]) -> np.ndarray:
    """Per IPv4 /16 block: outside every range, inside one, or partly in one or more.

    The ranges are disjoint and not adjacent (merged), so a block covered entirely
    is covered by a single range.
    """
    state = np.full(1 << 16, _OUT, np.uint8)
    for first, last in ranges:
        lo, hi = first >> 16, last >> 16
        state[lo + 1 : hi] = _IN
        starts_aligned, ends_aligned = first & 0xFFFF == 0, last & 0xFFFF == 0xFFFF
        for block, whole in (
            (lo, starts_aligned and (hi > lo or ends_aligned)),
            (hi, ends_aligned and (hi > lo or starts_aligned)),
        ):
            state[block] = _IN if whole else _PARTLY
    return state


def _v16(numbers: list[int]) -> np.ndarray:
    """IPv6 addresses as 16-byte big-endian keys (which sort like the addresses)."""
    raw = b"".join(n.to_bytes(16, "big") for n in numbers)
    return np.frombuffer(raw, dtype="V16").copy() if numbers else np.empty(0, "V16")


def _in_ranges(keys: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Whether each key lies in one of the sorted disjoint ranges ``[first, last]``.

    Range ``i`` is the last one starting at or before the key; the key is inside
    when fewer than ``i + 1`` ranges end before it. Two searches, no comparison
    operators, so 16-byte keys (which numpy can search but not compare) work too.
    """
    if not len(first) or not len(keys):
        return np.zeros(keys.shape, bool)
    i = np.searchsorted(first, keys, side="right") - 1
    ended_before = np.searchsorted(last, keys, side="left")
    return (i >= 0) & (ended_before <= i)


class ResearchNetworks:
    """A parsed, validated list of research scanner networks and AS numbers."""

    def __init__(self, entries: list[ResearchEntry], source: str = "<list>") -> None:
        self.entries = tuple(entries)
        self.source = source
        v4 = [ipaddress.IPv4Network(e.value) for e in entries if e.kind == "ipv4"]
        v6 = [ipaddress.IPv6Network(e.value) for e in entries if e.kind == "ipv6"]
        r4, r6 = _ranges(v4), _ranges(v6)
        self._v4_first = np.array([a for a, _ in r4], np.uint32)
        self._v4_last = np.array([b for _, b in r4], np.uint32)
        self._v4_blocks = _blocks(r4)
        self._v6_first = _v16([a for a, _ in r6])
        self._v6_last = _v16([b for _, b in r6])
        self._asns = np.unique(
            np.array([int(e.value[2:]) for e in entries if e.kind == "asn"], np.uint32)
        )

    @classmethod
    def parse(cls, text: str, source: str = "<list>") -> ResearchNetworks:
        """Parse the list format (module docstring); a bad line raises ReferenceDataError."""
        entries = []
        for number, line in enumerate(text.splitlines(), start=1):
            entry = _parse_line(line, number, source)
            if entry is not None:
                entries.append(entry)
        return cls(entries, source)

    def __len__(self) -> int:
        return len(self.entries)

    def counts(self) -> dict[str, int]:
        """Entries by kind: ``{"ipv4": …, "ipv6": …, "asn": …}``."""
        return {k: sum(e.kind == k for e in self.entries) for k in ("ipv4", "ipv6", "asn")}

    @property
    def has_asns(self) -> bool:
        return bool(len(self._asns))

    def normalised(self) -> str:
        """One entry per line, in list order: value, a tab, the name (no comments)."""
        return "".join(f"{e.value}\t{e.name}".rstrip() + "\n" for e in self.entries)

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of :meth:`normalised`: which version of the list tagged."""
        return "sha256:" + hashlib.sha256(self.normalised().encode()).hexdigest()

    def match(
        self,
        addrs: np.ndarray,
        asn: np.ndarray | None = None,
        has_asn: np.ndarray | None = None,
    ) -> np.ndarray:
        """Whether each source (``uint8[n, 16]`` rows) is listed, by network or by AS."""
        n = len(addrs)
        hit = np.zeros(n, bool)
        if n == 0:
            return hit
        if len(self._v4_first) or len(self._v6_first):
            rows = np.ascontiguousarray(addrs)
            mapped, v4 = ipv4_mapped(rows)
            if len(self._v4_first):
                hit[mapped] = self._match_ipv4(v4)
            if len(self._v6_first) and not mapped.all():
                v6 = np.ascontiguousarray(rows[~mapped]).view("V16").ravel()
                hit[~mapped] = _in_ranges(v6, self._v6_first, self._v6_last)
        if len(self._asns) and asn is not None:
            known = np.ones(n, bool) if has_asn is None else has_asn
            w = np.flatnonzero(known)
            hit[w] |= np.isin(asn[w], self._asns)
        return hit

    def _match_ipv4(self, keys: np.ndarray) -> np.ndarray:
        block = self._v4_blocks.take(keys >> np.uint32(16))
        hit = block == _IN
        partly = np.flatnonzero(block == _PARTLY)
        hit[partly] = _in_ranges(keys[partly], self._v4_first, self._v4_last)
        return hit


def _match(packets: DecodedPackets, context: TagContext) -> np.ndarray:
    networks = context.research
    if networks is None:
        return np.zeros(len(packets.ts_ns), bool)
    geo = context.geo
    if geo is None:
        return networks.match(packets.src)
    return networks.match(packets.src, geo.asn, geo.has_asn)


RESEARCH = register(
    Fingerprint("research", _match, "source in the user's research/benign scanner list")
)
