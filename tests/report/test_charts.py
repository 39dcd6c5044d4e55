"""SVG line charts: ticks, gaps, the shaded period, the robust line, clipped spikes, styles."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teiten.report.charts import (
    CLIP_FACTOR,
    DASHES,
    FONT_FAMILY,
    PALETTE,
    ChartText,
    line_chart,
    line_style,
    moving_median,
    nice_ticks,
    window_for,
)
from teiten.report.messages import Messages
from teiten.report.model import Series

SVG = "{http://www.w3.org/2000/svg}"
JA = ChartText(Messages("ja").axis_date, "報告対象期間", "細線：日別の値", "軸の上限を超えた日")
EN = ChartText(Messages("en").axis_date)


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
def test_nice_ticks_cover_the_data_in_round_steps(high):
    ticks = nice_ticks(high)
    assert ticks[0] == 0 and ticks[-1] >= high * (1 - 1e-9)
    assert 3 <= len(ticks) <= 7
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


def test_nice_ticks_examples():
    assert nice_ticks(8247) == [0, 2000, 4000, 6000, 8000, 10000]
    assert nice_ticks(0.317) == [0, 0.1, 0.2, 0.3, 0.4]
    assert nice_ticks(0) == [0, 1]


def _days(n: int, first: date = date(2019, 4, 1)) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def _points(element: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in element.get("points", "").split()]


def _plot(root: ET.Element) -> tuple[float, float]:
    """The plot's bottom and top y: the lowest and highest grid lines."""
    ys = [float(g.get("y1", "nan")) for g in root.iter(f"{SVG}line") if g.get("class") == "grid"]
    return max(ys), min(ys)


def _of(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("class") == cls]


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_chart_is_valid_svg_with_gaps_legend_and_date_axis():
    days = _days(91)
    values = {
        "23/tcp": [float(i) for i in range(91)],
        "445/tcp": [None if 30 <= i < 40 else 5.0 for i in range(91)],
    }
    names = {"23/tcp": "23/TCP", "445/tcp": "445/TCP"}
    svg = line_chart(Series(days, values, "per-sensor"), names, y_label="件数", text=JA)
    root = ET.fromstring(svg)
    lines = _of(root, "line")
    assert len(lines) == 3  # one line, and one broken by the ten missing days
    assert {ln.get("stroke") for ln in lines} == set(PALETTE[:2])
    texts = _texts(root)
    assert "23/TCP" in texts and "445/TCP" in texts  # legend
    assert [t for t in texts if t.endswith("/1")] == ["4/1", "5/1", "6/1"]  # months
    assert "100" in texts and "件数" in texts  # y ticks to 100 for a maximum of 90; label
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert root.get("font-family") == FONT_FAMILY and "IPAexGothic" in FONT_FAMILY
    assert (root.get("data-first"), root.get("data-last")) == ("2019-04-01", "2019-06-30")


def test_share_charts_read_in_percent_and_text_is_escaped():
    svg = line_chart(
        Series(_days(7), {"<JP>": [0.1, 0.2, 0.25, None, 0.3, 0.1, 0.0]}, "share"),
        {"<JP>": "<JP> & all"},
        y_label="share",
        text=EN,
    )
    texts = _texts(ET.fromstring(svg))
    assert "30%" in texts and "<JP> & all" in texts
    assert "Apr 1" in texts  # a week: every day labelled


def test_an_empty_series_still_draws_axes():
    svg = line_chart(Series(_days(3), {}, "packets"), {}, y_label="", text=EN)
    root = ET.fromstring(svg)
    assert root.findall(f"{SVG}polyline") == []
    assert len(_of(root, "grid")) >= 2  # the 0 and 1 ticks


