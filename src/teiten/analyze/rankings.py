"""Rankings: top destination ports, source countries and source ASes for a period.

Each row carries its rank in the previous period (ranked over *all* rows, not
just the top N, so a report can say "outside top 10" from the real rank).

Metrics, as the observatories publish them:

* ``packets``    packets received;
* ``sources``    distinct source addresses (as NICTER ranks);
* ``per-sensor`` packets per sensor that was observing (as TSUBAME ranks):
  packets divided by the number of sensors with any packet in the period.

Fingerprint tags (:mod:`teiten.fingerprint`) filter the packets counted
(``Filters.tags``: any of these; ``Filters.exclude_tags``: none of these, e.g.
leave out ``research`` scanners), as may a destination port (``Filters.port``:
``23/tcp``, or ``23`` for TCP or UDP), source ASes (``Filters.asns``) and source
networks (``Filters.prefixes``, CIDR), and every row and the total carry
``tag_shares``: the share of their packets carrying each tag — always the
scanner tools and ``research``, plus every other tag present in the period.

Every row says who made it (issue 11, "attribution"): ``top_sources_share`` is the
share of its packets sent by its busiest source and by its 3 busiest, ``top_source`` the
busiest source's country and the fingerprint tags most of its packets in the row carry
(never its address), and ``attribution`` reads those shares against
:data:`ATTRIBUTION_THRESHOLD`: ``one-host``, ``few-hosts`` or ``broad``.

Port rows can carry ``knowledge`` (pass ``knowledge=load_knowledge()``): the
CVEs, malware and products the knowledge base links to the port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from teiten.analyze.periods import Period
from teiten.enrich import country_name, protocol_name, service_name
from teiten.enrich.addresses import network_spans
from teiten.enrich.countries import country_code
from teiten.errors import OptionError
from teiten.fingerprint.registry import TAG_BITS, tag_mask
from teiten.store import queries

if TYPE_CHECKING:
    from datetime import date

    from teiten.knowledge import KnowledgeBase
    from teiten.store import Engine
    from teiten.store.queries import Condition

__all__ = [
    "ATTRIBUTIONS",
    "ATTRIBUTION_THRESHOLD",
    "METRICS",
    "SHARE_TAGS",
    "TRAFFIC",
    "Filters",
    "Ranking",
    "attribution",
    "network_text",
    "one_of",
    "parse_port",
    "port_text",
    "proto_number",
    "rank",
    "source_networks",
]

METRICS = ("packets", "sources", "per-sensor")
TRAFFIC = queries.rankings.TRAFFIC
Dimension = Literal["ports", "countries", "asns"]
SHARE_TAGS = queries.rankings.SHARE_TAGS  # tag shares every ranking reports

ATTRIBUTION_THRESHOLD = 0.5
"""Share of a row's packets above which its busiest source (or 3 busiest) "made" the row.

At 0.5 the top source sent at least half of the row: the row says more about that one
host than about a trend (the 2019Q2 demo's 22/TCP at #2 was one Korean ZMap host), and
a reader must be told so. Lower it to flag rows that are only partly one host's."""

ATTRIBUTIONS = ("one-host", "few-hosts", "broad")
TOP_SOURCES = queries.rankings.TOP_SOURCES  # the "few" of few-hosts

_PROTO_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "sctp": 132, "gre": 47}
_ICMP = (1, 58)

# Grouping keys per dimension: the ``keys`` rollup's columns (teiten.store.rollup).
_KEYS = {name: keys for name, (_, keys) in queries.rankings.DIMENSIONS.items()}
MAX_ASN = (1 << 32) - 1


