"""Streaming: batches stay valid while held, buffers are recycled only when free."""

from __future__ import annotations

import io

import numpy as np

from conftest import capture_path
from teiten.capture import open_capture
from teiten.capture.source import RawSource
from teiten.capture.window import Window

from ._captures import read_all, unpack


def test_held_batches_are_never_overwritten() -> None:
    path = capture_path("pcpp_example2.pcap")
    _, expected, _ = read_all(path)
    with open_capture(path, chunk_bytes=64 << 10) as reader:
        held = list(reader)  # the consumer keeps every batch until the end
    assert len({id(b.data) for b in held}) > 10
    assert [p for b in held for p in unpack(b)] == expected


def test_memory_stays_near_the_chunk_size() -> None:
    chunk = 64 << 10
    with open_capture(capture_path("pcpp_example2.pcap"), chunk_bytes=chunk) as reader:
        sizes = {batch.data.shape[0] for batch in reader}
    assert max(sizes) <= chunk + 1600  # a chunk, or one carried record more


def _window(data: bytes, chunk: int) -> Window:
    return Window(RawSource(io.BytesIO(data), b""), chunk)


def test_buffer_is_recycled_only_when_nothing_else_holds_it() -> None:
    w = _window(bytes(range(256)) * 64, 1024)
    assert w.fill(1) and w.buf.shape[0] == 1024
    first = w.buf
    view = first[10:20]  # what a consumer holding a batch (or a slice of one) keeps
    w.pos = w.end
    w.fill(1)
    w.pos = w.end
    w.fill(1)
    assert w.buf is not first  # still referenced through the view: not reused
    del first
    w.pos = w.end
    w.fill(1)
    assert not np.shares_memory(w.buf, view)
    del view
    seen = set()
    for _ in range(4):
        w.pos = w.end
        w.fill(1)
        seen.add(id(w.buf))
    assert len(seen) <= 3  # the spare buffers go round


def test_fill_grows_only_as_bytes_arrive() -> None:
    w = _window(b"x" * 5000, 100)
    assert not w.fill(1 << 30)  # a header claiming 1 GiB, in a 5 kB stream
    assert w.avail == 5000 and w.buf.shape[0] < 20_000 and w.eof


def test_window_offsets() -> None:
    w = _window(bytes(1000), 64)
    w.fill(10)
    w.pos += 50
    w.fill(30)
    assert w.offset == 50 and w.peek(4) == bytes(4) and w.avail >= 30
