"""The HTTP API, served by a real ``teiten serve`` process over a store built by ingest.

Every endpoint's JSON is the CLI's ``--json`` for the same arguments (and its CSV the
CLI's ``--csv``); parameters are checked with the CLI's rules (422 naming the
parameter); operators need tokens where the server is not a lone analyst's; public
mode never shows an address of the store (any source, any sensor address) nor
anything per sensor; a client over its budget gets 429; answers carry the store's
version as their ETag.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import duckdb
import httpx
import pytest
from click.testing import CliRunner

from _cli_store import PERIOD, REAL_PERIOD
from teiten.cli import main
from teiten.web.tokens import Tokens

from ._server import WebServer

# (endpoint, CLI command, query): a grid over every endpoint and its parameters.
GRID = [
    ("top/ports", ["top", "ports"], {"period": PERIOD}),
    ("top/ports", ["top", "ports"], {"period": PERIOD, "metric": "sources", "limit": "3"}),
    ("top/ports", ["top", "ports"], {"period": PERIOD, "traffic": "all", "proto": "tcp"}),
    ("top/ports", ["top", "ports"], {"period": PERIOD, "tag": ["mirai", "zmap"]}),
    ("top/ports", ["top", "ports"], {"period": PERIOD, "exclude_tag": "research"}),
    ("top/ports", ["top", "ports"], {"period": PERIOD, "country": "Japan", "explain": "true"}),
    ("top/ports", ["top", "ports"], {"period": REAL_PERIOD, "sensor": "s1"}),
    ("top/countries", ["top", "countries"], {"period": PERIOD, "metric": "per-sensor"}),
    ("top/countries", ["top", "countries"], {"period": REAL_PERIOD, "traffic": "backscatter"}),
    ("top/asns", ["top", "asns"], {"period": PERIOD, "metric": "sources"}),
    ("top/countries", ["top", "countries"], {"period": PERIOD, "prefix": ["0.0.0.0/1", "::/1"]}),
    ("top/ports", ["top", "ports"], {"period": PERIOD, "asn": ["64500", "2497"]}),
    ("events/scans", ["events", "scans"], {"period": PERIOD, "limit": "5"}),
    ("events/scans", ["events", "scans"], {"period": PERIOD, "min_destinations": "20"}),
    ("events/dos", ["events", "dos"], {"period": PERIOD}),
    ("events/scans", ["events", "scans"], {"period": PERIOD, "prefix": ["0.0.0.0/1", "2000::/3"]}),
    ("events/scans", ["events", "scans"], {"period": PERIOD, "asn": ["64500", "2497"]}),
    ("events/dos", ["events", "dos"], {"period": PERIOD, "prefix": "128.0.0.0/1", "limit": "3"}),
    ("phenomena", ["phenomena"], {"period": PERIOD}),
    ("phenomena", ["phenomena"], {"period": "2024-03", "focus_country": "US"}),
    ("series", ["series"], {"period": PERIOD}),
    ("series", ["series"], {"period": PERIOD, "by": "hour", "tag": "mirai", "traffic": "all"}),
    ("series", ["series"], {"period": PERIOD, "port": "23", "proto": "tcp", "metric": "sources"}),
    ("infected", ["infected"], {"period": PERIOD}),
    ("infected", ["infected"], {"period": PERIOD, "country": "US", "limit": "3"}),
]


def _cli(command: list[str], store: Path, query: dict, flag: str = "--json") -> str:
    args = [*command, "--store", str(store), flag]
    for name, values in query.items():
        for value in values if isinstance(values, list) else [values]:
            option = "--" + name.replace("_", "-")
            args += [option] if value == "true" else [option, value]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def _params(query: dict) -> list[tuple[str, str]]:
    return [(k, v) for k, vs in query.items() for v in (vs if isinstance(vs, list) else [vs])]


@pytest.mark.parametrize(("path", "command", "query"), GRID)
def test_every_endpoint_answers_what_the_cli_answers(operator, store, path, command, query):
    response = httpx.get(f"{operator.url}/api/v1/{path}", params=_params(query), timeout=120)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.text == _cli(command, store, query)


@pytest.mark.parametrize(("path", "command", "query"), GRID[::4])
def test_csv_is_the_clis_csv(operator, store, path, command, query):
    params = [*_params(query), ("format", "csv")]
    response = httpx.get(f"{operator.url}/api/v1/{path}", params=params, timeout=120)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text == _cli(command, store, query, "--csv")


@pytest.mark.parametrize(
    ("path", "query", "name", "says"),
    [
        ("top/ports", {}, "period", "Missing option '--period'"),
        ("top/ports", {"period": PERIOD, "metric": "bogus"}, "metric", "is not one of"),
        ("top/ports", {"period": PERIOD, "limit": "0"}, "limit", "0 is not in the range x>=1"),
        ("top/ports", {"period": PERIOD, "limit": "many"}, "limit", "not a valid integer"),
        ("top/ports", {"period": "2019Q5"}, "period", "2019Q5"),
        ("top/ports", {"period": PERIOD, "sensor": "nosuch"}, "sensor", "unknown sensor"),
        ("top/ports", {"period": PERIOD, "tag": "nosuch"}, "tag", "nosuch"),
        ("top/ports", {"period": PERIOD, "country": "Atlantis"}, "country", "Atlantis"),
        ("top/ports", {"period": PERIOD, "colour": "red"}, "colour", "unknown parameter"),
        ("top/ports", {"period": PERIOD, "format": "xml"}, "format", "is not one of"),
        ("top/ports", {"period": [PERIOD, PERIOD]}, "period", "give it once"),
        ("events/scans", {"period": PERIOD, "min_rate": "-1"}, "min_rate", "range"),
        ("events/scans", {"period": PERIOD, "prefix": "1.2.3/8"}, "prefix", "expected a network"),
        ("events/dos", {"period": PERIOD, "prefix": "bogus"}, "prefix", "in CIDR"),
        ("events/dos", {"period": PERIOD, "asn": "AS64500"}, "asn", "not a valid integer"),
        ("phenomena", {"period": PERIOD, "focus_country": "ZZ"}, "focus_country", "ZZ"),
        ("series", {"period": "2024", "by": "hour"}, "by", "at most 31 days"),
        ("series", {"period": PERIOD, "port": "telnet"}, "port", "expected PORT/PROTO"),
        ("infected", {"period": PERIOD, "country": "Atlantis"}, "country", "Atlantis"),
        ("infected", {"period": PERIOD, "limit": "0"}, "limit", "range"),
    ],
)
def test_a_bad_parameter_is_422_naming_it(operator, path, query, name, says):
    response = httpx.get(f"{operator.url}/api/v1/{path}", params=_params(query), timeout=60)
    assert response.status_code == 422, response.text
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["query", name]
    assert says in detail["msg"]
    assert "Traceback" not in response.text


def test_the_openapi_document_is_valid_and_names_every_parameter(operator):
    from openapi_spec_validator import validate

    document = httpx.get(f"{operator.url}/api/v1/openapi.json").json()
    validate(document)
    top = document["paths"]["/api/v1/top/ports"]["get"]
    names = {p["name"] for p in top["parameters"]}
    assert {"period", "metric", "traffic", "limit", "country", "sensor", "proto"} <= names
    assert {"tag", "exclude_tag", "format", "explain"} <= names
    metric = next(p for p in top["parameters"] if p["name"] == "metric")
    assert metric["schema"]["enum"] == ["packets", "sources", "per-sensor"]
    assert {"/api/v1/events/scans", "/api/v1/events/dos", "/api/v1/phenomena"} <= set(
        document["paths"]
    )


def test_answers_carry_the_store_version_and_security_headers(operator, store):
    url = f"{operator.url}/api/v1/top/countries"
    first = httpx.get(url, params={"period": PERIOD})
    etag = first.headers["etag"]
    assert first.headers["last-modified"]
    assert "script-src 'self'" in first.headers["content-security-policy"]
    assert first.headers["x-content-type-options"] == "nosniff"
    again = httpx.get(url, params={"period": PERIOD}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = httpx.get(url, params={"period": REAL_PERIOD}, headers={"If-None-Match": etag})
    assert other.status_code == 200
    info = httpx.get(f"{operator.url}/api/v1/store").json()
    assert info["packets"] == json.loads(_cli(["store", "info"], store, {}))["packets"]


def test_store_summary_and_health(operator, public):
    health = httpx.get(f"{operator.url}/api/v1/health").json()
    assert health["status"] == "ok"
    full = httpx.get(f"{operator.url}/api/v1/store").json()
    assert len(full["sensors"]) == 6
    shown = httpx.get(f"{public.url}/api/v1/store").json()
    assert shown["packets"] == full["packets"] and shown["days"] == full["days"]
    assert "sensors" not in shown and "store" not in shown


def _addresses(store: Path) -> set[str]:
    """Every source and destination (sensor) address of the store's packets, as text."""
    con = duckdb.connect()
    rows = con.sql(
        f"SELECT DISTINCT src FROM '{store}/packets/*/*.parquet' UNION "
        f"SELECT DISTINCT dst FROM '{store}/packets/*/*.parquet'"
    ).fetchall()
    out = set()
    for (raw,) in rows:
        address = ipaddress.IPv6Address(bytes(raw))
        out.add(str(address.ipv4_mapped) if address.ipv4_mapped else str(address))
    return out


