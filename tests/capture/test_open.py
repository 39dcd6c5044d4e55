"""Sniffing formats and compression from magic bytes; the reader's public surface."""

from __future__ import annotations

import gzip
import hashlib

import pytest
import zstandard

import teiten.capture
from conftest import capture_path
from teiten.capture import CaptureReader, open_capture
from teiten.errors import CorruptCaptureError, NotACaptureError, UnsupportedFormatError

from . import _captures as build
from ._captures import read_all


def test_public_api_is_pinned() -> None:
    assert teiten.capture.__all__ == ["CaptureReader", "PacketBatch", "open_capture"]


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"", "an empty file"),
        (b"this is not a capture\n", "looks like text"),
        (b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>", "HTML page"),
        (b"  \n<html lang=en>", "HTML page"),
        (b'{"packets": []}', "JSON"),
        (b"PK\x03\x04" + bytes(40), "ZIP archive"),
        (b"\x00\x01\x02\x03\xff\xfe\xfd" * 20, "unknown format"),
        (b"\xd4\xc3", "2 bytes, too short"),
        ("caf\u00e9 ol\u00e9\n".encode() * 60, "looks like text"),
    ],
)
def test_not_a_capture_says_what_it_looks_like(tmp_path, content: bytes, looks_like: str) -> None:
    path = tmp_path / "capture.pcap"
    path.write_bytes(content)
    with pytest.raises(NotACaptureError, match=looks_like) as info:
        open_capture(path)
    assert "not a pcap or pcapng capture" in str(info.value)
    assert info.value.path == str(path)


def test_damaged_pcapng_block_type_is_recognised() -> None:
    with pytest.raises(NotACaptureError, match="first block type is damaged"):
        open_capture(capture_path("malformed_pcpp_crash-null-deref-pcapng-shb.pcapng"))


def test_kuznetsov_pcap_is_named(tmp_path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(b"\x34\xcd\xb2\xa1" + bytes(40))
    with pytest.raises(UnsupportedFormatError, match="Kuznetsov"):
        open_capture(path)


def _compressed(tmp_path, name: str, how: str):
    data = capture_path(name).read_bytes()
    path = tmp_path / f"{name}.whatever"
    if how == "gzip":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(zstandard.ZstdCompressor().compress(data))
    return path


@pytest.mark.parametrize("how", ["gzip", "zstd"])
@pytest.mark.parametrize(
    "name", ["libtrace_100_packets.pcap", "pcpp_many_interfaces-1.pcapng", "pcpp_example2.pcap"]
)
def test_compressed_captures_read_the_same(tmp_path, name: str, how: str) -> None:
    plain, expected, _ = read_all(capture_path(name))
    reader, packets, error = read_all(_compressed(tmp_path, name, how))
    assert error is None and reader.truncated is None
    assert reader.compression == how and reader.format == plain.format
    assert packets == expected
    assert reader.bytes_read == capture_path(name).stat().st_size
    assert reader.file_bytes_read == (tmp_path / f"{name}.whatever").stat().st_size


@pytest.mark.parametrize("how", ["gzip", "zstd"])
def test_compressed_with_small_chunks(tmp_path, how: str) -> None:
    name = "ppa3e_synscan.pcapng"
    _, expected, _ = read_all(capture_path(name))
    _, packets, _ = read_all(_compressed(tmp_path, name, how), chunk_bytes=1000)
    assert packets == expected


@pytest.mark.parametrize(("how", "compress"), [("gzip", gzip.compress), ("zstd", None)])
def test_compressed_non_capture(tmp_path, how: str, compress) -> None:
    compress = compress or zstandard.ZstdCompressor().compress
    path = tmp_path / "notes.gz"
    path.write_bytes(compress(b"<html><body>not found</body></html>"))
    with pytest.raises(
        NotACaptureError, match=f"{how}-compressed, and the content looks like an HTML page"
    ):
        open_capture(path)


def test_compressed_twice_is_named(tmp_path) -> None:
    path = tmp_path / "x.gz.gz"
    path.write_bytes(gzip.compress(gzip.compress(build.pcap([]))))
    with pytest.raises(NotACaptureError, match="compressed a second time"):
        open_capture(path)


def test_damaged_compressed_data_is_corrupt(tmp_path) -> None:
    data = bytearray(gzip.compress(capture_path("pcpp_example2.pcap").read_bytes()))
    data[-8] ^= 0xFF  # the CRC
    path = tmp_path / "x.pcap.gz"
    path.write_bytes(bytes(data))
    _, packets, error = read_all(path, chunk_bytes=64 << 10)
    assert isinstance(error, CorruptCaptureError)
    assert "gzip data is damaged" in str(error) and "incorrect data check" in str(error)
    assert len(packets) > 4000


def test_chunk_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_bytes"):
        open_capture(capture_path("libtrace_100_packets.pcap"), chunk_bytes=0)


def test_reader_surface(tmp_path) -> None:
    path = capture_path("libtrace_100_packets.pcap")
    with open_capture(path) as reader:
        assert isinstance(reader, CaptureReader)
        assert (reader.path, reader.format, reader.compression) == (str(path), "pcap", None)
        assert reader.packets_read == 0 and reader.bytes_read == 24
        batches = list(reader)
        assert reader.packets_read == 100 == sum(map(len, batches))
        assert batches[0].first_number == 1
        assert reader.skipped == {} and reader.warnings == [] and reader.truncated is None
        assert list(reader) == []  # a second pass continues where the first stopped
    assert list(reader) == []


def test_close_stops_iteration_midway(tmp_path) -> None:
    reader = open_capture(capture_path("pcpp_example2.pcap"), chunk_bytes=4096)
    batches = iter(reader)
    next(batches)
    reader.close()
    assert list(batches) == []
    reader.close()  # twice is fine


def test_pathlike_and_str_paths() -> None:
    path = capture_path("libtrace_100_packets.pcap")
    for p in (path, str(path)):
        with open_capture(p) as reader:
            assert reader.path == str(path)


@pytest.mark.parametrize("compress", [None, gzip.compress, zstandard.compress])
def test_digest_is_fed_every_byte_of_the_file(tmp_path, compress) -> None:
    data = capture_path("libtrace_100_packets.pcap").read_bytes()
    path = tmp_path / "capture"
    path.write_bytes(compress(data) if compress else data)
    digest = hashlib.sha256()
    with open_capture(path, digest=digest, chunk_bytes=4096) as reader:
        packets = sum(len(batch) for batch in reader)
        assert reader.finish_digest() == path.stat().st_size
    assert packets == 100
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_digest_covers_the_bytes_after_a_corrupt_record(tmp_path) -> None:
    data = bytearray(capture_path("libtrace_100_packets.pcap").read_bytes())
    data[24 + 8 : 24 + 12] = (0x7FFFFFF0).to_bytes(4, "little")  # first record: impossible caplen
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(bytes(data))
    digest = hashlib.sha256()
    with open_capture(path, digest=digest) as reader:
        with pytest.raises(CorruptCaptureError):
            list(reader)
        assert reader.finish_digest() == len(data)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_finish_digest_needs_a_digest() -> None:
    reader = open_capture(capture_path("libtrace_100_packets.pcap"))
    with reader, pytest.raises(ValueError, match="without a digest"):
        reader.finish_digest()
