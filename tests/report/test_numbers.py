"""The report's rankings are exactly `teiten top ports|countries --metric M --json`'s.

The numbers are read back out of the rendered files — the HTML's cells (their
``data-value`` and their text) and the Markdown's pipe tables — and compared with
the JSON the CLI prints for the same store, period and metric.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from teiten.analyze.periods import parse_period
from teiten.cli import main
from teiten.report import build_report, write_report
from teiten.report.publish import shown_per_sensor, shown_share
from teiten.report.settings import ReportSettings

from .conftest import PERIOD


def top_json(store, dimension: str, metric: str, *extra: str) -> dict:
    args = ["top", dimension, "--store", str(store.root), "--period", PERIOD]
    result = CliRunner().invoke(main, [*args, "--metric", metric, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


class _Tables(HTMLParser):
    """Each <table>: its caption and rows of (text, data-value) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: dict | None = None
        self._caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"id": a.get("id"), "caption": "", "rows": []})
        elif tag == "caption":
            self._caption = True
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag == "td":
            self._cell = {"text": "", "value": json.loads(a["data-value"])}

    def handle_endtag(self, tag):
        if tag == "td":
            self.tables[-1]["rows"][-1].append(self._cell)
            self._cell = None
        elif tag == "caption":
            self._caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        elif self._caption:
            self.tables[-1]["caption"] += data


