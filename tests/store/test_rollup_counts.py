"""The rollup counted as rows are written equals the rollup SQL over the same rows.

``Rollups`` (a compiled hash-table count, :mod:`teiten.store._rollup_kernel`) against
``keys_sql`` / ``sources_sql`` / ``dsts_sql`` run by DuckDB on the rows: random rows
with every kind of NULL, IPv4 and IPv6, ICMP with and without a type, several sensors
and days (their rows added in turn), arrays that start at an offset, and tables small
enough to be written out many times over.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from teiten.errors import StoreError
from teiten.store import rollup
from teiten.store._rollup_kernel import MAX_CODE
from teiten.store.schema import SCHEMA, address_array, dictionary_array, masked_array


def _rows(n: int, seed: int) -> pa.Table:
    """``n`` store rows, drawn so that keys repeat (few sources, ports and tags)."""
    rng = np.random.default_rng(seed)
    v4 = rng.random(n) < 0.8
    src = np.zeros((n, 16), np.uint8)
    src[:, 10:12] = np.where(v4, 0xFF, 0)[:, None]
    src[:, 12:] = rng.integers(0, 4, (n, 4))  # few sources: rows sum
    src[~v4, :2] = [0x20, 0x01]
    dst = np.zeros((n, 16), np.uint8)
    dst[:, 10:12] = np.where(v4, 0xFF, 0)[:, None]
    dst[:, 12:] = rng.integers(0, 8, (n, 4))
    odd = v4 & (rng.random(n) < 0.01)  # IPv4 rows whose dst is not ::ffff:a.b.c.d
    dst[odd, 0] = 0xFE
    proto = rng.choice(np.array([1, 6, 17, 58, 47], np.uint8), n)
    icmp = (proto == 1) | (proto == 58)
    micros = 1_711_929_600_000_000 + rng.integers(0, 2 * 86_400_000_000, n)  # two days
    columns = {
        "ts": pa.array(micros, pa.timestamp("us", tz="UTC")),
        "ts_ns": pa.array(rng.integers(0, 1000, n), pa.uint16()),
        "sensor": dictionary_array(rng.integers(0, 3, n), ["a", "b", "c"]),
        "ip_version": pa.array(np.where(v4, 4, 6), pa.uint8()),
        "src": address_array(src),
        "dst": address_array(dst),
        "proto": pa.array(proto),
        "dport": masked_array(rng.integers(0, 3, n), rng.random(n) < 0.9, pa.uint16()),
        "icmp_type": masked_array(rng.integers(0, 3, n), icmp & (rng.random(n) < 0.9), pa.uint8()),
        "kind": dictionary_array(rng.integers(0, 3, n), ["other", "probe", "backscatter"]),
        "country": dictionary_array(rng.integers(-1, 2, n), ["JP", "US"]),  # -1: NULL
        "asn": masked_array(rng.integers(1, 3, n), rng.random(n) < 0.7, pa.uint32()),
        "tags": pa.array(rng.choice(np.array([0, 1, 1 << 31], np.uint32), n)),
    }  # fmt: skip
    return pa.table({f.name: columns[f.name] for f in SCHEMA if f.name in columns})


def _days(rows: pa.Table) -> pa.Array:
    """Each row's partition name, ``day=YYYY-MM-DD`` (UTC)."""
    return pc.strftime(rows.column("ts"), format="day=%Y-%m-%d").combine_chunks()


