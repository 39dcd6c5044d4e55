"""A batch on the wire: decoded packet columns as one compressed Arrow IPC stream.

The sensor decodes with the same kernel as file ingest and sends the decoded
columns (only packets with ``reason == 0``); the collector adds what needs
central reference data (country, AS, fingerprint tags) and stores the rows.
A batch is named by the BLAKE3 digest of its body, so a retry of the same
batch is recognised however often it arrives.

    body = encode_body(decoded)
    digest = body_digest(body)            # "blake3:<hex>"
    decoded = decode_body(body)           # BatchFormatError if anything is off
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
from blake3 import blake3

from teiten.decode import COLUMNS, DecodedPackets
from teiten.errors import BatchFormatError

__all__ = [
    "HEADER_DIGEST",
    "HEADER_SENSOR",
    "HEADER_SEQ",
    "WIRE_CONTENT_TYPE",
    "WIRE_VERSION",
    "body_digest",
    "decode_body",
    "encode_body",
]

WIRE_VERSION = 1
WIRE_CONTENT_TYPE = "application/vnd.apache.arrow.stream"
HEADER_SENSOR = "X-Teiten-Sensor"  # the sensor's label (never its addresses)
HEADER_SEQ = "X-Teiten-Batch-Seq"  # the sensor's spool sequence number (informational)
HEADER_DIGEST = "X-Teiten-Batch-Digest"  # "blake3:<hex>" of the body: the batch id

_FIELDS: dict[str, tuple[type[np.generic], tuple[int, ...]]] = {
    "ts_ns": (np.int64, ()),
    "wirelen": (np.uint32, ()),
    **{name: spec for name, spec in COLUMNS.items() if name != "reason"},
}


def _arrow_type(dtype: type[np.generic], shape: tuple[int, ...]) -> pa.DataType:
    return pa.binary(shape[0]) if shape else pa.from_numpy_dtype(dtype)


SCHEMA = pa.schema(
    [pa.field(name, _arrow_type(*spec), nullable=False) for name, spec in _FIELDS.items()],
    metadata={"teiten.wire_version": str(WIRE_VERSION)},
)


def body_digest(body: bytes) -> str:
    """The batch id: ``"blake3:" + hex digest`` of the body bytes."""
    return "blake3:" + blake3(body).hexdigest()


def encode_body(decoded: DecodedPackets) -> bytes:
    """Decoded packets (all with ``reason == 0``) → one zstd-compressed Arrow IPC stream."""
    if len(decoded) and not (decoded.reason == 0).all():
        raise ValueError("only decoded packets (reason == 0) go on the wire; select them first")
    columns = []
    for name, (dtype, shape) in _FIELDS.items():
        values = np.ascontiguousarray(getattr(decoded, name), dtype=dtype)
        if shape:
            columns.append(
                pa.FixedSizeBinaryArray.from_buffers(
                    pa.binary(shape[0]), len(values), [None, pa.py_buffer(values)]
                )
            )
        else:
            columns.append(pa.array(values, type=SCHEMA.field(name).type))
    table = pa.Table.from_arrays(columns, schema=SCHEMA)
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, SCHEMA, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode_body(body: bytes, *, max_rows: int | None = None) -> DecodedPackets:
    """Parse a wire batch back into :class:`DecodedPackets`; raise :class:`BatchFormatError`.

    The row count of every record batch is read from its metadata and checked
    against ``max_rows`` *before* anything is decompressed, so a small body cannot
    expand into gigabytes.
    """
    try:
        messages = list(pa.ipc.MessageReader.open_stream(pa.py_buffer(body)))
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise BatchFormatError(f"the body is not an Arrow IPC stream: {exc}") from exc
    if not messages or messages[0].type != "schema":
        raise BatchFormatError("the body is not an Arrow IPC stream: it has no schema message")
    try:
        schema = pa.ipc.read_schema(messages[0])
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise BatchFormatError(f"the stream's schema cannot be read: {exc}") from exc
    version = (schema.metadata or {}).get(b"teiten.wire_version")
    if version != str(WIRE_VERSION).encode():
        got = version.decode(errors="replace") if version else "none"
        raise BatchFormatError(f"wire version {got}; this collector reads version {WIRE_VERSION}")
    if not schema.equals(SCHEMA):
        expected = {f.name: str(f.type) for f in SCHEMA}
        got = {f.name: str(f.type) for f in schema}
        wrong = sorted(n for n in expected.keys() | got.keys() if expected.get(n) != got.get(n))
        raise BatchFormatError(f"columns differ from wire version {WIRE_VERSION}: {wrong}")
    rows = 0
    for message in messages[1:]:
        if message.type != "record batch":
            raise BatchFormatError(f"unexpected {message.type} message in the stream")
        rows += _batch_length(message.metadata.to_pybytes())
        if max_rows is not None and rows > max_rows:
            raise BatchFormatError(f"more than {max_rows} rows; at most that many per batch")
    try:
        batches = [pa.ipc.read_record_batch(m, SCHEMA) for m in messages[1:]]
        table = pa.Table.from_batches(batches, schema=SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise BatchFormatError(f"a record batch cannot be read: {exc}") from exc
    n = table.num_rows
    arrays: dict[str, np.ndarray] = {"reason": np.zeros(n, np.uint8)}
    for name, (dtype, shape) in _FIELDS.items():
        column = table.column(name).combine_chunks()
        if column.null_count:
            raise BatchFormatError(f"column {name} has {column.null_count} nulls")
        if shape:
            data = np.frombuffer(column.buffers()[1], dtype=np.uint8)
            start = column.offset * shape[0]
            arrays[name] = data[start : start + n * shape[0]].reshape(n, *shape).copy()
        else:
            arrays[name] = column.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return DecodedPackets(**arrays)


def _batch_length(meta: bytes) -> int:
    """Row count of an IPC record-batch message, read from its flatbuffer metadata
    (``Message.header`` → ``RecordBatch.length``) without touching the body."""

    def field(table: int, index: int) -> int:
        vtable = table - struct.unpack_from("<i", meta, table)[0]
        size = struct.unpack_from("<H", meta, vtable)[0]
        offset = (
            struct.unpack_from("<H", meta, vtable + 4 + 2 * index)[0] if 4 + 2 * index < size else 0
        )
        if not offset:
            raise BatchFormatError("a record batch message lacks its header or length")
        return table + offset

    try:
        root = struct.unpack_from("<I", meta, 0)[0]
        at = field(root, 2)  # Message.header
        header = at + struct.unpack_from("<I", meta, at)[0]
        length = struct.unpack_from("<q", meta, field(header, 0))[0]  # RecordBatch.length
    except struct.error as exc:
        raise BatchFormatError(f"a record batch message is malformed: {exc}") from exc
    if length < 0:
        raise BatchFormatError(f"a record batch claims {length} rows")
    return length
