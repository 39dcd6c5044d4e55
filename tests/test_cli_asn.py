"""`teiten asn import|list|use|lookup`, and ingest tagging AS numbers from the store's edition."""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import os
from bisect import bisect_right
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from conftest import capture_path
from teiten.cli import main
from teiten.enrich.addresses import ipv4_bogon, ipv6_bogon
from teiten.store import DuckDBEngine, Store

# --- small files in each format ------------------------------------------------------


def _iptoasn_rows() -> list[tuple[str, str, int, str]]:
    """Every IPv4 address in 4,096 /12 ranges (1 in 5 not routed), and three IPv6 blocks."""
    rows = []
    for i in range(256 * 16):
        first, last = ipaddress.IPv4Address(i << 20), ipaddress.IPv4Address((i << 20) | 0xFFFFF)
        rows.append((str(first), str(last), 0 if i % 5 == 0 else 64512 + i, f"Holder {i}"))
    for i, net in enumerate(["2600::/16", "2001:4800::/21", "2607:f000::/20"]):
        block = ipaddress.IPv6Network(net)
        rows.append((str(block[0]), str(block[-1]), 4_200_000_000 + i, f"V6 {i}"))
    return rows


def write_iptoasn(path: Path, rows=None) -> Path:
    lines = "".join(
        f"{s}\t{e}\t{a}\t{'None' if a == 0 else 'JP'}\t{'Not routed' if a == 0 else name}\n"
        for s, e, a, name in (rows or _iptoasn_rows())
    )
    path.write_bytes(gzip.compress(lines.encode(), mtime=0))
    os.utime(path, (1_714_521_600, 1_714_521_600))  # 2024-05-01 UTC: the file's time
    return path


def write_prefix2as(path: Path) -> Path:
    lines = "1.0.0.0\t24\t13335\n1.0.0.128\t25\t64496_64497\n1.0.4.0\t22\t38803,64498\n"
    path.write_bytes(gzip.compress(lines.encode(), mtime=0))
    return path


def write_asn_mmdb(path: Path, networks: dict[str, dict]) -> Path:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def run_json(*args: str):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# --- import, list, use ------------------------------------------------------------------


def test_import_records_the_edition_and_the_same_file_again_adds_nothing(tmp_path):
    store = str(tmp_path / "store")
    file = write_iptoasn(tmp_path / "ip2asn-combined.tsv.gz")
    record = run_json("asn", "import", str(file), "--store", store)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    assert record["added"] is True
    assert record["edition"] == f"iptoasn-2024-05-01-{digest[:12]}"
    assert (record["format"], record["file"], record["digest"]) == (
        "iptoasn",
        "ip2asn-combined.tsv.gz",
        f"sha256:{digest}",
    )
    assert (record["date"], record["date_from"]) == ("2024-05-01", "file time")
    assert record["ranges"] == {"ipv4": 256 * 16 - 820, "ipv6": 3}
    assert record["ases"] == record["names"] == 256 * 16 - 820 + 3
    assert record["input"]["rows"] == 256 * 16 + 3 and record["input"]["not_routed"] == 820
    assert datetime.fromisoformat(record["imported_at"]) <= datetime.now(UTC)

    editions = tmp_path / "store" / "asn" / "editions.json"
    before = editions.read_bytes()
    again = run("asn", "import", str(file), "--store", store)
    assert again.exit_code == 0 and "already imported as " + record["edition"] in again.output
    assert "nothing added" in again.output and editions.read_bytes() == before
    listed = run_json("asn", "list", "--store", store)
    assert listed["current"] == record["edition"]
    assert [e["edition"] for e in listed["editions"]] == [record["edition"]]
    human = run("asn", "list", "--store", store).output
    assert human.startswith(f"* {record['edition']}") and "from ip2asn-combined.tsv.gz" in human


