"""SVG line charts: nice ticks, gaps for missing days, a legend, the palette, valid XML."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from teiten.report.charts import PALETTE, line_chart, nice_ticks
from teiten.report.messages import Messages
from teiten.report.model import Series

SVG = "{http://www.w3.org/2000/svg}"


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


def _days(n: int) -> list[date]:
    return [date(2019, 4, 1) + timedelta(days=i) for i in range(n)]


def test_chart_is_valid_svg_with_gaps_legend_and_date_axis():
    days = _days(91)
    values = {
        "23/tcp": [float(i) for i in range(91)],
        "445/tcp": [None if 30 <= i < 40 else 5.0 for i in range(91)],
    }
    m = Messages("ja")
    names = {"23/tcp": "23/TCP", "445/tcp": "445/TCP"}
    svg = line_chart(
        Series(days, values, "per-sensor"), names, y_label="件数", axis_date=m.axis_date
    )
    root = ET.fromstring(svg)
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 3  # one line, and one broken by the ten missing days
    assert {ln.get("stroke") for ln in lines} == set(PALETTE[:2])
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "23/TCP" in texts and "445/TCP" in texts  # legend
    assert [t for t in texts if t and t.endswith("/1")] == ["4/1", "5/1", "6/1"]  # months
    assert "100" in texts and "件数" in texts  # y ticks to 100 for a maximum of 90; label
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_share_charts_read_in_percent_and_text_is_escaped():
    svg = line_chart(
        Series(_days(7), {"<JP>": [0.1, 0.2, 0.25, None, 0.3, 0.1, 0.0]}, "share"),
        {"<JP>": "<JP> & all"},
        y_label="share",
        axis_date=Messages("en").axis_date,
    )
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "30%" in texts and "<JP> & all" in texts
    assert "Apr 1" in texts  # a week: every day labelled


def test_an_empty_series_still_draws_axes():
    series = Series(_days(3), {}, "packets")
    svg = line_chart(series, {}, y_label="", axis_date=Messages("en").axis_date)
    root = ET.fromstring(svg)
    assert root.findall(f"{SVG}polyline") == []
    assert len(root.findall(f"{SVG}line")) >= 2  # the 0 and 1 ticks
