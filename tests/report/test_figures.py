"""The report's figures as composed: one x range per section, the period shaded, the
metric named on the axis, legends in the report's language, and no chart drawn twice."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, timedelta

import pytest

from teiten.analyze.phenomena import Finding
from teiten.report.compose import Document, Figure, Paragraph, compose
from teiten.report.messages import Messages
from teiten.report.model import ReportData
from teiten.report.series import CONTEXT_DAYS

Q2 = (date(2019, 4, 1), date(2019, 6, 30))


def _dates(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _finding(kind: str, subject: dict, values: dict, dates: list[str], **evidence) -> Finding:
    """A finding whose evidence series has the shape its detector writes."""
    unit = evidence.pop("unit", None)
    series = {"dates": dates, "values": values, **({"unit": unit} if unit else {})}
    return Finding(
        kind=kind,
        subject=subject,
        title={"ja": f"{kind}の見出し", "en": f"{kind} heading"},
        text={"ja": f"{kind}の本文。", "en": f"{kind} text."},
        evidence={"series": series, **evidence},
        score=5.0,
        headline=True,
    )


def _findings() -> list[Finding]:
    lookback = _dates(date(2019, 3, 4), Q2[1])  # changes: 28 days before the period
    halves = _dates(date(2019, 1, 1), Q2[1])  # crossovers: the previous quarter too
    quarter = _dates(*Q2)
    per = "packets per sensor and day (probes)"
    cn = [50.0 + i % 5 for i in range(len(lookback))]
    return [
        _finding(
            "crossover",
            {"country": "JP", "rising": "445/tcp", "falling": "23/tcp"},
            {"445/tcp": [10.0 + i / 9 for i in range(181)], "23/tcp": [25.0] * 181},
            halves,
            unit="packets",
            per=per,
        ),
        _finding(
            "mirai_share",
            {"country": "JP", "tag": "mirai"},
            {"JP mirai": [0.5 - i / 300 for i in range(91)]},
            quarter,
            unit="share",
        ),
        _finding("surge", {"country": "CN"}, {"CN": cn}, lookback, unit="packets", per=per),
        _finding("drop", {"country": "CN"}, {"CN": cn}, lookback, unit="packets", per=per),
    ]


@pytest.fixture(scope="module")
def data(report_data: ReportData) -> ReportData:
    return replace(report_data, findings=_findings())


@pytest.fixture(scope="module")
def docs(data: ReportData) -> dict[str, Document]:
    return {lang: compose(data, lang) for lang in ("ja", "en")}


def _figures(doc: Document, section: str | None = None) -> list[Figure]:
    return [
        b
        for s in doc.sections
        if section in (None, s.id)
        for b in s.blocks
        if isinstance(b, Figure)
    ]


def _svg(figure: Figure) -> ET.Element:
    return ET.fromstring(figure.svg)


def _of(root: ET.Element, cls: str) -> list[str]:
    return [e.text or "" for e in root.iter() if e.get("class") == cls]


def test_each_section_draws_its_charts_over_one_x_range(docs):
    for doc in docs.values():
        for section in doc.sections:
            ranges = {
                (_svg(f).get("data-first"), _svg(f).get("data-last")) for f in _figures(doc)
                if f in section.blocks
            }  # fmt: skip
            assert len(ranges) <= 1, (section.id, ranges)
            for first, last in ranges:
                assert first <= Q2[0].isoformat() and last >= Q2[1].isoformat()
        (phenomena,) = {
            (_svg(f).get("data-first"), _svg(f).get("data-last"))
            for f in _figures(doc, "phenomena")
        }
        assert phenomena == ("2019-01-01", "2019-06-30")  # the crossover's two quarters


def test_every_chart_shades_the_report_period(docs):
    for lang, doc in docs.items():
        label = Messages(lang)("chart.period")
        for figure in _figures(doc):
            root = _svg(figure)
            assert [e for e in root.iter() if e.get("class") == "period"], figure.id
            assert label in _of(root, "legend"), figure.id


def test_legends_name_the_lines_in_the_report_language(docs):
    expected = {
        "ja": {"日本・Mirai型", "全体・Mirai型", "445/TCP", "23/TCP", "中国", "全体", "スキャン"},
        "en": {"Japan, Mirai-type", "all sources, Mirai-type", "445/TCP", "China", "Scans"},
    }
    for lang, doc in docs.items():
        legends = {t for f in _figures(doc) for t in _of(_svg(f), "legend")}
        assert expected[lang] <= legends, expected[lang] - legends
        for text in legends:  # never a raw key
            assert not re.search(r"/(tcp|udp)\b|\bmirai\b|^[A-Z]{2}$|^all$|^\?\?$", text), text


def test_axis_labels_name_the_metric_plotted(docs):
    labels = {
        lang: {f.id: _of(_svg(f), "y-label")[0] for f in _figures(doc)}
        for lang, doc in docs.items()
    }
    per_sensor = {"ja": "センサー1台・1日あたりのパケット数（7日移動中央値）",
                  "en": "Packets per sensor per day (7-day moving median)"}  # fmt: skip
    mirai = {"ja": "Mirai型パケットの割合（%）（7日移動中央値）",
             "en": "Share of Mirai-type packets (%) (7-day moving median)"}  # fmt: skip
    events = {"ja": "1日あたりの件数", "en": "Events per day"}
    for lang, by_id in labels.items():
        doc = docs[lang]
        ids = {f.name: f.id for f in _figures(doc)}
        for name in ("overview", "ports", "countries", "focus-ports"):
            assert by_id[ids[name]] == per_sensor[lang], name
        # the detectors plot per-sensor values, whatever unit their evidence declares
        assert by_id[ids["phenomenon-1"]] == per_sensor[lang]  # crossover
        assert by_id[ids["phenomenon-3"]] == per_sensor[lang]  # surge
        assert by_id[ids["phenomenon-2"]] == mirai[lang]
        assert by_id[ids["events"]] == events[lang]


def test_a_chart_of_lines_already_drawn_refers_to_that_figure(docs):
    for lang, doc in docs.items():
        m = Messages(lang)
        names = {f.name: f for f in _figures(doc)}
        mirai, surge = names["phenomenon-2"], names["phenomenon-3"]
        # the drop draws the surge's series: a sentence cites the surge's figure instead
        assert "phenomenon-4" not in names
        (phenomena,) = [s for s in doc.sections if s.id == "phenomena"]
        surge_label = m("figure", n=int(surge.id.split("-")[1]))
        references = [
            b.text for b in phenomena.blocks if isinstance(b, Paragraph) and surge_label in b.text
        ]
        drop_title = {"ja": "dropの見出し", "en": "drop heading"}[lang]
        assert references == [m("figure.see", caption=drop_title, figure=surge_label)]
        # the focus section's Mirai chart is the finding's (with all sources beside it)
        assert "focus-mirai" not in names
        both = {"ja": {"日本・Mirai型", "全体・Mirai型"}, "en": {"Japan, Mirai-type"}}[lang]
        assert both <= set(_of(_svg(mirai), "legend"))
        (focus,) = [s for s in doc.sections if s.id == "focus"]
        mirai_label = m("figure", n=int(mirai.id.split("-")[1]))
        assert any(mirai_label in b.text for b in focus.blocks if isinstance(b, Paragraph))
        numbers = [int(f.id.split("-")[1]) for f in _figures(doc)]
        assert numbers == list(range(1, len(numbers) + 1))  # still numbered without gaps


def test_without_the_finding_the_focus_section_draws_its_mirai_chart(report_data):
    doc = compose(replace(report_data, findings=[]), "en")
    (focus,) = [s for s in doc.sections if s.id == "focus"]
    (figure,) = [b for b in focus.blocks if isinstance(b, Figure) and b.name == "focus-mirai"]
    assert {"Japan", "all sources"} <= set(_of(_svg(figure), "legend"))
    cited = Messages("en")("figure", n=int(figure.id.split("-")[1]))
    assert any(cited in b.text for b in focus.blocks if isinstance(b, Paragraph))


def test_trends_carry_the_days_before_the_period(report_data):
    from teiten.report.compose import _figure, _Numbering

    trend = report_data.ports.trend
    assert trend.dates[0] == Q2[0] and len(trend.dates) == 91  # the period's own days
    assert trend.context is not None and set(trend.context.values) == set(trend.values)
    assert trend.context.dates[-1] == Q2[0] - timedelta(days=1)
    assert len(trend.context.dates) == CONTEXT_DAYS
    m = Messages("en")
    figure = _figure(_Numbering(m), m, "ports", "Ports", trend, report_data.period, scope="p")
    assert isinstance(figure, Figure)
    root = _svg(figure)
    assert root.get("data-first") == (Q2[0] - timedelta(days=CONTEXT_DAYS)).isoformat()


def test_the_same_data_draws_the_same_bytes(data, docs):
    again = compose(data, "ja")
    assert [f.svg for f in _figures(again)] == [f.svg for f in _figures(docs["ja"])]
