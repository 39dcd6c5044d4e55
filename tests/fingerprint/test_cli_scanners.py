"""`teiten scanners import|list`, and `teiten ingest` tagging with the store's list."""

from __future__ import annotations

import ipaddress
import json

import pytest
from click.testing import CliRunner

from conftest import capture_path
from enrich.conftest import write_mmdb
from teiten.cli import main
from teiten.store import DuckDBEngine, Store

SYNSCAN = "ppa3e_synscan.pcapng"  # nmap from 172.16.0.8; answers from 64.13.134.52
DOMINATE = "stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"  # 9,697 spoofed sources


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def research_counts(store) -> dict[str, int]:
    with DuckDBEngine(Store(store)) as engine:
        rows = engine.rows(
            "SELECT src, count(*) AS n FROM packets WHERE has_tag(tags, 'research') GROUP BY ALL"
        )
    return {str(address(r["src"])): int(r["n"]) for r in rows}


def address(raw: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.IPv6Address(raw)
    return ip.ipv4_mapped or ip


def test_import_list_and_ingest(tmp_path):
    store = tmp_path / "store"
    scanners = tmp_path / "scanners.txt"
    scanners.write_text("172.16.0.0/24  the nmap host of the sample  # private, but listed\n")
    code, out = run("scanners", "import", str(scanners), "--store", str(store), "--json")
    assert code == 0, out
    record = json.loads(out)
    assert record["entries"] == 1 and record["ipv4"] == 1 and record["digest"].startswith("sha256:")
    assert (store / "research-networks.txt").read_text().splitlines()[-1] == (
        "172.16.0.0/24\tthe nmap host of the sample"
    )

    code, out = run("ingest", "--store", str(store), "--json", str(capture_path(SYNSCAN)))
    assert code == 0, out
    assert research_counts(store) == {"172.16.0.8": 1994}  # every nmap SYN, no answer

    code, out = run("scanners", "list", "--store", str(store), "--json")
    status = json.loads(out)
    assert status["digest"] == record["digest"]
    assert [e["value"] for e in status["entries"]] == ["172.16.0.0/24"]
    (tagged,) = status["tagged"]
    assert tagged["digest"] == record["digest"] and tagged["packets"] == 2011
    assert tagged["files"] == [str(capture_path(SYNSCAN))]

    code, out = run("scanners", "list", "--store", str(store))
    assert code == 0 and "172.16.0.0/24" in out and "tagged 1 ingests" in out


def test_a_new_version_keeps_the_old_one_in_the_record(tmp_path):
    store, first, second = tmp_path / "s", tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("192.0.2.0/24\n")
    second.write_text("192.0.2.0/24\nAS64496 Example\n")
    assert run("scanners", "import", str(first), "--store", str(store))[0] == 0
    code, out = run("scanners", "import", str(second), "--store", str(store))
    assert code == 0 and "1 AS numbers" in out and "`teiten asn import`" in out
    status = json.loads(run("scanners", "list", "--store", str(store), "--json")[1])
    assert len(status["entries"]) == 2 and len(status["previous"]) == 1
    assert status["previous"][0]["entries"] == 1


def test_a_bad_line_is_an_error_naming_the_line_and_changes_nothing(tmp_path):
    store, good, bad = tmp_path / "s", tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("192.0.2.0/24\n")
    bad.write_text("# scanners\n198.51.100.0/24\n198.51.100.300/32 typo\n")
    assert run("scanners", "import", str(good), "--store", str(store))[0] == 0
    code, out = run("scanners", "import", str(bad), "--store", str(store))
    assert code == 1
    assert f"{bad}:3:" in out and "198.51.100.300/32" in out
    assert "192.0.2.0/24" in (store / "research-networks.txt").read_text()
    code, out = run("scanners", "import", str(tmp_path / "missing.txt"), "--store", str(store))
    assert code == 1 and "missing.txt" in out and "cannot read" in out


def test_list_without_a_list(tmp_path):
    store = tmp_path / "s"
    assert (
        run("ingest", "--store", str(store), str(capture_path("libtrace_100_packets.pcap")))[0] == 0
    )
    code, out = run("scanners", "list", "--store", str(store))
    assert code == 0 and "no research scanner list" in out
    assert json.loads(run("scanners", "list", "--store", str(store), "--json")[1])["list"] is None


@pytest.mark.parametrize("geoip", [True, False])
def test_as_entries_need_an_as_database(tmp_path, geoip):
    store, scanners = tmp_path / "store", tmp_path / "scanners.txt"
    scanners.write_text("AS64500   everything in 0.0.0.0/1, in this test database\n")
    assert run("scanners", "import", str(scanners), "--store", str(store))[0] == 0
    args = ["ingest", "--store", str(store), "--json", str(capture_path(DOMINATE))]
    if geoip:
        db = write_mmdb(
            tmp_path / "asn.mmdb",
            "Test-ASN",
            {
                "0.0.0.0/1": {"autonomous_system_number": 64500},
                "128.0.0.0/1": {"autonomous_system_number": 64501},
            },
        )
        args[1:1] = ["--geoip", str(db)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    with DuckDBEngine(Store(store)) as engine:
        (r,) = engine.rows(
            "SELECT count(*) FILTER (WHERE has_tag(tags, 'research')) AS tagged, "
            "count(*) FILTER (WHERE asn = 64500) AS in_as FROM packets"
        )
    if geoip:
        assert r["tagged"] == r["in_as"] > 1000 and not result.stderr
    else:
        assert r["tagged"] == 0 and "has no AS numbers" in result.stderr
