"""Gather a report's data from a store, once: rankings, series, findings, events, method.

The rankings are :func:`teiten.analyze.rankings.rank`'s, called exactly as
``teiten top ports|countries --period P --metric M`` calls it, so every number in
the report equals that command's ``--json``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from teiten.analyze.darknet import darknet_size
from teiten.analyze.dos import dos_attacks
from teiten.analyze.infected import infected_by_as
from teiten.analyze.phenomena import PhenomenaSettings, find_phenomena, previous_observed
from teiten.analyze.phenomena.actions import recommend
from teiten.analyze.rankings import METRICS, Filters, rank
from teiten.analyze.scans import scan_events
from teiten.enrich import port_registry
from teiten.errors import OptionError
from teiten.knowledge import load_knowledge
from teiten.report.digest import period_digest
from teiten.report.events import summarize_events
from teiten.report.model import (
    FocusSection,
    MethodSection,
    Overview,
    RankingSection,
    ReportData,
)
from teiten.report.series import daily_overview, mirai_share, trend
from teiten.report.settings import ReportSettings
from teiten.store.asn import as_names

if TYPE_CHECKING:
    from teiten.analyze.periods import Period
    from teiten.analyze.phenomena import Finding
    from teiten.analyze.rankings import Ranking
    from teiten.knowledge import KnowledgeBase
    from teiten.store import Engine, Store

__all__ = ["build_report"]

_DAY_DIR = re.compile(r"day=(\d{4}-\d{2}-\d{2})")


def build_report(
    store: Store,
    period: Period,
    *,
    metric: str = "per-sensor",
    focus_country: str = "JP",
    top: int = 5,
    findings: list[Finding] | None = None,
    settings: ReportSettings | None = None,
    generated: date | None = None,
    engine_name: str | None = None,
) -> ReportData:
    """Everything the report of ``period`` says, read from ``store``.

    ``findings`` defaults to :func:`teiten.analyze.phenomena.find_phenomena`'s (for
    ``focus_country``), reviewed: the headlines lead the report, the others are listed in
    its appendix. ``settings`` are ``report.toml``'s (default: none set);
    ``generated`` is the date the report says it was made on (default: none, so that
    the same data always gives the same report); ``engine_name`` the query engine
    (:func:`teiten.store.open_engine`).
    """
    from teiten import __version__
    from teiten.store import open_engine

    if metric not in METRICS:
        raise OptionError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")
    if not 1 <= top <= 10:
        raise OptionError(f"--top must be between 1 and 10, not {top}")
    settings = settings or ReportSettings()
    if metric == "packets" and not settings.publish_sensor_counts:
        raise OptionError(
            "--metric packets publishes total packets, which beside the per-sensor values "
            "give the sensor count away: use per-sensor or sources, or set "
            "publication.publish_sensor_counts = true in report.toml"
        )
    country = focus_country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise OptionError(
            f"--focus-country wants an ISO 3166 alpha-2 code such as JP, not {focus_country!r}"
        )
    kb = load_knowledge(store=store.root)  # once: findings, actions and method cite it
    with open_engine(store, engine_name) as engine:
        if findings is None:
            detect = PhenomenaSettings(focus_country=country, metric=metric, top_n=top)
            findings = find_phenomena(engine, period, settings=detect, kb=kb)
        overview = _overview(engine, period)
        ports = rank(engine, "ports", period, metric=metric, limit=top)
        countries = rank(engine, "countries", period, metric=metric, limit=None)
        focus = _focus(engine, period, metric, country, countries, top, as_names(store.root))
        countries.rows = countries.rows[:top]
        port_trend = trend(engine, ports, ports.rows)
        country_trend = trend(engine, countries, countries.rows)
        scans = scan_events(engine, period, limit=0, digest_only=True)  # summed only
        dos = dos_attacks(engine, period, limit=0, digest_only=True)
        darknet = darknet_size(engine, period.start, period.end)
        previous_data = previous_observed(engine, period)
    return ReportData(
        period=period,
        previous=period.previous(),
        metric=metric,
        top=top,
        generated=generated,
        version=__version__,
        overview=overview,
        ports=RankingSection(ports, port_trend),
        countries=RankingSection(countries, country_trend),
        findings=findings,
        actions=recommend(findings, kb, period.last_day, country),
        focus=focus,
        scans=summarize_events(scans, top, country),
        dos=summarize_events(dos, top, country),
        method=_method(store, period, overview.sensors, darknet.size, darknet.source, kb),
        previous_data=previous_data,
        settings=settings,
    )


def _overview(engine: Engine, period: Period) -> Overview:
    totals, daily = daily_overview(engine, period)
    previous, _ = daily_overview(engine, period.previous(), context=0)
    sensors = totals["sensors"]
    return Overview(
        sensors=sensors,
        packets=totals["packets"],
        per_sensor=round(totals["packets"] / sensors, 3) if sensors else 0.0,
        sources=totals["sources"],
        kinds=totals["kinds"],
        previous_per_sensor=(
            round(previous["packets"] / previous["sensors"], 3) if previous["sensors"] else None
        ),
        daily=daily,
    )


def _focus(
    engine: Engine,
    period: Period,
    metric: str,
    country: str,
    countries: Ranking,
    top: int,
    as_names: Mapping[int, str],
) -> FocusSection:
    """The focus country's ports; its rank comes from the full country ranking."""
    ports = rank(
        engine, "ports", period, metric=metric, filters=Filters(country=country), limit=top
    )
    row = next((r for r in countries.rows if r["country"] == country), None)
    packets, everything = ports.total["packets"], countries.total["packets"]
    return FocusSection(
        country=country,
        packets=packets,
        share=round(packets / everything, 6) if everything else 0.0,
        sources=ports.total["sources"],
        rank=None if row is None else row["rank"],
        ports=RankingSection(ports, trend(engine, ports, ports.rows)),
        mirai=mirai_share(engine, period, country),
        mirai_share=ports.tag_shares.get("mirai", 0.0),
        mirai_share_all=countries.tag_shares.get("mirai", 0.0),
        infected_asns=infected_by_as(engine, period, country, limit=top, as_names=as_names),
    )


def _method(
    store: Store, period: Period, sensors: int, size: int, source: str, kb: KnowledgeBase
) -> MethodSection:
    """Sensors, darknet size, and the editions of the reference data behind the period."""
    editions: Counter[tuple[str, str]] = Counter()
    for batch in store.manifest.batches(state="committed"):
        days = {m[1] for _, target in batch.parts if (m := _DAY_DIR.search(target))}
        if any(period.start <= date.fromisoformat(d) < period.end for d in days):
            editions[(batch.geo_database, batch.geo_edition)] += 1
    return MethodSection(
        sensors=sensors,
        darknet_size=size,
        darknet_source=source,
        geo=[
            {"database": db, "edition": ed, "batches": n}
            for (db, ed), n in sorted(editions.items())
        ],
        knowledge_edition=kb.edition,
        knowledge_imports=[
            {"source": i.source, "feed_version": i.feed_version, "feed_date": i.feed_date}
            for i in kb.imports
        ],
        port_registry_edition=port_registry().edition,
        digest=period_digest(store, period),
    )
