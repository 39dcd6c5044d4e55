"""The finding kinds a notification feed reports, each a named rule over the store.

A kind has a stable label, a severity (Shadowserver's levels: critical, high, medium,
low, info), whether it marks an infected device, and an evidence rule stated over what
the store keeps per source and day (the ``keys`` rollup: probes per source, destination
port and fingerprint tags). The rule's SQL is :data:`teiten.store.queries.notify.
EVIDENCE`; :func:`find` runs it for a period. Every kind leaves out:

* sources with a ``research`` packet in the period (the operator's list of research
  scanners, :mod:`teiten.fingerprint.research`): never reported, whatever else they did;
* sources that are also a destination of the period (a sensor's own address): withheld
  and counted, as ``teiten sources`` does;
* backscatter: a host answering a spoofed flood is its victim, not infected.

``open-resolver-backscatter`` is not offered (:data:`NOT_OFFERED` says why).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teiten.analyze.periods import Period
from teiten.analyze.sources import address_text
from teiten.enrich import protocol_name
from teiten.fingerprint.registry import tag_labels, tag_mask
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
    "KINDS",
    "NOT_OFFERED",
    "SEVERITIES",
    "Found",
    "FoundSource",
    "Kind",
    "Thresholds",
    "find",
]

SEVERITIES = ("critical", "high", "medium", "low", "info")  # Shadowserver's, most severe first
TOOL_TAGS = ("zmap", "masscan")
TOP_PORTS = 10  # destination ports listed per row


@dataclass(frozen=True)
class Kind:
    """A finding kind: ``name`` (stable label), ``severity``, ``infection`` (an infected
    device, not a tool run on purpose), ``family`` (None: the scanner tools tagged),
    ``evidence`` (the rule in words) and ``basis`` (where the rule comes from)."""

    name: str
    severity: str
    infection: bool
    family: str | None
    evidence: str
    basis: str


MIRAI = Kind(
    "mirai",
    "high",
    infection=True,
    family="mirai",
    evidence="at least one TCP SYN probe carrying the mirai tag (its sequence number equals "
    "the destination address) in the period",
    basis="Mirai's scanner.c (the fingerprint teiten.fingerprint.mirai; Antonakakis et al., "
    "Understanding the Mirai Botnet, USENIX Security 2017): a chance match is one in 2^32 "
    "SYNs",
)
SMB_WORM = Kind(
    "smb-worm",
    "high",
    infection=True,
    family="smb-worm",
    evidence="at least smb_worm_min_packets TCP probes to port 445 in the period, making "
    "at least smb_worm_min_share of the source's probes, none carrying a scanner-tool "
    "tag (zmap, masscan)",
    basis="self-propagating SMB worms (WannaCry, Conficker) on Windows hosts probe 445/tcp "
    "alone and without end; the rollups keep packets, not distinct destinations, and "
    "Windows sends an unanswered SYN three times, so 10 packets are at least 4 darknet "
    "addresses probed",
)
SCANNER = Kind(
    "scanner",
    "medium",
    infection=False,
    family=None,
    evidence="at least one probe carrying the zmap or masscan tag in the period",
    basis="the tools' own packet builders (teiten.fingerprint.zmap, teiten.fingerprint."
    "masscan): scans someone runs on purpose, from a host the network owner should know "
    "about; research scanners are never listed",
)
KINDS: dict[str, Kind] = {k.name: k for k in (MIRAI, SMB_WORM, SCANNER)}

NOT_OFFERED = {
    "open-resolver-backscatter": "the store cannot tell a DNS answer from a probe: a UDP "
    "datagram counts as a probe, the rollups keep its destination port only, and the raw "
    "packets keep no payload (no DNS QR bit), so a packet from port 53 may as well be a "
    "scanner using source port 53; no sound evidence rule can be stated from what is stored",
}


@dataclass(frozen=True)
class Thresholds:
    """The tunable parts of the evidence rules (``[findings]`` in ``notify.toml``)."""

    smb_worm_min_packets: int = 10
    smb_worm_min_share: float = 0.9


@dataclass(frozen=True)
class FoundSource:
    """One source's evidence for one kind over one IP protocol in a period."""

    kind: str
    src: bytes  # 16 bytes, as stored
    ip: str
    asn: int | None
    country: str | None
    protocol: str
    ports: tuple[int, ...]  # busiest first; ICMP: types
    first_ns: int
    last_ns: int
    packets: int
    tags: tuple[str, ...]  # fingerprint tags of the evidence packets

    @property
    def family(self) -> str:
        family = KINDS[self.kind].family
        return family or ";".join(t for t in self.tags if t in TOOL_TAGS)


@dataclass(frozen=True)
class Found:
    """A period's findings, and how many sources were withheld as sensor addresses."""

    period: Period
    rows: list[FoundSource]
    withheld_sensor_sources: int


def find(
    engine: Engine, period: Period, kinds: list[str], thresholds: Thresholds | None = None
) -> Found:
    """The findings of ``kinds`` (names in :data:`KINDS`) in ``period``."""
    thresholds = thresholds or Thresholds()
    if not kinds:
        return Found(period, [], 0)
    masks = {
        "mirai": tag_mask(["mirai"]),
        "tools": tag_mask(TOOL_TAGS),
        "research": tag_mask(["research"]),
    }
    statement = queries.notify.findings(
        engine.dialect,
        engine.relation("keys", (period.start, period.end)),
        period.start,
        period.end,
        sorted(kinds),
        masks=masks,
        smb_min_packets=thresholds.smb_worm_min_packets,
        smb_min_share=thresholds.smb_worm_min_share,
        top=TOP_PORTS,
    )
    rows = engine.rows(*statement)
    kept = [_found(r) for r in rows if not r["is_sensor"]]
    withheld = len({bytes(r["src"]) for r in rows if r["is_sensor"]})
    return Found(period, kept, withheld)


@functools.cache
def _tags(bits: int) -> tuple[str, ...]:
    """The labels of ``bits`` but the backscatter kinds (evidence is probes)."""
    return tuple(t for t in tag_labels(bits) if not t.startswith("bs-"))


def _found(r: dict[str, Any]) -> FoundSource:
    src = bytes(r["src"])
    return FoundSource(
        kind=str(r["finding"]),
        src=src,
        ip=address_text(src),
        asn=None if r["asn"] is None else int(r["asn"]),
        country=None if r["country"] is None else str(r["country"]),
        protocol=protocol_name(int(r["proto"])),
        ports=tuple(int(p) for p in r["ports"] if p is not None),
        first_ns=int(r["first_ns"]),
        last_ns=int(r["last_ns"]),
        packets=int(r["packets"]),
        tags=_tags(int(r["tag_bits"])),
    )
