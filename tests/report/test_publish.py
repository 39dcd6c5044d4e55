"""What a CSIRT publishes: its name, contact and disclaimer; times in its zone; and, by
default, no sensor count or darknet size, nor two numbers whose ratio gives them."""

from __future__ import annotations

import html as markup
import json
import re
from dataclasses import replace

import pytest

from teiten.report import compose, html_report, write_report
from teiten.report.publish import DAILY_DIGITS, public, shown_per_sensor, significant
from teiten.report.settings import ReportSettings

from .conftest import visible_text

PUBLISHER = ReportSettings(
    organisation_ja="サンプルCSIRT",
    organisation_en="Example CSIRT",
    contact_email="csirt@example.jp",
    contact_url="https://csirt.example.jp/",
    disclaimer_ja="本レポートは現状のまま提供します。",
    disclaimer_en="This report is provided as is.",
    tlp="CLEAR",
)
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def data(report_data):
    """The shared report without findings (their section is not this module's concern)."""
    return replace(report_data, findings=[])


def _outputs(data, tmp_path, lang: str) -> dict[str, str]:
    """The visible text of the HTML and the Markdown of ``data`` in ``lang``."""
    html = write_report(data, tmp_path / f"r-{lang}.html", lang=lang, fmt="html")[0]
    md = write_report(data, tmp_path / f"r-{lang}.md", lang=lang, fmt="md")[0]
    return {
        "html": visible_text(html.read_text(encoding="utf-8")),
        "md": md.read_text(encoding="utf-8"),
    }


def test_organisation_contact_and_disclaimer_in_both_languages_and_formats(data, tmp_path):
    data = replace(data, settings=PUBLISHER)
    expected = {
        "ja": ["サンプルCSIRTでは、インターネット上で", "発行: サンプルCSIRT",
               "本レポートは現状のまま提供します。"],
        "en": ["Example CSIRT observes the packets", "Published by Example CSIRT",
               "This report is provided as is."],
    }  # fmt: skip
    for lang, phrases in expected.items():
        for fmt, text in _outputs(data, tmp_path, lang).items():
            for phrase in [*phrases, "csirt@example.jp", "https://csirt.example.jp/", "TLP:CLEAR"]:
                assert phrase in text, (lang, fmt, phrase)
            assert "teitenでは" not in text and "teiten observes" not in text
    html = html_report(data, "en")
    assert 'href="https' not in html  # the contact is text, not a link out of the page


def test_without_an_organisation_the_text_is_neutral_with_a_default_disclaimer(data, tmp_path):
    ja, en = _outputs(data, tmp_path, "ja"), _outputs(data, tmp_path, "en")
    for text in ja.values():
        assert "本レポートは、インターネット上で使用されていないIPアドレス" in text
        assert "免責事項: 本レポートの内容は" in text and "発行者は責任を負いません" in text
        assert "teitenでは" not in text and "TLP:" not in text and "発行:" not in text
    for text in en.values():
        assert "This report describes the packets arriving at sensors" in text
        assert "Disclaimer: This report is based on observations" in text
        assert "teiten observes" not in text


def test_a_title_of_its_own(data):
    data = replace(data, settings=ReportSettings(title_ja="サンプルCSIRT 定点観測レポート"))
    assert compose(data, "ja").title == "サンプルCSIRT 定点観測レポート（2019年4月～6月）"
    assert compose(data, "en").title.startswith("サンプルCSIRT 定点観測レポート (April")


def _tables(doc) -> list:
    return [b for s in doc.sections for b in s.blocks if b.kind == "table"]


def _dos_starts(doc) -> tuple[str, list[tuple[str, str]]]:
    """The DoS table's start column: its header, and each row's (text, data-value)."""
    (table,) = [t for t in _tables(doc) if "DoS" in t.caption]
    column = next(i for i, c in enumerate(table.columns) if c.startswith(("開始", "Start")))
    return table.columns[column], [(r[column].text, r[column].value) for r in table.rows]


def test_times_are_in_the_configured_zone_which_the_text_names(data):
    assert data.dos.largest, "the simulated quarter has DoS attacks"
    first = data.dos.largest[0]["start"]  # UTC
    ja = compose(data, "ja")  # Japanese: JST by default
    header, rows = _dos_starts(ja)
    text, value = rows[0]
    assert header == "開始日時（JST）" and value.endswith("+09:00")
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(first) + timedelta(hours=9)
    assert text == f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
    method = visible_text(html_report(data, "ja"))
    assert "本文と表の時刻はJST（UTC+9）で示しています" in method
    assert "協定世界時（UTC）の0時で日付を区切っています（JST（UTC+9）では各日の9:00から" in method
    en = compose(data, "en")  # English: UTC by default
    header, rows = _dos_starts(en)
    assert header == "Start (UTC)" and rows[0][1].endswith("+00:00")
    berlin = replace(data, settings=ReportSettings(timezone="Europe/Berlin"))
    assert _dos_starts(compose(berlin, "en"))[0] == "Start (Europe/Berlin)"
    assert "Times are given in Europe/Berlin." in visible_text(html_report(berlin, "en"))