def test_each_format_is_dated_from_its_data_or_the_option(tmp_path):
    from teiten.cli.asn import _FORMATS
    from teiten.enrich.asn import FORMATS

    assert _FORMATS == FORMATS  # the CLI names them without importing the readers
    store = str(tmp_path / "store")
    pfx = write_prefix2as(tmp_path / "routeviews-rv2-20240601-1200.pfx2as.gz")
    record = run_json("asn", "import", str(pfx), "--store", store)
    assert (record["format"], record["date"], record["date_from"]) == (
        "prefix2as",
        "2024-06-01",
        "file name",
    )
    assert record["input"]["multi_origin"] == 1 and record["input"]["as_set"] == 1
    assert record["input"]["overlapping"] == 2 and record["names"] == 0
    mmdb = write_asn_mmdb(
        tmp_path / "asn.mmdb",
        {"1.0.0.0/24": {"autonomous_system_number": 13335, "autonomous_system_organization": "CF"}},
    )
    before = datetime.now(UTC).date().isoformat()  # mmdb-writer stamps the build time: now
    record = run_json("asn", "import", str(mmdb), "--store", store)
    after = datetime.now(UTC).date().isoformat()
    assert (record["format"], record["date_from"]) == ("mmdb", "database build time")
    assert record["date"] in (before, after)
    tsv = write_iptoasn(tmp_path / "ip2asn-v4.tsv.gz", _iptoasn_rows()[:100])
    record = run_json("asn", "import", str(tsv), "--store", store, "--date", "2023-12-31")
    assert (record["date"], record["date_from"]) == ("2023-12-31", "--date")
    assert record["edition"].startswith("iptoasn-2023-12-31-")
    listed = run_json("asn", "list", "--store", store)
    assert [e["format"] for e in listed["editions"]] == ["prefix2as", "mmdb", "iptoasn"]
    assert listed["current"] == record["edition"]  # the latest import is the one in use


def test_lookup_and_use_choose_the_edition(tmp_path):
    store = str(tmp_path / "store")
    pfx = write_prefix2as(tmp_path / "routeviews-rv2-20240601-1200.pfx2as.gz")
    first = run_json("asn", "import", str(pfx), "--store", store)
    second = run_json("asn", "import", str(write_iptoasn(tmp_path / "a.tsv.gz")), "--store", store)
    answers = run_json("asn", "lookup", "1.0.0.200", "1.0.0.1", "1.0.5.1", "--store", store)
    assert [a["asn"] for a in answers] == [64512 + 16, 64512 + 16, 64512 + 16]
    assert {a["edition"] for a in answers} == {second["edition"]}
    asked = ["1.0.0.200", "1.0.0.1", "1.0.5.1", "1.0.8.1"]
    older = run_json("asn", "lookup", *asked, "--edition", first["edition"], "--store", store)
    assert [a["asn"] for a in older] == [64496, 13335, 38803, None]  # most specific; first origin
    assert older[0]["range"] == ["1.0.0.128", "1.0.0.255"] and older[1]["range"] == [
        "1.0.0.0",
        "1.0.0.127",
    ]
    human = run("asn", "lookup", "1.0.0.1", "2600::1", "0.0.0.1", "--store", store).output
    assert "1.0.0.1  AS64528  Holder 16  [1.0.0.0 - 1.15.255.255]" in human
    assert "2600::1  AS4200000000  V6 0" in human and "0.0.0.1  -  (in no range of" in human

    used = run("asn", "use", first["edition"], "--store", store)
    assert used.exit_code == 0 and "is now the store's AS edition" in used.output
    assert run_json("asn", "list", "--store", store)["current"] == first["edition"]
    unknown = run("asn", "use", "iptoasn-1999-01-01-000000000000", "--store", store)
    assert (
        unknown.exit_code == 2
        and "no AS edition 'iptoasn-1999-01-01-000000000000'" in unknown.output
    )
    assert run("asn", "lookup", "300.1.1.1", "--store", store).exit_code == 2


def test_a_store_without_an_edition_says_what_to_do(tmp_path):
    store = tmp_path / "store"
    Store(store).close()
    result = run("asn", "lookup", "1.1.1.1", "--store", str(store))
    assert result.exit_code == 1 and "no AS edition in this store" in result.output
    assert "teiten asn import" in run("asn", "list", "--store", str(store)).output
    missing = run("asn", "list", "--store", str(tmp_path / "none"))
    assert missing.exit_code == 1 and "not a teiten store" in missing.output


def test_a_bad_file_changes_nothing_and_names_its_line(tmp_path):
    store = str(tmp_path / "store")
    good = run_json("asn", "import", str(write_prefix2as(tmp_path / "p.gz")), "--store", store)
    bad = tmp_path / "ip2asn-v4.tsv"
    bad.write_text("1.0.0.0\t1.0.0.255\t13335\tUS\tCF\n1.0.1.0\t1.0.1.255\t13335\tUS\n")
    result = run("asn", "import", str(bad), "--store", store)
    assert result.exit_code == 1
    assert f"{bad}:2: 4 tab-separated fields, not 5" in result.output
    assert "Traceback" not in result.output
    listed = run_json("asn", "list", "--store", store)
    assert [e["edition"] for e in listed["editions"]] == [good["edition"]]
    assert listed["current"] == good["edition"]
    assert sorted(p.name for p in (tmp_path / "store" / "asn").iterdir()) == [
        ".lock",
        "editions.json",
        good["edition"],
    ]


# --- ingest tags with the store's edition -----------------------------------------------


