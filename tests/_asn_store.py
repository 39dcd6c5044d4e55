"""A store of real captures whose sources carry AS numbers (tests of AS rankings, filters
and pages): tests/_cli_store.py's captures ingested with a MaxMind-format database that
puts each /4 of IPv4 in its own AS (64500 + n) and two IPv6 blocks in two more."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from _cli_store import SENSORS
from conftest import capture_path
from enrich.conftest import write_mmdb
from teiten.cli import main


def asn_store(root: Path) -> Path:
    """The store, built under ``root``."""
    networks = {
        f"{16 * i}.0.0.0/4": {
            "country": {"iso_code": "JP" if i % 2 else "US"},
            "autonomous_system_number": 64500 + i,
        }
        for i in range(16)
    }
    networks |= {
        "2000::/4": {"country": {"iso_code": "DE"}, "autonomous_system_number": 64600},
        "3000::/4": {"country": {"iso_code": "FR"}, "autonomous_system_number": 64601},
    }
    geoip = write_mmdb(root / "asn.mmdb", "teiten-test-country-asn", networks)
    store = root / "store"
    for sensor, names in SENSORS.items():
        args = ["ingest", "--store", str(store), "--sensor", sensor, "--geoip", str(geoip)]
        result = CliRunner().invoke(main, [*args, *(str(capture_path(n)) for n in names)])
        assert result.exit_code == 0, result.output
    return store