_LITERAL = re.compile(
    r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})"
)


def test_public_mode_never_shows_an_address_or_a_sensor(public, store):
    known = _addresses(store)
    assert len(known) > 1000
    queries = [(p, query) for p, _, query in GRID if not {"sensor", "prefix"} & set(query)]
    queries += [(path, {**query, "format": "csv"}) for path, query in queries]
    queries += [("store", {})]
    for path, query in queries:
        response = httpx.get(f"{public.url}/api/v1/{path}", params=_params(query), timeout=120)
        assert response.status_code == 200, (path, query, response.text)
        shown = set(_LITERAL.findall(response.text.lower())) & known
        assert not shown, (path, query, sorted(shown)[:5])
        assert '"sensors"' not in response.text, (path, query)
        assert '"sensor"' not in response.text, (path, query)
    for path, name, value in (
        ("top/ports", "sensor", "s1"),
        ("top/ports", "prefix", "192.0.2.7/32"),
        ("events/scans", "prefix", "192.0.2.7/32"),
        ("events/dos", "prefix", "192.0.2.0/24"),
    ):
        params = {"period": PERIOD, name: value}
        refused = httpx.get(f"{public.url}/api/v1/{path}", params=params)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["query", name]


def test_public_rankings_hide_the_sensor_count_as_a_published_report_does(public, operator):
    params = {"period": PERIOD}
    full = httpx.get(f"{operator.url}/api/v1/top/ports", params=params).json()
    shown = httpx.get(f"{public.url}/api/v1/top/ports", params=params).json()
    assert "sensors" not in shown["total"] and shown["total"]["packets"] == full["total"]["packets"]
    for a, b in zip(full["rows"], shown["rows"], strict=True):
        assert (a["port"], a["packets"], a["sources"]) == (b["port"], b["packets"], b["sources"])
        assert "per_sensor" not in b  # packets / per_sensor would be the sensor count
        assert b["share"] == pytest.approx(a["share"], abs=0.0005)


