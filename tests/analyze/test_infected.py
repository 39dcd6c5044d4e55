"""Infected sources per AS and their turnover, against the raw packets read with DuckDB;
and the report's table of them, number for number.

The store: two simulated weeks whose sources carry AS numbers from the simulator's own
prefix → AS table (turned into a MaxMind-format file for ingest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from _infected_store import (
    END,
    FIRST,
    MIDDLE,
    PERIOD,
    busiest_country,
    infected_sources,
    infected_store,
)
from teiten.analyze.infected import infected_by_as
from teiten.analyze.periods import parse_period
from teiten.cli import main
from teiten.store import Store, open_engine


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return infected_store(tmp_path_factory.mktemp("infected"))


def test_turnover_per_as_equals_the_packets(store: Path) -> None:
    country = busiest_country(store)
    now = infected_sources(store, country, MIDDLE, END)
    before = infected_sources(store, country, FIRST, MIDDLE)
    with open_engine(Store(store, create=False)) as engine:
        found = infected_by_as(engine, parse_period(PERIOD), country, limit=100)
    assert found is not None and len(found.rows) == len(now) > 1
    for row in found.rows:
        mine, earlier = now[row["asn"]], before.get(row["asn"], set())
        assert row["sources"] == len(mine)
        assert row["previous_sources"] == len(earlier)
        assert row["new"] == len(mine - earlier)
        assert row["gone"] == len(earlier - mine)
    all_now, all_before = set().union(*now.values()), set().union(*before.values())
    assert found.total == {
        "sources": len(all_now),
        "previous_sources": len(all_before),
        "new": len(all_now - all_before),
        "gone": len(all_before - all_now),
    }
    assert 0 < found.total["new"] < found.total["sources"]  # a real turnover


def test_no_as_data_no_table(tmp_path: Path) -> None:
    from _cli_store import build_store

    plain = build_store(tmp_path)  # the built-in RIR data: countries, no AS numbers
    with open_engine(Store(plain, create=False)) as engine:
        assert infected_by_as(engine, parse_period("2021Q2"), "JP") is None


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_report_prints_the_same_numbers(store: Path, tmp_path: Path, lang: str) -> None:
    country = busiest_country(store)
    out = tmp_path / f"r-{lang}.md"
    args = ["report", "--store", str(store), "--period", PERIOD, "--focus-country", country]
    result = CliRunner().invoke(main, [*args, "--format", "md", "--lang", lang, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    with open_engine(Store(store, create=False)) as engine:
        found = infected_by_as(engine, parse_period(PERIOD), country)
    assert found is not None
    for row in found.rows:
        cells = f"| AS{row['asn']} |  |"
        line = next(line for line in text.splitlines() if cells in line)
        numbers = [c.strip() for c in line.split("|")[1:-1]]
        assert numbers[0] == str(row["rank"])
        assert numbers[4].rstrip("†‡") == f"{row['sources']:,}"
        assert numbers[-2:] == [f"{row['new']:,}", f"{row['gone']:,}"]
    assert f"{found.total['sources']:,}" in text and f"{found.total['gone']:,}" in text
