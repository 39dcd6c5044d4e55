"""pcapng, on small files built byte by byte."""

from __future__ import annotations

import struct

import pytest

from teiten.capture import open_capture
from teiten.capture.scan import BAD_TS
from teiten.decode import decode_batch
from teiten.decode.reasons import SkipReason
from teiten.errors import CorruptCaptureError, NotACaptureError, UnsupportedFormatError

from . import _captures as build
from ._captures import read_all

T0 = 1_700_000_000


def _write(tmp_path, *blocks: bytes):
    path = tmp_path / "x.pcapng"
    path.write_bytes(b"".join(blocks))
    return path


@pytest.mark.parametrize("big", [False, True])
def test_byte_orders(tmp_path, big: bool) -> None:
    path = _write(
        tmp_path,
        build.shb(big=big),
        build.idb(1, big=big),
        *(build.epb(0, (T0 + i) * 10**6 + i, build.packet(i), big=big) for i in range(5)),
    )
    reader, packets, error = read_all(path)
    assert error is None and reader.format == "pcapng" and reader.linktypes == {1}
    assert [p.ts_ns for p in packets] == [(T0 + i) * 10**9 + i * 1000 for i in range(5)]
    assert [p.data for p in packets] == [build.packet(i) for i in range(5)]


def test_sections_reset_interfaces_and_byte_order(tmp_path) -> None:
    path = _write(
        tmp_path,
        build.shb(),
        build.idb(1),
        build.idb(101),
        build.epb(1, T0 * 10**6, b"raw"),
        build.shb(big=True),
        build.idb(113, big=True, tsresol=9),
        build.epb(0, T0 * 10**9 + 5, b"sll", big=True),
    )
    reader, packets, _ = read_all(path)
    assert [(p.linktype, p.data, p.ts_ns) for p in packets] == [
        (101, b"raw", T0 * 10**9),
        (113, b"sll", T0 * 10**9 + 5),
    ]
    assert reader.linktypes == {1, 101, 113} and reader.sections == 2


def test_interface_ids_are_per_section(tmp_path) -> None:
    path = _write(
        tmp_path,
        build.shb(),
        build.idb(1),
        build.idb(1),
        build.shb(),
        build.idb(1),
        build.epb(1, 0, b"x"),  # interface 1 existed only in the first section
    )
    _, packets, error = read_all(path)
    assert packets == [] and isinstance(error, CorruptCaptureError)
    assert "interface 1" in str(error) and "describes 1 interface" in str(error)


@pytest.mark.parametrize(
    ("tsresol", "ticks", "ns"),
    [
        (3, 1_234_567, 1_234_567_000_000),  # 10^-3
        (9, 1_234_567, 1_234_567),  # 10^-9
        (12, 1_234_567_891, 1_234_567),  # 10^-12: finer than ns, truncated
        (0x80 | 20, (5 << 20) | (1 << 19), 5_500_000_000),  # 2^-20
        (0x80 | 0, 7, 7_000_000_000),  # 2^0: seconds
        (0x80 | 40, (3 << 40) | (1 << 38), 3_250_000_000),  # 2^-40
    ],
)
def test_timestamp_resolutions(tmp_path, tsresol: int, ticks: int, ns: int) -> None:
    path = _write(tmp_path, build.shb(), build.idb(1, tsresol=tsresol), build.epb(0, ticks, b"x"))
    _, packets, _ = read_all(path)
    assert packets[0].ts_ns == ns


def test_timestamp_offset(tmp_path) -> None:
    path = _write(
        tmp_path,
        build.shb(),
        build.idb(1, tsresol=3, tsoffset=T0),
        build.epb(0, 1500, b"x"),
    )
    _, packets, _ = read_all(path)
    assert packets[0].ts_ns == (T0 + 1) * 10**9 + 500_000_000


