"""Arbitrary and damaged bytes never crash a reader: only a CaptureError escapes.

Each example is written to a file (the readers are file readers), so the
example counts stay modest; the kernels get more in test_scan.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import capture_path
from teiten.errors import CaptureError

from . import _captures as build
from ._captures import read_all

SMALL_CAPTURES = [
    "libtrace_100_packets.pcap",
    "pcpp_nanosecs_big_endian.pcap",
    "pcpp_many_interfaces-1.pcapng",
    "zeek_ldap_gap-data-missing.pcapng",
    "edge_tcpdump_empty.pcapng",
    "malformed_pcpp_crash-pcapng-epb-unbounded-length.pcapng",
    "tcpdump_tcp-handshake-nano.pcap",
]
CONTENT = {name: capture_path(name).read_bytes() for name in SMALL_CAPTURES}

PREFIXES = [
    b"",
    build.pcap([]),
    build.pcap([], big=True, nsec=True, snaplen=0),
    build.shb() + build.idb(1),
    build.shb(big=True) + build.idb(101, big=True, tsresol=0x80 | 20),
    b"\x1f\x8b",
    b"\x28\xb5\x2f\xfd",
]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    # tmp_path is shared by the examples of a test: each one overwrites the same file.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


def _survives(tmp_path: Path, data: bytes, chunk_bytes: int) -> None:
    path = tmp_path / "fuzz.bin"
    path.write_bytes(data)
    try:
        reader, packets, _ = read_all(path, chunk_bytes=chunk_bytes)
    except CaptureError:
        return
    assert sum(len(p.data) for p in packets) <= reader.bytes_read


@FUZZ
@given(
    prefix=st.sampled_from(PREFIXES),
    tail=st.binary(max_size=1500),
    chunk_bytes=st.sampled_from([1, 37, 4096, 1 << 20]),
)
def test_arbitrary_bytes(tmp_path: Path, prefix: bytes, tail: bytes, chunk_bytes: int) -> None:
    _survives(tmp_path, prefix + tail, chunk_bytes)


def _compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, compresslevel=1)
    if how == "zstd":
        return zstandard.ZstdCompressor(level=1).compress(data)
    return data


@FUZZ
@given(
    name=st.sampled_from(SMALL_CAPTURES),
    mutations=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=12
    ),
    keep=st.one_of(st.none(), st.floats(0, 1)),
    how=st.sampled_from(["none", "none", "gzip", "zstd"]),
    mutate_compressed=st.booleans(),
    chunk_bytes=st.sampled_from([7, 512, 1 << 20]),
)
def test_damaged_real_captures(
    tmp_path: Path,
    name: str,
    mutations: list[tuple[float, int]],
    keep: float | None,
    how: str,
    mutate_compressed: bool,
    chunk_bytes: int,
) -> None:
    data = bytearray(_compress(CONTENT[name], how) if mutate_compressed else CONTENT[name])
    for where, value in mutations:
        data[int(where * len(data))] = value
    if keep is not None:
        data = data[: int(keep * len(data))]
    if not mutate_compressed:
        data = bytearray(_compress(bytes(data), how))
    _survives(tmp_path, bytes(data), chunk_bytes)