@dataclass(frozen=True)
class Filters:
    """Row filters shared by every ranking.

    ``country`` is a code or a name (``"Japan"``, ``"日本"``) and is kept as the code;
    an unknown one is an :class:`OptionError` naming the closest. ``port`` is a
    destination port (:func:`parse_port`), kept as :func:`port_text` writes it; its
    protocol and ``proto`` must agree. ``asns``: AS numbers; ``prefixes``: source
    networks in CIDR (``192.0.2.0/24``; host bits are dropped), kept as normalised text.
    """

    country: str | None = None
    sensor: str | None = None
    proto: str | None = None
    tags: tuple[str, ...] = ()  # only packets carrying any of these tags
    exclude_tags: tuple[str, ...] = ()  # no packet carrying any of these tags
    port: str | None = None  # only packets to this destination port
    asns: tuple[int, ...] = ()  # only packets from sources in any of these ASes
    prefixes: tuple[str, ...] = ()  # only packets from sources in any of these networks

    def __post_init__(self) -> None:
        asns, prefixes = source_networks(self.asns, self.prefixes)
        object.__setattr__(self, "asns", asns)
        object.__setattr__(self, "prefixes", prefixes)
        if self.country is not None:
            object.__setattr__(self, "country", country_code(self.country))
        if self.port is not None:
            object.__setattr__(self, "port", port_text(self.port))
            proto, _ = parse_port(self.port)
            if proto is not None and self.proto and proto != proto_number(self.proto):
                raise OptionError(
                    f"--port {self.port} and --proto {self.proto} disagree: give the "
                    "protocol once, e.g. --port 23/tcp"
                )

    def as_json(self) -> dict[str, Any]:
        """The filters given, as applied: ``{"country": "JP", "proto": "tcp"}``."""
        given = {
            "country": self.country,
            "sensor": self.sensor,
            "proto": protocol_name(proto_number(self.proto)) if self.proto else None,
            "tags": list(self.tags),
            "exclude_tags": list(self.exclude_tags),
            "port": self.port,
            "asns": list(self.asns),
            "prefixes": list(self.prefixes),
        }
        return {name: value for name, value in given.items() if value}

    def table(self, port: bool) -> str:
        """The rollup to read (:mod:`teiten.store.rollup`): ``keys`` when the query or
        these filters need the port or protocol, else the smaller ``sources``."""
        return "keys" if port or self.proto or self.port else "sources"

    def condition(self, traffic: str = "all") -> Condition:
        """The rows these filters (and the traffic kind, unless ``all``) select."""
        exclude = tag_mask(self.exclude_tags, "--exclude-tag") if self.exclude_tags else None
        port_proto, port = parse_port(self.port) if self.port else (None, None)
        proto = proto_number(self.proto) if self.proto else port_proto
        return queries.filters.where(
            tags=tag_mask(self.tags, "--tag") if self.tags else None,
            exclude_tags=exclude,
            country=self.country or None,
            sensor=self.sensor or None,
            proto=proto,
            port=port,
            kind=None if traffic == "all" else traffic,
            asns=self.asns,
            networks=network_spans(self.prefixes),
        )


def proto_number(name: str) -> int:
    """IP protocol number of a name (``tcp``) or a number string (``47``)."""
    key = name.strip().lower()
    if key.isdigit() and 0 <= int(key) < 256:
        return int(key)
    if key not in _PROTO_NUMBERS:
        raise OptionError(
            f"unknown protocol {name!r}: use one of {', '.join(_PROTO_NUMBERS)} or a number"
        )
    return _PROTO_NUMBERS[key]


def one_of(value: str, choices: Sequence[str], what: str) -> None:
    """An :class:`OptionError` naming the ``choices`` unless ``value`` is one of them."""
    if value not in choices:
        raise OptionError(f"unknown {what} {value!r}: use one of {', '.join(choices)}")


def parse_port(text: str) -> tuple[int | None, int]:
    """``"23/tcp"`` → (6, 23); ``"23"`` → (None, 23): TCP or UDP."""
    number, _, proto = text.strip().lower().partition("/")
    if not number.isdigit() or not 0 <= int(number) <= 0xFFFF:
        raise OptionError(f"--port {text!r}: expected PORT/PROTO such as 23/tcp or 53/udp")
    return (proto_number(proto) if proto else None), int(number)


