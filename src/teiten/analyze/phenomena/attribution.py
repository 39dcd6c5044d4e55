"""Who made a finding: its sources, the share of the busiest, and what they were.

A surge made by one scanner is not a trend of the Internet. For every finding, the
probes it is about (a port, a country, the focus country's Mirai-type packets) in
its window (:func:`window`) are grouped by source in one query; the finding then
carries the number of distinct sources, the share of its packets sent by the
busiest source and by the busiest 3 (``top_sources_share``, as ranking rows do),
the busiest /24 network's share (/48 for IPv6), and the busiest source's country,
tags and active days — never its address. ``attribution`` reads these shares as
rankings do (:func:`teiten.analyze.rankings.attribution`): ``one-host`` when one
source sent at least the threshold (50 %), ``few-hosts`` when the busiest 3 did or
one /24 network did, else ``broad``.

The busiest sources' packet counts are kept in memory (``weights``) to merge
findings made by the same hosts (:mod:`.review`); they are never published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from teiten.analyze.periods import Period
from teiten.analyze.rankings import attribution, proto_number
from teiten.fingerprint.registry import TAG_BITS
from teiten.store import queries
from teiten.store.queries.attribution import Probes

if TYPE_CHECKING:
    from teiten.analyze.phenomena.model import Finding
    from teiten.analyze.phenomena.settings import PhenomenaSettings
    from teiten.store import Engine

__all__ = ["Contributors", "contributors", "contributors_of", "window"]

MAX_SOURCES = 2000  # busiest sources kept for merging (the rest count as unshared)


@dataclass(frozen=True)
class Contributors:
    """The sources behind one finding's packets (no address leaves this object's
    ``weights``, which are for merging only)."""

    packets: int
    sources: int
    top_sources_share: list[float]  # [busiest source, busiest 3]
    top_network_share: float  # busiest /24 (IPv4) or /48 (IPv6)
    top_source: dict[str, Any]  # {"country", "tags", "first", "last"}: days it sent on
    attribution: str  # "one-host" | "few-hosts" | "broad"
    first: date | None  # first and last day with packets
    last: date | None
    daily: list[int] = field(default_factory=list)  # packets of each day with any
    weights: dict[bytes, int] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "packets": self.packets,
            "sources": self.sources,
            "top_sources_share": self.top_sources_share,
            "top_network_share": self.top_network_share,
            "top_source": self.top_source,
            "attribution": self.attribution,
        }


def window(finding: Finding, period: Period, settings: PhenomenaSettings) -> tuple[date, date]:
    """The days whose packets made ``finding`` (``[first, end)``).

    A surge: from its own first day to the period's end (the packets that rose). A drop:
    the ``baseline_days`` before it (who was sending until it stopped). A crossover: the
    period from the first day the rising port led. Anything else: the period.
    """
    ev = finding.evidence
    if finding.kind == "surge":
        return date.fromisoformat(ev["change_date"]), period.end
    if finding.kind == "drop":
        when = date.fromisoformat(ev["change_date"])
        return when - timedelta(days=settings.baseline_days), when
    if finding.kind == "crossover":
        return date.fromisoformat(ev["first_day_in_period"]), period.end
    return period.start, period.end


def _probes(finding: Finding, first: date, end: date) -> Probes:
    """The probes ``finding`` is about, on days ``first`` … ``end`` (exclusive)."""
    s, at = finding.subject, finding.port()
    if finding.kind == "mirai_share":
        return Probes(first, end, country=s["country"], mirai=True)
    if at is None:
        return Probes(first, end, country=s["country"])
    proto, port = proto_number(at[0]), at[1]
    if finding.kind == "crossover":  # the rising port's packets from the country
        return Probes(first, end, country=s["country"], proto=proto, port=port)
    return Probes(first, end, proto=proto, port=port)


def contributors(
    engine: Engine,
    finding: Finding,
    first: date,
    end: date,
    *,
    threshold: float,
) -> Contributors:
    """The sources of ``finding``'s probes on days ``first`` … ``end`` (exclusive)."""
    (who,) = contributors_of(engine, [(finding, first, end)], threshold=threshold)
    return who


def contributors_of(
    engine: Engine, windows: list[tuple[Finding, date, date]], *, threshold: float
) -> list[Contributors]:
    """:func:`contributors` of several findings, in one pass over their packets
    (:func:`teiten.store.queries.attribution.contributors`): per finding its sources
    ranked, its totals, its daily counts, its busiest /24 and its busiest source's tags.
    """
    if not windows:
        return []
    probes = [_probes(finding, first, end) for finding, first, end in windows]
    table = engine.table(
        *queries.attribution.contributors(engine.dialect, probes, max_sources=MAX_SOURCES)
    )
    tops = table.filter(pc.equal(table.column("i"), 1)).to_pylist()
    ranked: dict[int, list[tuple[bytes, int]]] = {}
    columns = (table.column(c).to_pylist() for c in ("f", "src", "n"))
    for f, src, n in zip(*columns, strict=True):
        ranked.setdefault(int(f), []).append((bytes(src), int(n)))
    by_finding = {int(top["f"]): top for top in tops}
    return [
        _contributors(by_finding.get(i), ranked.get(i, []), threshold) for i in range(len(windows))
    ]


def _contributors(
    top: dict[str, Any] | None, ranked: list[tuple[bytes, int]], threshold: float
) -> Contributors:
    """One finding's :class:`Contributors` from its busiest source's row (``top``) and
    its busiest sources' packets, busiest first (``ranked``)."""
    if top is None:
        return Contributors(0, 0, [0.0, 0.0], 0.0, {}, "broad", None, None)
    total = int(top["total"])
    shares = [round(int(top["n"]) / total, 6), round(sum(n for _, n in ranked[:3]) / total, 6)]
    network = round(int(top["top_network"]) / total, 6)
    label = attribution(shares, threshold)
    if label == "broad" and network >= threshold:
        label = "few-hosts"  # one network's hosts
    tagged = dict.fromkeys(TAG_BITS, 0)
    for value, n in zip(top["tag_values"], top["tag_counts"], strict=True):
        for tag, bit in TAG_BITS.items():
            if (int(value) >> bit) & 1:
                tagged[tag] += int(n)
    return Contributors(
        packets=total,
        sources=int(top["sources"]),
        top_sources_share=shares,
        top_network_share=network,
        top_source={
            "country": top["country"],
            "tags": [t for t, n in tagged.items() if 2 * n > int(top["n"])],
            "first": top["first"].isoformat(),
            "last": top["last"].isoformat(),
        },
        attribution=label,
        first=top["first_day"],
        last=top["last_day"],
        daily=[int(n) for n in top["daily"]],
        weights=dict(ranked),
    )