def _numbers(page: str) -> set[float]:
    """Every number of a page's text and its cells' data-values (charts' axes left out)."""
    page = re.sub(r"<svg.*?</svg>|<style>.*?</style>", "", page, flags=re.S)
    values = [json.loads(markup.unescape(v)) for v in re.findall(r'data-value="([^"]*)"', page)]
    text = markup.unescape(re.sub(r"<[^>]+>", " ", page))
    found = {float(t.replace(",", "")) for t in NUMBER.findall(text)}
    return found | {float(v) for v in values if type(v) in (int, float)}


def _sensor_count_pairs(numbers: set[float], sensors: int) -> list[tuple[float, float]]:
    """Pairs (total, per sensor) whose ratio is the sensor count, within the rounding of a
    whole-number per-sensor value; per-sensor values of 1,000 and more (fewer chance hits)."""
    return [
        (a, b)
        for b in numbers
        if b >= 1000
        for a in numbers
        if abs(a - sensors * b) <= sensors / 2 + 0.5
    ]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_by_default_no_sensor_count_or_darknet_size_can_be_read_or_computed(data, tmp_path, lang):
    o, sensors, size = data.overview, data.overview.sensors, data.method
    assert sensors > 1 and o.packets
    page = html_report(data, lang)
    text = visible_text(page) + _outputs(data, tmp_path, lang)["md"]
    counted = ["台のセンサー", f"the {sensors} sensors", f"{sensors} sensors", f"{sensors}台"]
    assert not any(phrase in text for phrase in counted)
    for total in (o.packets, o.kinds.get("probe", 0), data.focus.packets, size.darknet_size):
        assert f"{total:,}" not in text, total  # totals and the darknet's size
    assert not _sensor_count_pairs(_numbers(page), sensors)
    # cells carry per-sensor values and shares as shown: 80,818.25 (a quarter) tells the
    # count, and a six-digit share is a ratio of two packet counts
    for table in _tables(compose(data, lang)):
        for i, column in enumerate(table.columns):
            for row in table.rows:
                value = row[i].value
                if "per sensor" in column.lower() or "1台あたり" in column:
                    assert value == shown_per_sensor(value), (table.caption, value)
                elif column in ("Share", "割合"):
                    assert value == round(value, 3), (table.caption, value)
    published = replace(data, settings=ReportSettings(publish_sensor_counts=True))
    shown = html_report(published, lang)  # the test can fail: the published report shows both
    assert _sensor_count_pairs(_numbers(shown), sensors)
    assert f"{size.darknet_size:,}" in visible_text(shown)


def test_scans_give_packets_per_sensor_unless_counts_are_published(data):
    def scans_table(data):
        doc = compose(data, "en")
        (table,) = [b for s in doc.sections for b in s.blocks if b.kind == "table"
                    and "scanned" in b.caption]  # fmt: skip
        return table

    hidden = scans_table(data)
    assert hidden.columns[-1] == "Packets per sensor"
    shown = scans_table(replace(data, settings=ReportSettings(publish_sensor_counts=True)))
    assert shown.columns[-1] == "Packets"
    for row, per_sensor in zip(shown.rows, hidden.rows, strict=True):
        packets = row[-1].value
        assert per_sensor[-1].value == shown_per_sensor(packets / data.overview.sensors)


def test_daily_values_are_rounded_unless_exact(report_data):
    shown = public(report_data)
    series = [shown.overview.daily, shown.ports.trend, shown.countries.trend, shown.focus.mirai]
    series += [shown.focus.ports.trend]
    exact_values = [v for s in series for vs in s.values.values() for v in vs if v is not None]
    assert exact_values
    assert all(v == significant(v) for v in exact_values)
    assert any(v != significant(v) for vs in report_data.overview.daily.values.values()
               for v in vs if v is not None)  # fmt: skip
    for finding in (f for f in shown.findings if "series" in f.evidence):
        for values in finding.evidence["series"]["values"].values():
            assert all(v is None or v == significant(v) for v in values)
    both = ReportSettings(exact_daily_counts=True, publish_sensor_counts=True)
    exact = public(replace(report_data, settings=both))
    assert exact.overview.daily == report_data.overview.daily
    # exact days, counts withheld: per-sensor values still whole (their fraction tells)
    whole = public(replace(report_data, settings=ReportSettings(exact_daily_counts=True)))
    assert all(
        v == round(v) for vs in whole.overview.daily.values.values() for v in vs if v and v >= 10
    )
    assert whole.focus.mirai == report_data.focus.mirai  # shares stay exact
    assert "有効数字3桁" in visible_text(html_report(replace(report_data, findings=[]), "ja"))
    assert DAILY_DIGITS == 3


def test_the_charts_change_with_the_rounding(data):
    exact = replace(data, settings=ReportSettings(exact_daily_counts=True))
    rounded = [b.svg for s in compose(data, "en").sections for b in s.blocks
               if b.kind == "figure"]  # fmt: skip
    drawn = [b.svg for s in compose(exact, "en").sections for b in s.blocks if b.kind == "figure"]
    assert rounded != drawn  # what the charts carry comes from the rounded values