def test_public_series_round_as_a_reports_daily_counts(public, operator):
    for params in ({"period": PERIOD, "traffic": "all"}, {"period": PERIOD, "by": "hour"}):
        full = httpx.get(f"{operator.url}/api/v1/series", params=params).json()
        shown = httpx.get(f"{public.url}/api/v1/series", params=params).json()
        assert {**shown, "values": [], "breakdown": {}} == {**full, "values": [], "breakdown": {}}
        assert list(shown["breakdown"]) == list(full["breakdown"])
        lines = [(full["values"], shown["values"])]
        lines += [(full["breakdown"][k], shown["breakdown"][k]) for k in full["breakdown"]]
        for exact, rounded in lines:
            assert rounded == [int(float(f"{v:.3g}")) for v in exact]
            assert all(len(str(v).rstrip("0")) <= 3 for v in rounded)
        assert full["values"][0] > 1000 and shown["values"] != full["values"]


def test_operators_need_a_token_once_the_store_has_tokens(store, tmp_path):
    copy = tmp_path / "store"
    import shutil

    shutil.copytree(store, copy)
    token = Tokens(copy).add("analyst")
    server = WebServer(tmp_path / "server", copy, access={"public": True}).start()
    try:
        url = f"{server.url}/api/v1/top/ports"
        params = {"period": REAL_PERIOD, "sensor": "s1"}
        assert httpx.get(url, params=params).status_code == 422  # public: no sensor
        wrong = httpx.get(url, params=params, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        good = httpx.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        assert good.status_code == 200
        assert good.json()["filters"] == {"sensor": "s1"}
        metrics = httpx.get(f"{server.url}/api/v1/metrics")
        assert metrics.status_code == 401
        metrics = httpx.get(
            f"{server.url}/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}
        )
        assert 'teiten_web_requests_total{endpoint="/api/v1/top/ports",status="200"}' in (
            metrics.text
        )
        assert token not in server.log_text() and "127.0.0.1" not in metrics.text
    finally:
        server.stop()
    operator = WebServer(tmp_path / "operator", copy).start()
    try:
        url = f"{operator.url}/api/v1/top/ports"
        assert httpx.get(url, params={"period": PERIOD}).status_code == 401
        answered = httpx.get(
            url, params={"period": PERIOD}, headers={"Authorization": f"Bearer {token}"}
        )
        assert answered.status_code == 200
    finally:
        operator.stop()


def test_a_burst_beyond_the_budget_is_429_with_retry_after(store, tmp_path):
    server = WebServer(
        tmp_path, store, access={"public": True}, limits={"requests_per_minute": 6, "burst": 5}
    ).start()
    try:
        url = f"{server.url}/api/v1/top/countries"
        statuses = [httpx.get(url, params={"period": PERIOD}).status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5
        assert set(statuses[5:]) == {429}
        refused = httpx.get(url, params={"period": PERIOD})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 10
        assert httpx.get(f"{server.url}/api/v1/health").status_code == 200  # never limited
    finally:
        server.stop()


def test_serving_beyond_this_machine_needs_tokens_or_public_mode(store):
    result = CliRunner().invoke(main, ["serve", "--store", str(store), "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "teiten web tokens add" in result.output
    assert "Traceback" not in result.output


def test_a_new_batch_changes_the_answers_version(store, tmp_path):
    import shutil

    from _cli_store import ingest
    from conftest import capture_path

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    server = WebServer(tmp_path / "server", copy).start()
    try:
        url = f"{server.url}/api/v1/top/countries"
        params = {"period": "2004-01-01..2026-12-31", "traffic": "all"}
        before = httpx.get(url, params=params)
        etag = before.headers["etag"]
        assert httpx.get(url, params=params, headers={"If-None-Match": etag}).status_code == 304
        ingest(copy, "s3", [capture_path("ppa1e_dosattack.pcap")])
        after = httpx.get(url, params=params, headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag
        assert after.json()["total"]["sensors"] == before.json()["total"]["sensors"] + 1
    finally:
        server.stop()


def test_public_mode_holds_back_what_the_publication_delay_says(store, tmp_path):
    from datetime import UTC, datetime, timedelta

    server = WebServer(
        tmp_path, store, access={"public": True, "publication_delay_hours": 48}
    ).start()
    try:
        url = f"{server.url}/api/v1/top/ports"
        assert httpx.get(url, params={"period": PERIOD}).status_code == 200  # long past
        today = datetime.now(UTC).date()
        recent = f"{today - timedelta(days=3)}..{today}"
        refused = httpx.get(url, params={"period": recent})
        assert refused.status_code == 422
        (detail,) = refused.json()["detail"]
        assert detail["loc"] == ["query", "period"]
        assert "not published yet" in detail["msg"]
    finally:
        server.stop()


@pytest.mark.parametrize(("fmt", "lang"), [("html", "en"), ("md", "ja"), ("pdf", "en")])
def test_reports_are_what_teiten_report_writes(operator, public, store, tmp_path, fmt, lang):
    out = tmp_path / f"{PERIOD}.{fmt}"
    args = ["report", "--store", str(store), "--period", PERIOD, "--lang", lang, "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    url = f"{operator.url}/api/v1/reports/{PERIOD}.{fmt}"
    served = httpx.get(url, params={"lang": lang}, timeout=120)
    assert served.status_code == 200, served.text
    if fmt == "pdf":  # chromium stamps each PDF it prints with the time
        assert served.content.startswith(b"%PDF-")
    else:
        assert served.content == out.read_bytes()
    if fmt == "md":
        chart = re.search(rf"\(({re.escape(PERIOD)}_charts/[^)]+\.svg)\)", served.text)
        assert chart is not None
        drawn = httpx.get(f"{operator.url}/api/v1/reports/{chart[1]}", params={"lang": lang})
        assert drawn.content == (tmp_path / chart[1]).read_bytes()
    if fmt == "html":
        assert "style-src 'unsafe-inline'" in served.headers["content-security-policy"]
        assert "script-src" not in served.headers["content-security-policy"]
        shown = httpx.get(f"{public.url}/api/v1/reports/{PERIOD}.html", params={"lang": lang})
        assert not set(_LITERAL.findall(shown.text.lower())) & _addresses(store)


@pytest.mark.parametrize(
    ("name", "lang", "loc"),
    [("2019Q5.pdf", "en", "name"), ("report", "en", "name"), (f"{PERIOD}.pdf", "fr", "lang")],
)
def test_a_bad_report_name_is_422(operator, name, lang, loc):
    response = httpx.get(f"{operator.url}/api/v1/reports/{name}", params={"lang": lang})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == loc


def test_metrics_name_routes_never_the_address_asked_for(store, tmp_path):
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    token = Tokens(copy).add("analyst")
    server = WebServer(tmp_path / "server", copy).start()
    try:
        auth = {"Authorization": f"Bearer {token}"}
        assert (
            httpx.get(f"{server.url}/api/v1/source/120.217.27.51", headers=auth).status_code == 200
        )
        metrics = httpx.get(f"{server.url}/api/v1/metrics", headers=auth).text
        assert 'endpoint="/api/v1/source/{ip}"' in metrics
        assert "120.217.27.51" not in metrics and "120.217.27.51" not in server.log_text()
    finally:
        server.stop()


def test_twenty_first_answers_at_once_are_made_in_one_thread_per_maker(store, tmp_path):
    """Requests wait for a maker in the event loop, in order: not each in a thread."""
    import asyncio
    import os

    budget = {"requests_per_minute": 100_000, "burst": 100_000}
    server = WebServer(tmp_path, store, limits=budget, cache={"warm": False}).start()
    assert server.process is not None
    tasks = Path(f"/proc/{server.process.pid}/task")
    try:
        before = len(list(tasks.iterdir()))

        async def burst() -> list[int]:
            limits = httpx.Limits(max_connections=20)
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
                asked = [
                    http.get("/api/v1/top/ports", params={"period": PERIOD, "limit": n})
                    for n in range(1, 21)  # twenty answers, none made yet
                ]
                return [r.status_code for r in await asyncio.gather(*asked)]

        assert asyncio.run(burst()) == [200] * 20
        assert len(list(tasks.iterdir())) - before <= (os.cpu_count() or 2)
    finally:
        server.stop()
