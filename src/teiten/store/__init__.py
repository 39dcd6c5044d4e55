"""The Parquet store (day-partitioned, atomic, deduplicated) and its query engine."""

from typing import TYPE_CHECKING

from teiten.store.dataset import BatchWriter, Store, default_store_path
from teiten.store.manifest import BatchRecord, InputRecord, Manifest, SensorRecord
from teiten.store.schema import KIND_NAMES, SCHEMA, packets_table

if TYPE_CHECKING:  # loaded on first use (below); type checkers see it here
    from teiten.store.engine import DuckDBEngine, Engine, open_engine

__all__ = [
    "KIND_NAMES",
    "SCHEMA",
    "BatchRecord",
    "BatchWriter",
    "DuckDBEngine",
    "Engine",
    "InputRecord",
    "Manifest",
    "SensorRecord",
    "Store",
    "default_store_path",
    "open_engine",
    "packets_table",
]


def __getattr__(name: str) -> object:
    # The engine pulls in DuckDB; ingest does not need it, so load it on first use.
    if name in ("DuckDBEngine", "Engine", "open_engine"):
        from teiten.store import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'teiten.store' has no attribute {name!r}")
