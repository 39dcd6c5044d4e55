"""Compressed streams: several members/frames, junk after them, streams cut short."""

from __future__ import annotations

import gzip

import pytest
import zstandard

from conftest import capture_path

from ._captures import read_all

NAME = "libtrace_100_packets.pcap"


def _parts() -> tuple[bytes, bytes]:
    data = capture_path(NAME).read_bytes()
    cut = 24 + 16 + 54  # after the first record
    return data[:cut], data[cut:]


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("compress", [gzip.compress, _zstd])
def test_several_members_or_frames(tmp_path, compress) -> None:
    head, rest = _parts()
    path = tmp_path / "x"
    path.write_bytes(compress(head) + compress(rest[:1000]) + compress(rest[1000:]))
    reader, packets, error = read_all(path, chunk_bytes=512)
    assert error is None and reader.truncated is None and len(packets) == 100


def test_gzip_trailing_junk_is_ignored_as_gzip_does(tmp_path) -> None:
    path = tmp_path / "x"
    path.write_bytes(gzip.compress(capture_path(NAME).read_bytes()) + bytes(512))
    reader, packets, _ = read_all(path)
    assert len(packets) == 100 and reader.truncated is None


@pytest.mark.parametrize(
    ("compress", "says"), [(gzip.compress, "gzip stream ends"), (_zstd, "zstd stream ends")]
)
def test_stream_cut_short(tmp_path, compress, says: str) -> None:
    data = capture_path("pcpp_example2.pcap").read_bytes()
    blob = compress(data)
    path = tmp_path / "x"
    path.write_bytes(blob[: len(blob) * 3 // 4])
    reader, packets, error = read_all(path, chunk_bytes=64 << 10)
    assert error is None and 0 < len(packets) < 4709
    assert says in reader.truncated and "uncompressed byte offset" in reader.truncated


def test_stream_without_its_end_marker(tmp_path) -> None:
    """Every capture byte is there, but the compressed stream misses its trailer."""
    data = capture_path(NAME).read_bytes()
    gz = gzip.compress(data)[:-8]  # CRC and size
    zst = zstandard.ZstdCompressor(write_checksum=True).compress(data)[:-4]  # checksum
    for blob, says in [(gz, "the gzip stream ends"), (zst, "the zstd stream ends")]:
        path = tmp_path / "x"
        path.write_bytes(blob)
        reader, packets, error = read_all(path)
        assert error is None and len(packets) == 100
        assert reader.truncated.startswith(f"truncated: {says}")
        assert "byte offset 7608" in reader.truncated
