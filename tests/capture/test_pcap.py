"""Classic pcap, on small files built byte by byte."""

from __future__ import annotations

import struct

import pytest

from teiten.capture import open_capture
from teiten.errors import (
    CorruptCaptureError,
    NotACaptureError,
    UnsupportedFormatError,
    UnsupportedLinkTypeError,
)

from . import _captures as build
from ._captures import read_all

RECORDS = [(1_700_000_000 + i, 1000 * i + 7, build.packet(i, 40 + i)) for i in range(50)]


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("nsec", [False, True])
def test_byte_orders_and_resolutions(tmp_path, big: bool, nsec: bool) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap(RECORDS, big=big, nsec=nsec))
    reader, packets, error = read_all(path)
    assert error is None and reader.truncated is None and reader.warnings == []
    assert reader.format == "pcap" and reader.linktypes == {1}
    unit = 1 if nsec else 1000
    assert [(p.ts_ns, p.data, p.wirelen, p.linktype) for p in packets] == [
        (sec * 10**9 + frac * unit, data, len(data), 1) for sec, frac, data in RECORDS
    ]
    assert [p.number for p in packets] == list(range(1, 51))
    assert reader.bytes_read == path.stat().st_size == reader.file_bytes_read


@pytest.mark.parametrize("chunk_bytes", [1, 13, 100, 4096])
def test_records_straddling_chunks(tmp_path, chunk_bytes: int) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap(RECORDS))
    _, whole, _ = read_all(path)
    reader, packets, error = read_all(path, chunk_bytes=chunk_bytes)
    assert error is None and reader.truncated is None
    assert packets == whole


@pytest.mark.parametrize("version", [(2, 4), (2, 3), (2, 2), (2, 0)])
def test_version_2_is_read(tmp_path, version: tuple[int, int]) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap(RECORDS[:3], version=version))
    _, packets, _ = read_all(path)
    assert len(packets) == 3


@pytest.mark.parametrize("version", [(1, 4), (3, 0), (543, 0)])
def test_other_versions_are_refused(tmp_path, version: tuple[int, int]) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap(RECORDS[:3], version=version))
    with pytest.raises(UnsupportedFormatError, match=rf"version {version[0]}\.{version[1]}"):
        open_capture(path)


def _swapped_lengths(caplen: int, wirelen: int, data: bytes) -> bytes:
    return struct.pack("<IIII", 1, 0, wirelen, caplen) + data


@pytest.mark.parametrize(("minor", "swapped"), [(2, True), (3, True), (4, False)])
def test_old_versions_have_lengths_swapped(tmp_path, minor: int, swapped: bool) -> None:
    """As libpcap and Wireshark: before 2.3 always, in 2.3 when caplen > origlen."""
    data = build.pcap([], version=(2, minor))
    data += _swapped_lengths(60, 100, bytes(60)) + _swapped_lengths(20, 20, bytes(20))
    path = tmp_path / "x.pcap"
    path.write_bytes(data)
    reader, packets, _ = read_all(path)
    if swapped:
        assert [(p.caplen, p.wirelen) for p in packets] == [(60, 100), (20, 20)]
    else:  # 2.4: the first record claims 100 captured bytes; 96 follow its header
        assert packets == [] and "112 of its 116 bytes" in reader.truncated


def test_link_type_is_the_low_16_bits(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap(RECORDS[:2], network=0x10000000 | 101))
    reader, packets, _ = read_all(path)
    assert reader.linktypes == {101} and {p.linktype for p in packets} == {101}
    assert any("0x10000065" in w for w in reader.warnings)


def test_unsupported_link_type_is_refused_at_open(tmp_path) -> None:
    path = tmp_path / "ppp.pcap"
    path.write_bytes(build.pcap(RECORDS[:2], network=9))
    with pytest.raises(UnsupportedLinkTypeError, match=r"link type 9 \(PPP\)") as info:
        open_capture(path)
    assert info.value.linktype == 9


def test_truncated_last_record_keeps_the_others(tmp_path) -> None:
    full = build.pcap(RECORDS[:10])
    for cut in (1, 30, 50, 60):  # inside the data, then inside the record header
        path = tmp_path / "cut.pcap"
        path.write_bytes(full[:-cut])
        reader, packets, error = read_all(path, chunk_bytes=64)
        assert error is None and len(packets) == 9
        offset = len(full) - (16 + 49)
        assert f"byte offset {offset}" in reader.truncated
        assert "packet 10" in reader.truncated and "9 packets before it" in reader.truncated


def test_header_cut_short_is_not_a_capture(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap([])[:20])
    with pytest.raises(NotACaptureError, match="20 of 24 bytes"):
        open_capture(path)


def test_valid_header_and_no_packets(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap([]))
    reader, packets, error = read_all(path)
    assert packets == [] and error is None and reader.truncated is None


@pytest.mark.parametrize("chunk_bytes", [100, 8 << 20])
def test_corrupt_middle_record_names_offset_and_number(tmp_path, chunk_bytes: int) -> None:
    data = bytearray(build.pcap(RECORDS))
    offset = 24 + sum(16 + len(r[2]) for r in RECORDS[:20])
    struct.pack_into("<I", data, offset + 8, 0x7FFFFFF0)
    path = tmp_path / "bad.pcap"
    path.write_bytes(bytes(data))
    _, packets, error = read_all(path, chunk_bytes=chunk_bytes)
    assert len(packets) == 20
    assert isinstance(error, CorruptCaptureError)
    assert (error.offset, error.packet_number) == (offset, 21)
    assert "2147483632" in str(error) and "65535" in str(error)


def test_caplen_above_small_snaplen_but_plausible_is_kept(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap([(1, 0, bytes(1000))], snaplen=64))
    _, packets, error = read_all(path)
    assert error is None and packets[0].caplen == 1000


def test_huge_record_is_read_as_bytes_arrive_not_allocated(tmp_path) -> None:
    """A snaplen of 0 is "unset": a 300 kB record is plausible; cut short, it is truncated."""
    header = struct.pack("<IIII", 1, 0, 300_000, 300_000)
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap([], snaplen=0) + header + bytes(1000))
    reader, packets, error = read_all(path, chunk_bytes=256)
    assert packets == [] and error is None
    assert "1016 of its 300016 bytes" in reader.truncated
    assert reader._window.buf.shape[0] < 4096


def test_fraction_overflow_is_carried_and_counted(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap([(10, 1_500_000, b"a"), (10, 5, b"b")]))
    reader, packets, _ = read_all(path)
    assert [p.ts_ns for p in packets] == [11_500_000_000, 10_000_005_000]
    assert reader.warnings == [
        "1 packet had a timestamp fraction >= 1e6 µs (normalised into seconds)"
    ]


def test_seconds_are_unsigned(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap([(0xFFFFFFFF, 0, b"a")]))
    _, packets, _ = read_all(path)
    assert packets[0].ts_ns == 0xFFFFFFFF * 10**9  # 2106, not 1969


def test_caplen_larger_than_wirelen_is_kept_and_counted(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(build.pcap([(1, 0, bytes(80), 60), (1, 0, bytes(60), 60)]))
    reader, packets, _ = read_all(path)
    assert [(p.caplen, p.wirelen) for p in packets] == [(80, 60), (60, 60)]
    assert reader.warnings == [
        "1 packet had a captured length larger than the original length (kept)"
    ]
