"""`teiten store retag --asn|--research`: only those columns change, every count stays.

A store of real captures (tests/_cli_store.py) is ingested with the built-in RIR data
(no AS numbers, no research list), then an iptoasn file the test writes is imported
and a research list too, and the store is retagged; the checks read the packet files
and compute the expected AS numbers with a plain scan of the test's own ranges."""

from __future__ import annotations

import gzip
import ipaddress
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from _cli_store import REAL_PERIOD, build_store
from teiten.cli import main

# Each /4 of IPv4 its own AS; the first /8 of each left out (not routed).
RANGES = [(16 * i << 24 | 1 << 24, (16 * i + 16 << 24) - 1, 64800 + i) for i in range(16)]


def _run(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _expected_asn(src: bytes) -> int | None:
    ip = ipaddress.IPv6Address(src)
    v4 = ip.ipv4_mapped
    if v4 is None or not v4.is_global or v4.is_multicast:  # bogons are never looked up
        return None
    n = int(v4)
    return next((asn for first, last, asn in RANGES if first <= n <= last), None)


def _rows(store: Path) -> list[tuple]:
    return (
        duckdb.connect()
        .execute(
            f"""SELECT * EXCLUDE (day) FROM read_parquet('{store}/packets/*/*.parquet',
            hive_partitioning = true) ORDER BY ALL"""
        )
        .fetchall()
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("retag"))


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(built, copy)
    return copy


def _import_ranges(store: Path, folder: Path) -> None:
    path = folder / "ip2asn-v4.tsv.gz"
    with gzip.open(path, "wt") as out:
        for first, last, asn in RANGES:
            a, b = ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
            out.write(f"{a}\t{b}\t{asn}\tZZ\tTest network {asn}\n")
    _run("asn", "import", str(path), "--store", str(store), "--date", "2021-01-01")


def test_retag_asn_sets_only_the_as_numbers(store: Path, tmp_path: Path) -> None:
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    before_rows, ports, countries = (
        _rows(store),
        _run("top", "ports", *args),
        _run("top", "countries", *args),
    )
    _import_ranges(store, tmp_path)
    done = _run("store", "retag", "--asn", "--store", str(store))
    assert done["asn_changed"] > 0 and done["research_changed"] == 0
    after_rows = _rows(store)
    columns = [
        c[0]
        for c in duckdb.connect()
        .execute(
            f"DESCRIBE SELECT * EXCLUDE (day) FROM read_parquet('{store}/packets/*/*.parquet')"
        )
        .fetchall()
    ]
    at = columns.index("asn")
    src = columns.index("src")
    strip = lambda rows: sorted(r[:at] + r[at + 1 :] for r in rows)  # noqa: E731
    assert strip(after_rows) == strip(before_rows)  # every other column, every row
    for row in after_rows:
        assert row[at] == _expected_asn(row[src])
    assert _run("top", "ports", *args) == ports  # every count the same
    assert _run("top", "countries", *args) == countries
    asns = _run("top", "asns", *args, "--limit", "100")["rows"]
    by_asn = dict(
        duckdb.connect()
        .execute(
            f"""SELECT asn, count(*) FROM read_parquet('{store}/packets/*/*.parquet')
                WHERE ts >= TIMESTAMPTZ '2021-04-01 00:00:00+00'
                  AND ts < TIMESTAMPTZ '2021-07-01 00:00:00+00' GROUP BY asn"""
        )
        .fetchall()
    )
    assert {r["asn"]: r["packets"] for r in asns} == by_asn  # the rollups were rebuilt
    assert {r["name"] for r in asns if r["asn"]} <= {f"Test network {a}" for *_, a in RANGES}
    check = CliRunner().invoke(main, ["store", "check", "--store", str(store)])
    assert check.exit_code == 0, check.output
    again = _run("store", "retag", "--asn", "--store", str(store))
    assert again["days"] == []  # nothing left to change


def test_retag_research_sets_only_the_research_tag(store: Path, tmp_path: Path) -> None:
    args = ["--store", str(store), "--period", REAL_PERIOD, "--traffic", "all"]
    before = _rows(store)
    ports = _run("top", "ports", *args)
    (busiest,) = (
        duckdb.connect()
        .execute(
            f"""SELECT src FROM read_parquet('{store}/packets/*/*.parquet')
            WHERE ip_version = 4 AND ts >= TIMESTAMPTZ '2021-04-01 00:00:00+00'
              AND ts < TIMESTAMPTZ '2021-07-01 00:00:00+00'
            GROUP BY src ORDER BY count(*) DESC LIMIT 1"""
        )
        .fetchone()
    )
    network = ipaddress.ip_network(f"{ipaddress.IPv6Address(busiest).ipv4_mapped}/24", strict=False)
    listed = tmp_path / "research.txt"
    listed.write_text(f"{network}  Example research scanner\n")
    _run("scanners", "import", str(listed), "--store", str(store))
    done = _run("store", "retag", "--research", "--store", str(store))
    assert done["research_changed"] > 0 and done["asn_changed"] == 0
    after = _run("top", "ports", *args)
    assert after["total"] == ports["total"]
    assert after["tag_shares"]["research"] > 0 == ports["tag_shares"]["research"]
    excluded = _run("top", "ports", *args, "--exclude-tag", "research")
    hits = (
        duckdb.connect()
        .execute(
            f"""SELECT count(*) FROM read_parquet('{store}/packets/*/*.parquet')
            WHERE (tags >> 24) & 1 = 1 AND ts >= TIMESTAMPTZ '2021-04-01 00:00:00+00'
              AND ts < TIMESTAMPTZ '2021-07-01 00:00:00+00'"""
        )
        .fetchone()[0]
    )
    assert excluded["total"]["packets"] == ports["total"]["packets"] - hits
    assert len(_rows(store)) == len(before)


def test_retag_says_what_is_missing(store: Path) -> None:
    for args, message in (
        ([], "give --asn, --research or both"),
        (["--asn"], "teiten asn import"),
        (["--research"], "teiten scanners import"),
        (["--asn", "--day", "1999-01-01"], "teiten asn import"),
    ):
        result = CliRunner().invoke(main, ["store", "retag", "--store", str(store), *args])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
