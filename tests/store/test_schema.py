"""The stored instant: ``ts`` in µs (what Apache Spark reads) and ``ts_ns``, the ns past it.

Nothing may lose a nanosecond: nanosecond captures go in and come out exact, through
the Parquet files and through the ``packets`` view's ``t_ns``.
"""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from capture._captures import epb, idb, pcap, shb
from conftest import capture_path, require_tool
from decode.builders import SYN, ether, ipv4, tcp
from store._stores import cli
from teiten.store import SCHEMA, Store
from teiten.store.dataset import ts_ns
from teiten.store.engine import DuckDBEngine
from teiten.store.schema import SCHEMA_VERSION

T0 = 1_714_564_800  # 2024-05-01T12:00:00Z


def stored_ns(root) -> list[int]:
    """Every stored instant as int ns, read from the Parquet files with pyarrow alone."""
    found: list[int] = []
    for path in sorted(root.glob("packets/*/*.parquet")):
        table = pq.ParquetFile(path).read(columns=["ts", "ts_ns"])
        micros = table.column("ts").cast(pa.int64()).to_numpy()
        found += (micros * 1000 + table.column("ts_ns").to_numpy().astype(np.int64)).tolist()
    return sorted(found)


def view_ns(root) -> list[int]:
    with DuckDBEngine(Store(root, create=False)) as engine:
        return [r["t_ns"] for r in engine.rows("SELECT t_ns FROM packets ORDER BY t_ns")]


def test_the_columns():
    assert SCHEMA_VERSION == 3
    assert SCHEMA.names[:2] == ["ts", "ts_ns"]
    assert SCHEMA.field("ts").type == pa.timestamp("us", tz="UTC")
    assert SCHEMA.field("ts_ns").type == pa.uint16() and not SCHEMA.field("ts_ns").nullable
    assert SCHEMA.metadata == {b"teiten.schema_version": b"3"}


def test_a_nanosecond_pcapng_round_trips_exactly(tmp_path):
    instants = [
        T0 * 10**9,  # a whole second
        T0 * 10**9 + 1,  # one ns past it
        T0 * 10**9 + 999,  # the last ns of the first µs
        T0 * 10**9 + 1000,  # a whole µs
        T0 * 10**9 + 123_456_789,
        (T0 + 43_199) * 10**9 + 999_999_999,  # the day's last ns
    ]
    blocks = [shb(), idb(tsresol=9)]
    for i, ns in enumerate(instants):
        frame = ether(ipv4(tcp(40000 + i, 23, SYN), src="198.51.100.7", dst="203.0.113.9"))
        blocks.append(epb(0, ns, frame))
    capture = tmp_path / "ns.pcapng"
    capture.write_bytes(b"".join(blocks))
    root = tmp_path / "store"
    cli("ingest", "--store", root, "--json", capture)
    assert stored_ns(root) == instants == view_ns(root)
    (path,) = root.glob("packets/*/*.parquet")
    assert pq.ParquetFile(path).read(columns=["ts_ns"]).column(0).to_pylist() == [
        0, 1, 999, 0, 789, 999,
    ]  # fmt: skip
    with DuckDBEngine(Store(root, create=False)) as engine:
        assert engine.rows("SELECT DISTINCT typeof(t_ns) AS t FROM packets") == [{"t": "BIGINT"}]


def test_a_real_nanosecond_pcapng_agrees_with_tshark(tmp_path):
    """rusticata's capture has if_tsresol=9: its IP packets' instants as tshark reads them."""
    path = capture_path("rusticata_wireshark_samples-test.pcapng")
    tshark = require_tool("tshark")
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "ip or ipv6", "-T", "fields", "-e", "frame.time_epoch"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = sorted(int(Decimal(t) * 10**9) for t in out.split())
    assert sum(1 for t in expected if t % 1000) > 4000  # sub-µs digits to keep
    root = tmp_path / "store"
    cli("ingest", "--store", root, "--json", path)
    assert stored_ns(root) == expected == view_ns(root)


def test_the_overlap_check_compares_nanoseconds(tmp_path):
    """Two frames alike but 100 ns apart in one µs are two packets; the same frame at the
    same ns in a second capture is one already stored."""
    frame = ether(ipv4(tcp(40000, 23, SYN), src="198.51.100.7", dst="203.0.113.9"))
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    first.write_bytes(pcap([(T0, 100, frame), (T0 + 5, 0, frame)], nsec=True))
    second.write_bytes(pcap([(T0, 100, frame), (T0, 200, frame)], nsec=True))
    root = tmp_path / "store"
    cli("ingest", "--store", root, "--json", first)
    answer = json.loads(cli("ingest", "--store", root, "--json", second).output)
    assert (answer["packets"], answer["overlapping"]) == (1, 1)
    assert stored_ns(root) == [T0 * 10**9 + 100, T0 * 10**9 + 200, (T0 + 5) * 10**9]


def test_ts_ns_of_a_table():
    ns = np.array([0, 1, 999, 1000, 1_418_145_369_924_505_488, 2**63 - 1], np.int64)
    micros, rest = np.divmod(ns, 1000)
    table = pa.table(
        {
            "ts": pa.array(micros, pa.timestamp("us", tz="UTC")),
            "ts_ns": pa.array(rest.astype(np.uint16)),
        }
    )
    assert ts_ns(table).tolist() == ns.tolist()


def test_an_empty_store_has_the_view_too(tmp_path):
    store = Store(tmp_path / "s")
    with DuckDBEngine(store) as engine:
        assert engine.rows("SELECT count(t_ns) AS n FROM packets") == [{"n": 0}]
