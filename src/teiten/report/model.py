"""What a report holds: every number and series, gathered once, before any rendering.

Renderers only format what is here, so the HTML, Markdown and PDF of one
report can never disagree. Sensors appear only as a count (and the darknet's
size in addresses): never a label's prefix, never an address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from teiten.report.settings import ReportSettings

if TYPE_CHECKING:
    from teiten.analyze.infected import InfectedByAs
    from teiten.analyze.periods import Period
    from teiten.analyze.phenomena import Finding
    from teiten.analyze.rankings import Ranking

__all__ = [
    "LANGUAGES",
    "EventSummary",
    "FocusSection",
    "MethodSection",
    "Overview",
    "RankingSection",
    "ReportData",
    "Series",
]

LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class Series:
    """Daily values of one or more named lines; ``None`` where nothing was observed.

    ``unit`` says how to read the values: ``"packets"``, ``"per-sensor"``,
    ``"sources"``, ``"share"`` (a fraction, drawn as a percentage) or ``"count"``.
    ``context`` holds the same lines on the days just before ``dates``: a chart shows
    them before the report period; they are not part of the period's numbers.
    """

    dates: list[date]
    values: dict[str, list[float | None]]
    unit: str
    context: Series | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dates": [d.isoformat() for d in self.dates],
            "values": self.values,
            "unit": self.unit,
        }
        if self.context is not None:
            out["context"] = self.context.as_json()
        return out


@dataclass(frozen=True)
class Overview:
    """The period at a glance (all traffic kinds; ``probes`` is what rankings count)."""

    sensors: int
    packets: int
    per_sensor: float
    sources: int
    kinds: dict[str, int]  # probe / backscatter / other → packets
    previous_per_sensor: float | None  # the previous period's packets per sensor
    daily: Series  # packets per observing sensor, per day

    def as_json(self) -> dict[str, Any]:
        return {
            "sensors": self.sensors,
            "packets": self.packets,
            "per_sensor": self.per_sensor,
            "sources": self.sources,
            "kinds": self.kinds,
            "previous_per_sensor": self.previous_per_sensor,
            "daily": self.daily.as_json(),
        }


@dataclass(frozen=True)
class RankingSection:
    """A ranking (exactly :func:`teiten.analyze.rankings.rank`'s) and its top rows' trend."""

    ranking: Ranking
    trend: Series  # one line per row shown, keyed by the row's label

    def as_json(self) -> dict[str, Any]:
        return {"ranking": self.ranking.as_json(), "trend": self.trend.as_json()}


@dataclass(frozen=True)
class FocusSection:
    """Packets from one country: its rank, its ports, and its Mirai-type share."""

    country: str
    packets: int  # probe packets from the country
    share: float  # of all probe packets
    sources: int
    rank: int | None  # in the country ranking by the report's metric
    ports: RankingSection
    mirai: Series  # daily share of mirai-tagged probes: the country, and all sources
    mirai_share: float  # of the country's probes over the period
    mirai_share_all: float  # of all probes over the period
    # The ASes of its infected (Mirai-type) sources, by distinct sources, with their
    # turnover; None when the period's sources have no AS numbers.
    infected_asns: InfectedByAs | None = None

    def as_json(self) -> dict[str, Any]:
        asns = self.infected_asns
        return {
            "country": self.country,
            "packets": self.packets,
            "share": self.share,
            "sources": self.sources,
            "rank": self.rank,
            "ports": self.ports.as_json(),
            "mirai": self.mirai.as_json(),
            "mirai_share": self.mirai_share,
            "mirai_share_all": self.mirai_share_all,
            "infected_asns": None if asns is None else asns.as_json(),
        }


@dataclass(frozen=True)
class EventSummary:
    """Scan events or DoS attacks of the period, aggregated (no address is kept).

    ``by_key`` counts events per port (scans) or per protocol (DoS);
    ``by_country`` per source (scans) or victim (DoS) country, by events, then
    distinct actors, then packets; ``country_groups`` the same regions grouped by
    their number of events (ties together, ``regions`` counting those cut off);
    ``largest`` holds the biggest events without their addresses. ``focus`` counts
    the focus country's events and actors. Internet-wide rates (``max_rate``,
    ``rate_bounds``, the largest events' ``rate_pps_internet_wide``) are ``None``
    unless ``estimate_supported`` (:func:`teiten.analyze.darknet.estimate_supported`);
    ``max_rate_darknet`` is the highest rate observed at the darknet itself.
    """

    family: str  # "scans" | "dos"
    events: int
    actors: int  # distinct scanning sources / victims
    withheld: int
    parameters: dict[str, Any]
    by_key: list[dict[str, Any]]
    by_country: list[dict[str, Any]]
    largest: list[dict[str, Any]]
    daily: Series  # events starting per day
    max_rate: float | None  # packets/s Internet-wide, the highest estimate
    tags: dict[str, int] = field(default_factory=dict)  # events carrying each tool tag
    country_groups: list[dict[str, Any]] = field(default_factory=list)
    focus: dict[str, Any] = field(default_factory=dict)  # {"country", "events", "actors"}
    estimate_supported: bool = False
    estimate_scale: float | None = None  # 2^32 / darknet size
    max_rate_darknet: float | None = None  # packets/s at the darknet, the highest
    rate_bounds: list[float] | None = None  # 95 % interval of max_rate (packet count)

    def as_json(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "events": self.events,
            "actors": self.actors,
            "withheld": self.withheld,
            "parameters": self.parameters,
            "by_key": self.by_key,
            "by_country": self.by_country,
            "largest": self.largest,
            "daily": self.daily.as_json(),
            "max_rate": self.max_rate,
            "tags": self.tags,
            "country_groups": self.country_groups,
            "focus": self.focus,
            "estimate_supported": self.estimate_supported,
            "estimate_scale": self.estimate_scale,
            "max_rate_darknet": self.max_rate_darknet,
            "rate_bounds": self.rate_bounds,
        }


@dataclass(frozen=True)
class MethodSection:
    """How the numbers were made: sensors, darknet size, reference data editions."""

    sensors: int
    darknet_size: int  # IPv4 addresses monitored
    darknet_source: str  # "declared" | "observed" | "mixed" | "none"
    geo: list[dict[str, Any]]  # {"database", "edition", "batches"}
    knowledge_edition: date
    knowledge_imports: list[dict[str, Any]]  # {"source", "feed_version", "feed_date"}
    port_registry_edition: date  # IANA port registry snapshot naming ports the KB does not
    digest: str = ""  # the store's content digest for the period (teiten.report.digest)

    def as_json(self) -> dict[str, Any]:
        return {
            "sensors": self.sensors,
            "darknet_size": self.darknet_size,
            "darknet_source": self.darknet_source,
            "geo": self.geo,
            "knowledge_edition": self.knowledge_edition.isoformat(),
            "knowledge_imports": self.knowledge_imports,
            "port_registry_edition": self.port_registry_edition.isoformat(),
            "digest": self.digest,
        }


@dataclass(frozen=True)
class ReportData:
    """Everything one report says about one period."""

    period: Period
    previous: Period
    metric: str
    top: int
    generated: date | None  # the date the report says it was made on; None: no date
    version: str
    overview: Overview
    ports: RankingSection
    countries: RankingSection
    findings: list[Finding]  # reviewed: headlines first (``headline``), then the rest
    focus: FocusSection
    scans: EventSummary
    dos: EventSummary
    method: MethodSection
    # whether the previous period has any data: a store's first period has none, and its
    # rankings say "no previous data" instead of "outside top 10" (and no new entrants)
    previous_data: bool = True
    # recommended actions from the headline findings (teiten.analyze.phenomena.actions)
    actions: list[dict[str, Any]] = field(default_factory=list)
    settings: ReportSettings = field(default_factory=ReportSettings)  # report.toml's

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "previous": self.previous.as_json(),
            "previous_data": self.previous_data,
            "actions": self.actions,
            "metric": self.metric,
            "top": self.top,
            "generated": None if self.generated is None else self.generated.isoformat(),
            "version": self.version,
            "overview": self.overview.as_json(),
            "ports": self.ports.as_json(),
            "countries": self.countries.as_json(),
            "findings": [f.as_json() for f in self.findings],
            "focus": self.focus.as_json(),
            "scans": self.scans.as_json(),
            "dos": self.dos.as_json(),
            "method": self.method.as_json(),
        }