def test_the_report_period_is_shaded_at_its_dates():
    days = _days(119, date(2019, 3, 4))  # 28 days of context, then 2019Q2
    values = {"23/tcp": [100.0 + i % 7 for i in range(119)]}
    period = (date(2019, 4, 1), date(2019, 6, 30))
    svg = line_chart(
        Series(days, values, "per-sensor"), {}, y_label="", text=JA, period=period, window=7
    )
    root = ET.fromstring(svg)
    xs = [x for x, _ in _points(_of(root, "daily")[0])]  # one point a day
    (band,) = _of(root, "period")
    left, width = float(band.get("x", "")), float(band.get("width", ""))
    assert left == pytest.approx((xs[27] + xs[28]) / 2, abs=0.2)  # half a day before 4/1
    assert left + width == pytest.approx(xs[-1], abs=0.2)  # to the last day (the chart's end)
    assert float(band.get("height", "")) > 100  # the plot's height, not a strip
    assert "報告対象期間" in _texts(root)  # its legend entry


def test_a_period_outside_the_chart_is_not_shaded():
    svg = line_chart(
        Series(_days(10), {"a": [1.0] * 10}, "count"),
        {},
        y_label="",
        text=EN,
        period=(date(2020, 1, 1), date(2020, 1, 31)),
    )
    assert _of(ET.fromstring(svg), "period") == []
    assert "report period" not in svg


def test_a_single_day_spike_is_clipped_and_annotated():
    days = _days(91)
    values = [100.0 + (i * 37) % 21 for i in range(91)]  # 100 … 120
    values[17] = 10_600.0  # April 18
    other = [40.0 + (i * 11) % 9 for i in range(91)]
    series = Series(days, {"KR": values, "US": other}, "per-sensor")
    svg = line_chart(series, {}, y_label="", text=JA, period=(days[0], days[-1]), window=7)
    root = ET.fromstring(svg)
    bottom, top = _plot(root)
    height = bottom - top
    # the other days and the other series are not squashed into the bottom of the plot
    kr_line, us_line = _of(root, "line")
    assert min(bottom - y for _, y in _points(kr_line)) > 0.3 * height
    assert max(bottom - y for _, y in _points(us_line)) > 0.1 * height
    # the spike is drawn at the top, marked, and its value and date are written out
    kr_daily = _of(root, "daily")[0]
    assert min(y for _, y in _points(kr_daily)) == pytest.approx(top, abs=0.1)
    assert len(_of(root, "clip")) == 1
    (note,) = _of(root, "clip-note")
    assert note.text == "10,600 (4/18)"
    assert "軸の上限を超えた日" in _texts(root)  # the legend says what the mark means
    axis_top = max(float(t.replace(",", "")) for t in _texts(root) if re.fullmatch(r"[\d,]+", t))
    assert axis_top < 10_600 and axis_top <= CLIP_FACTOR * 120 * 1.25


def test_a_surge_of_several_days_is_not_clipped():
    values = [100.0] * 80 + [2_000.0] * 11  # the finding: drawn whole
    svg = line_chart(
        Series(_days(91), {"7001/tcp": values}, "per-sensor"), {}, y_label="", text=EN, window=7
    )
    root = ET.fromstring(svg)
    assert _of(root, "clip") == [] and _of(root, "clip-note") == []
    assert "2,000" in _texts(root)
    assert "above the axis" not in svg


def test_many_clipped_days_keep_their_notes_apart():
    values = [10.0] * 91
    for i in range(40, 58, 3):  # six single-day spikes, three days apart
        values[i] = 1_000.0 + i
    svg = line_chart(Series(_days(91), {"a": values}, "packets"), {}, y_label="", text=EN, window=7)
    root = ET.fromstring(svg)
    assert len(_of(root, "clip")) == 6  # every clipped day is marked
    notes = _of(root, "clip-note")
    assert 1 <= len(notes) <= 6
    assert notes[0].text == "1,055 (May 26)"  # the largest first
    spans = sorted(
        (float(n.get("y", "")), float(n.get("x", "")), len(n.text or "") * 6) for n in notes
    )
    for (y1, x1, w1), (y2, x2, w2) in itertools.pairwise(spans):
        assert y1 != y2 or abs(x1 - x2) >= (w1 + w2) / 2  # no two overlap in one row


def test_short_charts_and_event_counts_draw_daily_values():
    assert window_for(27, "per-sensor") == 1 and window_for(28, "per-sensor") == 7
    assert window_for(119, "count") == 1
    values = [1.0, 50.0, 2.0, 3.0, 1.0, 2.0, 4.0]
    svg = line_chart(Series(_days(7), {"scans": values}, "count"), {}, y_label="", text=EN)
    root = ET.fromstring(svg)
    assert _of(root, "daily") == [] and _of(root, "clip") == []
    assert "50" in _texts(root)  # unsmoothed, unclipped: the axis reaches the highest day