def html_tables(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    for t in parser.tables:
        t["rows"] = [r for r in t["rows"] if r]  # the header row has no <td>
    return parser.tables


def md_tables(text: str) -> list[list[list[str]]]:
    """Pipe tables of a Markdown file: rows of cell texts (header and rule dropped)."""
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif current:
            tables.append(current[2:])
            current = []
    return tables


def number(text: str) -> float:
    """A cell's number: without its thousands separators, % and attribution mark (†, ‡)."""
    return float(text.replace(",", "").rstrip("%†‡"))


def shown_precision(text: str) -> float:
    """How far a shown number may be from the exact one: half its last digit."""
    digits = text.rstrip("%†‡")
    return (0.05 if "." in digits else 0.5) + 1e-6


def check_per_sensor_text(text: str, exact: float) -> None:
    """The one rounding rule: whole numbers, one decimal below 10, never "….0"."""
    digits = text.rstrip("†‡")
    assert not digits.endswith(".0") or abs(exact) < 10, text
    if abs(exact) >= 10:
        assert "." not in digits, text
    assert digits == (f"{exact:.1f}" if abs(exact) < 9.95 else f"{round(exact):,}"), text


def port_key(row: dict) -> tuple[str, str]:
    """(data-value, text) of a port cell: 23/tcp and 23/TCP; ICMP rows by type."""
    proto = row["proto"]
    if row["port"] is None:
        return f"{proto}/{row['icmp_type']}", f"{proto.upper()} ({row['icmp_type']})"
    return f"{row['port']}/{proto}", f"{row['port']}/{proto.upper()}"


FIELD = {"per-sensor": "per_sensor", "packets": "packets", "sources": "sources"}


def check_html(
    table: dict, rows: list[dict], metric: str, dimension: str, published: bool = False
) -> None:
    """``published``: sensor counts published, the cells carry the exact values; else
    per-sensor values and shares as shown (exact ones give the sensor count away)."""
    assert len(table["rows"]) == len(rows) == 5
    for cells, row in zip(table["rows"], rows, strict=True):
        rank, key, *rest = cells
        value, share, previous = rest[-3:]
        assert rank["value"] == row["rank"] and int(rank["text"]) == row["rank"]
        if dimension == "ports":
            assert (key["value"], key["text"]) == port_key(row)
        else:
            assert key["value"] == row["country"]
        exact = row[FIELD[metric]]
        if published or metric != "per-sensor":
            assert value["value"] == exact  # exactly the JSON's number
        else:
            assert value["value"] == shown_per_sensor(exact)
        if metric == "per-sensor":
            check_per_sensor_text(value["text"], row["per_sensor"])
        assert abs(number(value["text"]) - row[FIELD[metric]]) <= shown_precision(value["text"])
        assert share["value"] == (row["share"] if published else shown_share(row["share"]))
        assert number(share["text"]) == pytest.approx(round(row["share"] * 100, 1))
        assert previous["value"] == row["previous_rank"]
        expected = row["previous_rank"]
        if expected is None or expected > 10:
            assert previous["text"] in ("TOP10外", "outside top 10")
        else:
            assert int(previous["text"]) == expected


def check_md(table: list[list[str]], rows: list[dict], metric: str, dimension: str) -> None:
    assert len(table) == len(rows)
    for cells, row in zip(table, rows, strict=True):
        assert int(cells[0]) == row["rank"]
        if dimension == "ports":
            assert cells[1] == port_key(row)[1]
        assert abs(number(cells[-3]) - row[FIELD[metric]]) <= shown_precision(cells[-3])
        if metric == "per-sensor":
            check_per_sensor_text(cells[-3], row["per_sensor"])
        assert number(cells[-2]) == pytest.approx(round(row["share"] * 100, 1))


def test_default_metric_is_per_sensor_and_matches_top_json(report_store, report_data, rendered):
    assert report_data.metric == "per-sensor"
    ports = top_json(report_store, "ports", "per-sensor", "--limit", "5")
    countries = top_json(report_store, "countries", "per-sensor", "--limit", "5")
    assert report_data.ports.ranking.as_json() == ports
    # the report keeps the full country ranking's totals; the shown rows are the top 5
    assert report_data.countries.ranking.as_json()["rows"] == countries["rows"]
    assert report_data.countries.ranking.total == countries["total"]
    for lang in ("ja", "en"):
        html = rendered[lang, "html"].read_text(encoding="utf-8")
        tables = html_tables(html)
        check_html(tables[0], ports["rows"], "per-sensor", "ports")
        check_html(tables[1], countries["rows"], "per-sensor", "countries")
        md = md_tables(rendered[lang, "md"].read_text(encoding="utf-8"))
        check_md(md[0], ports["rows"], "per-sensor", "ports")
        check_md(md[1], countries["rows"], "per-sensor", "countries")


@pytest.mark.parametrize("metric", ["sources", "packets"])
def test_other_metrics_match_top_json(report_store, tmp_path, metric):
    published = metric == "packets"  # total packets only with sensor counts published
    settings = ReportSettings(publish_sensor_counts=published)
    period = parse_period(PERIOD)
    data = build_report(report_store, period, metric=metric, findings=[], settings=settings)
    out = write_report(data, tmp_path / "r.html", lang="en", fmt="html")[0]
    tables = html_tables(out.read_text(encoding="utf-8"))
    for table, dimension in zip(tables[:2], ("ports", "countries"), strict=True):
        expected = top_json(report_store, dimension, metric, "--limit", "5")
        check_html(table, expected["rows"], metric, dimension, published)


def test_focus_country_table_matches_top_json_for_that_country(report_store, rendered):
    expected = top_json(report_store, "ports", "per-sensor", "--limit", "5", "--country", "JP")
    html = rendered["ja", "html"].read_text(encoding="utf-8")
    (focus,) = [t for t in html_tables(html) if "日本からの" in t["caption"]]
    check_html(focus, expected["rows"], "per-sensor", "ports")


PERCENT = re.compile(r"\d+(?:\.\d+)?%")


def section_paragraphs(html: str, section: str) -> list[str]:
    """The visible text of each <p> of a report section, unescaped."""
    body = re.search(rf'<section id="{section}">(.*?)</section>', html, re.S)
    assert body, section
    return [unescape(re.sub(r"<[^>]+>", "", p)) for p in re.findall(r"<p>(.*?)</p>", body[1], re.S)]


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("section, table", [("ports", 0), ("countries", 1)])
def test_shares_in_the_ranking_text_are_the_tables(rendered, lang, section, table):
    """Every share the ranking paragraph quotes is written as the table writes it."""
    html = rendered[lang, "html"].read_text(encoding="utf-8")
    rows = html_tables(html)[table]["rows"]
    shares = {row[-2]["text"] for row in rows} | {row[-4]["text"] for row in rows}  # busiest
    first_row_share = html_tables(html)[table]["rows"][0][-2]["text"]
    paragraph = section_paragraphs(html, section)[0]  # the text before the table
    quoted = PERCENT.findall(paragraph)
    assert quoted and quoted[0] == first_row_share, paragraph
    assert set(quoted) <= shares, paragraph
    for share in shares:
        assert re.fullmatch(r"\d+\.\d%", share), share  # one decimal, always


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_per_sensor_value_ends_in_point_zero(report_data, rendered, lang):
    """Neither a table cell nor the overview's text writes a per-sensor value as "….0"."""
    html = rendered[lang, "html"].read_text(encoding="utf-8")
    tables = html_tables(html)
    ranking_tables = [  # those with a share column: ports, regions, the focus country's ports
        t for t in tables if t["rows"] and all(PERCENT.fullmatch(r[-2]["text"]) for r in t["rows"])
    ]
    assert len(ranking_tables) == 3
    for t in ranking_tables:
        for row in t["rows"]:
            cell = row[-3]
            assert not cell["text"].rstrip("†‡").endswith(".0") or cell["value"] < 10, cell
    md = rendered[lang, "md"].read_text(encoding="utf-8")
    for t in md_tables(md)[:2]:
        for row in t:
            assert not re.search(r"\d{2,}\.0[†‡]?$", row[-3]), row
    overview = " ".join(section_paragraphs(html, "overview"))
    per_sensor = report_data.overview.per_sensor
    expected = f"{per_sensor:.1f}" if per_sensor < 9.95 else f"{round(per_sensor):,}"
    assert expected in overview
    assert not re.search(r"\d{2,}\.0(?!\d)", overview), overview


def test_one_rounding_rule_for_report_findings_and_cli():
    """The report's formatter and the findings' texts write numbers the same way."""
    from teiten import numbers
    from teiten.analyze.phenomena import texts
    from teiten.report.messages import Messages

    for lang in ("ja", "en"):
        m = Messages(lang)
        assert m.per_sensor(410_119.0) == "410,119" and m.per_sensor(38_298.04) == "38,298"
        assert m.per_sensor(7.25) == "7.2" and m.per_sensor(9.96) == "10"
        assert m.percent(0.075) == "7.5%" == texts.share(0.075)  # not "8%" in the text
        assert m.metric_value({"per_sensor": 38_298.0}, "per-sensor") == "38,298"
    assert texts.per_sensor(410_119.0) == numbers.per_sensor(410_119.0) == "410,119"
