"""Apache Spark as the query engine: the store's views in a Spark SQL session.

The same views as :class:`teiten.store.engine.DuckDBEngine` — ``packets`` (with ``t_ns``
and ``day`` from the partition folders), ``keys``, ``sources`` and ``dsts`` (the rollup
files when the store's rollup is complete, else the same SQL over the packets) — so
every analysis runs unchanged. The session is made once per process and shared: each
engine opens a child session (its own views) on it.

Where the session runs:

* ``local[*]`` (the default): a JVM on this machine (Java 17+), every core;
* ``$TEITEN_SPARK_MASTER=spark://host:7077`` (or ``yarn``, ``k8s://…``): a cluster whose
  executors see the store at the same path (a shared file system), or at
  ``$TEITEN_SPARK_STORE_URL`` (``hdfs://…``, ``s3a://…``: a copy of the store's folders
  read through Hadoop's connectors);
* ``$TEITEN_SPARK_MASTER=sc://host:15002``: a Spark Connect server (no local JVM).

The JVM's own output (banner, warnings) goes to a log file, not the terminal; its path
is in the error when the session cannot start. PySpark is imported here only, on first
use: without it, :func:`open_engine` says how to install it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import pyarrow as pa

from teiten.errors import EngineError
from teiten.store import rollup
from teiten.store.dataset import Store
from teiten.store.dialect import named_params
from teiten.store.engine import StoreSide, rolled_up_only_files
from teiten.store.schema import SCHEMA, T_NS_SQL
from teiten.store.swap import fsync_path

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

    from teiten.store.engine import Params, Positional

__all__ = [
    "ENV_MASTER",
    "ENV_STORE_URL",
    "INSTALL",
    "SparkEngine",
    "rebuild_rollups",
    "spark_session",
]

ENV_MASTER = "TEITEN_SPARK_MASTER"
ENV_STORE_URL = "TEITEN_SPARK_STORE_URL"
INSTALL = "pip install 'teiten[spark]'"
_SETTINGS = {
    "spark.app.name": "teiten",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.ansi.enabled": "true",
}
# DuckDB functions the shared SQL uses, defined for Spark (session-scoped).
_FUNCTIONS = (
    "CREATE OR REPLACE TEMPORARY FUNCTION epoch_us(ts TIMESTAMP) RETURNS BIGINT "
    "RETURN unix_micros(ts)",
)
_SESSION: SparkSession | None = None


def spark_session() -> SparkSession:
    """The process's Spark session (made on first use; ``$TEITEN_SPARK_MASTER``)."""
    global _SESSION
    if _SESSION is None:
        try:
            import pyspark  # noqa: F401
        except ImportError as exc:
            raise EngineError(f"--engine spark needs PySpark: {INSTALL}") from exc
        master = os.environ.get(ENV_MASTER, "").strip() or "local[*]"
        _SESSION = _connect(master) if master.startswith("sc://") else _classic(master)
        _quiet()
    return _SESSION


