"""Mutated real captures through ingest: one bad file never stops the others.

Every mutated file must end as stored, warned or an error naming it; the files
after it are still ingested; a dry run answers exactly as the real run; and the
command never prints a traceback. The mutations are the kinds a held-out fuzz
run used: bit flips in headers and lengths, truncation, byte-order swaps, huge
captured lengths, bad pcapng block lengths, truncated gzip, a later section of
another version, a later interface with an unreadable resolution, impossible
timestamps.
"""

from __future__ import annotations

import gzip
import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from capture import _captures as build
from conftest import capture_path
from teiten.enrich import open_geo
from teiten.ingest import ingest
from teiten.store import Store

SOURCES = [
    "libtrace_100_packets.pcap",
    "pcpp_nanosecs_big_endian.pcap",
    "tcpdump_tcp-handshake-nano.pcap",
    "pcpp_many_interfaces-1.pcapng",
    "zeek_ldap_gap-data-missing.pcapng",
    "ppa1e_dosattack.pcap",
]
LAST = "honeynet_fc2010_attack-trace.pcap"  # ingested after every mutant
MUTANTS = 80


def _pcap_records(data: bytes) -> list[int]:
    """Offsets of the record headers of a classic pcap (either byte order)."""
    big = data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d")
    pos, out = 24, []
    while pos + 16 <= len(data):
        out.append(pos)
        pos += 16 + struct.unpack_from(">I" if big else "<I", data, pos + 8)[0]
    return out


def _pcapng_blocks(data: bytes) -> list[int]:
    """Offsets of the blocks of a little-endian pcapng."""
    pos, out = 0, []
    while pos + 8 <= len(data):
        out.append(pos)
        length = struct.unpack_from("<I", data, pos + 4)[0]
        if length < 12:
            break
        pos += length
    return out


def _headers(data: bytes) -> list[int]:
    return _pcapng_blocks(data) if data[:4] == b"\x0a\x0d\x0d\x0a" else _pcap_records(data)


def _mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    heads = _headers(data) or [0]
    kind = rng.choice(
        [
            "flip-header", "flip-length", "truncate", "byte-order", "huge-caplen",
            "block-length", "gzip-cut", "mid-version", "late-tsresol", "huge-ticks",
        ]
    )  # fmt: skip
    head = rng.choice(heads)
    if kind == "flip-header":
        where = rng.randrange(0, min(len(out), 64))
        out[where] ^= 1 << rng.randrange(8)
    elif kind == "flip-length" and head + 12 <= len(out):
        out[head + rng.randrange(4, 12)] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        out = out[: rng.randrange(0, len(out) + 1)]
    elif kind == "byte-order":
        out[:4] = bytes(reversed(out[:4])) if out[:4] != b"\x0a\x0d\x0d\x0a" else out[:4]
        if out[:4] == b"\x0a\x0d\x0d\x0a" and len(out) >= 12:
            out[8:12] = bytes(reversed(out[8:12]))
    elif kind == "huge-caplen" and head + 16 <= len(out):
        struct.pack_into(
            "<I", out, head + (8 if data[:4] != b"\x0a\x0d\x0d\x0a" else 20), 0xFFFFFFF0
        )
    elif kind == "block-length" and head + 8 <= len(out):
        struct.pack_into("<I", out, head + 4, rng.choice([0, 13, 1 << 30, 0xFFFFFFFC]))
    elif kind == "gzip-cut":
        packed = gzip.compress(bytes(out))
        out = bytearray(packed[: rng.randrange(10, len(packed))])
    elif kind == "mid-version":
        shb = bytearray(build.shb())
        struct.pack_into("<H", shb, 12, rng.choice([0, 2, 3]))
        out += shb + build.idb(1) + build.epb(0, 10**15, build.packet(1))
    elif kind == "late-tsresol" and data[:4] == b"\x0a\x0d\x0d\x0a":
        out += build.idb(1, tsresol=rng.choice([28, 0x80 | 64, 0xFF]))
    elif kind == "huge-ticks":
        tail = build.shb() + build.idb(1, tsresol=rng.choice([0, 6, 9, 0x80 | 0]))
        out += tail + build.epb(0, 1 << rng.randrange(40, 64), build.packet(2))
    return kind, bytes(out)


@pytest.fixture(scope="module")
def mutants(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("mutants")
    rng = random.Random(20261205)
    paths = []
    for i in range(MUTANTS):
        name = rng.choice(SOURCES)
        kind, data = _mutate(rng, capture_path(name).read_bytes())
        path = d / f"{i:03d}-{kind}-{name}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def _comparable(report: dict) -> dict:
    return {**report, "dry_run": None}


def test_every_mutant_ends_stored_warned_or_named_and_the_run_goes_on(tmp_path, mutants):
    geo = open_geo()
    last = capture_path(LAST)
    files = [capture_path(SOURCES[0]), *mutants, last]
    dry = ingest(files, Store(tmp_path / "s"), geo, dry_run=True).as_json()
    real = ingest(files, Store(tmp_path / "s"), geo).as_json()
    assert _comparable(dry) == _comparable(real)
    assert len(real["inputs"]) == len(files)
    for result in real["inputs"]:
        assert result["status"] in ("ingested", "partial", "duplicate", "failed"), result
        if result["status"] in ("partial", "failed"):
            assert result["error"] and Path(result["file"]).name in result["error"], result
    alone = ingest([last], Store(tmp_path / "alone"), geo).as_json()
    assert real["inputs"][-1]["status"] == "ingested"
    assert real["inputs"][-1]["packets"] == alone["packets"] > 0
    kinds = {Path(r["file"]).name.split("-")[1] for r in real["inputs"][1:-1]}
    assert len(kinds) >= 8  # the seed reaches most kinds of damage


def test_the_command_never_prints_a_traceback(tmp_path, mutants):
    files = [str(p) for p in mutants[:40]] + [str(capture_path(LAST))]
    done = subprocess.run(
        [sys.executable, "-m", "teiten.cli", "ingest", "--json", "--store", str(tmp_path / "s"),
         *files],
        capture_output=True, text=True,
    )  # fmt: skip
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr
    answer = json.loads(done.stdout)
    assert answer["files"] == len(files) and answer["inputs"][-1]["status"] == "ingested"
