"""Compose a report's document: sections of paragraphs, tables and figures, in one language.

Every renderer (HTML, Markdown, and PDF through HTML) lays out this same document,
so what a report says is decided here once. Tables and figures are numbered in
order; each table cell keeps the exact value it shows (``value``), which the
HTML carries as ``data-value`` for anyone checking the numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from teiten.analyze.darknet import ESTIMATE_MIN_SIZE
from teiten.analyze.events import IPV4_SPACE
from teiten.analyze.phenomena.review import subject_label
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.report.charts import ChartText, line_chart, window_for
from teiten.report.messages import Messages
from teiten.report.model import EventSummary, ReportData, Series
from teiten.report.publish import DAILY_DIGITS, public, shown_per_sensor
from teiten.report.series import aligned, row_key, span

if TYPE_CHECKING:
    from teiten.analyze.infected import InfectedByAs
    from teiten.analyze.periods import Period
    from teiten.analyze.phenomena import Finding

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
    unbroken: tuple[str, ...] = ()  # pieces of title and period_line kept on one line
    marking: str = ""  # "TLP:CLEAR" when report.toml sets publication.tlp
    colophon: list[str] = field(default_factory=list)  # publisher, contact, disclaimer


Lines = frozenset[tuple[str, str, str]]  # what a figure draws: (unit, scope, key) per line


class _Numbering:
    """Table and figure numbers, and which lines each figure drew (no chart twice)."""

    def __init__(self, m: Messages) -> None:
        self.m, self.tables, self.figures = m, 0, 0
        self.drawn: dict[Lines, int] = {}

    def drawn_as(self, lines: Lines) -> int | None:
        """The number of an earlier figure that drew exactly ``lines``, if any."""
        return self.drawn.get(lines) if lines else None

    def table(self) -> tuple[str, str]:
        self.tables += 1
        return f"table-{self.tables}", self.m("table", n=self.tables)

    def peek_table(self) -> int:
        return self.tables + 1

    def figure(self, lines: Lines = frozenset()) -> tuple[str, str]:
        self.figures += 1
        if lines:
            self.drawn.setdefault(lines, self.figures)
        return f"figure-{self.figures}", self.m("figure", n=self.figures)

    def peek_figure(self) -> int:
        return self.figures + 1


def compose(data: ReportData, lang: str, out_name: str | None = None) -> Document:
    """The document of ``data`` in ``lang`` ("ja" or "en"), as its settings let it publish.

    ``out_name`` is the file name the method section's command writes (``report.html``).
    """
    data = public(data)
    settings = data.settings
    m = Messages(lang, zone=settings.zone(lang))
    n = _Numbering(m)
    p = data.period
    sections = [
        _overview(data, m, n),
        _ranking(data, m, n, "ports"),
        _ranking(data, m, n, "countries"),
        _phenomena(data, m, n),
        _focus(data, m, n),
        _events(data, m, n),
        _conclusion(data, m),
        _method(data, m, out_name),
    ]
    appendix = _appendix(data, m)
    if appendix is not None:
        sections.append(appendix)
    return Document(
        lang=lang,
        title=(settings.title(lang) or m("title"))
        + m("title_span", span=m.span(p.kind, p.start, p.last_day)),
        period_line=f"{m('observation_period')}: {m.date_range(p.start, p.last_day)}",
        generated=_generated(data, m),
        sections=sections,
        unbroken=_unbroken(data, m),
        marking=f"TLP:{settings.tlp}" if settings.tlp else "",
        colophon=_colophon(data, m),
    )


def _generated(data: ReportData, m: Messages) -> str:
    """The date the report says it was made on (none unless given) and teiten's version."""
    if data.generated is None:
        return m("generated", version=data.version)
    return m("generated_on", version=data.version, date=m.date(data.generated))


