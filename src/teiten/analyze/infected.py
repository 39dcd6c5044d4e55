"""Infected hosts by network: a country's infected sources per AS, with their turnover.

The evidence behind a statement like "notifications reduced Mirai-type scanning from
Japan": the ASes holding a country's infected sources (probes carrying a tag of
:data:`~teiten.fingerprint.registry.INFECTION_TAGS`), ranked by distinct sources, each
with the previous period's count and how many of its sources are ``new`` (not seen
infected then) and ``gone`` (not seen infected now) — the turnover a notification
programme should move — and the same for the whole country (``total``).

:func:`national_summary` adds what a dashboard shows beside it: the country's infected
sources per day of the period (the trend), and whether the sources carry AS numbers at
all (without AS data the total and the trend are still answered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teiten.analyze.periods import Period
from teiten.analyze.rankings import Filters, Ranking, rank
from teiten.analyze.series import TimeSeries, series
from teiten.fingerprint.registry import INFECTION_TAGS
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine
    from teiten.store.queries import Condition

__all__ = ["InfectedByAs", "NationalSummary", "infected_by_as", "national_summary"]

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


def _filters(country: str) -> Filters:
    return Filters(country=country, tags=INFECTION_TAGS)


def _turnover(engine: Engine, period: Period, key: str, where: Condition) -> list[dict[str, Any]]:
    """Per value of ``key`` (``asn``, ``country``): the turnover of the sources ``where``
    selects between the previous period and ``period``."""
    previous = period.previous()
    relation = engine.relation(
        "sources", (previous.start, previous.end), (period.start, period.end)
    )
    dates = {"previous": previous.start, "first": period.start, "end": period.end}
    return engine.rows(*queries.rankings.turnover(relation, key, **dates, where=where))


def _counts(row: Mapping[str, Any]) -> dict[str, int]:
    return {k: int(row.get(k) or 0) for k in _TURNOVER}


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
    filters = _filters(country)
    ranking = rank(
        engine, "asns", period, metric="sources", filters=filters, limit=limit, as_names=as_names
    )
    if all(r["asn"] is None for r in ranking.rows):
        return None
    where = filters.condition(ranking.traffic)
    by_asn = {r["asn"]: r for r in _turnover(engine, period, "asn", where)}
    for row in ranking.rows:
        found = by_asn.get(row["asn"], {})
        row |= {k: int(found.get(k) or 0) for k in _TURNOVER[1:]}
    (whole,) = _turnover(engine, period, "country", where)
    return InfectedByAs(country, ranking, _counts(whole))


@dataclass
class NationalSummary:
    """A country's infected sources: in all (``total``: now, in the previous period, new,
    gone), per AS (``by_as``; None when no AS row can be shown), per day (``trend``), and
    whether any of them, now or then, carries an AS number (``as_data``)."""

    country: str
    period: Period
    total: dict[str, int]
    trend: TimeSeries
    as_data: bool
    by_as: InfectedByAs | None = None

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [] if self.by_as is None else self.by_as.rows

    def as_json(self) -> dict[str, Any]:
        """:meth:`InfectedByAs.as_json` (``rows`` empty without AS data), with
        ``as_data`` and ``trend`` (``{"by": "day", "buckets", "values"}``)."""
        return {
            "country": self.country,
            "tags": list(INFECTION_TAGS),
            "period": self.period.as_json(),
            "previous": self.period.previous().as_json(),
            "as_data": self.as_data,
            "total": self.total,
            "rows": self.rows,
            "trend": {"by": "day", "buckets": self.trend.buckets, "values": self.trend.values},
        }


def national_summary(
    engine: Engine,
    period: Period,
    country: str,
    *,
    limit: int = 10,
    as_names: Mapping[int, str] | None = None,
) -> NationalSummary:
    """``country``'s infected sources in ``period``: the ``limit`` ASes holding most of
    them (:func:`infected_by_as`), the country's turnover, and its infected sources per
    day (a :func:`~teiten.analyze.series.series` of distinct sources)."""
    filters = _filters(country)
    trend = series(engine, period, metric="sources", traffic="probe", filters=filters)
    by_as = infected_by_as(engine, period, country, limit=limit, as_names=as_names)
    if by_as is not None:
        return NationalSummary(country, period, by_as.total, trend, True, by_as)
    where = filters.condition("probe")
    whole = _turnover(engine, period, "country", where)
    as_data = any(r["asn"] is not None for r in _turnover(engine, period, "asn", where))
    total = _counts(whole[0] if whole else {})
    return NationalSummary(country, period, total, trend, as_data)
