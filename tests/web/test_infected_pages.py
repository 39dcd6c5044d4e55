"""The national summary of infected hosts on the dashboard and in the API: what
`teiten infected --json` answers, equal to the packets read with DuckDB; the `/infected`
page in a real browser (its chart draws the API's points, the language switch changes
its texts); public mode without an address; a store without AS data says so.

The store: two simulated weeks whose sources carry AS numbers, and the simulator's
iptoasn file imported for the holders' names (tests/_infected_store.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from click.testing import CliRunner

from _cli_store import PERIOD as PLAIN_PERIOD
from _infected_store import (
    END,
    FIRST,
    MIDDLE,
    PERIOD,
    busiest_country,
    infected_sources,
    infected_store,
)
from teiten.cli import main
from teiten.simulate.as_table import FILE_NAME

from ._server import WebServer
from .test_api import _LITERAL, _addresses, _cli

_BUDGET = {"requests_per_minute": 100_000, "burst": 100_000}


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("infected-pages")
    store = infected_store(root)
    imported = CliRunner().invoke(
        main, ["asn", "import", "--store", str(store), str(root / "caps" / FILE_NAME)]
    )
    assert imported.exit_code == 0, imported.output
    return store


@pytest.fixture(scope="module")
def country(named: Path) -> str:
    return busiest_country(named)


@pytest.fixture(scope="module")
def server(named: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    web = WebServer(
        tmp_path_factory.mktemp("infected-web"), named, limits=_BUDGET, cache={"warm": False}
    ).start()
    yield web
    web.stop()


@pytest.fixture(scope="module")
def shown(named: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    web = WebServer(
        tmp_path_factory.mktemp("infected-public"),
        named,
        limits=_BUDGET,
        access={"public": True},
        cache={"warm": False},
    ).start()
    yield web
    web.stop()


def _api(server: WebServer, **query: str) -> httpx.Response:
    response = httpx.get(f"{server.url}/api/v1/infected", params=query, timeout=120)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize(
    "query",
    [{"period": PERIOD}, {"period": PERIOD, "country": "busiest", "limit": "3"}],
)
def test_the_api_answers_what_the_cli_answers(server, named, country, query):
    query = {k: country if v == "busiest" else v for k, v in query.items()}
    assert _api(server, **query).text == _cli(["infected"], named, query)
    csv = _api(server, **query, format="csv").text
    assert csv == _cli(["infected"], named, query, "--csv")


def _daily(store: Path, country: str, first: str, end: str) -> dict[str, int]:
    """Distinct Mirai-tagged probe sources of ``country`` per day, from the packet files."""
    rows = duckdb.connect().execute(
        f"""SELECT strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d') AS day, count(DISTINCT src)
        FROM read_parquet('{store}/packets/*/*.parquet', hive_partitioning = false)
        WHERE ts >= TIMESTAMPTZ '{first} 00:00:00+00' AND ts < TIMESTAMPTZ '{end} 00:00:00+00'
          AND kind = 'probe' AND country = ? AND (tags & 1) = 1
        GROUP BY ALL""",
        [country],
    )
    return dict(rows.fetchall())


def test_the_numbers_are_the_packets(server, named, country):
    found = _api(server, period=PERIOD, country=country, limit="100").json()
    now = infected_sources(named, country, MIDDLE, END)
    before = infected_sources(named, country, FIRST, MIDDLE)
    assert found["as_data"] is True and len(found["rows"]) == len(now) > 1
    for row in found["rows"]:
        mine, earlier = now[row["asn"]], before.get(row["asn"], set())
        assert row["name"]  # from the imported iptoasn file
        assert (row["sources"], row["previous_sources"]) == (len(mine), len(earlier))
        assert (row["new"], row["gone"]) == (len(mine - earlier), len(earlier - mine))
    all_now, all_before = set().union(*now.values()), set().union(*before.values())
    assert found["total"] == {
        "sources": len(all_now),
        "previous_sources": len(all_before),
        "new": len(all_now - all_before),
        "gone": len(all_before - all_now),
    }
    daily = _daily(named, country, MIDDLE, END)
    assert found["trend"]["buckets"] == [f"2024-03-{d:02d}" for d in range(8, 15)]
    assert found["trend"]["values"] == [daily.get(b, 0) for b in found["trend"]["buckets"]]
    assert sum(found["trend"]["values"]) > 0


def _ready(page) -> None:
    page.locator("body[data-ready='true']").wait_for(state="attached", timeout=30_000)


def test_the_page_shows_the_summary_and_draws_the_trend(page, server, country):
    page.goto(f"{server.url}/infected?period={PERIOD}&country={country}&lang=en")
    _ready(page)
    found = _api(server, period=PERIOD, country=country).json()
    chart = page.locator("#infected-chart")
    assert chart.evaluate("e => e.chart.data[1]") == found["trend"]["values"]
    assert chart.locator("canvas").count() == 1
    shown = page.locator("#infected-asns tbody tr td:nth-child(2)").all_inner_texts()
    assert shown == [f"AS{r['asn']}" for r in found["rows"]]
    tiles = page.locator(".tile .value")
    values = [int(tiles.nth(i).get_attribute("data-value")) for i in range(tiles.count())]
    t = found["total"]
    assert values == [t["sources"], t["previous_sources"], t["new"], t["gone"]]
    heading = page.locator("main h2").first.inner_text()
    assert heading.startswith("Infected (Mirai-type) hosts in")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Infected hosts"
    page.assert_clean()
    page.click("#lang-switch")
    page.wait_for_url(re.compile(r"lang=ja"))
    _ready(page)
    assert f"country={country}" in page.url
    assert page.locator("main h2").first.inner_text().endswith("の感染ホスト（Mirai 型）")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "感染ホスト"
    drawn = page.locator("#infected-chart").evaluate("e => e.chart.data[1]")
    assert drawn == found["trend"]["values"]
    page.assert_clean()


def test_public_mode_shows_aggregates_only(page, server, shown, named, country):
    known = _addresses(named)
    full = _api(server, period=PERIOD, country=country).json()
    public = _api(shown, period=PERIOD, country=country)
    assert not set(_LITERAL.findall(public.text.lower())) & known
    body = public.json()
    assert body["total"] == full["total"]  # counts of sources, as top's public rows keep them
    for a, b in zip(full["rows"], body["rows"], strict=True):
        assert (a["asn"], a["sources"], a["new"], a["gone"]) == (
            b["asn"],
            b["sources"],
            b["new"],
            b["gone"],
        )
        assert "per_sensor" not in b
    assert body["trend"]["values"] == [int(float(f"{v:.3g}")) for v in full["trend"]["values"]]
    assert "sensors" not in public.text
    page.goto(f"{shown.url}/infected?period={PERIOD}&country={country}")
    _ready(page)
    assert not set(_LITERAL.findall(page.content().lower())) & known
    page.assert_clean()


def test_without_as_data_the_total_and_trend_are_given_and_the_page_says_so(page, operator, store):
    found = _api(operator, period=PLAIN_PERIOD, country="JP").json()
    assert found["as_data"] is False and found["rows"] == []
    first = PLAIN_PERIOD.split("..")[0]
    daily = _daily(store, "JP", first, "2024-03-03")
    assert found["total"]["sources"] > 0
    assert found["trend"]["values"] == [daily.get(b, 0) for b in found["trend"]["buckets"]]
    assert _api(operator, period=PLAIN_PERIOD).text == _cli(
        ["infected"], store, {"period": PLAIN_PERIOD}
    )
    page.goto(f"{operator.url}/infected?period={PLAIN_PERIOD}")
    _ready(page)
    assert "No AS data" in page.locator("#no-as-data").inner_text()
    assert page.locator("#infected-chart canvas").count() == 1
    page.assert_clean()
    cli = CliRunner().invoke(main, ["infected", "--store", str(store), "--period", PLAIN_PERIOD])
    assert cli.exit_code == 0 and "no AS data" in cli.output


def test_a_bad_country_is_422_naming_it(server):
    response = httpx.get(
        f"{server.url}/api/v1/infected", params={"period": PERIOD, "country": "Atlantis"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "country"]
    page = httpx.get(f"{server.url}/infected", params={"period": PERIOD, "country": "Atlantis"})
    assert page.status_code == 422 and "Atlantis" in page.text