def _colophon(data: ReportData, m: Messages) -> list[str]:
    """The closing lines: publisher, contact and disclaimer (a default one when unset)."""
    s = data.settings
    organisation = s.organisation(m.lang)
    lines = [m("colophon.publisher", organisation=organisation)] if organisation else []
    contact = [c for c in (s.contact_email, s.contact_url) if c]
    if contact:
        lines.append(m("colophon.contact", contact=m.join(contact)))
    publisher = organisation or m("disclaimer.publisher")
    text = s.disclaimer(m.lang) or m("disclaimer.default", publisher=publisher)
    return [*lines, m("colophon.disclaimer", text=text)]


def _hidden(data: ReportData) -> bool:
    """Whether sensor counts (and what gives them away) stay out of the report."""
    return not data.settings.publish_sensor_counts


def _unbroken(data: ReportData, m: Messages) -> tuple[str, ...]:
    """Each date of the title and period line, and the period's name if the title has
    one (2019年4月～6月, April–June 2019), longest first: a line breaks none of them."""
    p = data.period
    pieces = {m.date(p.start), m.date(p.last_day), m.span(p.kind, p.start, p.last_day)}
    pieces.discard(m.date_range(p.start, p.last_day))  # a range breaks between its dates
    return tuple(sorted(pieces, key=len, reverse=True))


def _figure(
    n: _Numbering,
    m: Messages,
    name: str,
    caption: str,
    series: Series,
    period: Period,
    *,
    dimension: str = "",
    scope: str = "",
    quantity: str = "",
    x_range: tuple[date, date] | None = None,
) -> Block:
    """The chart of ``series`` over ``x_range`` (its section's days), the period shaded.

    When an earlier figure drew the same lines (the same quantity, ``scope`` and keys),
    this is a sentence referring to it instead. ``quantity`` is the catalogue key of the
    y axis's label (default ``axis.<unit>``); ``dimension`` helps name the lines.
    """
    lines = _lines(series, scope)
    earlier = n.drawn_as(lines)
    if earlier is not None:
        return Paragraph(m("figure.see", caption=caption, figure=m("figure", n=earlier)))
    fid, label = n.figure(lines)
    first, last = x_range or span([series], period)
    shown = aligned(series, first, last)
    window = window_for(len(shown.dates), series.unit)
    y_label = m(quantity or f"axis.{series.unit}")
    if window > 1:
        y_label = m("chart.view", quantity=y_label, view=m("chart.median"))
    svg = line_chart(
        shown,
        {k: m.series_name(k, dimension) for k in shown.values},
        y_label=y_label,
        text=ChartText(m.axis_date, m("chart.period"), m("chart.daily"), m("chart.clipped")),
        title=f"{label} {caption}",
        period=(period.start, period.last_day),
        window=window,
    )
    return Figure(fid, name, f"{label} {caption}", svg)


def _lines(series: Series, scope: str) -> Lines:
    """What ``series`` draws, to recognise a repeat: tool tags (``JP mirai``) are in
    ``scope``, so the key is the part before them."""
    return frozenset((series.unit, scope, key.split(" ")[0]) for key in series.values)


def _scope(traffic: str, country: str | None = None) -> str:
    """The packets a line counts: a traffic kind, from one country or from all."""
    return f"{traffic} from {country}" if country else traffic


