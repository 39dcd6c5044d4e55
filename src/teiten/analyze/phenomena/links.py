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
    change: date | None = None,
    *,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """The port's knowledge items known by then: CVEs published after ``until`` (or after
    the window around ``change``) cannot explain the traffic and are left out. With
    ``change``, CVEs published in the window around it come first, ``"near_change": True``."""
    items = [dict(item) for item in kb.items(proto, port)]
    low = high = None
    if change is not None:
        low = change - timedelta(days=settings.cve_window_days)
        high = change + timedelta(days=settings.cve_lag_days)
    last = high or until
    kept = []
    for item in items:
        published = date.fromisoformat(item["published"]) if item.get("published") else None
        if item["kind"] == "cve" and published and last and published > last:
            continue
        if low is not None and high is not None:
            item["near_change"] = bool(item["kind"] == "cve" and published and low <= published)
        kept.append(item)
    return sorted(kept, key=lambda i: not i.get("near_change"))  # stable: the rest keep order
