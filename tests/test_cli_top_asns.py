"""`teiten top asns`, and the `--asn` / `--prefix` filters, against DuckDB over the packets.

The store is the real captures of tests/_cli_store.py ingested with a MaxMind-format
database that puts each /4 of the IPv4 space in its own AS (and two IPv6 blocks in
two more): the rankings read the rollups, the checks read the raw packets.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from _asn_store import asn_store
from _cli_store import REAL_PERIOD
from teiten.cli import main

FIRST, END = "2021-04-01", "2021-07-01"  # REAL_PERIOD's days


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return asn_store(tmp_path_factory.mktemp("asns"))


def _run(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _packets(store: Path, where: str = "TRUE", params: list | None = None) -> list[tuple]:
    """(asn, packets, distinct sources) per AS of the period's packets, from the files."""
    sql = f"""
        SELECT asn, count(*) AS packets, count(DISTINCT src) AS sources
        FROM read_parquet('{store}/packets/*/*.parquet', hive_partitioning = false)
        WHERE ts >= TIMESTAMPTZ '{FIRST} 00:00:00+00' AND ts < TIMESTAMPTZ '{END} 00:00:00+00'
          AND {where}
        GROUP BY asn ORDER BY packets DESC, asn NULLS LAST"""
    return duckdb.connect().execute(sql, params or []).fetchall()


def test_top_asns_equals_the_packets(store: Path) -> None:
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    body = _run("top", "asns", *args, "--limit", "1000")
    expected = _packets(store)
    assert len(expected) >= 3  # several ASes and the sources without one
    assert [(r["asn"], r["packets"], r["sources"]) for r in body["rows"]] == expected
    assert [r["rank"] for r in body["rows"]] == list(range(1, len(expected) + 1))
    assert body["total"]["packets"] == sum(n for _, n, _ in expected)
    row = body["rows"][0]
    assert set(row) >= {
        "rank", "asn", "name", "packets", "sources", "per_sensor", "share", "previous_rank"
    }  # fmt: skip
    assert row["name"] is None  # no AS names imported


def test_top_asns_by_sources(store: Path) -> None:
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    body = _run("top", "asns", *args, "--metric", "sources", "--limit", "1000")
    sources = [r["sources"] for r in body["rows"]]
    assert sources == sorted(sources, reverse=True)
    assert sorted((r["asn"] or 0, r["sources"]) for r in body["rows"]) == sorted(
        (asn or 0, n) for asn, _, n in _packets(store)
    )


def test_asn_filter(store: Path) -> None:
    ranked = [asn for asn, _, _ in _packets(store) if asn is not None][:2]
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    asns = [a for asn in ranked for a in ("--asn", str(asn))]
    body = _run("top", "ports", *args, *asns)
    wanted = _packets(store, f"asn IN ({', '.join(map(str, ranked))})")
    assert 0 < body["total"]["packets"] == sum(n for _, n, _ in wanted)
    assert body["total"]["packets"] < sum(n for _, n, _ in _packets(store))
    assert body["filters"]["asns"] == sorted(ranked)
    ranked_asns = _run("top", "asns", *args, *asns)  # the filter beside the rows' own markers
    assert [r["asn"] for r in ranked_asns["rows"]] == ranked
    series = _run("series", *args, *asns)
    assert sum(series["values"]) == body["total"]["packets"]
    assert series["filters"]["asns"] == sorted(ranked)


@pytest.mark.parametrize("prefix", ["128.0.0.0/1", "64.0.0.0/3", "2000::/3"])
def test_prefix_filter(store: Path, prefix: str) -> None:
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    body = _run("top", "countries", *args, "--prefix", prefix)
    net = ipaddress.ip_network(prefix)
    first, last = net.network_address, net.broadcast_address
    if net.version == 4:
        first, last = (ipaddress.IPv6Address(f"::ffff:{a}") for a in (first, last))
    wanted = _packets(store, "src BETWEEN ? AND ?", [first.packed, last.packed])
    assert body["total"]["packets"] == sum(n for _, n, _ in wanted)
    assert body["total"]["sources"] == sum(n for _, _, n in wanted)
    assert body["filters"]["prefixes"] == [prefix]
    if net.version == 4:  # the filter selects some packets, not all
        assert 0 < body["total"]["packets"] < sum(n for _, n, _ in _packets(store))


def test_host_bits_are_dropped(store: Path) -> None:
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    body = _run("top", "asns", *args, "--prefix", "128.1.2.3/1")
    assert body["filters"]["prefixes"] == ["128.0.0.0/1"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--prefix", "10.0.0.0/33", "expected a network in CIDR, such as 10.0.0.0/8"),
        ("--prefix", "example.net", "expected a network"),
        ("--asn", "-1", "-1"),
        ("--asn", str(1 << 32), str(1 << 32)),
    ],
)
def test_bad_filters_are_usage_errors(store: Path, option: str, value: str, message: str) -> None:
    args = ["top", "asns", "--store", str(store), "--period", REAL_PERIOD, option, value]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert option in result.output and message in result.output
    assert "Traceback" not in result.output


def test_table_names_the_ases(store: Path) -> None:
    result = CliRunner().invoke(
        main, ["top", "asns", "--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    )
    assert result.exit_code == 0, result.output
    assert "Top source ASes" in result.output
    top = _packets(store)[0][0]
    assert f"AS{top}" in result.output


def test_sources_by_asn_and_prefix(store: Path) -> None:
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all", "--limit", "99999"]
    everyone = _run("sources", *args)
    top = _packets(store)[0][0]
    body = _run("sources", *args, "--asn", str(top))
    assert body["filters"]["asns"] == [top]
    assert body["rows"] and {r["asn"] for r in body["rows"]} == {top}
    assert body["total"]["sources"] == sum(1 for r in everyone["rows"] if r["asn"] == top)
    body = _run("sources", *args, "--prefix", "128.0.0.0/1")
    net = ipaddress.ip_network("128.0.0.0/1")
    inside = [r for r in everyone["rows"] if ipaddress.ip_address(r["source"]) in net]
    assert 0 < len(inside) < len(everyone["rows"])
    assert [r["source"] for r in body["rows"]] == [r["source"] for r in inside]
