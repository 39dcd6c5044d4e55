"""Byte sources: a capture file as a stream of uncompressed bytes.

Sensors rotate and compress their files, so gzip and zstd are read as streams
(output bounded per call, never the whole file). A compressed stream that stops
before its end marker is not an error: what was decompressed is still good, and
``incomplete`` says what happened so the reader can report it.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import zstandard

from teiten.errors import DecompressionError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_RAW_READ = 256 << 10  # compressed bytes read per call
_MIN_OUT = 64 << 10  # least output asked of zlib per call (tiny asks would copy its input tail)
_ZSTD_FEED = 4096  # zstd returns all output of its input: small feeds bound memory


class BinaryFile(Protocol):
    """What a source reads: a file opened ``"rb"``, or a :class:`DigestingFile` around one."""

    def read(self, n: int = -1, /) -> bytes: ...

    def readinto(self, out: memoryview, /) -> int | None: ...

    def close(self) -> None: ...


class Digest(Protocol):
    """A running hash (``hashlib`` or ``blake3`` object): what :class:`DigestingFile` feeds."""

    def update(self, data: memoryview | bytes, /) -> object: ...


class DigestingFile:
    """A binary file that feeds every byte read from it to ``digest``, in file order.

    Lets ingest hash a capture in the same pass that decodes it, instead of
    reading every file twice.
    """

    def __init__(self, f: BinaryFile, digest: Digest) -> None:
        self._f = f
        self._digest = digest
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._digest.update(data)
        self.bytes_read += len(data)
        return data

    def readinto(self, out: memoryview) -> int:
        got = self._f.readinto(out) or 0
        self._digest.update(out[:got])
        self.bytes_read += got
        return got

    def finish(self) -> int:
        """Feed the bytes the reader did not consume (after damage); the file's total size."""
        while data := self._f.read(8 << 20):  # usually nothing is left
            self._digest.update(data)
            self.bytes_read += len(data)
        return self.bytes_read

    def close(self) -> None:
        self._f.close()


class Source(Protocol):
    file: BinaryFile  # the file the stream is read from
    file_bytes_read: int  # bytes read from the file itself

    @property
    def compression(self) -> str | None: ...

    @property
    def incomplete(self) -> str | None:
        """Why the stream ended early, if it did."""
        ...

    def readinto(self, out: memoryview) -> int:
        """Fill ``out`` as far as the stream allows; fewer bytes only at its end."""
        ...

    def close(self) -> None: ...


class RawSource:
    """An uncompressed file; ``head`` holds bytes already read for sniffing."""

    compression = None
    incomplete = None

    def __init__(self, f: BinaryFile, head: bytes) -> None:
        self.file = f
        self._head = head
        self.file_bytes_read = len(head)

    def readinto(self, out: memoryview) -> int:
        done = 0
        if self._head:
            k = min(len(self._head), len(out))
            out[:k] = self._head[:k]
            self._head = self._head[k:]
            done = k
        while done < len(out):
            got = self.file.readinto(out[done:])
            if not got:
                break
            done += got
            self.file_bytes_read += got
        return done

    def close(self) -> None:
        self.file.close()


class _Decompressing:
    """Shared loop: pull compressed bytes, push bounded output into ``out``."""

    compression: str

    def __init__(self, f: BinaryFile, head: bytes) -> None:
        self.file = f
        self._input = head  # compressed bytes not yet fed
        self._pending = b""  # decompressed bytes, handed out up to self._given
        self._given = 0
        self._eof = False
        self.incomplete: str | None = None
        self.file_bytes_read = len(head)

    def readinto(self, out: memoryview) -> int:
        done = 0
        while done < len(out):
            if self._given < len(self._pending):
                k = min(len(self._pending) - self._given, len(out) - done)
                out[done : done + k] = memoryview(self._pending)[self._given : self._given + k]
                self._given += k
                done += k
                continue
            if self._eof:
                break
            if not self._input:
                self._input = self._read()
                if not self._input:
                    self._eof = True
                    self._finish()
                    continue
            try:
                self._pending, self._given = self._step(len(out) - done), 0
            except (zlib.error, zstandard.ZstdError) as exc:
                raise DecompressionError(f"{self.compression} data is damaged: {exc}") from exc
        return done

    def _read(self) -> bytes:
        data = self.file.read(_RAW_READ)
        self.file_bytes_read += len(data)
        return data

    def _step(self, room: int) -> bytes:
        """Decompress some of ``self._input`` (about ``room`` bytes of output)."""
        raise NotImplementedError

    def _finish(self) -> None:
        """The file ended: note it when a frame/member was left unfinished."""
        raise NotImplementedError

    def close(self) -> None:
        self.file.close()


class GzipSource(_Decompressing):
    """gzip, including multi-member files (``cat a.gz b.gz``); junk after them is ignored."""

    compression = "gzip"

    def __init__(self, f: BinaryFile, head: bytes) -> None:
        super().__init__(f, head)
        self._d = zlib.decompressobj(wbits=31)

    def _step(self, room: int) -> bytes:
        if self._d.eof:  # a member ended: another one follows, or junk
            if len(self._input) < len(GZIP_MAGIC):
                self._input += self._read()
            if not self._input.startswith(GZIP_MAGIC):
                self._input = b""
                self._eof = True
                return b""
            self._d = zlib.decompressobj(wbits=31)
        d = self._d
        out = d.decompress(self._input, max(room, _MIN_OUT))
        self._input = d.unused_data if d.eof else d.unconsumed_tail
        return out

    def _finish(self) -> None:
        if not self._d.eof:
            self.incomplete = "the gzip stream ends before its end marker (file cut short?)"


class ZstdSource(_Decompressing):
    """zstd, including several concatenated frames."""

    compression = "zstd"

    def __init__(self, f: BinaryFile, head: bytes) -> None:
        super().__init__(f, head)
        self._dctx = zstandard.ZstdDecompressor()
        self._d = self._dctx.decompressobj()
        self._at = 0  # fed prefix of self._input

    def _step(self, room: int) -> bytes:
        if self._d.eof:
            self._d = self._dctx.decompressobj()
        feed = self._input[self._at : self._at + _ZSTD_FEED]
        self._at += len(feed)
        out = self._d.decompress(feed)
        if self._d.eof:
            self._input = self._d.unused_data + self._input[self._at :]
            self._at = 0
        elif self._at >= len(self._input):
            self._input, self._at = b"", 0
        return out

    def _finish(self) -> None:
        if not self._d.eof:
            self.incomplete = "the zstd stream ends inside a frame (file cut short?)"
