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

from teiten.analyze.periods import Period
from teiten.analyze.rankings import attribution, proto_number
from teiten.fingerprint.registry import TAG_BITS
from teiten.store.dialect import materialized, ordered_list

if TYPE_CHECKING:
    from teiten.analyze.phenomena.model import Finding
    from teiten.analyze.phenomena.settings import PhenomenaSettings
    from teiten.store import Engine

__all__ = ["Contributors", "contributors", "contributors_of", "window"]

MAX_SOURCES = 2000  # busiest sources kept for merging (the rest count as unshared)

# A source's /24 (IPv4-mapped addresses) or /48 (IPv6), as hex text of its 16 bytes.
_NETWORK_SQL = (
    "CASE WHEN left(hex(src), 24) = '00000000000000000000FFFF' "
    "THEN left(hex(src), 30) ELSE left(hex(src), 12) END"
)


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


def _filter(finding: Finding) -> tuple[str, list[Any]]:
    """SQL condition (after ``AND``) selecting the probes ``finding`` is about."""
    s = finding.subject
    at = finding.port()
    if finding.kind == "mirai_share":
        return f" AND country = ? AND (tags >> {TAG_BITS['mirai']}) & 1 = 1", [s["country"]]
    if at is None:
        return " AND country = ?", [s["country"]]
    where, params = " AND proto = ? AND port = ?", [proto_number(at[0]), at[1]]
    if finding.kind == "crossover":  # the rising port's packets from the country
        return f" AND country = ?{where}", [s["country"], *params]
    return where, params


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
    """:func:`contributors` of several findings, in one pass over their packets.

    Each packet is marked with the findings it belongs to; the marks are counted per
    (source, day, tags), then per finding: its sources ranked, its totals, its daily
    counts, its busiest /24 and its busiest source's tags.
    """
    if not windows:
        return []
    marks, conditions, params = [], [], []
    for i, (finding, first, end) in enumerate(windows):
        where, values = _filter(finding)
        condition = f"(day >= ? AND day < ?{where})"
        marks.append(f"coalesce(sum(packets) FILTER (WHERE {condition}), 0) AS n{i}")
        conditions.append(condition)
        params.append([first, end, *values])
    unpivot = " UNION ALL ".join(
        f"SELECT {i} AS f, src, day, tags, country, n{i} AS n FROM grouped WHERE n{i} > 0"
        for i in range(len(windows))
    )

    def by_tags(value: str) -> str:
        return ordered_list(engine.dialect, {"value": value}, ["u.tags"])

    low = min(first for _, first, _ in windows)
    high = max(end for _, _, end in windows)
    sql = f"""
        WITH grouped {materialized(engine.dialect)} (
            SELECT src, day, tags, min(country) AS country, {", ".join(marks)}
            FROM keys
            WHERE day >= ? AND day < ? AND kind = 'probe' AND ({" OR ".join(conditions)})
            GROUP BY src, day, tags
        ), u {materialized(engine.dialect)} ({unpivot}
        ), s AS (
            SELECT f, src, sum(n) AS n, min(day) AS first, max(day) AS last,
                   min(country) AS country
            FROM u GROUP BY f, src
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY f ORDER BY n DESC, src) AS i FROM s
        ), totals AS (
            SELECT f, sum(n) AS total, count(*) AS sources, min(first) AS first_day,
                   max(last) AS last_day
            FROM s GROUP BY f
        ), daily AS (
            SELECT f, {ordered_list(engine.dialect, {"value": "m"}, ["day"])} AS daily
            FROM (SELECT f, day, sum(n) AS m FROM u GROUP BY f, day) GROUP BY f
        ), networks AS (
            SELECT f, max(m) AS top_network
            FROM (SELECT f, sum(n) AS m FROM s GROUP BY f, {_NETWORK_SQL}) GROUP BY f
        ), top_tags AS (
            SELECT u.f, {by_tags("u.tags")} AS tag_values, {by_tags("u.n")} AS tag_counts
            FROM (SELECT u.f, u.tags, sum(u.n) AS n
                  FROM u JOIN ranked r ON r.f = u.f AND r.src = u.src AND r.i = 1
                  GROUP BY u.f, u.tags) u
            GROUP BY u.f
        )
        SELECT r.*, t.total, t.sources, t.first_day, t.last_day, d.daily, k.top_network,
               g.tag_values, g.tag_counts
        FROM ranked r
        JOIN totals t USING (f) JOIN daily d USING (f) JOIN networks k USING (f)
        JOIN top_tags g USING (f)
        WHERE r.i <= ?
        ORDER BY r.f, r.i
    """
    each = [v for p in params for v in p]  # once for the marks, once for the WHERE
    args = [*each, low, high, *each]
    rows = engine.rows(sql, [*args, MAX_SOURCES])
    by_finding: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_finding.setdefault(int(r["f"]), []).append(r)
    return [_contributors(by_finding.get(i, []), threshold) for i in range(len(windows))]


def _contributors(rows: list[dict[str, Any]], threshold: float) -> Contributors:
    """One finding's :class:`Contributors` from its ranked source rows."""
    if not rows:
        return Contributors(0, 0, [0.0, 0.0], 0.0, {}, "broad", None, None)
    top, total = rows[0], int(rows[0]["total"])
    shares = [round(int(top["n"]) / total, 6), round(sum(int(r["n"]) for r in rows[:3]) / total, 6)]
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
        weights={bytes(r["src"]): int(r["n"]) for r in rows},
    )
