"""The stored packet row: one Arrow/Parquet schema, and decoded columns → table.

An instant is two columns: ``ts``, the time to the microsecond
(``timestamp[us, UTC]``, Parquet ``TIMESTAMP(MICROS, UTC)``, which Apache Spark reads;
it refuses nanosecond timestamps), and ``ts_ns``, the nanoseconds past that microsecond
(0..999), so that no capture's digit is lost: ns since the epoch = µs × 1000 + ``ts_ns``
(:data:`T_NS_SQL`, the ``packets`` view's ``t_ns``; :func:`teiten.store.dataset.ts_ns`).

Addresses are 16-byte values (IPv4 as ``::ffff:a.b.c.d``) so that one column
holds both families and DuckDB compares them as BLOBs. Categorical columns
(sensor, kind, country) are dictionary-encoded. Optional fields are null where
the packet has no such header (no ports on ICMP or non-first fragments).
``batch`` names the write batch a row came from (the manifest's ``batch_id``): one
value per file as written, so it costs a few bytes, and compaction keeps it, so
``teiten store remove --input`` finds an input's rows in merged files too. Files
written before it existed lack the column (read as null; their name gives the batch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from teiten.decode import DecodedPackets
    from teiten.enrich import GeoTags

__all__ = [
    "KIND_NAMES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "T_NS_SQL",
    "address_array",
    "dictionary_array",
    "masked_array",
    "packets_table",
]

# 2: the batch column; 3: ts in µs (was ns) and ts_ns (see teiten.store.migrate)
SCHEMA_VERSION = 3
KIND_NAMES = ["other", "probe", "backscatter"]  # index = teiten.decode kind code

_DICT = pa.dictionary(pa.int32(), pa.string())

SCHEMA = pa.schema(
    [
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("ts_ns", pa.uint16(), nullable=False),  # ns past ts's microsecond, 0..999
        pa.field("sensor", _DICT, nullable=False),
        pa.field("ip_version", pa.uint8(), nullable=False),
        pa.field("src", pa.binary(16), nullable=False),
        pa.field("dst", pa.binary(16), nullable=False),
        pa.field("proto", pa.uint8(), nullable=False),
        pa.field("sport", pa.uint16()),
        pa.field("dport", pa.uint16()),
        pa.field("tcp_flags", pa.uint8()),
        pa.field("tcp_seq", pa.uint32()),
        pa.field("tcp_ack", pa.uint32()),
        pa.field("tcp_window", pa.uint16()),
        pa.field("tcp_opt_len", pa.uint8()),
        pa.field("tcp_opt_mask", pa.uint32()),
        pa.field("tcp_mss", pa.uint16()),
        pa.field("ttl", pa.uint8(), nullable=False),
        pa.field("ip_id", pa.uint32(), nullable=False),
        pa.field("ip_flags", pa.uint8(), nullable=False),
        pa.field("frag_offset", pa.uint16(), nullable=False),
        pa.field("is_fragment", pa.bool_(), nullable=False),
        pa.field("ip_len", pa.uint16(), nullable=False),
        pa.field("wirelen", pa.uint32(), nullable=False),
        pa.field("icmp_type", pa.uint8()),
        pa.field("icmp_code", pa.uint8()),
        pa.field("kind", _DICT, nullable=False),
        pa.field("country", _DICT),
        pa.field("asn", pa.uint32()),
        pa.field("tags", pa.uint32(), nullable=False),  # fingerprint bits, see teiten.fingerprint
        pa.field("batch", _DICT),  # the manifest's batch_id, set by the store's BatchWriter
    ],
    metadata={"teiten.schema_version": str(SCHEMA_VERSION)},
)
# A row's instant in ns since the epoch (BIGINT), as SQL over its columns: the one
# place that says how ts and ts_ns combine (the Engine's packets view names it t_ns).
T_NS_SQL = "epoch_us(ts) * 1000 + ts_ns"


def masked_array(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    """``values`` as ``type_`` (a fixed-width type), NULL where not ``valid``.

    The values are not copied when they have the type's width; the validity bitmap is
    ``valid`` packed by numpy (``pa.array(mask=…)`` converts a mask 50 times slower).
    """
    values = np.ascontiguousarray(values, dtype=type_.to_pandas_dtype())
    if valid.all():
        return pa.array(values, type=type_)
    bitmap = np.packbits(valid, bitorder="little")
    return pa.Array.from_buffers(type_, len(values), [pa.py_buffer(bitmap), pa.py_buffer(values)])


def address_array(values: np.ndarray) -> pa.Array:
    """16-byte addresses, as ``(n, 16)`` bytes or ``(n, 2)`` 64-bit words."""
    flat = np.ascontiguousarray(values).view(np.uint8)
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(flat), [None, pa.py_buffer(flat)]
    )


def dictionary_array(codes: np.ndarray, names: list[str]) -> pa.Array:
    """Indices ``codes`` (< 0: NULL) into ``names``."""
    indices = masked_array(codes, codes >= 0, pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(names, type=pa.string()))


def packets_table(
    decoded: DecodedPackets, sensor: str, geo: GeoTags, tags: np.ndarray | None = None
) -> pa.Table:
    """Rows to store for already-selected (successfully decoded) packets."""
    n = len(decoded.ts_ns)
    d = decoded
    tcp = d.has_tcp
    micros, rest = np.divmod(d.ts_ns, 1000)
    columns = [
        pa.array(micros, type=pa.timestamp("us", tz="UTC")),
        pa.array(rest.astype(np.uint16), type=pa.uint16()),
        dictionary_array(np.zeros(n, np.int32), [sensor]),
        pa.array(d.ip_version, type=pa.uint8()),
        address_array(d.src),
        address_array(d.dst),
        pa.array(d.proto, type=pa.uint8()),
        masked_array(d.sport, d.has_ports, pa.uint16()),
        masked_array(d.dport, d.has_ports, pa.uint16()),
        masked_array(d.tcp_flags, tcp, pa.uint8()),
        masked_array(d.tcp_seq, tcp, pa.uint32()),
        masked_array(d.tcp_ack, tcp, pa.uint32()),
        masked_array(d.tcp_window, tcp, pa.uint16()),
        masked_array(d.tcp_opt_len, tcp, pa.uint8()),
        masked_array(d.tcp_opt_mask, tcp, pa.uint32()),
        masked_array(d.tcp_mss, d.has_mss, pa.uint16()),
        pa.array(d.ttl, type=pa.uint8()),
        pa.array(d.ip_id, type=pa.uint32()),
        pa.array(d.ip_flags, type=pa.uint8()),
        pa.array(d.frag_offset, type=pa.uint16()),
        pa.array(d.is_fragment, type=pa.bool_()),
        pa.array(d.ip_len, type=pa.uint16()),
        pa.array(d.wirelen, type=pa.uint32()),
        masked_array(d.icmp_type, d.has_icmp, pa.uint8()),
        masked_array(d.icmp_code, d.has_icmp, pa.uint8()),
        dictionary_array(d.kind, KIND_NAMES),
        dictionary_array(geo.country_code, geo.countries),
        masked_array(geo.asn, geo.has_asn, pa.uint32()),
        pa.array(np.zeros(n, np.uint32) if tags is None else tags, type=pa.uint32()),
        pa.nulls(n, _DICT),  # batch: set when the rows are written (BatchWriter.write)
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)
