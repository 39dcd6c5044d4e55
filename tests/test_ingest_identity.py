"""Inputs are identified by their packets: copies in other containers are duplicates,
overlapping captures are stored once, one capture belongs to one sensor."""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys

import pytest
import zstandard

from capture import _captures as build
from conftest import capture_path, require_tool
from decode.builders import ether, ipv4, tcp

CAPTURE = "libtrace_100_packets.pcap"  # 100 packets of 2004 backbone traffic, µs pcap


def teiten(*args: str, check: int = 0) -> dict:
    """``teiten ARGS --json`` in a fresh process: its answer (exit status checked)."""
    done = subprocess.run(
        [sys.executable, "-m", "teiten.cli", *args, "--json"], capture_output=True, text=True
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout)


def editcap(*args: str) -> None:
    subprocess.run([require_tool("editcap"), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """The capture, and the same packets in every container teiten reads."""
    d = tmp_path_factory.mktemp("copies")
    src = capture_path(CAPTURE)
    raw = src.read_bytes()
    out = {"pcap": d / "x.pcap", "gz": d / "x.pcap.gz", "zst": d / "x.pcap.zst"}
    out["pcap"].write_bytes(raw)
    out["gz"].write_bytes(gzip.compress(raw))
    out["zst"].write_bytes(zstandard.ZstdCompressor().compress(raw))
    out["pcapng"] = d / "x.pcapng"
    editcap("-F", "pcapng", str(src), str(out["pcapng"]))
    out["ns"] = d / "x-ns.pcap"
    editcap("-F", "nsecpcap", str(src), str(out["ns"]))
    out["ns.pcapng.gz"] = d / "x-ns.pcapng.gz"
    ns_ng = d / "x-ns.pcapng"
    editcap("-F", "pcapng", str(out["ns"]), str(ns_ng))  # if_tsresol 9
    out["ns.pcapng.gz"].write_bytes(gzip.compress(ns_ng.read_bytes()))
    return out


def test_the_copies_really_differ_on_disk(copies):
    contents = {p.read_bytes() for p in copies.values()}
    assert len(contents) == len(copies)


def test_every_copy_is_a_duplicate_and_totals_stay(tmp_path, copies):
    store = str(tmp_path / "s")
    first = teiten("ingest", "--store", store, str(copies["pcap"]))
    assert first["inputs"][0]["status"] == "ingested" and first["packets"] > 0
    ports = teiten("top", "ports", "--store", store, "--period", "2004")
    countries = teiten("top", "countries", "--store", store, "--period", "2004")

    others = [str(p) for name, p in copies.items() if name != "pcap"]
    again = teiten("ingest", "--store", store, *others)
    assert [r["status"] for r in again["inputs"]] == ["duplicate"] * len(others)
    assert again["packets"] == 0 and again["overlapping"] == 0
    assert again["duplicates"] == len(others) * first["packets"]
    assert all(f"ingested as {copies['pcap']}" in r["warnings"][0] for r in again["inputs"])
    assert teiten("top", "ports", "--store", store, "--period", "2004") == ports
    assert teiten("top", "countries", "--store", store, "--period", "2004") == countries
    info = teiten("store", "info", "--store", store)
    assert info["packets"] == first["packets"] and info["inputs"] == 1


def test_copies_in_one_run_are_stored_once_and_dry_run_agrees(tmp_path, copies):
    files = [str(copies[k]) for k in ("gz", "pcap", "pcapng", "ns")]
    dry = teiten("ingest", "--store", str(tmp_path / "s"), "--dry-run", *files)
    real = teiten("ingest", "--store", str(tmp_path / "s"), *files)
    assert [r["status"] for r in real["inputs"]] == ["ingested", *["duplicate"] * 3]
    assert dry["dry_run"] and not real["dry_run"]
    assert {**dry, "dry_run": False} == real


def _records(path):
    """(offset, length) of each record of a little-endian µs pcap."""
    data = path.read_bytes()
    pos, out = 24, []
    while pos < len(data):
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        out.append((pos, 16 + caplen))
        pos += 16 + caplen
    return data, out


def _slice(path, dest, first, last):
    """Records first..last (0-based, inclusive) of ``path`` as a pcap of their own."""
    data, records = _records(path)
    body = b"".join(data[o : o + n] for o, n in records[first : last + 1])
    dest.write_bytes(data[:24] + body)
    return dest


def test_rotated_files_that_overlap_are_stored_once(tmp_path):
    src = capture_path(CAPTURE)
    a = _slice(src, tmp_path / "a.pcap", 0, 59)
    b = _slice(src, tmp_path / "b.pcap", 50, 99)  # 10 records in both
    whole = teiten("ingest", "--store", str(tmp_path / "whole"), str(src))
    files = [str(a), str(b)]
    dry = teiten("ingest", "--store", str(tmp_path / "s"), "--dry-run", *files)
    got = teiten("ingest", "--store", str(tmp_path / "s"), *files)
    assert {**dry, "dry_run": False} == got
    first, second = got["inputs"]
    assert first["overlapping"] == 0 and first["status"] == "ingested"
    assert second["status"] == "ingested" and second["overlapping"] > 0
    shared = _slice(src, tmp_path / "shared.pcap", 50, 59)
    shared_ip = teiten("ingest", "--store", str(tmp_path / "common-part"), str(shared))["packets"]
    assert second["overlapping"] == shared_ip > 0  # every shared IP packet, counted once
    assert "overlaps stored ones" in " ".join(second["warnings"])
    assert got["packets"] == whole["packets"]
    for what in (("ports",), ("countries",)):
        args = ("top", *what, "--period", "2004", "--metric", "sources")
        assert teiten(*args, "--store", str(tmp_path / "s")) == teiten(
            *args, "--store", str(tmp_path / "whole")
        )
    # The whole capture after its two halves: every packet is stored already.
    again = teiten("ingest", "--store", str(tmp_path / "s"), str(src))
    assert again["inputs"][0]["status"] == "duplicate" and again["packets"] == 0
    assert again["duplicates"] == whole["packets"]


def test_one_capture_belongs_to_one_sensor_unless_forced(tmp_path, copies):
    store = str(tmp_path / "s")
    first = teiten("ingest", "--store", store, "--sensor", "tokyo", str(copies["pcap"]))
    refused = teiten("ingest", "--store", store, "--sensor", "osaka", str(copies["gz"]), check=1)
    (answer,) = refused["inputs"]
    assert answer["status"] == "failed" and answer["packets"] == 0
    assert "sensor 'tokyo'" in answer["error"] and "--force" in answer["error"]
    assert teiten("store", "info", "--store", store)["packets"] == first["packets"]
    forced = teiten("ingest", "--store", store, "--sensor", "osaka", "--force", str(copies["gz"]))
    assert forced["inputs"][0]["status"] == "ingested"
    assert forced["packets"] == first["packets"]
    sensors = {s["sensor"] for s in teiten("store", "info", "--store", store)["sensors"]}
    assert sensors == {"tokyo", "osaka"}
    # Under either label, a third copy is now a plain duplicate.
    for label in ("tokyo", "osaka"):
        again = teiten("ingest", "--store", store, "--sensor", label, str(copies["zst"]))
        assert again["inputs"][0]["status"] == "duplicate"


def test_a_store_of_the_previous_manifest_keeps_its_inputs_and_duplicates(tmp_path, copies):
    """A manifest of the previous release (inputs keyed by file bytes) is migrated in place;
    its inputs are still recognised when their files come again."""
    import sqlite3

    from teiten.store.parts import file_digest

    store = tmp_path / "s"
    teiten("ingest", "--store", str(store), str(copies["pcap"]))
    db = sqlite3.connect(store / "manifest.sqlite")
    with db:  # rewrite it as the previous release wrote it
        db.execute("ALTER TABLE inputs RENAME TO new_inputs")
        db.execute(
            "CREATE TABLE inputs (digest TEXT PRIMARY KEY, name TEXT NOT NULL, size INTEGER "
            "NOT NULL, batch_id TEXT NOT NULL, packets INTEGER NOT NULL, skipped INTEGER NOT "
            "NULL, skip_reasons TEXT NOT NULL, error TEXT)"
        )
        db.execute(
            "INSERT INTO inputs SELECT ?, name, size, batch_id, packets, skipped, "
            "skip_reasons, error FROM new_inputs",
            (file_digest(copies["pcap"]),),
        )
        db.execute("DROP TABLE new_inputs")
        db.execute(
            "CREATE TABLE old_batches AS SELECT batch_id, state, created_at, sensor, "
            "geo_database, geo_edition, packets, parts FROM batches"
        )
        db.execute("DROP TABLE batches")
        db.execute("ALTER TABLE old_batches RENAME TO batches")
    db.close()
    again = teiten("ingest", "--store", str(store), str(copies["pcap"]))
    assert again["inputs"][0]["status"] == "duplicate"
    info = teiten("store", "info", "--store", str(store))
    assert info["inputs"] == 1 and info["packets"] == again["duplicates"]


def _probe(i: int, port: int) -> bytes:
    return ether(ipv4(tcp(dport=port, seq=i)))


def _mid_ver2(tmp_path):
    """A 3-packet pcapng followed by a second section of major version 2."""
    packets = [build.epb(0, 1_100_000_000_000_000 + i, _probe(i, 23)) for i in range(3)]
    bad = bytearray(build.shb())
    struct.pack_into("<H", bad, 12, 2)  # major version
    path = tmp_path / "mid_ver2.pcapng"
    path.write_bytes(build.shb() + build.idb(1) + b"".join(packets) + bytes(bad) + build.idb(1))
    return path


def _late_bad_tsresol(tmp_path):
    """Two packets, then an interface whose if_tsresol is finer than teiten reads."""
    packets = [build.epb(0, 1_100_000_000_000_000 + i, _probe(i, 445)) for i in range(2)]
    path = tmp_path / "late_idb.pcapng"
    path.write_bytes(
        build.shb() + build.idb(1) + b"".join(packets) + build.idb(1, tsresol=0x80 | 64)
    )
    return path


def test_an_unreadable_block_after_the_first_keeps_what_came_before_and_the_run_goes_on(
    tmp_path,
):
    before = capture_path(CAPTURE)
    after = capture_path("ppa1e_dosattack.pcap")
    files = [str(before), str(_mid_ver2(tmp_path)), str(_late_bad_tsresol(tmp_path)), str(after)]
    dry = teiten("ingest", "--store", str(tmp_path / "s"), "--dry-run", *files, check=1)
    got = teiten("ingest", "--store", str(tmp_path / "s"), *files, check=1)
    assert {**dry, "dry_run": False} == got
    statuses = [r["status"] for r in got["inputs"]]
    assert statuses == ["ingested", "partial", "partial", "ingested"]
    mid, late = got["inputs"][1:3]
    assert "pcapng version 2.0 is not supported" in mid["error"]
    assert "mid_ver2.pcapng" in mid["error"] and "the 3 packets before it" in mid["error"]
    assert "finer than teiten reads" in late["error"] and "the 2 packets before" in late["error"]
    assert mid["packets"] == 3 and late["packets"] == 2
    assert got["inputs"][3]["packets"] > 0


def test_impossible_pcapng_times_are_skipped_and_named(tmp_path):
    path = tmp_path / "times.pcapng"
    path.write_bytes(
        build.shb()
        + build.idb(1, tsresol=9)
        + build.epb(0, 1 << 63, _probe(0, 23))  # read as 1731-08-05 before
        + build.epb(0, 1_100_000_000 * 10**9, _probe(1, 23))
    )
    got = teiten("ingest", "--store", str(tmp_path / "s"), str(path))
    assert got["packets"] == 1 and got["skipped"] == 1
    assert got["skipped_reasons"] == {"timestamp outside 1970..2262": 1}
    info = teiten("store", "info", "--store", str(tmp_path / "s"))
    assert info["first_day"] == info["last_day"] == "2004-11-09"
