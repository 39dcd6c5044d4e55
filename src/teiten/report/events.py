"""Scan events and DoS attacks of a period, summarised for a public report.

The events come from :mod:`teiten.analyze.scans` and :mod:`teiten.analyze.dos`
(stored and reused as ``teiten events`` stores them). A report aggregates them —
per port or protocol, per country, the largest few — and keeps no address: a
scanner's or a victim's address is for the operator's own views
(``teiten events``, ``teiten source``), not for a published report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from teiten.report.model import EventSummary, Series
from teiten.report.series import period_days

if TYPE_CHECKING:
    from teiten.analyze.events import EventReport

__all__ = ["summarize_events"]

TOOL_TAGS = ("mirai", "zmap", "masscan")  # scanner tools whose mark the events carry
_LARGEST = 5


def _key(row: dict[str, Any], family: str) -> str:
    if family == "dos":
        return str(row["proto"])
    return str(row["proto"]) if row["port"] is None else f"{row['port']}/{row['proto']}"


def summarize_events(report: EventReport, top: int) -> EventSummary:
    """Aggregate every event of ``report`` (read with no row limit)."""
    family = report.family
    actor = "source" if family == "scans" else "victim"
    rows = report.rows
    keys: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"events": 0, "packets": 0, "actors": set()}
    )
    countries: dict[str | None, dict[str, Any]] = defaultdict(
        lambda: {"events": 0, "packets": 0, "actors": set()}
    )
    starts: Counter[date] = Counter()
    tags: Counter[str] = Counter()
    for r in rows:
        for group in (keys[_key(r, family)], countries[r["country"]]):
            group["events"] += 1
            group["packets"] += int(r["packets"])
            group["actors"].add(r[actor])
        starts[date.fromisoformat(r["start"][:10])] += 1
        tags.update(t for t in r["tags"] if t in TOOL_TAGS)

    def ordered(groups: dict[Any, dict[str, Any]], name: str) -> list[dict[str, Any]]:
        items = [
            {name: k, "events": g["events"], "actors": len(g["actors"]), "packets": g["packets"]}
            for k, g in groups.items()
        ]
        items.sort(key=lambda x: (-x["events"], -x["packets"], str(x[name])))
        return items[:top]

    days = period_days(report.period)
    daily = Series(days, {family: [float(starts.get(d, 0)) for d in days]}, "count")
    largest = [_anonymous(r, family) for r in rows[:_LARGEST]]  # rows: most packets first
    rates = [float(r["rate_pps_internet_wide"]) for r in rows]
    return EventSummary(
        family=family,
        events=report.total,
        actors=len({r[actor] for r in rows}),
        withheld=report.withheld,
        parameters=report.parameters,
        by_key=ordered(keys, "key"),
        by_country=ordered(countries, "country"),
        largest=largest,
        daily=daily,
        max_rate=max(rates) if rates else None,
        tags={t: tags[t] for t in TOOL_TAGS if tags[t]},
    )


def _anonymous(row: dict[str, Any], family: str) -> dict[str, Any]:
    """One event without its address."""
    out = {
        "key": _key(row, family),
        "country": row["country"],
        "asn": row["asn"],
        "start": row["start"],
        "duration_s": row["duration_s"],
        "packets": row["packets"],
        "rate_pps_internet_wide": row["rate_pps_internet_wide"],
    }
    if family == "dos":
        out |= {"ports": row["ports"], "max_ppm": row["max_ppm"]}
    else:
        out["destinations"] = row["destinations"]
    return out
