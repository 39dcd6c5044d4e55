"""Warming: a real ``teiten serve`` makes the dashboard's standard answers ahead.

After start (and after every change of the store) it makes what a first visit of the
dashboard asks for: the overview, series, phenomena, events and infected hosts pages of
the period picker's presets and the API answers their charts fetch. Health says when that is done;
the first visitor then gets those answers from the cache (``X-Cache: hit``), the same
bytes the CLI computes; in public mode they are the public ones, without addresses.
"""

from __future__ import annotations

import html
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

from ._server import WebServer
from .test_api import _LITERAL, _addresses, _cli

_BUDGET = {"requests_per_minute": 100_000, "burst": 100_000}
_WARMED_S = 180


def _warm_state(server: WebServer) -> dict:
    return httpx.get(f"{server.url}/api/v1/health").json()["warm"]


def _wait_warm(server: WebServer) -> dict:
    """The health's warm state once it says done (fails after a while)."""
    deadline = time.monotonic() + _WARMED_S
    state = _warm_state(server)
    while state["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
        state = _warm_state(server)
    assert state["state"] == "done", (state, server.log_text()[-3000:])
    return state


def _links(text: str, pattern: str) -> list[str]:
    return [html.unescape(found) for found in re.findall(pattern, text)]


def _first_visit(server: WebServer, **headers: str) -> list[str]:
    """What a browser's first visit asks for, page by page: the overview of the default
    period and of each preset of its picker, the series, phenomena, events and infected
    hosts pages of them, and the API URLs their scripts fetch (sparklines, series,
    phenomena, infected hosts, store)."""
    overview = httpx.get(f"{server.url}/", headers=headers, timeout=120)
    assert overview.status_code == 200, overview.text
    queries = ["", *_links(overview.text, r'class="preset" href="\?([^"]+)"')]
    asked: list[str] = []
    for query in queries:
        for page in ("/", "/series", "/phenomena", "/events", "/infected"):
            shown = httpx.get(f"{server.url}{page}?{query}", headers=headers, timeout=120)
            assert shown.status_code == 200, (page, query, shown.text)
            asked += _links(shown.text, r'data-(?:series|phenomena|infected)="(/api/v1/[^"]+)"')
    return [*dict.fromkeys(asked), "/api/v1/store"]


def _get(server: WebServer, url: str) -> httpx.Response:
    response = httpx.get(f"{server.url}{url}", timeout=120)
    assert response.status_code == 200, (url, response.text)
    return response


def _cli_of(url: str, store: Path) -> str:
    """The CLI's ``--json`` for an API URL of a chart (``/api/v1/series?…``)."""
    parts = urlsplit(url)
    command = parts.path.removeprefix("/api/v1/").split("/")
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query):
        query.setdefault(name, []).append(value)
    return _cli(command, store, query)


def test_after_start_health_says_the_standard_answers_are_made(store, tmp_path):
    server = WebServer(tmp_path, store, limits=_BUDGET).start()
    try:
        state = _wait_warm(server)
        assert state["of"] >= 12 and state["done"] == state["of"]  # 3 presets × 4 pages …
        metrics = httpx.get(f"{server.url}/api/v1/metrics").text
        assert f"teiten_web_warm_done {float(state['done'])}" in metrics
        assert f"teiten_web_warm_planned {float(state['of'])}" in metrics
        assert re.search(r'teiten_web_cache_total\{result="warm"\} [1-9]', metrics)
        assert not re.search(r'teiten_web_cache_total\{result="miss"\} [1-9]', metrics)
    finally:
        server.stop()


def test_a_first_visit_finds_its_answers_made_and_they_are_the_clis(store, tmp_path):
    server = WebServer(tmp_path, store, limits=_BUDGET).start()
    try:
        _wait_warm(server)
        asked = _first_visit(server)
        assert len(asked) > 12 and any("port=" in url for url in asked)
        assert any(url.startswith("/api/v1/infected?") for url in asked)
        for url in asked:
            response = _get(server, url)
            assert response.headers["x-cache"] == "hit", url
        for url in asked[:3] + [u for u in asked if "port=" in u][:2]:
            assert _get(server, url).text == _cli_of(url, store), url
        other = "/api/v1/top/ports?period=2024-03-01&metric=sources"  # not a standard view
        assert _get(server, other).headers["x-cache"] == "miss"
        assert _get(server, other).headers["x-cache"] == "hit"
    finally:
        server.stop()


def test_without_warming_the_first_visitor_waits(store, tmp_path):
    server = WebServer(tmp_path, store, limits=_BUDGET, cache={"warm": False}).start()
    try:
        assert _warm_state(server) == {"state": "off"}
        url = next(u for u in _first_visit(server) if "port=" in u)
        time.sleep(1)  # nothing makes it meanwhile
        assert _get(server, url).headers["x-cache"] == "miss"  # made for this visitor
        assert _get(server, url).headers["x-cache"] == "hit"
        metrics = httpx.get(f"{server.url}/api/v1/metrics").text
        assert not re.search(r'teiten_web_cache_total\{result="warm"\} [1-9]', metrics)
    finally:
        server.stop()


def _add_a_day_of_packets(store: Path, root: Path) -> None:
    """A sensor more, with packets on the store's last day (2024-03-02)."""
    from _cli_store import ingest
    from teiten.simulate import SimulationConfig, simulate_to_pcap

    config = SimulationConfig(
        start=datetime(2024, 3, 2, tzinfo=UTC),
        end=datetime(2024, 3, 3, tzinfo=UTC),
        packets=5_000,
        seed=11,
    )
    paths = simulate_to_pcap(config, root / "captures", per="day")
    sensor = config.sensors[0].name
    ingest(store, "late", [p for p in paths if p.parent.name == sensor])


def test_a_change_of_the_store_is_warmed_again(store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    server = WebServer(tmp_path / "server", copy, limits=_BUDGET).start()
    try:
        _wait_warm(server)
        ranking = next(u for u in _first_visit(server) if "/series?" in u)
        before = _get(server, "/api/v1/store").json()
        shown = _get(server, ranking).json()
        _add_a_day_of_packets(copy, tmp_path)
        deadline = time.monotonic() + 30
        while _warm_state(server)["state"] == "done" and time.monotonic() < deadline:
            time.sleep(0.1)  # it notices the change within seconds
        _wait_warm(server)
        info = _get(server, "/api/v1/store")
        assert info.headers["x-cache"] == "hit"
        assert info.json()["packets"] > before["packets"]
        again = _get(server, ranking)
        assert again.headers["x-cache"] == "hit"
        assert sum(again.json()["values"]) > sum(shown["values"])
        assert again.text == _cli_of(ranking, copy)
    finally:
        server.stop()


def test_public_warming_makes_public_answers_only(store, tmp_path):
    server = WebServer(tmp_path, store, limits=_BUDGET, access={"public": True}).start()
    try:
        _wait_warm(server)
        known = _addresses(store)
        for url in _first_visit(server):
            response = _get(server, url)
            assert response.headers["x-cache"] == "hit", url
            shown = set(_LITERAL.findall(response.text.lower())) & known
            assert not shown, (url, sorted(shown)[:5])
            assert '"sensors"' not in response.text and '"per_sensor"' not in response.text
    finally:
        server.stop()