@pytest.mark.parametrize(
    ("tsresol", "ticks", "tsoffset", "good_ns"),
    [
        (9, 1 << 63, 0, 1),  # bit 63 at ns: wrapped, it read as 1731-08-05
        (6, 1 << 57, 0, 1000),  # bit 57 at µs: it read as 1914-04-08
        (6, 1, -(10**12), None),  # an offset of -10^12 s (no packet can carry it): 1901-01-19
        (0x80 | 0, 1 << 40, 0, 10**9),  # 2^40 s: it read as 1738-11-23
        (6, 1, -10, None),  # 1 µs after an offset of -10 s: before the epoch
        (0x80 | 30, (1 << 64) - 1, 0, 0),  # 2^34 s: past 2262
    ],
)
def test_timestamps_the_store_cannot_hold_are_skipped_not_wrapped(
    tmp_path, tsresol: int, ticks: int, tsoffset: int, good_ns: int | None
) -> None:
    path = _write(
        tmp_path,
        build.shb(),
        build.idb(1, tsresol=tsresol, tsoffset=tsoffset),
        build.epb(0, ticks, build.packet(0)),
        build.epb(0, 1, build.packet(1)),
    )
    with open_capture(path) as reader:
        decoded = [decode_batch(batch) for batch in reader]
    ts = [int(t) for d in decoded for t in d.ts_ns]
    reasons = [int(r) for d in decoded for r in d.reason]
    assert ts[0] == BAD_TS and reasons[0] == SkipReason.BAD_TIMESTAMP
    if good_ns is None:  # the interface's offset puts every packet out of range
        assert ts[1] == BAD_TS
    else:
        assert ts[1] == good_ns and reasons[1] != SkipReason.BAD_TIMESTAMP
    skipped = sum(d.skip_counts().get("timestamp outside 1970..2262", 0) for d in decoded)
    assert skipped == (2 if good_ns is None else 1)


@pytest.mark.parametrize("tsresol", [28, 0x80 | 64])
def test_timestamp_resolution_beyond_reach_is_refused(tmp_path, tsresol: int) -> None:
    path = _write(tmp_path, build.shb(), build.idb(1, tsresol=tsresol), build.epb(0, 1, b"x"))
    with pytest.raises(UnsupportedFormatError, match="timestamp resolution"):
        open_capture(path)


def test_simple_packet_block(tmp_path) -> None:
    path = _write(
        tmp_path,
        build.shb(),
        build.idb(1, snaplen=50),
        build.spb(bytes(40), wirelen=1500),  # captured: min(1500, snaplen 50, body 40)
        build.spb(bytes(60), wirelen=1500),  # snaplen wins
        build.spb(bytes(60), wirelen=30),  # original length wins (padding in the body)
    )
    reader, packets, _ = read_all(path)
    assert [(p.caplen, p.wirelen, p.ts_ns) for p in packets] == [
        (40, 1500, 0),
        (50, 1500, 0),
        (30, 30, 0),
    ]
    assert any("Simple Packet Blocks" in w and w.startswith("3 packets") for w in reader.warnings)


def test_simple_packet_block_without_interface_is_corrupt(tmp_path) -> None:
    path = _write(tmp_path, build.shb(), build.spb(b"abc"))
    _, _, error = read_all(path)
    assert isinstance(error, CorruptCaptureError) and error.offset == 28


def test_obsolete_packet_block(tmp_path) -> None:
    path = _write(
        tmp_path, build.shb(), build.idb(1), build.idb(101), build.opb(1, T0 * 10**6, b"pkt")
    )
    _, packets, _ = read_all(path)
    assert [(p.linktype, p.data, p.ts_ns) for p in packets] == [(101, b"pkt", T0 * 10**9)]


def test_other_blocks_are_skipped(tmp_path) -> None:
    nrb = build.block(4, struct.pack("<HH", 1, 8) + bytes(8) + bytes(4))
    isb = build.block(5, bytes(12))
    custom = build.block(0x00000BAD, bytes(9))
    dsb = build.block(0x0000000A, bytes(20))
    path = _write(
        tmp_path,
        build.shb(),
        nrb,
        build.idb(1),
        build.epb(0, 1, b"a"),
        isb,
        custom,
        build.epb(0, 2, b"b"),
        dsb,
    )
    _, packets, error = read_all(path, chunk_bytes=16)
    assert error is None and [p.data for p in packets] == [b"a", b"b"]


def test_unsupported_interface_packets_are_skipped_and_counted(tmp_path) -> None:
    path = _write(
        tmp_path,
        build.shb(),
        build.idb(1),
        build.idb(9),  # PPP
        build.idb(127),  # radiotap
        *(build.epb(i % 3, i, bytes([i])) for i in range(12)),
    )
    reader, packets, error = read_all(path)
    assert error is None and reader.linktypes == {1, 9, 127}
    assert [p.data for p in packets] == [bytes([i]) for i in range(0, 12, 3)]
    assert [p.number for p in packets] == [1, 4, 7, 10]  # numbered as tshark counts frames
    assert reader.skipped == {
        "unsupported link type 9 (PPP)": 4,
        "unsupported link type 127 (IEEE802_11_RADIOTAP)": 4,
    }