def test_moving_median_ignores_bursts_and_needs_most_of_its_window():
    values: list[float | None] = [10.0] * 20
    values[8] = values[9] = values[10] = 900.0  # a three-day burst
    smooth = moving_median(values)
    assert smooth == [10.0] * 20
    gappy: list[float | None] = [1.0, None, None, None, 2.0, 3.0, None, None, None, None]
    assert moving_median(gappy) == [None, None, None, None, None, None, None, None, None, None]
    assert moving_median([1.0, 2.0, 3.0, 4.0]) == [2.5, 2.5, 2.5, 2.5]  # edges: what is there
    assert moving_median([1.0, None], window=1) == [1.0, None]


def test_every_line_has_its_own_colour_and_dash_up_to_ten():
    styles = [line_style(i) for i in range(10)]
    assert len(set(styles)) == 10
    assert len({dash for _, dash in styles}) == 10  # so lines differ in grey print too
    assert styles[1][0] != styles[4][0] and styles[1][1] != styles[4][1]  # 2nd vs 5th
    assert len(set(DASHES)) == len(DASHES) and "#F0E442" not in PALETTE  # no pale yellow
    assert len({line_style(i) for i in range(70)}) == 70

    keys = [f"{p}/tcp" for p in (23, 445, 22, 3389, 80, 8080, 5555, 81, 7547, 37215)]
    values = {k: [float(n + i % 3) for i in range(30)] for n, k in enumerate(keys)}
    svg = line_chart(Series(_days(30), values, "per-sensor"), {}, y_label="", text=EN, window=7)
    root = ET.fromstring(svg)
    drawn = {(ln.get("stroke"), ln.get("stroke-dasharray", "")) for ln in _of(root, "line")}
    legend = {(ln.get("stroke"), ln.get("stroke-dasharray", "")) for ln in _of(root, "legend-line")}
    assert len(drawn) == 10 and drawn == legend


def test_light_and_dark_colours_alternate_in_grey():
    def grey(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    first_five = [grey(c) for c in PALETTE[:5]]
    assert min(abs(a - b) for a, b in itertools.pairwise(first_five)) > 20


def test_same_data_same_bytes():
    series = Series(_days(60), {"CN": [float(i % 13) for i in range(60)]}, "sources")
    period = (date(2019, 4, 29), date(2019, 5, 30))
    one = line_chart(series, {"CN": "中国"}, y_label="送信元", text=JA, period=period, window=7)
    two = line_chart(series, {"CN": "中国"}, y_label="送信元", text=JA, period=period, window=7)
    assert one == two


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_legend_names_for_every_key_shape(lang):
    m = Messages(lang)
    expected = {
        # key (as report.series, report.events and the phenomena detectors write it)
        "445/tcp": ("445/TCP", "445/TCP"),
        "53/udp": ("53/UDP", "53/UDP"),
        "icmp/8": ("ICMP (8)", "ICMP (8)"),
        "icmp": ("ICMP", "ICMP"),
        "JP": ("日本", "Japan"),
        "CN": ("中国", "China"),
        "??": ("不明", "Unknown"),
        "all": ("全体", "all sources"),
        "JP mirai": ("日本・Mirai型", "Japan, Mirai-type"),
        "all mirai": ("全体・Mirai型", "all sources, Mirai-type"),
        "scans": ("スキャン", "Scans"),
        "dos": ("DoS攻撃", "DoS attacks"),
    }
    for key, names in expected.items():
        for dimension in ("", "ports", "countries"):
            assert m.series_name(key, dimension) == names[lang == "en"], (key, dimension)
    name = m.series_name("JP mirai", "countries")
    svg = line_chart(Series(_days(3), {"JP mirai": [0.1, 0.2, 0.3]}, "share"), {"JP mirai": name},
                     y_label="", text=EN)  # fmt: skip
    assert name in _texts(ET.fromstring(svg)) and "JP mirai" not in svg
