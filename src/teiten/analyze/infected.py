"""Infected hosts by network: a country's infected sources per AS, with their turnover.

The evidence behind a statement like "notifications reduced Mirai-type scanning from
Japan": the ASes holding a country's infected sources (probes carrying a tag of
:data:`~teiten.fingerprint.registry.INFECTION_TAGS`), ranked by distinct sources, each
with the previous period's count and how many of its sources are ``new`` (not seen
infected then) and ``gone`` (not seen infected now) — the turnover a notification
programme should move — and the same for the whole country (``total``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teiten.analyze.periods import Period
from teiten.analyze.rankings import Filters, Ranking, rank
from teiten.fingerprint.registry import INFECTION_TAGS
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["InfectedByAs", "infected_by_as"]

_TURNOVER = ("sources", "previous_sources", "new", "gone")


@dataclass
class InfectedByAs:
    """A country's infected sources per AS (``rows``: the ranking's rows, each with
    ``previous_sources``, ``new`` and ``gone``) and in all (``total``)."""

    country: str
    ranking: Ranking
    total: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.ranking.rows

    def as_json(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "tags": list(INFECTION_TAGS),
            "period": self.ranking.period.as_json(),
            "previous": self.ranking.previous.as_json(),
            "total": self.total,
            "rows": self.rows,
        }


def infected_by_as(
    engine: Engine,
    period: Period,
    country: str,
    *,
    limit: int = 5,
    as_names: Mapping[int, str] | None = None,
) -> InfectedByAs | None:
    """The ``limit`` ASes holding most of ``country``'s infected sources in ``period``;
    None when none of those sources has an AS number (no AS data)."""
    filters = Filters(country=country, tags=INFECTION_TAGS)
    ranking = rank(
        engine, "asns", period, metric="sources", filters=filters, limit=limit, as_names=as_names
    )
    if all(r["asn"] is None for r in ranking.rows):
        return None
    previous = period.previous()
    relation = engine.relation(
        "sources", (previous.start, previous.end), (period.start, period.end)
    )
    where = filters.condition(ranking.traffic)
    dates = {"previous": previous.start, "first": period.start, "end": period.end}
    per_as = engine.rows(*queries.rankings.turnover(relation, "asn", **dates, where=where))
    by_asn = {r["asn"]: r for r in per_as}
    for row in ranking.rows:
        found = by_asn.get(row["asn"], {})
        row |= {k: int(found.get(k) or 0) for k in _TURNOVER[1:]}
    (whole,) = engine.rows(*queries.rankings.turnover(relation, "country", **dates, where=where))
    return InfectedByAs(country, ranking, {k: int(whole[k] or 0) for k in _TURNOVER})