def source_networks(
    asns: Sequence[int], prefixes: Sequence[str]
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """``--asn`` and ``--prefix`` values as filters keep them: AS numbers checked, sorted,
    once each; networks normalised (:func:`network_text`)."""
    for asn in asns:
        if not 0 <= asn <= MAX_ASN:
            raise OptionError(f"--asn {asn}: an AS number is 0 … {MAX_ASN}")
    return tuple(sorted(set(asns))), tuple(network_text(p) for p in prefixes)


def network_text(text: str) -> str:
    """A source network as ``--prefix`` reads it, normalised: ``192.0.2.7/24`` →
    ``192.0.2.0/24``; an :class:`OptionError` saying what is expected."""
    import ipaddress

    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError as exc:
        raise OptionError(
            f"--prefix {text!r}: expected a network in CIDR, such as 10.0.0.0/8 or 2001:db8::/32"
        ) from exc


def port_text(text: str) -> str:
    """A port as :func:`parse_port` reads it: ``"23/TCP"`` → ``"23/tcp"``, ``"023"`` → ``"23"``."""
    proto, number = parse_port(text)
    return str(number) if proto is None else f"{number}/{protocol_name(proto)}"


@dataclass
class Ranking:
    """A ranking and the context a reader needs to interpret it."""

    dimension: str
    period: Period
    previous: Period
    metric: str
    traffic: str
    total: dict[str, int]
    rows: list[dict[str, Any]] = field(default_factory=list)
    tag_shares: dict[str, float] = field(default_factory=dict)  # of the total's packets
    filters: Filters = field(default_factory=Filters)
    attribution_threshold: float = ATTRIBUTION_THRESHOLD

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "previous": self.previous.as_json(),
            "metric": self.metric,
            "traffic": self.traffic,
            "total": self.total,
            "filters": self.filters.as_json(),
            "tag_shares": self.tag_shares,
            "attribution_threshold": self.attribution_threshold,
            "rows": self.rows,
        }


def rank(
    engine: Engine,
    dimension: Dimension,
    period: Period,
    *,
    metric: str = "packets",
    traffic: str = "probe",
    filters: Filters | None = None,
    limit: int | None = 10,
    knowledge: KnowledgeBase | None = None,
    attribution_threshold: float = ATTRIBUTION_THRESHOLD,
    as_names: Mapping[int, str] | None = None,
) -> Ranking:
    """Rank ``dimension`` in ``period`` by ``metric``, with previous-period ranks.

    With ``knowledge``, each port row gets ``"knowledge"``: ``[{"kind": "cve" |
    "malware" | "product", "id", "title", "published"}]`` (``[]`` when nothing is known),
    only what was known on the period's last day. AS rows are named from ``as_names``
    (AS number → holder; an AS it does not list gets ``"name": null``).

    Rows are ranked from the rollup's sums; only the shown rows (``limit``) are grouped
    by source, so a ranking by packets costs little more than one pass over the sums.
    """
    if not 0 < attribution_threshold <= 1:
        raise OptionError(
            f"attribution threshold {attribution_threshold} must be a share in (0, 1], e.g. 0.5"
        )
    one_of(metric, METRICS, "metric")
    one_of(traffic, TRAFFIC, "traffic kind")
    filters = filters or Filters()
    previous = period.previous()
    keys = _KEYS[dimension]
    asked = _Asked(dimension, period, traffic, metric, limit, filters)
    total, tagged, shown, sources = _from_digests(engine, asked) or _from_rollups(engine, asked)
    shares, present = _tag_lists(tagged)
    by_key = {tuple(r[k] for k in keys): r for r in sources}
    rows = []
    for r in shown:
        r |= by_key.get(tuple(r[k] for k in keys), {})
        row = _row(dimension, r, total, metric, shares, as_names or {})
        rows.append(row | _attributed(r, present, attribution_threshold))
    if knowledge is not None and dimension == "ports":
        for row in rows:
            row["knowledge"] = knowledge.items(row["proto"], row["port"], as_of=period.last_day)
    return Ranking(
        dimension=dimension,
        period=period,
        previous=previous,
        metric=metric,
        traffic=traffic,
        total=total,
        rows=rows,
        tag_shares=_shares({label: tagged[label] for label in shares}, total["packets"]),
        filters=filters,
        attribution_threshold=attribution_threshold,
    )


@dataclass(frozen=True)
class _Asked:
    """What a ranking is asked for."""

    dimension: str
    period: Period
    traffic: str
    metric: str
    limit: int | None
    filters: Filters


