"""The dashboard with AS data: the overview ranks source ASes (a table only when the
store has AS numbers), its rows lead to the series of one AS, and `/api/v1/series?asn=`
answers what `teiten series --asn` answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from _asn_store import asn_store
from _cli_store import REAL_PERIOD
from teiten.cli import main

from ._server import WebServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    root = tmp_path_factory.mktemp("asn-pages")
    web = WebServer(root / "web", asn_store(root), cache={"warm": False}).start()
    yield web
    web.stop()


def test_the_overview_ranks_the_ases(server: WebServer) -> None:
    page = httpx.get(f"{server.url}/?period={REAL_PERIOD}&lang=en", timeout=60).text
    table = page[page.index('id="top-asns"') :]
    table = table[: table.index("</table>")]
    shown = re.findall(r">AS(\d+)<", table)
    ranked = httpx.get(
        f"{server.url}/api/v1/top/asns", params={"period": REAL_PERIOD, "limit": "10"}
    ).json()
    assert shown == [str(r["asn"]) for r in ranked["rows"] if r["asn"] is not None]
    assert shown and f"asn={shown[0]}" in table  # a row leads to that AS's series


def test_the_series_of_one_as(server: WebServer, tmp_path: Path) -> None:
    ranked = httpx.get(f"{server.url}/api/v1/top/asns", params={"period": REAL_PERIOD}).json()
    asn = next(str(r["asn"]) for r in ranked["rows"] if r["asn"] is not None)
    page = httpx.get(f"{server.url}/series", params={"period": REAL_PERIOD, "asn": asn}).text
    assert f'name="asn" value="{asn}"' in page and f"asn={asn}" in page
    api = httpx.get(f"{server.url}/api/v1/series", params={"period": REAL_PERIOD, "asn": asn})
    args = ["series", "--store", str(server.store), "--period", REAL_PERIOD, "--asn", asn]
    cli = CliRunner().invoke(main, [*args, "--json"])
    assert api.status_code == 200 and api.text == cli.output
    assert sum(api.json()["values"]) > 0
