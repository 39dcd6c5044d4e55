"""The browser harness itself: uPlot from the vendor folder draws under a strict CSP in
Debian's chromium, and the ``page`` fixture catches what would break a page."""

from __future__ import annotations

import json

import pytest

from teiten.web.assets import ensure_assets

from . import browser as harness
from .browser import StaticServer, WatchedPage, browser_session

# The dashboard's policy in its strictest part: nothing inline, nothing from elsewhere.
CSP = {"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'"}
SERIES = [[1_700_000_000, 1_700_003_600, 1_700_007_200, 1_700_010_800], [12, 30, 7, 21]]

CHART_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>chart</title>
<link rel="icon" href="/icon.svg">
<link rel="stylesheet" href="/vendor/uplot/uPlot.min.css">
<script src="/vendor/uplot/uPlot.iife.min.js"></script>
<script src="/chart.js" defer></script>
</head><body><div id="chart"></div></body></html>
"""
# Fetches its data as the dashboard will (connect-src falls back to default-src 'self').
CHART_JS = b"""
fetch("/series.json").then((r) => r.json()).then((data) => {
  const opts = {width: 640, height: 320, series: [{}, {label: "packets", stroke: "#c33"}]};
  window.chart = new uPlot(opts, data, document.getElementById("chart"));
  document.body.dataset.ready = "yes";
});
"""
# Chromium asks for /favicon.ico (a 404 is a console error) unless the page names an icon.
ICON = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1"/></svg>'
BROKEN_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>broken</title>
<link rel="icon" href="/icon.svg"></head><body>
<script>window.inlineRan = true;</script>
<script src="/throws.js"></script>
<script src="/missing.js"></script>
</body></html>
"""


@pytest.fixture(scope="module")
def site():
    vendor = ensure_assets() / "uplot"
    files = {
        "/chart.html": CHART_PAGE,
        "/chart.js": CHART_JS,
        "/series.json": json.dumps(SERIES).encode(),
        "/icon.svg": ICON,
        "/broken.html": BROKEN_PAGE,
        "/throws.js": b"throw new Error('boom from throws.js');\n",
        "/vendor/uplot/uPlot.iife.min.js": vendor / "uPlot.iife.min.js",
        "/vendor/uplot/uPlot.min.css": vendor / "uPlot.min.css",
    }
    with StaticServer(files, CSP) as server:
        yield server


def test_uplot_draws_the_series_under_a_strict_csp(page: WatchedPage, site, tmp_path):
    page.goto(site.url + "/chart.html")
    page.wait_for_selector("body[data-ready=yes]")
    assert page.locator("#chart canvas").count() == 1
    assert page.evaluate("window.chart.data") == SERIES
    assert page.evaluate("window.chart.series[1].label") == "packets"
    page.assert_clean()

    shot = page.save_screenshot(tmp_path / "shots" / "chart.png")
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 2_000  # a drawn chart, not a blank page


def test_the_page_fixture_records_what_breaks_a_page(page: WatchedPage, site):
    page.goto(site.url + "/broken.html")
    page.wait_for_load_state("load")

    assert page.evaluate("window.inlineRan") is None  # the CSP held
    assert any("Content Security Policy" in e for e in page.console_errors), page.problems
    assert any("boom from throws.js" in e for e in page.page_errors), page.problems
    assert any("/missing.js: HTTP 404" in e for e in page.failed_requests), page.problems
    with pytest.raises(pytest.fail.Exception, match="Content Security Policy"):
        page.assert_clean()
    page.clear()
    page.assert_clean()


def test_a_missing_chromium_fails_the_test_saying_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setattr(harness, "CHROMIUM", tmp_path / "chromium")
    with pytest.raises(pytest.fail.Exception, match=r"run `make test`, which installs"):
        browser_session().__enter__()
