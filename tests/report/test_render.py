"""Both languages render every section; HTML is self-contained; no sensor prefix leaks."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from teiten.report import build_report, compose, html_report
from teiten.report.markdown import charts_dir

from .conftest import sensor_prefix_forms, visible_text

JA_HEADINGS = [
    "インターネット定点観測レポート（2019年4月～6月）",
    "観測期間: 2019年4月1日～2019年6月30日",
    "概況",
    "宛先ポート別パケット数 上位5位",
    "送信元地域別パケット数 上位5位",
    "注目された現象",
    "日本を送信元とするパケット",
    "DoS攻撃のバックスキャッタとスキャン活動",
    "観測方法とデータ",
    "前四半期順位",
]
EN_HEADINGS = [
    "Internet Fixed-Point Observation Report (April–June 2019)",
    "Observation period: April 1, 2019 – June 30, 2019",
    "Top 5 destination ports by packets per sensor",
    "Top 5 source regions by packets per sensor",
    "Notable phenomena",
    "Packets from Japan",
    "Method and data sources",
    "Rank in previous quarter",
]


@pytest.mark.parametrize(("lang", "headings"), [("ja", JA_HEADINGS), ("en", EN_HEADINGS)])
def test_each_language_renders_every_section(rendered, report_data, lang, headings):
    for fmt in ("html", "md"):
        text = rendered[lang, fmt].read_text(encoding="utf-8")
        if fmt == "html":
            text = visible_text(text)
        for heading in headings:
            assert heading in text, (lang, fmt, heading)
        for finding in report_data.findings:  # the findings' own words, in this language
            if finding.headline:
                assert finding.title[lang] in text
            else:  # the appendix names what it is about
                assert ("ジョージア" if lang == "ja" else "Georgia") in text


def test_japanese_reads_japanese(rendered):
    text = visible_text(rendered["ja", "html"].read_text(encoding="utf-8"))
    assert "中国" in text or "米国" in text  # region names in Japanese, not "China"
    assert "China" not in text and "United States" not in text
    assert re.search(r"\d{1,3}(,\d{3})+パケット", text)  # grouped numbers
    assert "表1" in text and "図1" in text
    assert "previous" not in text.lower() and "outside top 10" not in text


def test_html_has_no_external_reference(rendered):
    for lang in ("ja", "en"):
        html = rendered[lang, "html"].read_text(encoding="utf-8")
        # the SVG namespace is a name, not a reference; nothing else may say http(s)
        without_ns = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?:|//[a-z]", without_ns, re.I)
        assert not re.search(r"\s(src|srcset|poster|data)\s*=", html, re.I)
        for href in re.findall(r'href\s*=\s*"([^"]*)"', html, re.I):
            assert href.startswith("#"), href  # only links inside the page
        assert not re.search(r"@import|@font-face|url\(", html, re.I)
        assert "<link" not in html and "<script" not in html and "<img" not in html
        assert '"IPAexGothic"' in html and '"Noto Sans CJK JP"' in html  # CSS fonts


def test_no_sensor_prefix_in_any_output(report_data, rendered):
    texts = [json.dumps(report_data.as_json(), default=str)]
    for path in rendered.values():
        texts.append(path.read_text(encoding="utf-8"))
    for path in charts_dir(rendered["ja", "md"]).glob("*.svg"):
        texts.append(path.read_text(encoding="utf-8"))
    for text in texts:
        lowered = text.lower()
        for form in sensor_prefix_forms():
            assert form.lower() not in lowered, form


def test_markdown_links_its_charts_beside_it(rendered):
    for lang in ("ja", "en"):
        md = rendered[lang, "md"]
        links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md.read_text(encoding="utf-8"))
        assert len(links) >= 7  # overview, 2 rankings, 2 findings, focus ×2, events
        for link in links:
            assert not link.startswith(("/", "http")), link
            svg = md.parent / link
            root = ET.fromstring(svg.read_text(encoding="utf-8"))  # well-formed
            assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_findings_get_their_evidence_chart(report_data):
    doc = compose(report_data, "en")
    (section,) = [s for s in doc.sections if s.id == "phenomena"]
    figures = [b for b in section.blocks if b.kind == "figure"]
    assert len(figures) == 2
    assert "Surge of packets to 5432/TCP" in figures[0].caption  # most notable first
    assert figures[0].svg.count('<polyline class="line"') == 1  # the main line (and daily)
    japan = '<polyline class="line" fill="none" stroke="#0072B2"'  # the first line's colour
    assert figures[1].svg.count(japan) == 1  # the None half is a gap, not a zero


def test_without_findings_the_section_says_so(report_store, report_data):
    from dataclasses import replace

    html = html_report(replace(report_data, findings=[]), "en")
    assert "No notable phenomena were detected" in visible_text(html)


def test_an_empty_period_still_renders(report_store):
    from teiten.analyze.periods import parse_period

    data = build_report(report_store, parse_period("2018Q1"), findings=[])
    assert data.overview.packets == 0 and data.ports.ranking.rows == []
    for lang in ("ja", "en"):
        html = html_report(data, lang)
        assert "<table" not in html
    assert "該当するパケットはありませんでした" in visible_text(html_report(data, "ja"))


def test_the_detected_phenomena_are_reported(report_store):
    from teiten.analyze.periods import parse_period
    from teiten.analyze.phenomena import find_phenomena
    from teiten.analyze.phenomena.review import subject_label
    from teiten.knowledge import load_knowledge
    from teiten.store import DuckDBEngine

    period = parse_period("2019Q2")
    with DuckDBEngine(report_store) as engine:
        detected = find_phenomena(engine, period, kb=load_knowledge(store=report_store.root))
    data = build_report(report_store, period)
    assert data.findings, "the demo's 2019q2 scenario plants phenomena"
    assert [f.text for f in data.findings] == [f.text for f in detected]
    headlines = [f for f in data.findings if f.headline]
    assert 3 <= len(headlines) <= 5  # the 2019q2 story's broad changes lead the report
    for lang in ("ja", "en"):
        text = visible_text(html_report(data, lang))
        for finding in headlines:  # each in the body, with its own heading
            assert finding.title[lang] in text
        appendix = text[text.index("付録" if lang == "ja" else "Appendix") :]
        for finding in data.findings[len(headlines) :]:  # the others in the appendix table
            assert subject_label(finding, lang) in appendix
