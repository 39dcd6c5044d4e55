"""The store: day partitions, atomic commits, crash recovery, duplicate inputs."""

import os

import pyarrow.parquet as pq
import pytest

from teiten.errors import StoreError
from teiten.store import DuckDBEngine, InputRecord, Store

DIGEST = "blake3:" + "a" * 64


def _input(digest=DIGEST, packets=3):
    return InputRecord(digest, "cap.pcap", 100, packets, 0, {}, None)


ROWS = [
    {"ts": "2019-04-01T10:00:00", "src": "192.0.2.1", "dst": "198.51.100.1", "dport": 23},
    {
        "ts": "2019-04-01T23:59:59.999999999",
        "src": "192.0.2.2",
        "dst": "198.51.100.2",
        "dport": 445,
    },
    {"ts": "2019-04-02T00:00:00", "src": "2001:db8::1", "dst": "198.51.100.3", "dport": 22},
]


def test_rows_land_in_their_utc_day_partition(tmp_path, make_rows):
    store = Store(tmp_path / "s")
    writer = store.writer("s1", "test-geo", "ed1")
    writer.write(make_rows(ROWS))
    writer.commit([_input()])
    parts = sorted(p.relative_to(store.root).as_posix() for p in store.root.glob("packets/*/*"))
    assert [p.split("/")[1] for p in parts] == ["day=2019-04-01", "day=2019-04-02"]
    assert pq.read_table(store.root / parts[0]).num_rows == 2
    assert not (store.root / "staging").exists() or not any((store.root / "staging").iterdir())
    with DuckDBEngine(store) as engine:
        rows = engine.rows("SELECT day, count(*) AS n FROM packets GROUP BY day ORDER BY day")
    assert [(str(r["day"]), r["n"]) for r in rows] == [("2019-04-01", 2), ("2019-04-02", 1)]
    (batch,) = store.manifest.batches()
    assert (batch.state, batch.geo_database, batch.geo_edition, batch.packets) == (
        "committed",
        "test-geo",
        "ed1",
        3,
    )
    assert store.manifest.find_inputs(DIGEST)[0].packets == 3


def test_uncommitted_rows_are_invisible_and_aborted_rows_vanish(tmp_path, make_rows):
    store = Store(tmp_path / "s")
    writer = store.writer("s1", "g", "e")
    writer.write(make_rows(ROWS))
    with DuckDBEngine(store) as engine:
        assert engine.rows("SELECT count(*) AS n FROM packets")[0]["n"] == 0
    writer.abort()
    assert not list(store.root.glob("packets/*/*.parquet"))
    assert store.manifest.find_inputs(DIGEST) == []


def test_crash_between_manifest_and_rename_rolls_forward(tmp_path, make_rows, monkeypatch):
    store = Store(tmp_path / "s")
    writer = store.writer("s1", "g", "e")
    writer.write(make_rows(ROWS))
    # Simulate a crash right after the manifest recorded the batch as pending.
    monkeypatch.setattr(Store, "recover", lambda self: [])
    writer.commit([_input()])
    monkeypatch.undo()
    assert store.manifest.find_inputs(DIGEST) == []  # still pending: not yet an input
    assert not list(store.root.glob("packets/*/*.parquet"))
    store.close()
    reopened = Store(tmp_path / "s")
    reopened.writer("s1", "g", "e").abort()  # any writer finishes pending commits first
    assert reopened.manifest.find_inputs(DIGEST)[0].packets == 3
    with DuckDBEngine(reopened) as engine:
        assert engine.rows("SELECT count(*) AS n FROM packets")[0]["n"] == 3


def test_staging_debris_without_manifest_entry_is_removed(tmp_path):
    store = Store(tmp_path / "s")
    debris = store.root / "staging" / "20190101T000000-deadbeef"
    debris.mkdir(parents=True)
    (debris / "day=2019-01-01.parquet").write_bytes(b"half a file")
    store.writer("s1", "g", "e").abort()
    assert not debris.exists()


def test_empty_store_answers_queries(tmp_path):
    with DuckDBEngine(Store(tmp_path / "s")) as engine:
        assert engine.rows("SELECT count(*) AS n FROM packets")[0]["n"] == 0


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="not a teiten store \\(no manifest\\)"):
        Store(tmp_path / "nope", create=False)


def test_store_location_defaults(tmp_path, monkeypatch):
    from teiten.store import default_store_path

    monkeypatch.delenv("TEITEN_STORE", raising=False)
    assert str(default_store_path()) == "teiten-data"
    monkeypatch.setenv("TEITEN_STORE", str(tmp_path))
    assert default_store_path() == tmp_path
    assert default_store_path(tmp_path / "x") == tmp_path / "x"


def test_corrupt_manifest_is_a_clear_error(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    (root / "manifest.sqlite").write_bytes(os.urandom(4096))
    with pytest.raises(StoreError, match="manifest cannot be read"):
        Store(root)
