"""A store whose infected sources carry AS numbers, over two weeks (tests of the infected
hosts per AS, the national summary and the events' AS filters): two simulated weeks whose
sources get AS numbers from the simulator's own prefix → AS table (turned into a
MaxMind-format file for ingest)."""

from __future__ import annotations

import csv
import gzip
import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from click.testing import CliRunner

from enrich.conftest import write_mmdb
from teiten.cli import main
from teiten.simulate import SimulationConfig, simulate_to_pcap
from teiten.simulate.as_table import FILE_NAME

PERIOD = "2024-03-08..2024-03-14"  # and the week before it
FIRST, MIDDLE, END = "2024-03-01", "2024-03-08", "2024-03-15"


def infected_store(root: Path) -> Path:
    """The store, built under ``root``."""
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


def infected_sources(store: Path, country: str, first: str, end: str) -> dict[int, set[bytes]]:
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


def busiest_country(store: Path) -> str:
    """The country with the most Mirai-tagged sources."""
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
