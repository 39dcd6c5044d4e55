"""Compaction: a day's small files merged into few, every row kept, atomic, crash-safe."""

from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from teiten.enrich import open_geo
from teiten.ingest import ingest
from teiten.simulate import SimulationConfig, simulate_to_pcap
from teiten.store import DuckDBEngine, Store
from teiten.store import swap as swap_module
from teiten.store.compact import compact
from teiten.store.swap import SWAP_MARK

DAY = "2019-04-01"


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    """One simulated day, written per sensor and hour as a collector receives it."""
    config = SimulationConfig(
        start=datetime(2019, 4, 1, tzinfo=UTC),
        end=datetime(2019, 4, 2, tzinfo=UTC),
        packets=60_000,
        seed=5,
    )
    return simulate_to_pcap(config, tmp_path_factory.mktemp("caps"), per="hour")


@pytest.fixture
def store(tmp_path, captures):
    store = Store(tmp_path / "store")
    report = ingest(captures[:24], store, open_geo(), sensor="alpha")
    assert report.ok
    return store


def _files(store):
    return sorted((store.root / "packets" / f"day={DAY}").glob("*.parquet"))


def _snapshot(store):
    """Every row, in a canonical order, and the port ranking."""
    with DuckDBEngine(store) as engine:
        rows = engine.rows(
            "SELECT * EXCLUDE (day) FROM packets ORDER BY ts, src, dst, sport, dport, ip_id"
        )
        ports = engine.rows("SELECT dport, count(*) AS n FROM packets GROUP BY 1 ORDER BY 2, 1")
    return rows, ports


def test_small_files_become_one_and_every_row_stays(store):
    before_files = _files(store)
    assert len(before_files) >= 20
    before = _snapshot(store)
    (day,) = compact(store)
    assert day.day == DAY and day.files_before == len(before_files)
    assert day.files_after == 1 == len(_files(store))
    assert day.rows == len(before[0]) > 10_000
    assert _snapshot(store) == before
    assert not any((store.root / "staging").iterdir())
    assert compact(store) == []  # nothing left to do


def test_large_files_are_kept_as_they_are(store):
    files = _files(store)
    sizes = {f: pq.ParquetFile(f).metadata.num_rows for f in files}
    biggest = max(files, key=sizes.get)
    inode = biggest.stat().st_ino
    before = _snapshot(store)
    (day,) = compact(store, small_rows=sizes[biggest])  # the biggest file is not small
    assert biggest.exists() and biggest.stat().st_ino == inode  # hard-linked, not copied
    assert day.files_after == 2
    assert _snapshot(store) == before


def test_min_files_and_day_selection(store):
    assert compact(store, min_files=10_000) == []
    assert compact(store, days=["2019-04-02"]) == []
    assert [d.day for d in compact(store, days=[DAY])] == [DAY]
    with pytest.raises(ValueError, match="min_files"):
        compact(store, min_files=1)


def test_without_atomic_exchange_two_renames_do_the_swap(store, monkeypatch):
    """File systems without RENAME_EXCHANGE take the two-rename path."""
    monkeypatch.setattr(swap_module, "exchange", lambda a, b: False)
    before = _snapshot(store)
    (day,) = compact(store)
    assert day.files_after == 1 and _snapshot(store) == before


def test_a_crash_before_the_swap_leaves_the_old_files(store):
    before_files, before = _files(store), _snapshot(store)
    debris = store.root / "staging" / "compact-20190401T000000-000000000000" / f"day={DAY}"
    debris.mkdir(parents=True)
    (debris / "compact-x-0.parquet").write_bytes(b"half a file")
    with store.lock():  # what the next writer does first
        pass
    assert not debris.parent.exists()
    assert _files(store) == before_files and _snapshot(store) == before


def test_a_crash_between_the_two_renames_is_finished_by_recovery(store, tmp_path):
    """The old folder moved away, the new one not yet in place: recovery puts it there."""
    before = _snapshot(store)
    assert compact(store)  # build a compacted folder to stand in for the new one
    live = store.root / "packets" / f"day={DAY}"
    staging = store.root / "staging" / "compact-20190401T000000-111111111111"
    staging.mkdir(parents=True)
    (staging / SWAP_MARK).write_text(f"day={DAY}")
    live.rename(staging / f"day={DAY}")  # the crash: packets/day=… is missing
    with store.lock():
        pass
    assert live.is_dir() and not staging.exists()
    assert _snapshot(store) == before


def test_cli_compacts_and_reports(store):
    import json

    from click.testing import CliRunner

    from teiten.cli import main

    args = ["store", "compact", "--store", str(store.root)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    (day,) = json.loads(result.output)["days"]
    assert day["day"] == DAY and day["files_after"] == 1
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and "nothing to compact" in again.output


def _rollup(store):
    with DuckDBEngine(store) as engine:
        assert engine.rolled_up
        return [
            engine.rows(f"SELECT * EXCLUDE (day) FROM {table} ORDER BY ALL")
            for table in ("keys", "sources", "dsts")
        ]


def test_compaction_merges_the_rollup_files_of_a_day_and_keeps_them_exact(store):
    folder = store.root / "rollups" / f"day={DAY}"
    assert len(list(folder.glob("*.keys.parquet"))) >= 20  # one per ingested hour
    before = _rollup(store)
    (day,) = compact(store)
    assert day.rollup_merged
    assert [p.name.split(".", 1)[1] for p in sorted(folder.iterdir())] == [
        "dsts.parquet",
        "keys.parquet",
        "sources.parquet",
    ]
    merged = _rollup(store)
    # One row per key now, each the sum of the rows it replaces.
    with DuckDBEngine(store, rollups=False) as engine:
        raw = [
            engine.rows(f"SELECT * EXCLUDE (day) FROM {table} ORDER BY ALL")
            for table in ("keys", "sources", "dsts")
        ]
    assert merged == raw
    assert sum(r["packets"] for r in merged[0]) == sum(r["packets"] for r in before[0])