def test_pcapng_chunk_boundaries(tmp_path) -> None:
    blocks = [build.shb(), build.idb(1), build.idb(0, tsresol=9)]
    blocks += [build.epb(i % 2, i * 1000, build.packet(i, 20 + i)) for i in range(20)]
    blocks += [build.shb(big=True), build.idb(101, big=True), build.idb(1, big=True)]
    blocks += [build.epb(i % 2, i, build.packet(i, i), big=True) for i in range(20)]
    path = _write(tmp_path, *blocks)
    _, whole, _ = read_all(path)
    assert len(whole) == 40 and whole[-1].linktype == 1 and whole[-2].linktype == 101
    for chunk_bytes in (1, 7, 64, 333):
        reader, packets, error = read_all(path, chunk_bytes=chunk_bytes)
        assert error is None and reader.truncated is None
        assert packets == whole


@pytest.mark.parametrize(
    ("block", "detail"),
    [
        (struct.pack("<II", 6, 8) + bytes(8), "total length 8 is less than its minimum 12"),
        (struct.pack("<II", 6, 30) + bytes(30), "not a multiple of 4"),
        (build.epb(0, 1, b"abcd")[:-4] + struct.pack("<I", 40), "trailing total length 40"),
        (build.block(6, struct.pack("<IIIII", 0, 0, 0, 100, 100) + bytes(8)), "too small for 100"),
        (build.block(6, bytes(12)), "total length 24 is less than its minimum 32"),
        (build.epb(3, 1, b"a"), "refers to interface 3"),
        (struct.pack("<II", 6, 0xFFFFFFF0), "more than the"),
    ],
)
def test_corrupt_block_after_good_packets(tmp_path, block: bytes, detail: str) -> None:
    good = [build.epb(0, i, b"ok") for i in range(3)]
    path = _write(tmp_path, build.shb(), build.idb(1), *good, block, build.epb(0, 9, b"never"))
    offset = 28 + 20 + sum(map(len, good))
    _, packets, error = read_all(path)
    assert [p.data for p in packets] == [b"ok"] * 3
    assert isinstance(error, CorruptCaptureError)
    assert (error.offset, error.packet_number) == (offset, 4)
    assert detail in str(error)


def test_truncated_block(tmp_path) -> None:
    data = b"".join([build.shb(), build.idb(1), build.epb(0, 1, b"a" * 40), build.epb(0, 2, b"b")])
    path = tmp_path / "x.pcapng"
    path.write_bytes(data[:-5])
    reader, packets, error = read_all(path)
    assert error is None and len(packets) == 1
    assert "packet 2" in reader.truncated and "a block" in reader.truncated


def test_shb_cut_short_is_not_a_capture(tmp_path) -> None:
    path = tmp_path / "x.pcapng"
    path.write_bytes(build.shb()[:20])
    with pytest.raises(NotACaptureError, match="ends inside its pcapng Section Header Block"):
        open_capture(path)


def test_second_shb_with_bad_byte_order_is_corrupt(tmp_path) -> None:
    bad = bytearray(build.shb())
    bad[8:12] = b"ABCD"
    path = _write(tmp_path, build.shb(), build.idb(1), build.epb(0, 1, b"a"), bytes(bad))
    _, packets, error = read_all(path)
    assert len(packets) == 1 and isinstance(error, CorruptCaptureError)
    assert "byte-order magic" in str(error)


@pytest.mark.parametrize("version", [(0, 1), (2, 0)])
def test_other_versions_are_refused(tmp_path, version: tuple[int, int]) -> None:
    path = _write(tmp_path, build.shb(version=version), build.idb(1))
    with pytest.raises(UnsupportedFormatError, match=rf"pcapng version {version[0]}\.{version[1]}"):
        open_capture(path)


def test_minor_versions_are_read(tmp_path) -> None:
    path = _write(tmp_path, build.shb(version=(1, 2)), build.idb(1), build.epb(0, 1, b"a"))
    assert len(read_all(path)[1]) == 1


def test_linktypes_known_at_open(tmp_path) -> None:
    path = _write(tmp_path, build.shb(), build.idb(1), build.idb(113), build.epb(0, 1, b"a"))
    with open_capture(path) as reader:
        assert reader.linktypes == {1, 113}


def test_malformed_interface_option_is_noted(tmp_path) -> None:
    body = struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 9, 200) + b"\x09"
    path = _write(tmp_path, build.shb(), build.block(1, body), build.epb(0, 5, b"a"))
    reader, packets, _ = read_all(path)
    assert packets[0].ts_ns == 5000  # default µs: the broken option was not used
    assert any("option runs past its block" in w for w in reader.warnings)
