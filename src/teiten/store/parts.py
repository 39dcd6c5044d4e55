"""What one Parquet file of the dataset holds: its digest, its rows per batch, its schema.

A batch writes its rows to ``packets/day=…/<batch_id>-<lane>.parquet``; compaction
and removal write files of their own name (``compact-…``, ``remove-…``) that may hold
rows of many batches, which their ``batch`` column tells apart. Files written before
that column existed carry the batch in their name only; rows merged from them by an
older compaction belong to no known batch (``None`` below).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import blake3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from teiten.store.manifest import FileRecord
from teiten.store.schema import SCHEMA

__all__ = [
    "batch_of_name",
    "file_digest",
    "file_record",
    "rows_by_batch",
    "schema_problems",
    "with_batch",
]

# <batch>-<lane>.parquet, or <batch>-<lane>-v3.parquet once migrated (teiten.store.migrate)
_BATCH_FILE = re.compile(r"^(\d{8}T\d{6}-[0-9a-f]{12})-\d+(?:-v\d+)?\.parquet$")


def file_digest(path: Path) -> str:
    """``blake3:<hex>`` of a file's bytes (what the manifest records per Parquet file, and
    the key of inputs in stores written before content keys)."""
    digest = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with open(path, "rb") as f:  # read, not mmap: mapped pages would count as our memory
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return "blake3:" + digest.hexdigest()


def file_record(path: Path, relative: str) -> FileRecord:
    """The manifest's record of the file at ``path``, to live at ``relative``."""
    return FileRecord(
        relative, pq.ParquetFile(path).metadata.num_rows, path.stat().st_size, file_digest(path)
    )


def batch_of_name(name: str) -> str | None:
    """The batch a file written by a batch writer belongs to, from its name."""
    match = _BATCH_FILE.match(name)
    return match.group(1) if match else None


def rows_by_batch(path: Path, parquet: pq.ParquetFile | None = None) -> Counter[str | None]:
    """Rows of the file per batch id (``None``: rows whose batch is unknown).

    Raises what pyarrow raises for an unreadable file.
    """
    parquet = parquet or pq.ParquetFile(path)
    rows = parquet.metadata.num_rows
    if (batch := batch_of_name(path.name)) is not None:
        return Counter({batch: rows})
    if "batch" not in parquet.schema_arrow.names:
        return Counter({None: rows})
    column = parquet.read(columns=["batch"]).column("batch")
    counts: Counter[str | None] = Counter()
    for item in pc.value_counts(column.combine_chunks().dictionary_decode()).to_pylist():
        counts[item["values"]] += item["counts"]
    return counts


def with_batch(table: pa.Table, name: str) -> pa.Table:
    """``table`` read from the file ``name`` (with :data:`SCHEMA`), its missing batch ids
    filled from the file name where the name tells it (files from before the column)."""
    batch = batch_of_name(name)
    column = table.column("batch")
    if batch is None or column.null_count == 0:
        return table
    filled = pc.fill_null(column.cast(pa.string()), batch)
    i = table.schema.get_field_index("batch")
    return table.set_column(i, SCHEMA.field("batch"), filled.dictionary_encode())


def schema_problems(schema: pa.Schema) -> list[str]:
    """How a file's schema differs from :data:`SCHEMA` (an absent ``batch`` column is an
    older file, not a problem)."""
    problems = []
    for field in SCHEMA:
        if field.name not in schema.names:
            if field.name != "batch":
                problems.append(f"column {field.name} is missing")
        elif not schema.field(field.name).type.equals(field.type):
            found = schema.field(field.name).type
            problems.append(f"column {field.name} is {found}, not {field.type}")
    problems.extend(f"unexpected column {n}" for n in schema.names if n not in SCHEMA.names)
    return problems
