"""Ingest: exactly once per input, bad input reported, good data kept."""

import json
import os
import shutil
import struct
import subprocess
import sys

import pytest

from conftest import capture_path, require_tool
from conftest import small_disk as mounted_disk
from teiten.capture.identity import content_key
from teiten.enrich import open_geo
from teiten.ingest import ingest
from teiten.store import DuckDBEngine, Store


@pytest.fixture(scope="module")
def geo():
    return open_geo()


def _count(store):
    with DuckDBEngine(store) as engine:
        return engine.rows("SELECT count(*) AS n FROM packets")[0]["n"]


def _tshark_count(path, display_filter=""):
    tshark = require_tool("tshark")
    args = [tshark, "-r", str(path), "-T", "fields", "-e", "frame.number"]
    if display_filter:
        args += ["-Y", display_filter]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return len(out.split())


def test_ingest_is_idempotent_by_content(tmp_path, geo):
    store = Store(tmp_path / "s")
    src = capture_path("libtrace_100_packets.pcap")
    first = ingest([src], store, geo, sensor="t1").as_json()
    assert first["files"] == 1 and first["errors"] == []
    assert first["packets"] + first["skipped"] == 100
    assert first["packets"] == _tshark_count(src, "ip or ipv6")
    assert _count(store) == first["packets"]

    renamed = tmp_path / "other-name.pcap"
    shutil.copy(src, renamed)
    again = ingest([src, renamed], store, geo, sensor="t1").as_json()
    assert again["packets"] == 0
    assert again["duplicates"] == 2 * first["packets"]
    assert all("already in the store" in w for w in again["warnings"])
    assert _count(store) == first["packets"]


def test_probe_counts_match_tshark(tmp_path, geo):
    store = Store(tmp_path / "s")
    src = capture_path("ppa3e_synscan.pcapng")
    ingest([src], store, geo)
    syn = _tshark_count(src, "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.reset == 0")
    with DuckDBEngine(store) as engine:
        rows = engine.rows("SELECT kind, count(*) AS n FROM packets GROUP BY kind")
    counts = {r["kind"]: r["n"] for r in rows}
    assert counts["probe"] == syn


def test_truncated_last_record_keeps_complete_packets(tmp_path, geo):
    src = capture_path("libtrace_100_packets.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(src[:-10])
    report = ingest([cut], Store(tmp_path / "s"), geo).as_json()
    assert report["errors"] == []
    assert report["packets"] + report["skipped"] == 99
    assert any("truncat" in w for w in report["warnings"])


def _corrupt_middle(tmp_path):
    data = bytearray(capture_path("libtrace_100_packets.pcap").read_bytes())
    offset, number = 24, 1
    while number < 50:
        caplen = struct.unpack_from("<I", data, offset + 8)[0]
        offset += 16 + caplen
        number += 1
    struct.pack_into("<I", data, offset + 8, 0x7FFFFFF0)  # impossible caplen
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(bytes(data))
    return path, offset


def test_corrupt_record_keeps_what_came_before(tmp_path, geo):
    path, offset = _corrupt_middle(tmp_path)
    store = Store(tmp_path / "s")
    report = ingest([path], store, geo).as_json()
    (error,) = report["errors"]
    assert str(offset) in error["error"] and "packet 50" in error["error"]
    assert report["packets"] + report["skipped"] == 49
    assert _count(store) == report["packets"]
    # The same bytes again add nothing (the partial result is what this input holds).
    assert ingest([path], store, geo).as_json()["packets"] == 0


def test_one_bad_file_never_stops_the_others(tmp_path, geo):
    text = tmp_path / "notes.txt"
    text.write_text("this is not a capture\n")
    ppp = tmp_path / "ppp.pcap"
    ppp.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 9))
    good = capture_path("libtrace_100_packets.pcap")
    report = ingest([text, ppp, tmp_path / "missing.pcap", good], Store(tmp_path / "s"), geo)
    data = report.as_json()
    assert not report.ok
    errors = {e["file"]: e["error"] for e in data["errors"]}
    assert "not a" in errors[str(text)].lower()
    assert "link type 9" in errors[str(ppp)] and "PPP" in errors[str(ppp)]
    assert "missing.pcap" in errors[str(tmp_path / "missing.pcap")]
    assert data["packets"] > 0


def test_non_ip_packets_are_counted_by_reason(tmp_path, geo):
    src = capture_path("rusticata_wireshark_samples-test.pcapng")
    data = ingest([src], Store(tmp_path / "s"), geo).as_json()
    assert data["packets"] == _tshark_count(src, "ip or ipv6")
    assert data["skipped"] == 5898 - data["packets"]
    assert sum(data["skipped_reasons"].values()) == data["skipped"]
    assert any("ARP" in reason for reason in data["skipped_reasons"])


