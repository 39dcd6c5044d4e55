"""The sensor→collector batch format: round trip, digests, and every way a body can be bad."""

from dataclasses import fields

import numpy as np
import pyarrow as pa
import pytest

from conftest import capture_path
from teiten.capture import open_capture
from teiten.decode import COLUMNS, DecodedPackets, decode_batch
from teiten.transport import BatchFormatError, body_digest, decode_body, encode_body
from teiten.transport.wire import SCHEMA


def _decoded(name="ppa3e_synscan.pcapng"):
    with open_capture(capture_path(name)) as reader:
        batch = next(iter(reader))
    decoded = decode_batch(batch)
    return decoded.select(decoded.decoded)


def _zeros(n):
    columns = {k: np.zeros((n, *shape), dtype) for k, (dtype, shape) in COLUMNS.items()}
    return DecodedPackets(ts_ns=np.zeros(n, np.int64), wirelen=np.zeros(n, np.uint32), **columns)


def test_round_trip_keeps_every_field():
    decoded = _decoded()
    back = decode_body(encode_body(decoded))
    assert len(back) == len(decoded) > 1000
    for f in fields(decoded):
        assert np.array_equal(getattr(back, f.name), getattr(decoded, f.name)), f.name


def test_digest_names_the_content():
    body = encode_body(_decoded())
    assert body_digest(body) == body_digest(bytes(body))
    assert body_digest(body).startswith("blake3:") and len(body_digest(body)) == 7 + 64
    flipped = bytearray(body)
    flipped[len(body) // 2] ^= 1
    assert body_digest(body) != body_digest(bytes(flipped))


def test_undecoded_rows_are_refused_at_encoding():
    with open_capture(capture_path("ppa3e_synscan.pcapng")) as reader:
        decoded = decode_batch(next(iter(reader)))
    if decoded.decoded.all():
        decoded = decoded.select(np.arange(len(decoded)))
        decoded.reason[0] = 1
    with pytest.raises(ValueError, match="reason == 0"):
        encode_body(decoded)


@pytest.mark.parametrize("body", [b"", b"garbage", b"\xff" * 64])
def test_garbage_is_a_format_error(body):
    with pytest.raises(BatchFormatError, match="not an Arrow IPC stream"):
        decode_body(body)


def test_truncated_body_is_a_format_error():
    body = encode_body(_decoded())
    with pytest.raises(BatchFormatError):
        decode_body(body[: len(body) // 2])


def _stream(table):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_other_versions_and_columns_are_named():
    table = pa.ipc.open_stream(encode_body(_zeros(10))).read_all()
    other = table.replace_schema_metadata({"teiten.wire_version": "99"})
    with pytest.raises(BatchFormatError, match="wire version 99"):
        decode_body(_stream(other))
    unversioned = table.replace_schema_metadata(None)
    with pytest.raises(BatchFormatError, match="wire version none"):
        decode_body(_stream(unversioned))
    renamed = table.rename_columns(["stamp", *table.column_names[1:]]).replace_schema_metadata(
        SCHEMA.metadata
    )
    with pytest.raises(BatchFormatError, match=r"\['stamp', 'ts_ns'\]"):
        decode_body(_stream(renamed))


def test_row_limit_is_checked_before_decompressing():
    """Two million zero rows compress to a small body; the limit must refuse it without
    expanding it (Arrow's allocator stays flat)."""
    body = encode_body(_zeros(2_000_000))
    assert len(body) < 4_000_000
    before = pa.total_allocated_bytes()
    with pytest.raises(BatchFormatError, match="more than 1000 rows"):
        decode_body(body, max_rows=1000)
    assert pa.total_allocated_bytes() - before < 1_000_000
    assert len(decode_body(body, max_rows=2_000_000)) == 2_000_000