# The totals, the packets per tag, the shown rows and their sources (grouped by source).
_Found = tuple[dict[str, int], dict[str, int], list[dict[str, Any]], list[dict[str, Any]]]


def _from_digests(engine: Engine, asked: _Asked) -> _Found | None:
    """What a ranking shows, from the period's digests (the shown rows carry their sources
    and their previous ranks): unfiltered rankings of whole months, quarters and ISO weeks
    whose period rollups and previous ranks are current; None otherwise."""
    period, traffic = asked.period, asked.traffic
    if asked.filters != Filters():
        return None
    span = (period.start, period.end)
    rows = engine.ranked(asked.dimension, span)
    found = _digest_totals(engine, span, traffic)
    if rows is None or found is None:
        return None
    total, tagged = found
    shares, present = _tag_lists(tagged)
    shown = engine.rows(
        *queries.rankings.ranked_digest(
            rows,
            _KEYS[asked.dimension],
            traffic=traffic,
            by_sources=asked.metric == "sources",
            limit=asked.limit,
            tags=shares,
            top_tags=present,
        )
    )
    return total, tagged, shown, []


def _digest_totals(
    engine: Engine, span: tuple[date, date], traffic: str
) -> tuple[dict[str, int], dict[str, int]] | None:
    """The totals of ``traffic`` in a whole period and its packets per tag, from its
    digests (kept by the engine: every ranking of the period reads them); None when it
    has none."""
    totals, tags = engine.digests("totals", span), engine.digests("tags", span)
    if totals is None or tags is None:
        return None
    kept = [
        [r for r in engine.kept_rows(*queries.rankings.digest_of(d)) if r["traffic"] == traffic]
        for d in (totals, tags)
    ]
    (t,), histogram = kept
    return _total(t, t), _per_tag(histogram)


def _from_rollups(engine: Engine, asked: _Asked) -> _Found:
    """What a ranking shows, from the rollups: rows ranked from their sums, then the
    shown ones grouped by source."""
    period, dimension, filters = asked.period, asked.dimension, asked.filters
    previous = period.previous()
    where = filters.condition(asked.traffic)
    keys = _KEYS[dimension]
    total, tagged = _totals(engine, period, where, filters)
    shares, present = _tag_lists(tagged)
    table = filters.table(dimension == "ports")
    both = engine.relation(table, (previous.start, previous.end), (period.start, period.end))
    # Rows are ranked from their sums (and distinct sources when ranked by them) ...
    shown = engine.rows(
        *queries.rankings.ranked(
            both,
            keys,
            previous=previous.start,
            first=period.start,
            end=period.end,
            by_sources=asked.metric == "sources",
            tags=shares,
            limit=asked.limit,
            where=where,
        )
    )
    # ... and only the shown rows are then grouped by source (a second statement: as
    # one, DuckDB computed the sums twice), for their sources and busiest sources.
    sources = _row_sources(engine, table, keys, shown, present, period, where)
    return total, tagged, shown, sources


def attribution(top_sources_share: list[float], threshold: float = ATTRIBUTION_THRESHOLD) -> str:
    """``one-host`` when the top source's share reaches ``threshold``, ``few-hosts`` when
    the top 3's does, else ``broad``."""
    top1, top3 = top_sources_share
    if top1 >= threshold:
        return "one-host"
    return "few-hosts" if top3 >= threshold else "broad"


def _row_sources(
    engine: Engine,
    table: str,
    keys: tuple[str, ...],
    shown: list[dict[str, Any]],
    present: list[str],
    period: Period,
    where: Condition,
) -> list[dict[str, Any]]:
    """Per shown row (by its ``keys``): its distinct sources, its busiest source's and
    3 busiest sources' packets, and the busiest one's country and tag counts."""
    if not shown:
        return []
    return engine.rows(
        *queries.rankings.row_sources(
            engine.relation(table, (period.start, period.end)),
            keys,
            [[r[k] for k in keys] for r in shown],
            present,
            first=period.start,
            end=period.end,
            where=where,
            top=TOP_SOURCES,
        )
    )


