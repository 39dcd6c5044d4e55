"""Infected sources per AS and their turnover, against the raw packets read with DuckDB;
and the report's table of them, number for number.

The store: two simulated weeks whose sources carry AS numbers from the simulator's own
prefix → AS table (turned into a MaxMind-format file for ingest)."""

from __future__ import annotations

import csv
import gzip
import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from enrich.conftest import write_mmdb
from teiten.analyze.infected import infected_by_as
from teiten.analyze.periods import parse_period
from teiten.cli import main
from teiten.simulate import SimulationConfig, simulate_to_pcap
from teiten.simulate.as_table import FILE_NAME
from teiten.store import Store, open_engine

PERIOD = "2024-03-08..2024-03-14"  # and the week before it
FIRST, MIDDLE, END = "2024-03-01", "2024-03-08", "2024-03-15"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("infected")
    config = SimulationConfig(
        start=datetime(2024, 3, 1, tzinfo=UTC),
        end=datetime(2024, 3, 15, tzinfo=UTC),
        packets=200_000,
        seed=5,
    )
    simulate_to_pcap(config, root / "caps", per="day")
    networks = {}
    with gzip.open(root / "caps" / FILE_NAME, "rt") as lines:
        for a, b, asn, cc, _ in csv.reader(lines, delimiter="\t"):
            first, last = ipaddress.IPv4Address(a), ipaddress.IPv4Address(b)
            for net in ipaddress.summarize_address_range(first, last):
                networks[str(net)] = {
                    "country": {"iso_code": cc},
                    "autonomous_system_number": int(asn),
                }
    geoip = write_mmdb(root / "geo.mmdb", "teiten-test-sim-asn", networks)
    store = root / "store"
    for sensor in config.sensors:
        captures = sorted((root / "caps" / sensor.name).glob("*.pcap"))
        args = ["ingest", "--store", str(store), "--sensor", sensor.name, "--geoip", str(geoip)]
        result = CliRunner().invoke(main, [*args, *map(str, captures)])
        assert result.exit_code == 0, result.output
    return store


def _infected(store: Path, country: str, first: str, end: str) -> dict[int, set[bytes]]:
    """Mirai-tagged probe sources of ``country`` per AS, from the packet files."""
    rows = (
        duckdb.connect()
        .execute(
            f"""SELECT DISTINCT asn, src
            FROM read_parquet('{store}/packets/*/*.parquet', hive_partitioning = false)
            WHERE ts >= TIMESTAMPTZ '{first} 00:00:00+00' AND ts < TIMESTAMPTZ '{end} 00:00:00+00'
              AND kind = 'probe' AND country = ? AND (tags & 1) = 1""",
            [country],
        )
        .fetchall()
    )
    out: dict[int, set[bytes]] = {}
    for asn, src in rows:
        out.setdefault(asn, set()).add(src)
    return out


def _busiest_country(store: Path) -> str:
    (code,) = (
        duckdb.connect()
        .execute(
            f"""SELECT country FROM read_parquet('{store}/packets/*/*.parquet',
                hive_partitioning = false)
            WHERE (tags & 1) = 1 GROUP BY country ORDER BY count(DISTINCT src) DESC LIMIT 1"""
        )
        .fetchone()
    )
    return str(code)


def test_turnover_per_as_equals_the_packets(store: Path) -> None:
    country = _busiest_country(store)
    now = _infected(store, country, MIDDLE, END)
    before = _infected(store, country, FIRST, MIDDLE)
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
    country = _busiest_country(store)
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