def _expected_asn(rows):
    """An independent answer per source: bisect over the file's routed rows; bogons: none."""
    routed = []
    for s, e, a, _ in rows:
        first, last = ipaddress.ip_address(s), ipaddress.ip_address(e)
        if a:
            routed.append((first.version, int(first), int(last), a))
    routed.sort()
    starts = [(r[0], r[1]) for r in routed]

    def lookup(src: bytes) -> int | None:
        address = ipaddress.IPv6Address(src)
        mapped = address.ipv4_mapped
        version, value = (4, int(mapped)) if mapped else (6, int(address))
        bogon = (
            ipv4_bogon(np.array([value], np.uint32))
            if version == 4
            else ipv6_bogon(np.frombuffer(src, "V16"))
        )
        if bogon[0]:
            return None
        i = bisect_right(starts, (version, value)) - 1
        if i >= 0 and routed[i][0] == version and value <= routed[i][2]:
            return routed[i][3]
        return None

    return lookup


def test_ingest_tags_each_source_from_the_store_edition(tmp_path):
    store = tmp_path / "store"
    rows = _iptoasn_rows()
    file = write_iptoasn(tmp_path / "a.tsv.gz", rows)
    record = run_json("asn", "import", str(file), "--store", str(store))
    captures = ["stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng", "sv_community-id-ipv6.pcap"]
    result = run(
        "ingest", "--store", str(store), "--json", *(str(capture_path(c)) for c in captures)
    )
    assert result.exit_code == 0, result.output
    with DuckDBEngine(Store(store, create=False)) as engine:
        stored = engine.rows("SELECT DISTINCT src, asn FROM packets")
    expected = _expected_asn(rows)
    assert len(stored) > 9000
    assert [r["asn"] for r in stored] == [expected(bytes(r["src"])) for r in stored]
    numbers = [r["asn"] for r in stored]
    assert None in numbers and 4_200_000_000 in numbers  # gaps and bogons, IPv6
    assert len(set(numbers)) > 1000

    batches = Store(store, create=False).manifest.batches()
    assert {b.geo_database for b in batches} == {
        "iptocc (RIR delegated statistics) + AS table (iptoasn)"
    }
    assert all(b.geo_edition.endswith(f"; AS table {record['edition']}") for b in batches)
    info = run("store", "info", "--store", str(store)).output
    assert (
        "+ AS table (iptoasn) (iptocc " in info
        and f"; AS table {record['edition']}): 2 batches" in info
    )


def test_an_explicit_asn_database_wins_over_the_store_edition(tmp_path):
    store = tmp_path / "store"
    run_json("asn", "import", str(write_iptoasn(tmp_path / "a.tsv.gz")), "--store", str(store))
    mmdb = write_asn_mmdb(tmp_path / "asn.mmdb", {"0.0.0.0/1": {"autonomous_system_number": 7}})
    capture = str(capture_path("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"))
    result = run("ingest", "--store", str(store), "--geoip-asn", str(mmdb), "--json", capture)
    assert result.exit_code == 0, result.output
    with DuckDBEngine(Store(store, create=False)) as engine:
        numbers = {r["asn"] for r in engine.rows("SELECT DISTINCT asn FROM packets")}
    assert numbers == {7, None}
    (batch,) = Store(store, create=False).manifest.batches()
    assert "AS table" not in batch.geo_edition and "GeoLite2-ASN build" in batch.geo_edition


def test_the_collector_tags_with_the_store_edition_unless_geoip_asn_is_set(tmp_path):
    from teiten.collector.app import _Collector
    from teiten.collector.config import CollectorConfig

    store = tmp_path / "store"
    record = run_json(
        "asn", "import", str(write_iptoasn(tmp_path / "a.tsv.gz")), "--store", str(store)
    )
    mmdb = write_asn_mmdb(tmp_path / "asn.mmdb", {"0.0.0.0/1": {"autonomous_system_number": 7}})
    for config, edition in (
        (CollectorConfig(store=store), f"AS table {record['edition']}"),
        (CollectorConfig(store=store, geoip_asn=mmdb), "GeoLite2-ASN build"),
    ):
        collector = _Collector(config)
        collector.open()
        try:
            assert collector.writer is not None and edition in collector.writer.geo.edition
        finally:
            collector.close()


@pytest.mark.parametrize("damage", ["table", "record"])
def test_a_damaged_stored_edition_is_a_clear_error(tmp_path, damage):
    store = tmp_path / "store"
    record = run_json(
        "asn", "import", str(write_prefix2as(tmp_path / "p.gz")), "--store", str(store)
    )
    if damage == "table":
        (store / "asn" / record["edition"] / "table.npz").write_bytes(b"not a zip")
    else:
        (store / "asn" / "editions.json").write_text("{")
    result = run("asn", "lookup", "1.0.0.1", "--store", str(store))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "import p.gz again" if damage == "table" else "import the AS file again"
    ) in result.output