def test_every_supported_real_capture_ingests(tmp_path, geo):
    names = [
        "pcpp_raw_ip.pcap",
        "tcpdump_tcp-handshake-nano.pcap",
        "pcpp_many_interfaces-1.pcapng",
        "zeek_ldap_gap-data-missing.pcapng",
        "sv_community-id-ipv6.pcap",
        "pcpp_nanosecs_big_endian.pcap",
        "stopddos_amp.UDP.snmp.src161.pcapng",
        "edge_tcpdump_empty.pcapng",
    ]
    paths = [capture_path(n) for n in names]
    report = ingest(paths, Store(tmp_path / "s"), geo).as_json()
    assert report["errors"] == []
    assert report["packets"] == sum(_tshark_count(p, "ip or ipv6") for p in paths)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB disk to fill."""
    with mounted_disk(tmp_path / "disk", "2m") as mount:
        yield mount


def test_full_disk_stores_nothing_of_that_file_and_keeps_the_rest(small_disk, geo):
    store = Store(small_disk / "s")
    small = capture_path("libtrace_100_packets.pcap")
    kept = ingest([small], store, geo).as_json()["packets"]
    filler = small_disk / "filler"
    with open(filler, "wb") as f:  # leave ~48 KiB free
        free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
        f.write(b"\0" * max(0, free - 48 * 1024))
    big = capture_path("stopddos_amp.UDP.snmp.src161.pcapng")
    report = ingest([big], store, geo)
    (error,) = report.as_json()["errors"]
    assert "No space left" in error["error"]
    assert "nothing from this file was stored" in error["error"]
    assert _count(store) == kept
    assert not any((store.root / "staging").glob("*/*"))
    filler.unlink()
    retry = ingest([big], store, geo).as_json()
    assert retry["errors"] == [] and retry["packets"] > 4000 and retry["duplicates"] == 0
    assert _count(store) == kept + retry["packets"]


def _recorded(store):
    return {i.name: (i.digest, i.size) for i in store.manifest.inputs()}


def test_one_pass_key_equals_the_content_key_of_the_whole_file(tmp_path, geo):
    raw = capture_path("libtrace_100_packets.pcap")
    corrupt, _ = _corrupt_middle(tmp_path)  # the reader stops at packet 50
    for path, status in ((raw, "ingested"), (corrupt, "partial")):
        store = Store(tmp_path / f"store-{status}")
        report = ingest([path], store, geo).as_json()
        assert [r["status"] for r in report["inputs"]] == [status]
        key = content_key(path).key
        assert key.startswith("packets-blake3:")
        assert _recorded(store)[str(path)] == (key, path.stat().st_size)


def test_a_file_of_a_known_size_with_other_bytes_is_not_a_duplicate(tmp_path, geo):
    src = capture_path("libtrace_100_packets.pcap")
    data = bytearray(src.read_bytes())
    pos = 24
    while pos < len(data):  # every packet an hour later: same size, other packets
        sec, _, caplen, _ = struct.unpack_from("<IIII", data, pos)
        struct.pack_into("<I", data, pos, sec + 3600)
        pos += 16 + caplen
    changed = tmp_path / "changed.pcap"
    changed.write_bytes(bytes(data))
    store = Store(tmp_path / "s")
    first = ingest([src], store, geo).as_json()
    second = ingest([changed, src], store, geo).as_json()
    assert [r["status"] for r in second["inputs"]] == ["ingested", "duplicate"]
    assert second["packets"] == first["packets"] and second["duplicates"] == first["packets"]
    assert _count(store) == 2 * first["packets"]


def test_concurrent_ingests_of_one_file_store_it_once(tmp_path):
    src = capture_path("stopddos_amp.UDP.snmp.src161.pcapng")
    store = str(tmp_path / "s")
    Store(store)  # both processes find the store (and its lock) ready
    cmd = [sys.executable, "-m", "teiten.cli", "ingest", "--store", store, "--json", str(src)]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    answers = [json.loads(run.communicate()[0]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    statuses = sorted(a["inputs"][0]["status"] for a in answers)
    assert statuses == ["duplicate", "ingested"]
    stored = sum(a["packets"] for a in answers)
    assert stored > 4000 and _count(Store(store)) == stored
    assert sum(a["duplicates"] for a in answers) == stored


def test_dry_run_reports_what_would_be_stored_and_writes_nothing(tmp_path, geo):
    src = capture_path("rusticata_wireshark_samples-test.pcapng")
    store = Store(tmp_path / "s")
    dry = ingest([src], store, geo, dry_run=True).as_json()
    assert dry["dry_run"] is True and dry["errors"] == []
    assert store.manifest.inputs() == [] and not store.has_packets()
    assert not any((store.root / "staging").glob("*"))
    real = ingest([src], store, geo).as_json()
    assert real["dry_run"] is False
    for key in ("packets", "skipped", "skipped_reasons"):
        assert dry[key] == real[key]
    again = ingest([src], store, geo, dry_run=True).as_json()
    assert again["packets"] == 0 and again["duplicates"] == real["packets"]
    assert _count(store) == real["packets"]


@pytest.fixture(scope="module")
def hourly_captures(tmp_path_factory):
    """A simulated sensor day as 24 hourly pcaps (as a rotating sensor writes them)."""
    from datetime import UTC, datetime

    from teiten.simulate import SensorSpec, SimulationConfig, simulate_to_pcap

    config = SimulationConfig(
        start=datetime(2024, 4, 1, tzinfo=UTC),
        end=datetime(2024, 4, 2, tzinfo=UTC),
        sensors=(SensorSpec("s1", "198.18.0.0/24"),),
        packets=240_000,
        seed=7,
    )
    return simulate_to_pcap(config, tmp_path_factory.mktemp("hourly"), per="hour")


def _parts(store):
    return sorted((store.root / "packets").glob("*/*.parquet"))


def test_a_day_fed_file_by_file_is_compacted_after_ingest(tmp_path, geo, hourly_captures):
    store = Store(tmp_path / "s")
    report = ingest(hourly_captures, store, geo, compact_min_files=8)
    data = report.as_json()
    assert data["files"] == 24 and data["errors"] == [] and data["packets"] == 240_000
    assert {day for r in data["inputs"] for day in r["days"]} == {"2024-04-01"}
    (day,) = data["compacted"]
    assert day["day"] == "2024-04-01" and day["files_before"] >= 24 and day["files_after"] == 1
    assert len(_parts(store)) == 1 and _count(store) == 240_000

    kept = Store(tmp_path / "kept")
    assert ingest(hourly_captures, kept, geo, compact_min_files=0).as_json()["compacted"] == []
    assert len(_parts(kept)) >= 24 and _count(kept) == 240_000
