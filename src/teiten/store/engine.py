"""The query engine seam: analyses are SQL over the ``packets``, ``keys`` and ``dsts`` views.

Locally the views are DuckDB over the day-partitioned Parquet dataset (partition
pruning on ``day``). ``keys`` and ``dsts`` are the rollups (:mod:`teiten.store.rollup`):
their files when the store's rollup is complete, else the same aggregation computed from
the packets on the fly — the same rows either way, only slower.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import duckdb
import pyarrow as pa

from teiten.store import rollup
from teiten.store.dataset import Store
from teiten.store.events import EventStore
from teiten.store.manifest import SensorRecord
from teiten.store.schema import SCHEMA, T_NS_SQL
from teiten.store.sensors import declared_sensors

__all__ = ["Engine"]


class Engine:
    """An embedded DuckDB connection with the store's ``packets`` view."""

    def __init__(
        self, store: Store, *, threads: int | None = None, rollups: bool | None = None
    ) -> None:
        """``rollups``: read the rollup files (None: when the store's rollup is complete;
        False: always aggregate the packets, as the tests' reference answers do)."""
        self.store = store
        self.con = duckdb.connect(":memory:")
        from teiten.fingerprint.registry import tag_sql_macro

        self.con.execute(tag_sql_macro())
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if store.has_packets():
            glob = store.packets_glob.replace("'", "''")
            self.con.execute(
                f"CREATE VIEW packets AS SELECT *, {T_NS_SQL} AS t_ns FROM read_parquet("
                f"'{glob}', hive_partitioning = true, hive_types = {{'day': DATE}}, "
                "union_by_name = true)"
            )
        else:
            empty = SCHEMA.empty_table().append_column("day", pa.array([], pa.date32()))
            self.con.register("_empty_packets", empty)
            self.con.execute(
                f"CREATE VIEW packets AS SELECT *, {T_NS_SQL} AS t_ns FROM _empty_packets"
            )
        self.rolled_up = rollup.complete(store) if rollups is None else rollups
        for name, sql in rollup.views("packets").items():
            if not self.rolled_up:
                self.con.execute(f"CREATE VIEW {name} AS {sql}")
            elif any((store.root / "rollups").glob(f"*/*.{name}.parquet")):
                files = store.root / "rollups" / "*" / f"*.{name}.parquet"
                glob = str(files).replace("'", "''")
                self.con.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{glob}', "
                    "hive_partitioning = true, hive_types = {'day': DATE})"
                )
            else:
                schema = rollup.SCHEMAS[name]
                empty = schema.empty_table().append_column("day", pa.array([], pa.date32()))
                self.con.register(f"_empty_{name}", empty)
                self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM _empty_{name}")

    @cached_property
    def events(self) -> EventStore:
        """The store's cache of computed scan events and DoS attacks."""
        return EventStore(self.store)

    def declared_sensors(self) -> dict[str, SensorRecord]:
        """The sizes declared for the store's sensors (``teiten sensors declare``)."""
        return declared_sensors(self.store)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run a query; rows as dicts."""
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