def _overview(data: ReportData, m: Messages, n: _Numbering) -> Section:
    o = data.overview
    prev = m.previous(data.period.kind)
    organisation = data.settings.organisation(m.lang)
    hidden = "_hidden" if _hidden(data) else ""  # no totals beside per-sensor values
    text = [
        m("overview.intro_org", organisation=organisation) if organisation else m("overview.intro"),
        m(
            f"overview.totals{hidden}",
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
                f"overview.kinds{hidden}",
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
    figure = _figure(n, m, "overview", m("overview.figure"), o.daily, data.period, scope="all")
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
    elif dimension == "asns":
        columns = [m("col.rank"), m("col.asn"), m("col.holder")]
    else:
        columns = [m("col.rank"), m("col.region")]
    columns += [
        m("col.top_share"),  # who made the row: its busiest source's share (never who)
        m(f"metric.{metric}"),
        m("col.share"),
        m("col.previous_rank", previous=prev),
    ]
    numeric = [True] + [False] * (len(columns) - 5) + [True, True, True, True]
    field_name = {"per-sensor": "per_sensor"}.get(metric, metric)
    table_rows = []
    for r in rows:
        if dimension == "ports":
            keys = [Cell(m.port(r), row_key(r)), Cell(m.service(r))]
        elif dimension == "asns":
            keys = [Cell(m.asn(r["asn"]), r["asn"]), Cell(r["name"] or "")]
        else:
            keys = [Cell(m.country(r["country"]), r["country"])]
        busiest = (r.get("top_sources_share") or [0.0])[0]
        table_rows.append(
            [
                Cell(str(r["rank"]), r["rank"], True),
                *keys,
                Cell(m.percent(busiest), busiest, True),
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


NAMED_SOURCE = 0.25  # a row whose busiest source sent this share or more says so in words


def _busiest_sources(
    m: Messages, rows: list[dict[str, Any]], label: Callable[[dict[str, Any]], str]
) -> list[str]:
    """A sentence for each row one source made a large part of (``NAMED_SOURCE``), marked
    or not: its share, country and tool — never its address."""
    out = []
    for r in rows:
        shares, top = r.get("top_sources_share") or [0.0, 0.0], r.get("top_source") or {}
        if shares[0] < NAMED_SOURCE or not top.get("country"):
            continue
        tools = m.join([m.tool(t) for t in top.get("tags", [])])
        key = "ranking.busiest" if r.get("country") is None else "ranking.busiest_within"
        out.append(
            m(
                key + ("" if tools else "_plain"),
                label=label(r),
                share=m.percent(shares[0]),
                country=m.country(top["country"]),
                tools=tools,
            )
        )
    return out


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
            "ranking.top_country",
            name=m.country_in_text(first["country"]),
            share=m.percent(first["share"]),
        )
        label = lambda r: m.country_in_text(r["country"])  # noqa: E731
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
    parts += _busiest_sources(m, rows, label)
    section.blocks.append(Paragraph(_sentences(m, parts)))
    columns, numeric, table_rows = _ranking_table(
        m, heading, rows, dimension, data.metric, ranking.period.kind, data.previous_data
    )
    tid, tlabel = n.table()
    section.blocks.append(Table(tid, f"{tlabel} {heading}", columns, numeric, table_rows))
    section.blocks += _attribution_note(m, rows, ranking.attribution_threshold)
    caption = m("ranking.figure", heading=heading, metric=m(f"metric.{data.metric}"))
    scope = _scope(ranking.traffic, ranking.filters.country)
    trend = section_data.trend
    section.blocks.append(
        _figure(n, m, dimension, caption, trend, data.period, dimension=dimension, scope=scope)
    )
    return section


def _phenomena(data: ReportData, m: Messages, n: _Numbering) -> Section:
    """The headline findings, each with its text, references and chart; the others are
    counted here and listed in the appendix (:func:`_appendix`)."""
    section = Section("phenomena", m("phenomena"))
    if not data.previous_data:
        previous = m.previous(data.period.kind)
        section.blocks.append(Paragraph(m("phenomena.no_previous", previous=previous)))
    headlines = [f for f in data.findings if f.headline]
    if not data.findings:
        section.blocks.append(Paragraph(m("phenomena.none")))
        return section
    if headlines:
        intro = m("phenomena.intro", n=m.integer(len(headlines)), table=_APPENDIX_TABLE)
    else:
        intro = m("phenomena.intro_none_notable", table=_APPENDIX_TABLE)
    if len(headlines) < len(data.findings):
        section.blocks.append(Paragraph(intro))
    evidence = [_evidence_series(f, data) for f in headlines]
    x_range = span([e for e in evidence if e is not None], data.period)  # one for all charts
    for i, finding in enumerate(headlines, 1):
        title = finding.title.get(m.lang) or finding.title.get("en", finding.kind)
        text = finding.text.get(m.lang) or finding.text.get("en", "")
        section.blocks.append(Paragraph(text, heading=title))
        references = _references(finding)
        if references:
            section.blocks.append(Paragraph(m("phenomena.advisories"), items=references))
        series = evidence[i - 1]
        if series is not None:
            name = f"phenomenon-{i}"
            figure = _evidence_figure(n, m, name, title, finding, series, data, x_range)
            section.blocks.append(figure)
    return section


_APPENDIX_TABLE = "A1"  # the appendix numbers its own tables


def _references(finding: Finding) -> list[str]:
    """The advisories of the CVEs a finding cites (vendor, JVN, JPCERT/CC), as list items."""
    items = []
    for k in finding.knowledge:
        urls = k.get("advisories") or []
        if k.get("kind") == "cve" and urls:
            items.append(f"{k['id']}: {' '.join(urls)}")
    return items


def _appendix(data: ReportData, m: Messages) -> Section | None:
    """Findings not in the body, one row each: what, since when, who made it, and why
    it is not in the body (the review's thresholds, which every finding's evidence holds)."""
    rest = [f for f in data.findings if not f.headline]
    if not rest:
        return None
    headlines = sum(f.headline for f in data.findings)
    columns = [
        m("col.finding"),
        m("col.subject"),
        m("col.first_day"),
        m("col.sources"),
        m("col.top_share"),
        m("col.attribution"),
        m("col.why"),
    ]
    rows = []
    for f in rest:
        reasons = f.evidence.get("review", {}).get("not_notable", [])
        why = [m(f"why.{r}") for r in reasons] or [m("why.rank", n=m.integer(headlines))]
        start = f.start
        rows.append(
            [
                Cell(m(f"kind.{f.kind}"), f.kind),
                Cell(subject_label(f, m.lang)),
                Cell(m.date(date.fromisoformat(start)) if start else "", start, nowrap=True),
                Cell(m.integer(f.sources), f.sources, True),
                Cell(m.percent(f.top_sources_share[0]), f.top_sources_share[0], True),
                Cell(m(f"attribution.{f.attribution}"), f.attribution),
                Cell(m.join(why)),
            ]
        )
    defaults = PhenomenaSettings()  # for findings made without the review
    limits = rest[0].evidence.get("review", {}).get("thresholds") or {
        "min_volume": defaults.min_volume,
        "min_days": defaults.min_days,
        "attribution_threshold": defaults.attribution_threshold,
    }
    intro = m(
        "phenomena.appendix_intro",
        volume=m.percent(limits["min_volume"]),
        days=m.integer(limits["min_days"]),
        share=m.percent(limits["attribution_threshold"]),
        n=m.integer(headlines),
    )
    caption = f"{m('table', n=_APPENDIX_TABLE)} {m('phenomena.appendix_table')}"
    numeric = [False, False, False, True, True, False, False]
    return Section(
        "appendix",
        m("phenomena.appendix"),
        [Paragraph(intro), Table("table-a1", caption, columns, numeric, rows)],
    )


def _conclusion(data: ReportData, m: Messages) -> Section:
    """Recommended actions from the headline findings (``data.actions``)."""
    section = Section("conclusion", m("conclusion"))
    if not data.actions:
        section.blocks.append(Paragraph(m("conclusion.none")))
        return section
    items = []
    for a in data.actions:
        ports = m.join([_port_label(p) for p in a["ports"]])
        if a["kind"] == "patch":  # one per port
            products = m.join(a["products_ja" if m.lang == "ja" else "products"]) or ports
            text = m("action.patch", products=products, cves=m.join(a["cves"]))
            items.append(f"{ports}{'：' if m.lang == 'ja' else ': '}{text}")
        elif a["kind"] == "notify":
            items.append(m("action.notify", country=m.country(a["country"])))
        else:
            items.append(m(f"action.{a['kind']}", ports=ports))
    section.blocks.append(Paragraph(m("conclusion.intro"), items=items))
    return section


def _port_label(port: str) -> str:
    number, _, proto = port.partition("/")
    return f"{number}/{proto.upper()}"


_PER_SENSOR_KINDS = ("surge", "drop", "crossover")  # phenomena.series: probes per sensor


def _evidence_series(finding: Finding, data: ReportData) -> Series | None:
    """A Finding's ``evidence["series"]`` as a Series (``None`` when it has none).

    Surges, drops and crossovers plot probes per sensor and day
    (:func:`teiten.analyze.phenomena.series.daily_series`), whatever ``unit`` they
    declare; share detectors default to ``share``, others to ``packets``. The focus
    country's Mirai-type share gets the share from all sources beside it (as the
    focus section would draw it), so the two are one figure.
    """
    raw = finding.evidence.get("series")
    if not raw or not raw.get("dates") or not raw.get("values"):
        return None
    dates = [d if isinstance(d, date) else date.fromisoformat(str(d)[:10]) for d in raw["dates"]]
    values = {
        str(k): [None if v is None else float(v) for v in vs] for k, vs in raw["values"].items()
    }
    per = str(finding.evidence.get("per", ""))
    if "share" in finding.kind:
        unit = str(raw.get("unit") or "share")
    elif finding.kind in _PER_SENSOR_KINDS or "per sensor" in per:
        unit = "per-sensor"
    else:
        unit = str(raw.get("unit") or "packets")
    series = Series(dates, values, unit)
    focus = data.focus
    if (
        finding.kind == "mirai_share"
        and finding.subject.get("country") == focus.country
        and "all" in focus.mirai.values
    ):
        first, last = span([series, focus.mirai], data.period)
        own, everyone = aligned(series, first, last), aligned(focus.mirai, first, last)
        tag = " mirai" if any(k.endswith(" mirai") for k in own.values) else ""
        series = Series(own.dates, {**own.values, f"all{tag}": everyone.values["all"]}, unit)
    return series


def _evidence_figure(
    n: _Numbering,
    m: Messages,
    name: str,
    title: str,
    finding: Finding,
    series: Series,
    data: ReportData,
    x_range: tuple[date, date],
) -> Block:
    """A finding's chart, over the phenomena section's days (``x_range``)."""
    country = finding.subject.get("country")
    dimension = "countries" if country else "ports"
    if finding.kind == "mirai_share":
        scope, quantity = "mirai", "axis.share.mirai"
    elif finding.kind == "crossover":  # the focus country's ports
        scope, quantity, dimension = _scope("probe", country), "", "ports"
    else:
        scope, quantity = "probe", ""
    return _figure(
        n,
        m,
        name,
        title,
        series,
        data.period,
        dimension=dimension,
        scope=scope,
        quantity=quantity,
        x_range=x_range,
    )


def _focus(data: ReportData, m: Messages, n: _Numbering) -> Section:
    f = data.focus
    country = m.country_in_text(f.country)
    section = Section("focus", m("focus", country=country))
    if not f.packets:
        section.blocks.append(Paragraph(m("focus.none", country=country)))
        return section
    rank = m("focus.unranked") if f.rank is None else m.ordinal(f.rank)
    totals = m(
        "focus.totals_hidden" if _hidden(data) else "focus.totals",
        country=country,
        packets=m.integer(f.packets),
        per_sensor=m.per_sensor(_per_sensor(data, f.packets)),
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
    days = span([f.ports.trend, f.mirai], data.period)  # one x range for both charts
    scope = _scope(ranking.traffic, ranking.filters.country)
    figure = _figure(
        n, m, "focus-ports", caption, f.ports.trend, data.period, scope=scope, x_range=days
    )
    section.blocks.append(figure)
    # an earlier figure drawing the same shares (the Mirai finding's) is cited, not repeated
    earlier = n.drawn_as(_lines(f.mirai, "mirai"))
    mirai = m(
        "focus.mirai",
        country=country,
        share=m.percent(f.mirai_share),
        share_all=m.percent(f.mirai_share_all),
        figure=earlier or n.peek_figure(),
    )
    section.blocks.append(Paragraph(mirai))
    if earlier is None:
        figure = _figure(
            n,
            m,
            "focus-mirai",
            m("focus.mirai_figure"),
            f.mirai,
            data.period,
            scope="mirai",
            quantity="axis.share.mirai",
            x_range=days,
        )
        section.blocks.append(figure)
    if f.infected_asns is not None:
        section.blocks += _infected_asns(m, n, f.infected_asns, country, data)
    return section


def _infected_asns(
    m: Messages, n: _Numbering, infected: InfectedByAs, country: str, data: ReportData
) -> list[Block]:
    """The ASes holding the focus country's infected sources, whose operators can reach
    the owners of those devices: by distinct sources, with how many are new and gone
    since the previous period."""
    heading = m("focus.asns", country=country, n=data.top)
    columns, numeric, rows = _ranking_table(
        m, heading, infected.rows, "asns", "sources", data.period.kind, data.previous_data
    )
    for key in ("new", "gone"):
        columns.append(m(f"col.{key}"))
        numeric.append(True)
        for cells, r in zip(rows, infected.rows, strict=True):
            shown = m.integer(r[key]) if data.previous_data else m("no_previous_rank")
            cells.append(Cell(shown, r[key], True))
    t = infected.total
    key = "focus.asns_lead" if data.previous_data else "focus.asns_lead_first"
    lead = m(
        key,
        country=country,
        table=n.peek_table(),
        sources=m.integer(t["sources"]),
        previous_sources=m.integer(t["previous_sources"]),
        new=m.integer(t["new"]),
        gone=m.integer(t["gone"]),
        previous=m.previous(data.period.kind),
    )
    tid, tlabel = n.table()
    return [Paragraph(lead), Table(tid, f"{tlabel} {heading}", columns, numeric, rows)]


def _per_sensor(data: ReportData, packets: float) -> float:
    """``packets`` per sensor of the period (as the rankings divide)."""
    return packets / max(data.overview.sensors, 1)


def _events(data: ReportData, m: Messages, n: _Numbering) -> Section:
    section = Section("events", m("events"))
    s, d = data.scans, data.dos
    # scans
    if s.events:
        # the thresholds in effect at this darknet, never its size (teiten.analyze.scans)
        q = s.parameters
        derived, rate = q["derived_from"], m.decimal(q["min_rate"], 0)
        floor = derived.get("min_destinations_floor", 0)
        hidden = (  # above its floor, a scaled threshold tells the darknet's size
            not data.settings.publish_sensor_counts
            and derived["min_destinations"] != "set"
            and q["min_destinations"] > floor
        )
        values = {
            "threshold": m("scans.threshold_hidden")
            if hidden
            else m("scans.threshold", n=m.integer(q["min_destinations"])),
            "basis": m("scans.basis_set")
            if derived["min_destinations"] == "set"
            else m("scans.basis_scaled", floor=m.integer(derived["min_destinations_floor"])),
            "events": m.integer(s.events),
            "actors": m.integer(s.actors),
        }
        if q["rate_condition"] == "implied":
            timeout = m.duration(q["timeout_s"])
            parts = [
                m("scans.text_any_rate", **values),
                m("scans.rate_implied", min_rate=rate, timeout=timeout),
            ]
        else:
            condition = m(f"scans.rate_{q['rate_condition']}", min_rate=rate)
            parts = [m("scans.text", rate=condition, **values)]
        if hidden:
            parts.append(m("scans.hidden_note"))
        if s.tags:
            items = [m("scans.tag_item", tag=m.tool(t), n=m.integer(c)) for t, c in s.tags.items()]
            parts.append(m("scans.tags", items=m.join(items)))
        if s.withheld:
            parts.append(m("events.withheld", n=m.integer(s.withheld)))
        section.blocks.append(Paragraph(_sentences(m, parts), heading=m("scans")))
        section.blocks.append(_event_keys(m, n, s, data))
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
        parts += _dos_rate(m, d, _hidden(data))
        if d.country_groups:
            parts.append(m("dos.countries", items=_dos_regions(m, d.country_groups)))
        focus = d.focus
        country = m.country_in_text(focus["country"])
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
        zone = m.zone_name(data.period.start.year, short=True)
        section.blocks.append(_largest_attacks(m, n, d, _hidden(data), zone))
    else:
        section.blocks.append(Paragraph(m("events.none_dos"), heading=m("dos")))
    if s.events or d.events:
        daily = Series(s.daily.dates, {**s.daily.values, **d.daily.values}, "count")
        section.blocks.append(
            _figure(n, m, "events", m("events.figure"), daily, data.period, scope="events")
        )
    return section


def _dos_rate(m: Messages, d: EventSummary, hidden: bool) -> list[str]:
    """The highest attack rate: Internet-wide with its bounds, or only as observed.

    ``hidden``: neither the scale (2^32 / the darknet's size) nor the rate observed at
    the darknet, which with the Internet-wide rate gives the size.
    """
    if d.max_rate_darknet is None:
        return []
    observed = _pps(m, d.max_rate_darknet)
    if d.estimate_supported and d.max_rate is not None and d.rate_bounds is not None:
        low, high = d.rate_bounds
        return [
            m(
                "dos.rate_hidden" if hidden else "dos.rate",
                rate=m.large(d.max_rate),
                low=m.large(low),
                high=m.large(high),
                observed=observed,
                scale=m.integer(d.estimate_scale or 0),
            )
        ]
    small = (d.estimate_scale or 0) * ESTIMATE_MIN_SIZE > IPV4_SPACE  # 2^32 / size > 2^32 / min
    reason = "dos.rate_small" if small else "dos.rate_undeclared"
    why = m(reason, min=m.integer(ESTIMATE_MIN_SIZE))
    return [why] if hidden else [m("dos.rate_observed", observed=observed), why]


def _pps(m: Messages, value: float) -> str:
    return m.large(value) if value >= 10 else m.decimal(value, 2)


def _dos_regions(m: Messages, groups: list[dict[str, Any]]) -> str:
    """``US (7 attacks); GB, SG and 7 other regions (1 each)``: ties grouped."""
    items = []
    for g in groups:
        names = m.join([m.country_in_text(c) for c in g["countries"]])
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


def _event_keys(m: Messages, n: _Numbering, s: EventSummary, data: ReportData) -> Table:
    """Scans per port; their packets per sensor unless sensor counts are published."""
    tid, tlabel = n.table()
    hidden = _hidden(data)
    columns = [
        m("col.port"),
        m("col.events"),
        m("col.actors_scans"),
        m("col.packets_per_sensor" if hidden else "col.packets"),
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
                _packets_cell(m, data, item["packets"]),
            ]
        )
    return Table(tid, f"{tlabel} {m('scans.table')}", columns, [False, True, True, True], rows)


def _packets_cell(m: Messages, data: ReportData, packets: int) -> Cell:
    """A packet count, or per sensor (as shown) when sensor counts are not published."""
    if not _hidden(data):
        return Cell(m.integer(packets), packets, True)
    value = shown_per_sensor(_per_sensor(data, packets))
    return Cell(m.per_sensor(value), value, True)


def _largest_attacks(m: Messages, n: _Numbering, d: EventSummary, hidden: bool, zone: str) -> Table:
    """The largest attacks; ``hidden``: without their packets and the rate at the darknet
    (with the Internet-wide estimate's interval they give the darknet's size)."""
    tid, tlabel = n.table()
    with_asn = any(a["asn"] is not None for a in d.largest)  # MaxMind-tagged stores
    rated = d.estimate_supported or not hidden
    columns = [
        m("col.victim_region"),
        *([m("col.asn")] if with_asn else []),
        m("col.proto"),
        m("col.victim_ports"),
        m("col.start", zone=zone),
        m("col.duration"),
        *([] if hidden else [m("col.packets")]),
        *([m("col.rate" if d.estimate_supported else "col.rate_darknet")] if rated else []),
    ]
    rows = []
    for a in d.largest:
        rate = a["rate_pps_internet_wide"] if d.estimate_supported else a["rate_pps_darknet"]
        start = m.moment(a["start"])
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
                Cell(m.datetime(a["start"]), start.isoformat(), nowrap=True),
                Cell(m.duration(a["duration_s"]), a["duration_s"], True),
                *([] if hidden else [Cell(m.integer(a["packets"]), a["packets"], True)]),
                *([Cell("" if rate is None else _pps(m, rate), rate, True)] if rated else []),
            ]
        )
    numbers = 1 + (not hidden) + rated  # duration, packets, rate
    numeric = [False] * (len(columns) - numbers) + [True] * numbers
    return Table(tid, f"{tlabel} {m('dos.table')}", columns, numeric, rows)


def _method(data: ReportData, m: Messages, out_name: str | None) -> Section:
    """How the numbers were made, from which data, and how to make the report again."""
    me = data.method
    prev = m.previous(data.period.kind)
    observation = [
        m(
            "method.sensors_hidden" if _hidden(data) else "method.sensors",
            sensors=m.integer(me.sensors),
            size=m.integer(me.darknet_size),
            size_note=m(f"method.size.{me.darknet_source}"),
        ),
        _days(data, m),
        m("method.times", zone=m.zone_name(data.period.start.year)),
    ]
    if not data.settings.exact_daily_counts:
        observation.append(m("method.daily_rounded", digits=DAILY_DIGITS))
    geo = [m("method.geo", database=g["database"], edition=g["edition"]) for g in me.geo]
    sources = geo or [m("method.geo_none")]
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
            Paragraph(_sentences(m, observation), heading=m("method.observation")),
            Paragraph("", items=sources, heading=m("method.data")),
            Paragraph("", items=definitions, heading=m("method.definitions")),
            Paragraph("", items=_reproduce(data, m, out_name), heading=m("method.reproduce")),
        ],
    )