def _classic(master: str) -> SparkSession:
    """A session with a JVM started here, its output in a log file."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    conf = SparkConf().setMaster(master).setAll(list(_SETTINGS.items()))
    log = Path(tempfile.gettempdir()) / f"teiten-spark-{os.getpid()}.log"
    if SparkContext._active_spark_context is None:  # reuse a running one
        with log.open("ab") as sink:
            try:
                gateway = launch_gateway(conf, popen_kwargs={"stdout": sink, "stderr": sink})
            except Exception as exc:
                raise EngineError(
                    f"Spark could not start ({master}): {_first_line(exc)}; it needs Java 17+ "
                    f"(apt install openjdk-17-jre-headless); its log: {log}"
                ) from exc
        SparkContext(conf=conf, gateway=gateway)
    session = SparkSession.builder.config(conf=conf).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _connect(url: str) -> SparkSession:
    """A Spark Connect session (``sc://host:port``)."""
    from pyspark.sql import SparkSession

    try:
        session = SparkSession.builder.remote(url).getOrCreate()
    except Exception as exc:
        raise EngineError(
            f"cannot open a Spark Connect session at {url}: {_first_line(exc)} (Spark "
            f"Connect also needs pyspark's connect extra: pip install 'pyspark[connect]')"
        ) from exc
    for key in ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions"):
        session.conf.set(key, _SETTINGS[key])
    return session


def _quiet() -> None:
    """PySpark logs each failed query to stderr; teiten reports its errors itself."""
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True
    logging.getLogger("py4j").setLevel(logging.ERROR)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# Spark's type for each Arrow type of the store's schemas, as Spark reads it from Parquet
# (unsigned integers widen: uint8 → SMALLINT, uint16 → INT, uint32 → BIGINT).
def _spark_type(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t) or pa.types.is_string(t):
        return "STRING"
    if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
        return "BINARY"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_date(t):
        return "DATE"
    names = {
        pa.uint8(): "SMALLINT",
        pa.uint16(): "INT",
        pa.uint32(): "BIGINT",
        pa.uint64(): "DECIMAL(20, 0)",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INT",
        pa.int64(): "BIGINT",
    }
    if t in names:
        return names[t]
    raise TypeError(f"no Spark type for {t}")  # a new schema type: add it above


def _empty(schema: pa.Schema) -> str:
    """SQL of an empty relation with ``schema``'s columns and ``day``."""
    cols = [f"CAST(NULL AS {_spark_type(f.type)}) AS {f.name}" for f in schema]
    return f"SELECT {', '.join(cols)}, CAST(NULL AS DATE) AS day WHERE false"


class SparkEngine(StoreSide):
    """A Spark SQL session with the store's views (see the module's docstring)."""

    dialect = "spark"

    def __init__(self, store: Store, *, rollups: bool | None = None) -> None:
        """``rollups`` as for :class:`teiten.store.engine.DuckDBEngine`."""
        self.store = store
        base = spark_session()
        remote = type(base).__module__.startswith("pyspark.sql.connect")
        self.spark = base if remote else base.newSession()
        for statement in _FUNCTIONS:
            self.spark.sql(statement)
        url = os.environ.get(ENV_STORE_URL, "").rstrip("/") or str(store.root)
        if store.has_packets():
            self._read(f"{url}/packets", "*.parquet", "_files_packets")
            self.spark.sql(
                f"CREATE OR REPLACE TEMPORARY VIEW packets AS "
                f"SELECT *, {T_NS_SQL} AS t_ns FROM _files_packets"
            )
        else:
            self.spark.sql(
                f"CREATE OR REPLACE TEMPORARY VIEW packets AS "
                f"SELECT *, {T_NS_SQL} AS t_ns FROM ({_empty(SCHEMA)})"
            )
        self.rolled_up = rollup.complete(store) if rollups is None else rollups
        for name, sql in rollup.views("packets").items():
            if not self.rolled_up:
                body = sql
                files = rolled_up_only_files(store, name)
                if files:  # days held as rollups only (raw retention) join the aggregation
                    folder = f"{url}/rollups"
                    paths = [f"{folder}/{f.relative_to(store.root / 'rollups')}" for f in files]
                    self.spark.read.option("basePath", folder).parquet(
                        *paths
                    ).createOrReplaceTempView(f"_files_{name}")
                    columns = ", ".join(["day", *rollup.SCHEMAS[name].names])
                    body = (
                        f"SELECT {columns} FROM ({sql}) "
                        f"UNION ALL SELECT {columns} FROM _files_{name}"
                    )
            elif any((store.root / "rollups").glob(f"*/*.{name}.parquet")):
                self._read(f"{url}/rollups", f"*.{name}.parquet", f"_files_{name}")
                body = f"SELECT * FROM _files_{name}"
            else:
                body = _empty(rollup.SCHEMAS[name])
            self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {body}")

    def _read(self, folder: str, pattern: str, view: str) -> None:
        """``folder``'s ``day=…/pattern`` files as the temporary view ``view``."""
        frame = (
            self.spark.read.option("basePath", folder)
            .option("pathGlobFilter", pattern)
            .option("recursiveFileLookup", "false")
            .parquet(folder)
        )
        frame.createOrReplaceTempView(view)

    def table(self, sql: str, params: Params | None = None) -> pa.Table:
        """Run a query (``$name`` markers, read by Spark as ``:name``); the result as an
        Arrow table."""
        return self.spark.sql(named_params(self.dialect, sql), args=params or None).toArrow()

    def rows(self, sql: str, params: Params | Positional | None = None) -> list[dict[str, Any]]:
        """Run a query; rows as dicts of the Python values DuckDB gives (via Arrow:
        ``bytes``, ``date``, UTC ``datetime``, ``list``)."""
        if isinstance(params, list):  # ``?`` markers (see Positional)
            return self.spark.sql(sql, args=params).toArrow().to_pylist()
        return self.table(sql, params).to_pylist()

    def close(self) -> None:
        """Drop this engine's views (the process's session stays, for the next)."""
        for view in ("packets", "keys", "sources", "dsts"):
            self.spark.catalog.dropTempView(view)
            self.spark.catalog.dropTempView(f"_files_{view}")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def rebuild_rollups(store: Store, *, days: Iterable[str] | None = None) -> list[rollup.RolledDay]:
    """:func:`teiten.store.rollup.rebuild` with Spark reading the packets.

    Spark aggregates each day's packets (the expensive part: every packet is read);
    the day's rollup rows, small by design, come back to this process, which types,
    writes and swaps in its files exactly as a DuckDB rebuild does (same lock, same
    crash safety: the rollup is marked incomplete until every day is done).
    """
    import duckdb

    spark = spark_session()
    for statement in _FUNCTIONS:
        spark.sql(statement)
    with store.lock():
        mark_complete = days is None or rollup.complete(store)
        live, rolled, wanted = rollup.days_to_roll_up(store, days)
        store.manifest.set(rollup.META_KEY, None)
        staging = store.root / "staging" / f"rollup-{uuid.uuid4().hex[:12]}"
        url = os.environ.get(ENV_STORE_URL, "").rstrip("/") or str(store.root)
        out: list[rollup.RolledDay] = []
        con = duckdb.connect(":memory:")
        try:
            for day in sorted(wanted):
                if day not in live:
                    if day in rolled:
                        shutil.rmtree(store.root / "rollups" / day)
                    continue
                out.append(_rebuild_day(spark, con, store, url, day, staging))
        finally:
            con.close()
            spark.catalog.dropTempView("_day")
            shutil.rmtree(staging, ignore_errors=True)
        if mark_complete:
            store.manifest.set(rollup.META_KEY, rollup.COMPLETE)
    return out


# The order DuckDB writes a day's keys in (teiten.store.rollup: NULLS LAST).
_KEY_ORDER = [(c, "ascending", "at_end") for c in ("kind", "proto", "port", "icmp_type", "src")]


def _rebuild_day(
    spark: SparkSession,
    con: duckdb.DuckDBPyConnection,
    store: Store,
    url: str,
    day: str,
    staging: Path,
) -> rollup.RolledDay:
    """One day's rollup, aggregated by Spark, written and swapped in here."""
    import pyarrow.compute as pc

    frame = spark.read.option("pathGlobFilter", "*.parquet").parquet(f"{url}/packets/{day}")
    frame.createOrReplaceTempView("_day")
    keys = spark.sql(rollup.keys_sql("_day")).toArrow()
    keys = keys.take(pc.sort_indices(keys, sort_keys=_KEY_ORDER))
    dsts = spark.sql(rollup.dsts_sql("_day")).toArrow()
    folder = staging / day
    folder.mkdir(parents=True)
    name = f"rollup-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    for path in rollup._write_day(con, folder, name, keys, dsts).values():
        fsync_path(path)
    fsync_path(folder)
    live = store.root / "rollups" / day
    rollup._replace_folder(folder, live)
    return rollup.RolledDay(
        day.removeprefix("day="),
        int(pc.sum(keys.column("packets")).as_py() or 0),
        keys.num_rows,
        len(pc.unique(keys.column("src"))),
        sum(p.stat().st_size for p in live.iterdir()),
    )
