"""`teiten ingest --geoip FILE.mmdb`: country and AS from the user's database, per batch."""

import json

from click.testing import CliRunner

from conftest import capture_path
from teiten.cli import main
from teiten.store import DuckDBEngine, Store


def test_ingest_with_mmdb_fills_country_and_asn(tmp_path, make_mmdb):
    db = make_mmdb(
        tmp_path / "asn-country.mmdb",
        "Test-Country-ASN",
        {
            "0.0.0.0/1": {"country": {"iso_code": "JP"}, "autonomous_system_number": 64500},
            "128.0.0.0/1": {"country": {"iso_code": "BR"}, "autonomous_system_number": 64501},
        },
    )
    store = tmp_path / "store"
    result = CliRunner().invoke(
        main,
        ["ingest", "--store", str(store), "--geoip", str(db), "--json",
         str(capture_path("ppa3e_synscan.pcapng"))],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["packets"] > 2000
    s = Store(store)
    with DuckDBEngine(s) as engine:
        rows = engine.rows(
            "SELECT country, asn, count(*) AS n FROM packets GROUP BY ALL ORDER BY n DESC"
        )
    tagged = [r for r in rows if r["country"] is not None]
    assert tagged and all(
        (r["country"], r["asn"]) in {("JP", 64500), ("BR", 64501)} for r in tagged
    )
    untagged = [r for r in rows if r["country"] is None]
    assert all(r["asn"] is None for r in untagged)  # private sources: never looked up
    (batch,) = s.manifest.batches()
    assert batch.geo_database == "Test-Country-ASN"
    assert batch.geo_edition == "Test-Country-ASN build 2024-05-01"


def test_bad_geoip_file_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.mmdb"
    junk.write_bytes(b"not a database" * 100)
    result = CliRunner().invoke(
        main,
        ["ingest", "--store", str(tmp_path / "s"), "--geoip", str(junk),
         str(capture_path("libtrace_100_packets.pcap"))],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "junk.mmdb" in result.output and "MaxMind" in result.output