def _days(data: ReportData, m: Messages) -> str:
    """Days are UTC days; where the report's zone keeps one offset, when they begin in it."""
    zone = m.zone_name(data.period.start.year)
    if zone == "UTC" or "/" in zone:
        return m("method.days")
    start = m.moment(f"{data.period.start.isoformat()}T00:00:00+00:00")
    return m("method.days_local", zone=zone, time=start.strftime("%H:%M").lstrip("0") or "0:00")


def _reproduce(data: ReportData, m: Messages, out_name: str | None) -> list[str]:
    """The teiten version, the data's digest, the settings and the command that remakes it."""
    settings = data.settings
    country = data.focus.country
    items = [
        m("method.version", version=data.version),
        m("method.digest", digest=data.method.digest),
        m(
            "method.settings",
            metric=m(f"metric.{data.metric}"),
            top=data.top,
            country=m("country_code", name=m.country(country), code=country),
        ),
        m("method.config", name=settings.file.name, digest=settings.file.digest)
        if settings.file is not None
        else m("method.config_none"),
    ]
    return [*items, m("method.command", command=_command(data, m.lang, out_name))]


def _command(data: ReportData, lang: str, out_name: str | None) -> str:
    """``teiten report …`` as it makes this report again (the store left as STORE)."""
    import shlex

    args = ["teiten", "report", "--store", "STORE", "--period", data.period.label]
    args += ["--lang", lang, "--metric", data.metric, "--top", str(data.top)]
    args += ["--focus-country", data.focus.country]
    if data.settings.file is not None:
        args += ["--config", data.settings.file.name]
    if data.generated is not None:
        args += ["--generated", data.generated.isoformat()]
    args += ["--out", out_name or f"report.{lang}.html"]
    return " ".join(shlex.quote(a) for a in args)