def _attributed(r: dict[str, Any], present: list[str], threshold: float) -> dict[str, Any]:
    """A row's ``top_sources_share``, ``top_source`` and ``attribution`` (no address)."""
    packets = int(r["packets"])
    top1, top3 = int(r["top1_packets"] or 0), int(r["top_n_packets"] or 0)
    shares = [round(top1 / packets, 6), round(top3 / packets, 6)] if packets else [0.0, 0.0]
    tagged = {t: int(r[queries.rankings.tag_column(t, "top_")] or 0) for t in present}
    tags = [t for t, n in tagged.items() if 2 * n > top1]
    return {
        "top_sources_share": shares,
        "top_source": {"country": r["top_country"], "tags": tags},
        "attribution": attribution(shares, threshold),
    }


def _shares(counts: dict[str, int], packets: int) -> dict[str, float]:
    return {label: round(n / packets, 6) if packets else 0.0 for label, n in counts.items()}


def _totals(
    engine: Engine, period: Period, where: Condition, filters: Filters
) -> tuple[dict[str, int], dict[str, int]]:
    """Totals of the period (packets, sources, sensors), and packets per tag."""
    first, end = period.start, period.end
    table = engine.relation(filters.table(port=False), (first, end))
    (t,) = engine.rows(*queries.rankings.totals(table, first, end, where))
    histogram = engine.rows(*queries.rankings.tag_histogram(table, first, end, where))
    whole = None if filters.sensor else _digest_totals(engine, (first, end), "all")
    if whole is not None:  # the period's sensors, counted in its digest
        return _total(t, whole[0]), _per_tag(histogram)
    by_sensor = Filters(sensor=filters.sensor).condition()
    (s,) = engine.rows(*queries.rankings.sensors(table, first, end, by_sensor))
    return _total(t, s), _per_tag(histogram)


def _total(t: dict[str, Any], s: dict[str, Any]) -> dict[str, int]:
    """A ranking's ``total``: the packets and sources of ``t``, the sensors of ``s``."""
    return {
        "packets": int(t["packets"]),
        "sources": int(t["sources"]),
        "sensors": int(s["sensors"]),
    }


def _tag_lists(tagged: dict[str, int]) -> tuple[list[str], list[str]]:
    """The tags whose shares a ranking reports (:data:`SHARE_TAGS` and those present), and
    those present (a top source may carry them)."""
    shares = [label for label in TAG_BITS if label in SHARE_TAGS or tagged[label]]
    return shares, [label for label in TAG_BITS if tagged[label]]


def _per_tag(histogram: list[dict[str, Any]]) -> dict[str, int]:
    """Packets per tag from the packets per ``tags`` value."""
    return {
        label: sum(int(r["n"]) for r in histogram if r["tags"] >> bit & 1)
        for label, bit in TAG_BITS.items()
    }


def _row(
    dimension: str,
    r: dict[str, Any],
    total: dict[str, int],
    metric: str,
    tags: list[str],
    as_names: Mapping[int, str],
) -> dict[str, Any]:
    sensors = total["sensors"] or 1
    basis = "sources" if metric == "sources" else "packets"
    row: dict[str, Any] = {"rank": int(r["rank"])}
    if dimension == "ports":
        proto = protocol_name(int(r["proto"]))
        port = None if r["port"] is None else int(r["port"])
        row |= {"proto": proto, "port": port, "service": service_name(proto, port)}
        if r["proto"] in _ICMP:
            row["icmp_type"] = None if r["icmp_type"] is None else int(r["icmp_type"])
    elif dimension == "asns":
        asn = None if r["asn"] is None else int(r["asn"])
        row |= {"asn": asn, "name": None if asn is None else as_names.get(asn)}
    else:
        row |= {"country": r["country"], "name": country_name(r["country"])}
    row |= {
        "packets": int(r["packets"]),
        "sources": int(r["row_sources"] or 0),
        "per_sensor": round(r["packets"] / sensors, 3),
        "share": round(r[basis] / total[basis], 6) if total[basis] else 0.0,
        "previous_rank": None if r["previous_rank"] is None else int(r["previous_rank"]),
        "tag_shares": _shares(
            {t: int(r[queries.rankings.tag_column(t)]) for t in tags}, int(r["packets"])
        ),
    }
    return row
