"""Compose a report's document: sections of paragraphs, tables and figures, in one language.

Every renderer (HTML, Markdown, and PDF through HTML) lays out this same document,
so what a report says is decided here once. Tables and figures are numbered in
order; each table cell keeps the exact value it shows (``value``), which the
HTML carries as ``data-value`` for anyone checking the numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from teiten.analyze.darknet import ESTIMATE_MIN_SIZE
from teiten.analyze.events import IPV4_SPACE
from teiten.report.charts import line_chart
from teiten.report.messages import Messages
from teiten.report.model import EventSummary, ReportData, Series
from teiten.report.series import row_key

__all__ = ["Cell", "Document", "Figure", "Paragraph", "Section", "Table", "compose"]


@dataclass(frozen=True)
class Cell:
    text: str
    value: Any = None  # the exact number behind ``text``, if any
    numeric: bool = False
    nowrap: bool = False  # kept on one line (dates and times)


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: str
    items: list[str] = field(default_factory=list)  # a bulleted list after the text
    heading: str = ""  # a sub-heading before the text


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    id: str
    caption: str
    columns: list[str]
    numeric: list[bool]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Figure:
    kind: ClassVar[str] = "figure"
    id: str
    name: str  # file stem when written beside a Markdown file
    caption: str
    svg: str


Block = Paragraph | Table | Figure


@dataclass
class Section:
    id: str
    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    lang: str
    title: str
    period_line: str
    generated: str
    sections: list[Section]


class _Numbering:
    def __init__(self, m: Messages) -> None:
        self.m, self.tables, self.figures = m, 0, 0

    def table(self) -> tuple[str, str]:
        self.tables += 1
        return f"table-{self.tables}", self.m("table", n=self.tables)

    def peek_table(self) -> int:
        return self.tables + 1

    def figure(self) -> tuple[str, str]:
        self.figures += 1
        return f"figure-{self.figures}", self.m("figure", n=self.figures)

    def peek_figure(self) -> int:
        return self.figures + 1


def compose(data: ReportData, lang: str) -> Document:
    """The document of ``data`` in ``lang`` ("ja" or "en")."""
    m = Messages(lang)
    n = _Numbering(m)
    p = data.period
    sections = [
        _overview(data, m, n),
        _ranking(data, m, n, "ports"),
        _ranking(data, m, n, "countries"),
        _phenomena(data, m, n),
        _focus(data, m, n),
        _events(data, m, n),
        _method(data, m),
    ]
    return Document(
        lang=lang,
        title=m("title") + m("title_span", span=m.span(p.kind, p.start, p.last_day)),
        period_line=f"{m('observation_period')}: {m.date_range(p.start, p.last_day)}",
        generated=m("generated", version=data.version, date=m.date(data.generated)),
        sections=sections,
    )


def _figure(
    n: _Numbering,
    m: Messages,
    name: str,
    caption: str,
    series: Series,
    dimension: str = "",
    y_label: str | None = None,
) -> Figure:
    fid, label = n.figure()
    names = {k: m.series_name(k, dimension) for k in series.values}
    if y_label is None:
        y_label = m(f"metric.{series.unit}") if f"metric.{series.unit}" in m.text else ""
        if series.unit in ("share", "count"):
            y_label = m(f"unit.{series.unit}")
    svg = line_chart(
        series, names, y_label=y_label, axis_date=m.axis_date, title=f"{label} {caption}"
    )
    return Figure(fid, name, f"{label} {caption}", svg)


def _overview(data: ReportData, m: Messages, n: _Numbering) -> Section:
    o = data.overview
    prev = m.previous(data.period.kind)
    text = [
        m("overview.intro"),
        m(
            "overview.totals",
            sensors=m.integer(o.sensors),
            packets=m.integer(o.packets),
            per_sensor=m.per_sensor(o.per_sensor),
            sources=m.integer(o.sources),
        ),
    ]
    if o.packets:
        probe, bs = o.kinds.get("probe", 0), o.kinds.get("backscatter", 0)
        text.append(
            m(
                "overview.kinds",
                probe=m.integer(probe),
                probe_share=m.percent(probe / o.packets),
                backscatter=m.integer(bs),
                backscatter_share=m.percent(bs / o.packets),
            )
        )
    if not o.previous_per_sensor:
        text.append(m("overview.no_previous", previous=prev))
    else:
        change = o.per_sensor / o.previous_per_sensor - 1
        values = {"previous": prev, "previous_value": m.per_sensor(o.previous_per_sensor)}
        if abs(change) < 0.0005:
            text.append(m("overview.same", **values))
        else:
            direction = m("up" if change > 0 else "down")
            text.append(
                m("overview.change", change=m.percent(abs(change)), direction=direction, **values)
            )
    figure = _figure(n, m, "overview", m("overview.figure"), o.daily)
    return Section(
        "overview", m("overview"), [Paragraph(text[0]), Paragraph(_sentences(m, text[1:])), figure]
    )


def _sentences(m: Messages, parts: list[str]) -> str:
    """Sentences as one paragraph: spaced in English, run together in Japanese."""
    return ("" if m.lang == "ja" else " ").join(parts)


def _ranking_table(
    m: Messages,
    caption: str,
    rows: list[dict[str, Any]],
    dimension: str,
    metric: str,
    kind: str,
    compared: bool = True,
) -> tuple[list[str], list[bool], list[list[Cell]]]:
    prev = m.previous(kind)
    if dimension == "ports":
        columns = [m("col.rank"), m("col.port"), m("col.service")]
    else:
        columns = [m("col.rank"), m("col.region")]
    columns += [m(f"metric.{metric}"), m("col.share"), m("col.previous_rank", previous=prev)]
    numeric = [True] + [False] * (len(columns) - 4) + [True, True, True]
    field_name = {"per-sensor": "per_sensor"}.get(metric, metric)
    table_rows = []
    for r in rows:
        if dimension == "ports":
            keys = [Cell(m.port(r), row_key(r)), Cell(m.service(r))]
        else:
            keys = [Cell(m.country(r["country"]), r["country"])]
        table_rows.append(
            [
                Cell(str(r["rank"]), r["rank"], True),
                *keys,
                Cell(m.metric_value(r, metric) + _mark(r), r[field_name], True),
                Cell(m.percent(r["share"]), r["share"], True),
                Cell(m.previous_rank(r["previous_rank"], compared), r["previous_rank"], True),
            ]
        )
    return columns, numeric, table_rows


_MARKS = {"one-host": "†", "few-hosts": "‡"}  # as `teiten top` marks them


def _mark(row: dict[str, Any]) -> str:
    """† after a row made mostly by one source, ‡ by its top 3 (``attribution``)."""
    return _MARKS.get(row.get("attribution", ""), "")


def _attribution_note(m: Messages, rows: list[dict[str, Any]], threshold: float) -> list[Block]:
    """The footnote under a ranking table explaining the marks its rows carry."""
    used = {r.get("attribution") for r in rows}
    keys = {"one-host": "ranking.one_host", "few-hosts": "ranking.few_hosts"}
    notes = [m(keys[k], share=m.percent(threshold)) for k in _MARKS if k in used]
    return [Paragraph(_sentences(m, notes))] if notes else []


def _ranking(data: ReportData, m: Messages, n: _Numbering, dimension: str) -> Section:
    section_data = data.ports if dimension == "ports" else data.countries
    ranking, rows = section_data.ranking, section_data.ranking.rows
    measure = m(f"measure.{data.metric}")
    heading = m(dimension, measure=measure, n=data.top)
    section = Section(dimension, heading)
    if not rows:
        section.blocks.append(Paragraph(m("ranking.empty")))
        return section
    intro = m(
        "ranking.intro",
        dimension=m(f"dimension.{dimension}"),
        measure=measure,
        n=data.top,
        table=n.peek_table(),
        figure=n.peek_figure(),
        metric=m(f"metric.{data.metric}"),
    )
    first = rows[0]
    label: Callable[[dict[str, Any]], str]
    if dimension == "ports":
        key = "ranking.top_port" if first.get("service") else "ranking.top_port_noservice"
        lead = m(
            key, label=m.port(first), service=first.get("service"), share=m.percent(first["share"])
        )
        label = m.port
    else:
        lead = m(
            "ranking.top_country", name=m.country(first["country"]), share=m.percent(first["share"])
        )
        label = lambda r: m.country(r["country"])  # noqa: E731
    parts = [intro, lead]
    entered = [label(r) for r in rows if r["previous_rank"] is None or r["previous_rank"] > 10]
    if not data.previous_data:  # a store's first period: nothing to compare with
        parts.append(m("ranking.no_previous", previous=m.previous(ranking.period.kind)))
    elif entered:
        parts.append(
            m(
                "ranking.entered",
                items=m.join(entered),
                n=data.top,
                previous=m.previous(ranking.period.kind),
            )
        )
    section.blocks.append(Paragraph(_sentences(m, parts)))
    columns, numeric, table_rows = _ranking_table(
        m, heading, rows, dimension, data.metric, ranking.period.kind, data.previous_data
    )
    tid, tlabel = n.table()
    section.blocks.append(Table(tid, f"{tlabel} {heading}", columns, numeric, table_rows))
    section.blocks += _attribution_note(m, rows, ranking.attribution_threshold)
    caption = m("ranking.figure", heading=heading, metric=m(f"metric.{data.metric}"))
    section.blocks.append(_figure(n, m, dimension, caption, section_data.trend, dimension))
    return section


def _phenomena(data: ReportData, m: Messages, n: _Numbering) -> Section:
    section = Section("phenomena", m("phenomena"))
    if not data.previous_data:
        previous = m.previous(data.period.kind)
        section.blocks.append(Paragraph(m("phenomena.no_previous", previous=previous)))
    if not data.findings:
        section.blocks.append(Paragraph(m("phenomena.none")))
    for i, finding in enumerate(data.findings, 1):
        title = finding.title.get(m.lang) or finding.title.get("en", finding.kind)
        text = finding.text.get(m.lang) or finding.text.get("en", "")
        section.blocks.append(Paragraph(text, heading=title))
        series = _evidence_series(finding.evidence.get("series"), finding.kind)
        if series is not None:
            dimension = "countries" if "country" in finding.subject else "ports"
            section.blocks.append(_figure(n, m, f"phenomenon-{i}", title, series, dimension))
    return section


def _evidence_series(raw: dict[str, Any] | None, kind: str) -> Series | None:
    """A Finding's ``evidence["series"]`` as a Series (``None`` when it has none).

    Its ``unit`` defaults to ``share`` for share detectors, else ``packets``.
    """
    from datetime import date

    if not raw or not raw.get("dates") or not raw.get("values"):
        return None
    dates = [d if isinstance(d, date) else date.fromisoformat(str(d)[:10]) for d in raw["dates"]]
    values = {
        str(k): [None if v is None else float(v) for v in vs] for k, vs in raw["values"].items()
    }
    unit = str(raw.get("unit") or ("share" if "share" in kind else "packets"))
    return Series(dates, values, unit)


def _focus(data: ReportData, m: Messages, n: _Numbering) -> Section:
    f = data.focus
    country = m.country(f.country)
    section = Section("focus", m("focus", country=country))
    if not f.packets:
        section.blocks.append(Paragraph(m("focus.none", country=country)))
        return section
    rank = m("focus.unranked") if f.rank is None else m.ordinal(f.rank)
    totals = m(
        "focus.totals",
        country=country,
        packets=m.integer(f.packets),
        share=m.percent(f.share),
        sources=m.integer(f.sources),
        rank=rank,
    )
    section.blocks.append(Paragraph(totals))
    heading = m("focus.ports", country=country, measure=m(f"measure.{data.metric}"), n=data.top)
    columns, numeric, rows = _ranking_table(
        m,
        heading,
        f.ports.ranking.rows,
        "ports",
        data.metric,
        data.period.kind,
        data.previous_data,
    )
    tid, tlabel = n.table()
    section.blocks.append(Table(tid, f"{tlabel} {heading}", columns, numeric, rows))
    ranking = f.ports.ranking
    section.blocks += _attribution_note(m, ranking.rows, ranking.attribution_threshold)
    caption = m("ranking.figure", heading=heading, metric=m(f"metric.{data.metric}"))
    section.blocks.append(_figure(n, m, "focus-ports", caption, f.ports.trend, "ports"))
    mirai = m(
        "focus.mirai",
        country=country,
        share=m.percent(f.mirai_share),
        share_all=m.percent(f.mirai_share_all),
        figure=n.peek_figure(),
    )
    section.blocks.append(Paragraph(mirai))
    fig = _figure(n, m, "focus-mirai", m("focus.mirai_figure"), f.mirai, "countries")
    section.blocks.append(fig)
    return section


def _events(data: ReportData, m: Messages, n: _Numbering) -> Section:
    section = Section("events", m("events"))
    s, d = data.scans, data.dos
    # scans
    if s.events:
        q = s.parameters
        parts = [
            m(
                "scans.text",
                min_destinations=m.integer(q["min_destinations"]),
                min_rate=m.decimal(q["min_rate"], 0),
                events=m.integer(s.events),
                actors=m.integer(s.actors),
            )
        ]
        if s.tags:
            items = [m("scans.tag_item", tag=m.tool(t), n=m.integer(c)) for t, c in s.tags.items()]
            parts.append(m("scans.tags", items=m.join(items)))
        if s.withheld:
            parts.append(m("events.withheld", n=m.integer(s.withheld)))
        section.blocks.append(Paragraph(_sentences(m, parts), heading=m("scans")))
        section.blocks.append(_event_keys(m, n, s))
    else:
        section.blocks.append(Paragraph(m("events.none_scans"), heading=m("scans")))
    # DoS
    if d.events:
        q = d.parameters
        parts = [
            m(
                "dos.text",
                min_packets=m.integer(q["min_packets"]),
                min_duration=m.duration(q["min_duration_s"]),
                min_ppm=m.integer(q["min_ppm"]),
                events=m.integer(d.events),
                actors=m.integer(d.actors),
            )
        ]
        parts += _dos_rate(m, d)
        if d.country_groups:
            parts.append(m("dos.countries", items=_dos_regions(m, d.country_groups)))
        focus = d.focus
        country = m.country(focus["country"])
        if focus["events"]:
            parts.append(
                m(
                    "dos.focus",
                    country=country,
                    victims=m.integer(focus["actors"]),
                    attacks=m.integer(focus["events"]),
                )
            )
        else:
            parts.append(m("dos.focus_none", country=country))
        if d.withheld:
            parts.append(m("events.withheld", n=m.integer(d.withheld)))
        section.blocks.append(Paragraph(_sentences(m, parts), heading=m("dos")))
        section.blocks.append(_largest_attacks(m, n, d))
    else:
        section.blocks.append(Paragraph(m("events.none_dos"), heading=m("dos")))
    if s.events or d.events:
        daily = Series(s.daily.dates, {**s.daily.values, **d.daily.values}, "count")
        section.blocks.append(_figure(n, m, "events", m("events.figure"), daily))
    return section


def _dos_rate(m: Messages, d: EventSummary) -> list[str]:
    """The highest attack rate: Internet-wide with its bounds, or only as observed."""
    if d.max_rate_darknet is None:
        return []
    observed = _pps(m, d.max_rate_darknet)
    if d.estimate_supported and d.max_rate is not None and d.rate_bounds is not None:
        low, high = d.rate_bounds
        return [
            m(
                "dos.rate",
                rate=m.large(d.max_rate),
                low=m.large(low),
                high=m.large(high),
                observed=observed,
                scale=m.integer(d.estimate_scale or 0),
            )
        ]
    small = (d.estimate_scale or 0) * ESTIMATE_MIN_SIZE > IPV4_SPACE  # 2^32 / size > 2^32 / min
    reason = "dos.rate_small" if small else "dos.rate_undeclared"
    return [m("dos.rate_observed", observed=observed), m(reason, min=m.integer(ESTIMATE_MIN_SIZE))]


def _pps(m: Messages, value: float) -> str:
    return m.large(value) if value >= 10 else m.decimal(value, 2)


def _dos_regions(m: Messages, groups: list[dict[str, Any]]) -> str:
    """``US (7 attacks); GB, SG and 7 other regions (1 each)``: ties grouped."""
    items = []
    for g in groups:
        names = m.join([m.country(c) for c in g["countries"]])
        n = m.integer(g["events"])
        more = g["regions"] - len(g["countries"])
        if more:
            items.append(m("dos.region_more", regions=names, more=m.integer(more), n=n))
        elif len(g["countries"]) > 1:
            items.append(m("dos.region_tie", regions=names, n=n))
        else:
            key = "dos.region_one" if g["events"] == 1 else "dos.region"
            items.append(m(key, regions=names, n=n))
    return m("dos.region_sep").join(items)


def _event_keys(m: Messages, n: _Numbering, s: EventSummary) -> Table:
    tid, tlabel = n.table()
    columns = [
        m("col.port"),
        m("col.events"),
        m("col.actors_scans"),
        m("col.packets"),
    ]
    rows = []
    for item in s.by_key:
        port, _, proto = item["key"].partition("/")
        label = f"{port}/{proto.upper()}" if proto else port.upper()
        rows.append(
            [
                Cell(label, item["key"]),
                Cell(m.integer(item["events"]), item["events"], True),
                Cell(m.integer(item["actors"]), item["actors"], True),
                Cell(m.integer(item["packets"]), item["packets"], True),
            ]
        )
    return Table(tid, f"{tlabel} {m('scans.table')}", columns, [False, True, True, True], rows)


def _largest_attacks(m: Messages, n: _Numbering, d: EventSummary) -> Table:
    tid, tlabel = n.table()
    with_asn = any(a["asn"] is not None for a in d.largest)  # MaxMind-tagged stores
    columns = [
        m("col.victim_region"),
        *([m("col.asn")] if with_asn else []),
        m("col.proto"),
        m("col.victim_ports"),
        m("col.start"),
        m("col.duration"),
        m("col.packets"),
        m("col.rate" if d.estimate_supported else "col.rate_darknet"),
    ]
    rows = []
    for a in d.largest:
        rate = a["rate_pps_internet_wide"] if d.estimate_supported else a["rate_pps_darknet"]
        rows.append(
            [
                Cell(m.country(a["country"]), a["country"]),
                *(
                    [Cell("" if a["asn"] is None else f"AS{a['asn']}", a["asn"])]
                    if with_asn
                    else []
                ),
                Cell(str(a["key"]).upper(), a["key"]),
                Cell(m.join([p.upper() for p in a["ports"]])),
                Cell(m.datetime(a["start"]), a["start"], nowrap=True),
                Cell(m.duration(a["duration_s"]), a["duration_s"], True),
                Cell(m.integer(a["packets"]), a["packets"], True),
                Cell("" if rate is None else _pps(m, rate), rate, True),
            ]
        )
    numeric = [False] * (len(columns) - 3) + [True, True, True]
    return Table(tid, f"{tlabel} {m('dos.table')}", columns, numeric, rows)


def _method(data: ReportData, m: Messages) -> Section:
    me = data.method
    prev = m.previous(data.period.kind)
    observation = m(
        "method.sensors",
        sensors=m.integer(me.sensors),
        size=m.integer(me.darknet_size),
        size_note=m(f"method.size.{me.darknet_source}"),
    )
    sources = [
        m(
            "method.geo",
            database=g["database"],
            edition=g["edition"],
            batches=m.integer(g["batches"]),
        )
        for g in me.geo
    ] or [m("method.geo_none")]
    sources.append(m("method.knowledge", edition=m.date(me.knowledge_edition)))
    sources += [
        m(
            "method.import",
            source=i["source"],
            version=i["feed_version"] or "–",
            date=i["feed_date"] or "–",
        )
        for i in me.knowledge_imports
    ]
    sources.append(m("method.services", edition=m.date(me.port_registry_edition)))
    definitions = [
        m("def.packets"),
        m("def.per-sensor"),
        m("def.sources"),
        m("def.share"),
        m("def.previous", previous=prev),
        m("def.probe"),
        m("def.backscatter"),
        m("def.other"),
        m("def.region"),
    ]
    return Section(
        "method",
        m("method"),
        [
            Paragraph(observation, heading=m("method.observation")),
            Paragraph("", items=sources, heading=m("method.data")),
            Paragraph("", items=definitions, heading=m("method.definitions")),
        ],
    )
