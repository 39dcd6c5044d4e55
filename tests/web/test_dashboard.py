"""The dashboard in a real browser (Debian's chromium, headless, driven by Playwright).

Every page loads without a console error, a failed request or an uncaught exception;
the charts hold the data points the API returns; the period picker and the language
switch change the URL and what is shown; the overview picks up a batch a collector
stores while it is open, without a reload; public pages show no address.
"""

from __future__ import annotations

import re
import shutil
import time

import httpx
import pytest

from _cli_store import PERIOD, REAL_PERIOD
from collector._batches import PREFIXES, capture_packets, headers, into_prefixes, shifted, wire
from collector._server import CollectorServer

from ._server import WebServer
from .test_api import _LITERAL, _addresses

PAGES = [
    f"/?period={PERIOD}",
    f"/?period={PERIOD}&lang=ja",
    f"/series?period={PERIOD}&port=23&proto=tcp",
    f"/series?period={PERIOD}&country=JP&lang=ja",
    "/phenomena?period=2024-03",
    f"/events?period={PERIOD}",
    f"/events?period={REAL_PERIOD}&lang=ja",
    "/source?ip=120.217.27.51",
    "/",
]


def _ready(page, attribute: str = "data-ready='true'", timeout: float = 30_000) -> None:
    """Wait until the body has ``attribute`` (a selector, not a script: the pages' CSP
    forbids the eval Playwright's wait_for_function uses)."""
    page.locator(f"body[{attribute}]").wait_for(state="attached", timeout=timeout)


def _open(page, url: str) -> None:
    page.goto(url)
    _ready(page)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_without_errors(page, operator, path):
    _open(page, operator.url + path)
    page.assert_clean()
    assert page.locator("main").count() == 1


def test_sparklines_draw_the_series_the_api_returns(page, operator):
    _open(page, f"{operator.url}/?period={PERIOD}")
    cells = page.locator("#top-ports .spark")
    assert cells.count() == 10
    for i in range(cells.count()):
        cell = cells.nth(i)
        drawn = cell.evaluate("e => e.chart.data[1]")
        url = cell.get_attribute("data-series")
        assert drawn == httpx.get(operator.url + url).json()["values"]
        assert cell.locator("canvas").count() == 1
    page.assert_clean()


def test_the_series_chart_draws_the_api_values_and_marks_phenomena(page, operator):
    _open(page, f"{operator.url}/series?period={PERIOD}&port=23&proto=tcp")
    chart = page.locator("#chart")
    series = httpx.get(
        f"{operator.url}/api/v1/series", params={"period": PERIOD, "port": "23", "proto": "tcp"}
    ).json()
    assert chart.evaluate("e => e.chart.data[1]") == series["values"]
    drawn = chart.evaluate("e => e.chart.series.map(s => s.label).slice(1)")
    assert drawn == ["total", *series["breakdown"]]
    assert chart.locator("canvas").count() == 1
    page.assert_clean()


def _tile(page, key: str) -> float:
    return float(page.locator(f'.tile[data-key="{key}"] .value').get_attribute("data-value"))


def test_the_period_picker_and_the_language_switch_change_the_url_and_the_numbers(page, operator):
    _open(page, f"{operator.url}/?period={PERIOD}")
    first = _tile(page, "packets")
    assert page.locator("h2").first.inner_text() == "Top destination ports"
    page.fill("#period", REAL_PERIOD)
    page.click(".picker button[type=submit]")
    page.wait_for_url(re.compile(r"period=2021Q2"))
    _ready(page)
    assert _tile(page, "packets") != first
    api = httpx.get(f"{operator.url}/api/v1/top/ports", params={"period": REAL_PERIOD}).json()
    assert _tile(page, "packets") == api["total"]["packets"]
    page.click("#lang-switch")
    page.wait_for_url(re.compile(r"lang=ja"))
    _ready(page)
    assert "period=2021Q2" in page.url
    assert page.locator("h2").first.inner_text() == "宛先ポート上位"
    assert page.locator("html").get_attribute("lang") == "ja"
    page.assert_clean()


def test_japanese_is_the_default_when_the_browser_asks_for_it(browser, operator):
    context = browser.new_context(locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
    try:
        page = context.new_page()
        page.goto(f"{operator.url}/?period={PERIOD}")
        assert page.locator("html").get_attribute("lang") == "ja"
    finally:
        context.close()


def test_the_overview_picks_up_a_batch_the_collector_stores(page, store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    (tmp_path / "collector").mkdir()
    collector = CollectorServer(tmp_path / "collector", copy)
    token = collector.register("tokyo-1", PREFIXES)
    collector.start()
    web = WebServer(tmp_path / "web", copy, limits={"burst": 100_000}).start()
    try:
        _open(page, f"{web.url}/?period={PERIOD}&poll=1000")
        _ready(page, "data-live='watching'")
        # The page carries the store's version it was made at, as /api/v1/store's ETag.
        stated = httpx.get(web.url + "/api/v1/store").headers["etag"]
        assert page.locator("#live").get_attribute("data-etag") == stated
        page.evaluate("window.__same_page = true")
        before = _tile(page, "packets")
        packets = into_prefixes(capture_packets("ppa3e_synscan.pcapng"))
        day = 1_709_337_600 * 10**9  # 2024-03-02T00:00Z, inside PERIOD
        body, digest = wire(shifted(packets, day - int(packets.ts_ns.min())))
        stored = httpx.post(
            collector.url + "/v1/batches", content=body, headers=headers("tokyo-1", token, digest)
        )
        assert stored.status_code == 201, stored.text
        _ready(page, "data-refreshed", timeout=20_000)
        assert page.evaluate("window.__same_page") is True  # no reload
        assert _tile(page, "packets") > before
        page.assert_clean()
    finally:
        web.stop()
        collector.stop()


def test_public_pages_show_no_address(page, public, store):
    known = _addresses(store)
    for path in PAGES:
        if path.startswith("/source"):
            continue
        _open(page, public.url + path)
        html = page.content().lower()
        assert not set(_LITERAL.findall(html)) & known, path
        page.assert_clean()
    _open(page, f"{public.url}/source?ip=192.0.2.1")
    assert "sign in" in page.locator("main").inner_text().lower()


def test_a_screenshot_of_the_overview(page, operator, tmp_path):
    _open(page, f"{operator.url}/?period={PERIOD}")
    time.sleep(0.2)
    shot = page.save_screenshot(tmp_path / "overview.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_overview_links_the_period_s_reports(page, operator):
    _open(page, f"{operator.url}/?period={PERIOD}&lang=en")
    links = page.locator(".reports a")
    assert links.count() == 3
    pdf = httpx.get(operator.url + links.first.get_attribute("href"), timeout=120)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    page.assert_clean()
