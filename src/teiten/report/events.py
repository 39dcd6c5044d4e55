"""Scan events and DoS attacks of a period, summarised for a public report.

The events come from :mod:`teiten.analyze.scans` and :mod:`teiten.analyze.dos`
(stored and reused as ``teiten events`` stores them). A report aggregates them —
per port or protocol, per country, the largest few — and keeps no address: a
scanner's or a victim's address is for the operator's own views
(``teiten events``, ``teiten source``), not for a published report.

Regions are ranked by events, then distinct actors, then packets — never by
packets alone, where one long attack outweighs many — and grouped by their
number of events so that ties read as ties. Internet-wide rates are kept only
when the darknet supports them (:func:`teiten.analyze.darknet.estimate_supported`);
otherwise only the rate observed at the darknet is. The scan thresholds are the
ones in effect at the darknet (:meth:`teiten.analyze.scans.ScanParams.for_darknet`),
without their value at the darknet, which would give away the darknet's size.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from teiten.analyze.darknet import estimate_supported
from teiten.analyze.event_digest import event_key
from teiten.analyze.events import IPV4_SPACE
from teiten.report.model import EventSummary, Series
from teiten.report.series import period_days

if TYPE_CHECKING:
    from teiten.analyze.events import EventReport

__all__ = ["summarize_events"]

TOOL_TAGS = ("mirai", "zmap", "masscan")  # scanner tools whose mark the events carry
_Z95 = 1.959964  # two-sided 95 % normal quantile


def summarize_events(report: EventReport, top: int, focus_country: str = "JP") -> EventSummary:
    """Aggregate every event of ``report`` (its digest: every event, whatever its limit)."""
    family = report.family
    digest = report.summed()
    by_key = digest.by_key
    by_country = digest.by_country
    focus = next((c for c in by_country if c["country"] == focus_country), None)
    tags = digest.tags
    days = period_days(report.period)
    daily = Series(days, {family: [float(digest.started_on(d)) for d in days]}, "count")
    supported = estimate_supported(report.darknet)
    scale = IPV4_SPACE / report.darknet.size if report.darknet.size > 0 else None
    largest = [_anonymous(r, family, scale, supported) for r in digest.largest]
    fastest = digest.fastest
    max_rate = bounds = max_rate_darknet = None
    if fastest is not None and scale is not None:
        max_rate_darknet = float(fastest["rate_pps_internet_wide"]) / scale
        if supported:
            max_rate = float(fastest["rate_pps_internet_wide"])
            half = _Z95 / math.sqrt(int(fastest["packets"]))  # Poisson count, n ≥ 25
            bounds = [max_rate * max(0.0, 1 - half), max_rate * (1 + half)]
    return EventSummary(
        family=family,
        events=report.total,
        actors=digest.actors,
        withheld=report.withheld,
        parameters=_public(report.parameters),
        by_key=by_key[:top],
        by_country=by_country[:top],
        largest=largest,
        daily=daily,
        max_rate=max_rate,
        tags={t: tags[t] for t in TOOL_TAGS if tags.get(t)},
        country_groups=_tied(by_country, top),
        focus={
            "country": focus_country,
            "events": focus["events"] if focus else 0,
            "actors": focus["actors"] if focus else 0,
        },
        estimate_supported=supported,
        estimate_scale=scale,
        max_rate_darknet=max_rate_darknet,
        rate_bounds=bounds,
    )


def _public(parameters: dict[str, Any]) -> dict[str, Any]:
    """Event parameters fit to publish: none from which the darknet's size follows."""
    return {k: v for k, v in parameters.items() if k != "min_rate_darknet"}


def _tied(items: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    """Regions grouped by their number of events, naming at most ``top`` in all.

    ``[{"events": 7, "countries": ["US"], "regions": 1},
    {"events": 1, "countries": ["GB", "SG"], "regions": 9}]``: the last group names
    the first of its 9 tied regions only.
    """
    groups: list[dict[str, Any]] = []
    named = 0
    for item in items:
        if not groups or groups[-1]["events"] != item["events"]:
            if named >= top:
                break
            groups.append({"events": item["events"], "countries": [], "regions": 0})
        groups[-1]["regions"] += 1
        if named < top:
            groups[-1]["countries"].append(item["country"])
            named += 1
    return groups


def _anonymous(
    row: dict[str, Any], family: str, scale: float | None, supported: bool
) -> dict[str, Any]:
    """One event without its address (and without an unsupported Internet-wide rate)."""
    rate = float(row["rate_pps_internet_wide"])
    out = {
        "key": event_key(row, family),
        "country": row["country"],
        "asn": row["asn"],
        "start": row["start"],
        "duration_s": row["duration_s"],
        "packets": row["packets"],
        "rate_pps_internet_wide": rate if supported else None,
        "rate_pps_darknet": rate / scale if scale else None,
    }
    if family == "dos":
        out |= {"ports": row["ports"], "max_ppm": row["max_ppm"]}
    else:
        out["destinations"] = row["destinations"]
    return out