def _expected(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> dict[str, list[tuple]]:
    """The rollups the SQL gives, summed per key (what queries read)."""
    con.register("pk", rows.append_column("day", _days(rows)))
    views = rollup.views("pk")
    con.sql(f"CREATE OR REPLACE VIEW keys AS {views['keys']}")
    con.sql(f"CREATE OR REPLACE VIEW sources AS {views['sources']}")
    return {
        "keys": _all(con, rollup.summed_sql(rollup.KEY_COLUMNS, "keys", day=True)),
        "sources": _all(con, rollup.summed_sql(rollup.SOURCE_COLUMNS, "sources", day=True)),
        "dsts": _all(con, views["dsts"]),
    }


def _counted(
    con: duckdb.DuckDBPyConnection, written: dict[str, list[dict[str, Path]]]
) -> dict[str, list[tuple]]:
    """The rollups written, summed per key over their files."""
    out = {}
    for table, sql in (
        ("keys", rollup.summed_sql(rollup.KEY_COLUMNS, "_r", day=True)),
        ("sources", rollup.summed_sql(rollup.SOURCE_COLUMNS, "_r", day=True)),
        ("dsts", "SELECT DISTINCT day, sensor, dst FROM _r"),
    ):
        parts = []
        for day, files in written.items():
            for part in files:
                if table in part:
                    rows = pq.read_table(part[table])
                    parts.append(
                        rows.append_column("day", pa.array([day] * rows.num_rows, pa.string()))
                    )
        con.register("_r", pa.concat_tables(parts))
        out[table] = _all(con, sql)
    return out


def _all(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL").fetchall()


def _by_day(rows: pa.Table) -> list[tuple[str, pa.Table]]:
    days = _days(rows)
    return [(day, rows.filter(pc.equal(days, day))) for day in sorted(set(days.to_pylist()))]


@pytest.mark.parametrize(("seed", "limit"), [(1, 1 << 20), (2, 200), (3, 64), (4, 5000)])
def test_the_counted_rollup_equals_the_rollup_sql(tmp_path, monkeypatch, seed, limit):
    monkeypatch.setattr(rollup, "_FLUSH_ROWS", limit)
    rows = _rows(20_000, seed)
    counted = rollup.Rollups(tmp_path)
    # Chunks of each day in turn, some starting at an offset into their arrays.
    chunks = [
        [(day, of_day.slice(start, 3_001)) for start in range(0, of_day.num_rows, 3_001)]
        for day, of_day in _by_day(rows)
    ]
    for turn in itertools.zip_longest(*chunks):
        for day, chunk in filter(None, turn):
            counted.add(day, chunk)
    written = counted.finish()
    con = duckdb.connect()
    assert _counted(con, written) == _expected(con, rows)
    for files in written.values():
        for part in files:
            for table, path in part.items():
                assert pq.read_schema(path).remove_metadata() == rollup.SCHEMAS[table]
    if limit < 1000:
        assert max(len(files) for files in written.values()) > 2  # written out many times


def test_rows_of_other_dictionaries_or_none_count_under_the_same_codes(tmp_path):
    rows = _rows(2_000, 5)
    recoded = rows.set_column(  # the kinds in another order
        rows.schema.get_field_index("kind"),
        "kind",
        rows.column("kind").cast(pa.string()).dictionary_encode(),
    )
    recoded = recoded.set_column(  # countries as plain strings
        rows.schema.get_field_index("country"), "country", rows.column("country").cast(pa.string())
    )
    counted = rollup.Rollups(tmp_path)
    for table in (rows, recoded):
        for day, chunk in _by_day(table):
            counted.add(day, chunk)
    con = duckdb.connect()
    assert _counted(con, counted.finish()) == _expected(con, pa.concat_tables([rows, rows]))


def test_an_error_counting_in_the_background_is_raised_to_the_writer(tmp_path):
    rows = _rows(500, 6)
    kinds = [f"k{i}" for i in range(MAX_CODE["kind"] + 1)]  # one more than a code holds
    many = rows.set_column(
        rows.schema.get_field_index("kind"),
        "kind",
        dictionary_array(np.arange(rows.num_rows) % len(kinds), kinds),
    )
    counted = rollup.Rollups(tmp_path)
    counted.add("day=2024-04-01", many)
    with pytest.raises(StoreError, match="distinct kind values"):
        counted.finish()  # or the next add, whichever comes first
    with pytest.raises(StoreError, match="distinct kind values"):
        counted.add("day=2024-04-01", rows)
    counted.close()  # and the thread is gone
    assert not [t for t in threading.enumerate() if t.name == "teiten-rollup"]
    assert not list(tmp_path.iterdir())


def test_the_counting_thread_ends_with_an_aborted_batch(tmp_path):
    counted = rollup.Rollups(tmp_path)
    for day, chunk in _by_day(_rows(5_000, 7)):
        counted.add(day, chunk)
    counted.close()
    assert not [t for t in threading.enumerate() if t.name == "teiten-rollup"]
    assert not list(tmp_path.iterdir())
