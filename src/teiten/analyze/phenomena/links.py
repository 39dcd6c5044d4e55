"""Knowledge-base entries a finding about a port links to.

CVEs published shortly before (or just after) a change date come first: a
surge of probes on a port days after a vulnerability of a product behind it
is published is the pattern observers report ("3389/TCP rose after BlueKeep").
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.knowledge import KnowledgeBase

__all__ = ["port_knowledge"]


def port_knowledge(
    kb: KnowledgeBase,
    proto: str,
    port: int,
    settings: PhenomenaSettings,
    *,
    until: date,
    change: date | None = None,
) -> list[dict[str, Any]]:
    """The port's knowledge items known on ``until``, the period's last day (a finding
    never cites what was unknown then). With ``change``, also nothing published after the
    window around it (it cannot explain the traffic), and CVEs published in the window
    come first, ``"near_change": True``."""
    if change is None:
        return kb.items(proto, port, as_of=until)
    low = change - timedelta(days=settings.cve_window_days)
    high = change + timedelta(days=settings.cve_lag_days)
    items = kb.items(proto, port, as_of=min(high, until))
    for item in items:  # every CVE known by then has a date: the vendor's or NVD's
        public = item["kind"] == "cve" and (item["disclosed"] or item["published"])
        item["near_change"] = bool(public) and low <= date.fromisoformat(public)
    return sorted(items, key=lambda i: not i["near_change"])  # stable: the rest keep order
