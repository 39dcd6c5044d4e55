"""Open a capture: sniff compression and format from magic bytes, never the name.

Sensor archives are full of ``.pcapng`` files that are classic pcap, ``.pcap``
files that were gzipped, and HTML error pages saved by a download script; the
first bytes are the only reliable witness, and when they are not a capture the
error says what they look like.
"""

from __future__ import annotations

import os

from teiten.capture.pcap import MAGICS as PCAP_MAGICS
from teiten.capture.pcap import PcapReader
from teiten.capture.pcapng import BYTE_ORDER_BE, BYTE_ORDER_LE, SHB_TYPE, PcapngReader
from teiten.capture.reader import CaptureReader
from teiten.capture.source import (
    GZIP_MAGIC,
    ZSTD_MAGIC,
    BinaryFile,
    Digest,
    DigestingFile,
    GzipSource,
    RawSource,
    Source,
    ZstdSource,
)
from teiten.capture.window import Window
from teiten.errors import (
    CorruptCaptureError,
    DecompressionError,
    NotACaptureError,
    UnsupportedFormatError,
)

SNIFF_BYTES = 512
_WHAT_A_CAPTURE_IS = "a pcap or pcapng capture (optionally gzip- or zstd-compressed)"

KUZNETSOV_MAGICS = (b"\xa1\xb2\xcd\x34", b"\x34\xcd\xb2\xa1")
# Other formats people hand us by mistake: magic -> what to call it.
_OTHER_MAGICS: list[tuple[bytes, str]] = [
    *(
        (m, "a Kuznetsov-patched ('modified') pcap, which teiten does not read")
        for m in KUZNETSOV_MAGICS
    ),
    (b"PK\x03\x04", "a ZIP archive: unzip it first"),
    (b"BZh", "bzip2-compressed data: decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "xz-compressed data: decompress it first (unxz)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract it first"),
    (b"\x04\x22\x4d\x18", "lz4-compressed data: decompress it first"),
    (b"snoop\x00\x00\x00", "a Solaris snoop capture: convert it with editcap -F pcap"),
    (b"GMBU", "a Microsoft Network Monitor capture: convert it with editcap -F pcap"),
    (b"XCP\x00", "a NetXray/Sniffer capture: convert it with editcap -F pcap"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
]


def open_capture(
    path: str | os.PathLike[str], *, chunk_bytes: int = 8 << 20, digest: Digest | None = None
) -> CaptureReader:
    """Open a capture for streaming; format errors are raised here, before any packet.

    ``chunk_bytes`` is the read size: batches hold about that many bytes, and
    memory use stays near a few chunks whatever the file size. ``digest``, when
    given, is fed the file's bytes as they are read (see :class:`DigestingFile`;
    :meth:`CaptureReader.finish_digest` feeds the rest).
    """
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be positive, not {chunk_bytes}")
    name = os.fspath(path)
    f: BinaryFile = open(name, "rb")  # noqa: SIM115 -- the reader owns and closes it
    if digest is not None:
        f = DigestingFile(f, digest)
    try:
        head = f.read(SNIFF_BYTES)
        source: Source
        if head.startswith(GZIP_MAGIC):
            source = GzipSource(f, head)
        elif head.startswith(ZSTD_MAGIC):
            source = ZstdSource(f, head)
        else:
            source = RawSource(f, head)
        window = Window(source, chunk_bytes)
        try:
            window.fill(max(SNIFF_BYTES, chunk_bytes))
        except DecompressionError as exc:
            raise CorruptCaptureError(name, window.base + window.end, 1, str(exc)) from exc
        inner = window.peek(SNIFF_BYTES)
        magic = inner[:4]
        if magic in PCAP_MAGICS:
            return PcapReader(name, window, source)
        if magic == SHB_TYPE:
            return PcapngReader(name, window, source)
        raise _not_a_capture(name, inner, source)
    except BaseException:
        f.close()
        raise


def _not_a_capture(
    name: str, head: bytes, source: Source
) -> NotACaptureError | UnsupportedFormatError:
    what = describe(head)
    if source.compression:
        what = f"it is {source.compression}-compressed, and the content looks like {what}"
        if source.incomplete:
            what += f" ({source.incomplete})"
    else:
        what = f"it looks like {what}"
    if head[:4] in KUZNETSOV_MAGICS:
        return UnsupportedFormatError(name, f"{what}; convert it with editcap -F pcap")
    return NotACaptureError(
        name, f"not {_WHAT_A_CAPTURE_IS}: {what} (first bytes: {head[:8].hex(' ') or 'none'})"
    )


def describe(head: bytes) -> str:
    """What a file starting with ``head`` looks like, for an error message."""
    if not head:
        return "an empty file"
    if head[8:12] in (BYTE_ORDER_LE, BYTE_ORDER_BE):
        return (
            "a pcapng file whose first block type is damaged (the pcapng byte-order "
            f"magic is at offset 8, but {head[:4].hex(' ')} is where 0a 0d 0d 0a belongs)"
        )
    for magic, what in _OTHER_MAGICS:
        if head.startswith(magic):
            return what
    if head.startswith((GZIP_MAGIC, ZSTD_MAGIC)):
        return "data compressed a second time"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text:
        return "an HTML page (a saved error or login page?)"
    if text.startswith(b"<") and _is_text(head):
        return "XML or other markup"
    if text.startswith((b"{", b"[")) and _is_text(head):
        return "JSON text"
    if _is_text(head):
        return "text"
    if len(head) < 4:
        return f"{len(head)} bytes, too short for any capture header"
    if not any(head):
        return "zero bytes only"
    return "binary data of an unknown format"


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sniffed bytes may end in the middle of a multi-byte character.
        if exc.start < len(head) - 3 or len(head) < SNIFF_BYTES:
            return False
        text = head[: exc.start].decode("utf-8")
    return all(c.isprintable() or c in "\t\r\n\f" for c in text)
