"""Filter options through the CLI: names accepted, unknown values refused, filters echoed.

`--country` takes codes and English or Japanese names; an unknown country or sensor is
a usage error (exit 2) that lists what would be accepted, never an empty table; the
filters applied come back in `--json` (`"filters"`) and in the table's title.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from _cli_store import REAL_PERIOD, build_store
from teiten.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return str(build_store(tmp_path_factory.mktemp("cli-filters")))


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def top(store: str, dimension: str, *args: str) -> dict:
    return json.loads(
        run("top", dimension, "--store", store, "--period", REAL_PERIOD, "--json", *args)
    )


@pytest.mark.parametrize("given", ["JP", "jp", "JPN", "Japan", "japan", "日本", "ＪＰ"])
def test_country_codes_and_names_are_accepted(store, given):
    expected = top(store, "ports", "--country", "JP")
    found = top(store, "ports", "--country", given)
    assert found["filters"] == {"country": "JP"}
    assert found["rows"] == expected["rows"] and found["total"] == expected["total"]
    assert found["total"]["packets"] > 1000, "the store has Japanese sources in 2021Q2"


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("United States", "US"),
        ("米国", "US"),
        ("アメリカ", "US"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("韓国", "KR"),
    ],
)
def test_english_and_japanese_names(store, given, code):
    data = top(store, "countries", "--country", given)
    assert data["filters"] == {"country": code}
    assert [r["country"] for r in data["rows"]] == [code]


def test_sources_take_names_too(store):
    args = ["sources", "--store", store, "--period", REAL_PERIOD, "--json", "--limit", "50"]
    data = json.loads(run(*args, "--country", "日本"))
    assert data["filters"] == {"country": "JP", "traffic": "probe"}
    assert data["rows"] and {r["country"] for r in data["rows"]} == {"JP"}


@pytest.mark.parametrize(
    "command",
    [
        ["top", "ports", "--country"],
        ["top", "countries", "--country"],
        ["sources", "--country"],
        ["phenomena", "--focus-country"],
        ["report", "--out", "r.html", "--focus-country"],
    ],
)
def test_unknown_country_is_a_usage_error_naming_close_matches(store, command):
    *head, option = command
    output = run(*head, "--store", store, "--period", REAL_PERIOD, option, "Japn", code=2)
    assert "unknown country 'Japn'" in output and "Japan (JP)" in output


def test_unregistered_codes_are_refused(store):
    for code in ("XX", "ZZ", "QQ"):
        output = run("top", "ports", "--store", store, "--period", REAL_PERIOD, "--country", code,
                     code=2)  # fmt: skip
        assert f"unknown country '{code}'" in output


def test_unknown_sensor_is_a_usage_error_listing_the_known_ones(store):
    for dimension in ("ports", "countries"):
        output = run(
            "top", dimension, "--store", store, "--period", REAL_PERIOD, "--sensor", "nosuch",
            code=2,
        )  # fmt: skip
        assert "unknown sensor 'nosuch'" in output and "s1, s2" in output
    data = top(store, "ports", "--sensor", "s1")
    assert data["filters"] == {"sensor": "s1"} and data["total"]["sensors"] == 1


def test_filters_are_echoed_in_json_and_titles(store):
    args = ["--country", "Japan", "--sensor", "s1", "--proto", "6"]
    data = top(store, "ports", *args)
    assert data["filters"] == {"country": "JP", "sensor": "s1", "proto": "tcp"}
    assert top(store, "ports")["filters"] == {}
    tagged = top(store, "countries", "--exclude-tag", "research")
    assert tagged["filters"] == {"exclude_tags": ["research"]}
    table = run("top", "ports", "--store", store, "--period", REAL_PERIOD, *args)
    assert "— country JP, sensor s1, proto tcp" in " ".join(table.split())
    sources = ["sources", "--store", store, "--period", REAL_PERIOD]
    port = data["rows"][0]["port"]
    found = json.loads(run(*sources, "--json", "--country", "jp", "--port", f"{port}/TCP"))
    assert found["filters"] == {"country": "JP", "port": f"{port}/tcp", "traffic": "probe"}
    assert found["rows"]
    table = run(*sources, "--country", "jp", "--port", f"{port}/TCP")
    assert f"probe packets — country JP, port {port}/tcp" in " ".join(table.split())


def test_focus_country_takes_names(store):
    data = json.loads(
        run("phenomena", "--store", store, "--period", REAL_PERIOD, "--json",
            "--focus-country", "アメリカ")
    )  # fmt: skip
    assert data["focus_country"] == "US"


def test_library_filters_resolve_names():
    from teiten.analyze.rankings import Filters
    from teiten.analyze.sources import SourceFilters
    from teiten.errors import OptionError

    assert Filters(country="日本").country == "JP"
    assert SourceFilters(country="south korea").as_json() == {"country": "KR", "traffic": "probe"}
    with pytest.raises(OptionError, match="Japan"):
        Filters(country="Japn")
