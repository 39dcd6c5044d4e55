"""`teiten store remove`: exactly the selected rows and entries go, atomically, undoably."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _stores import Q2, TWO_DAYS, cli, ingest, kill_at_step, listing, rankings

from conftest import capture_path
from teiten.store import DuckDBEngine, InputRecord, Store

ISAKMP, SNMP = Q2[0], Q2[1]


def _snapshot(root: Path) -> tuple[list[dict], list[tuple[str, str | None]]]:
    """Rows per sensor and day, and the inputs recorded (opening the store first)."""
    store = Store(root, create=False)
    with DuckDBEngine(store) as engine:
        rows = engine.rows(
            "SELECT sensor, day, count(*) AS n FROM packets GROUP BY ALL ORDER BY ALL"
        )
    inputs = sorted((Path(i.name).name, i.sensor) for i in store.manifest.inputs())
    store.close()
    return rows, inputs


def _clean(root: Path) -> None:
    result = cli("store", "check", "--store", root, "--json")
    assert json.loads(result.output)["ok"]


def _remove(root: Path, *args: str) -> dict:
    return json.loads(cli("store", "remove", "--store", root, *args, "--yes", "--json").output)


@pytest.fixture(scope="module")
def twice(tmp_path_factory) -> Path:
    """Q2's attacks, and the isakmp one and the two-day capture once more from a second
    sensor, compacted: those days' files mix the rows of two inputs."""
    root = tmp_path_factory.mktemp("remove") / "store"
    ingest(root, *Q2, TWO_DAYS)
    ingest(root, ISAKMP, TWO_DAYS, sensor="second", force=True)
    cli("store", "compact", "--store", root, "--min-files", "2")
    assert len(list(root.glob("packets/*/compact-*.parquet"))) == 3
    return root


@pytest.fixture
def store(twice, tmp_path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(twice, root)
    return root


def test_removing_an_input_gives_the_rankings_of_a_store_that_never_had_it(store, tmp_path):
    never = tmp_path / "never"
    ingest(never, *Q2, TWO_DAYS)
    ingest(never, TWO_DAYS, sensor="second", force=True)
    with_it = rankings(store, "2021Q2")
    assert with_it != rankings(never, "2021Q2")
    removed = _remove(store, "--input", ISAKMP, "--sensor", "second")
    assert removed["packets"] == 3984 and removed["files_rewritten"] == 1
    assert [(Path(i["name"]).name, i["sensor"]) for i in removed["inputs"]] == [(ISAKMP, "second")]
    assert rankings(store, "2021Q2") == rankings(never, "2021Q2")
    assert rankings(store, "2021-06-14") == rankings(never, "2021-06-14")
    _clean(store)
    again = ingest(store, ISAKMP, sensor="second", force=True)  # undone, and done again
    assert again["packets"] == 3984 and again["duplicates"] == 0
    assert rankings(store, "2021Q2") == with_it
    _clean(store)


def test_an_input_is_named_by_file_name_path_or_digest(store, tmp_path):
    digest = next(
        i.digest for i in Store(store, create=False).manifest.inputs() if "snmp" in i.name
    )
    before = _snapshot(store)
    assert _remove(store, "--input", SNMP)["packets"] == 4373
    ingest(store, SNMP)
    assert _remove(store, "--input", str(capture_path(SNMP)))["packets"] == 4373
    ingest(store, SNMP)
    assert _remove(store, "--input", digest.partition(":")[2][:12])["packets"] == 4373
    ingest(store, SNMP)
    assert _snapshot(store) == before
    _clean(store)


def test_removing_a_sensor_leaves_the_others(store, tmp_path):
    others = tmp_path / "others"
    ingest(others, *Q2, TWO_DAYS)
    removed = _remove(store, "--sensor", "second")
    assert removed["packets"] == 3984 + 4699 and len(removed["inputs"]) == 2
    assert removed["files_rewritten"] == 3 and removed["files_removed"] == 0
    assert _snapshot(store) == _snapshot(others)
    for period in ("2021Q2", "2010", "2015"):
        assert rankings(store, period) == rankings(others, period)
    _clean(store)


def test_removing_days(store):
    before = _snapshot(store)
    removed = _remove(store, "--days", "2010-06-01..2010-06-30")
    assert removed["days"] == ["2010-06-29"] and removed["files_removed"] == 1
    assert removed["inputs"] == []  # the two-day capture keeps its 2015 rows, and its entry
    assert not (store / "packets" / "day=2010-06-29").exists()
    rows, inputs = _snapshot(store)
    assert rows == [r for r in before[0] if str(r["day"]) != "2010-06-29"]
    assert inputs == before[1]
    _clean(store)
    assert ingest(store, TWO_DAYS)["packets"] == 0  # still a duplicate
    removed = _remove(store, "--days", "2015-01-03")
    assert {(Path(i["name"]).name, i["sensor"]) for i in removed["inputs"]} == {
        (TWO_DAYS, "default"),
        (TWO_DAYS, "second"),
    }
    _clean(store)
    assert ingest(store, TWO_DAYS)["packets"] == 4699  # gone, so stored again
    _clean(store)


def test_mistakes_are_usage_errors_that_change_nothing(store):
    before = listing(store)
    for args, message in [
        (["--input", "nosuch.pcap"], "--input nosuch.pcap: no such input"),
        (["--input", TWO_DAYS], "matches 2 inputs"),
        (["--sensor", "nosuch"], "known: default, second"),
        (["--days", "1999-01-01..1999-12-31"], "no packets on those days"),
        (["--days", "2019-13-01"], "YYYY-MM-DD..YYYY-MM-DD"),
        ([], "--input NAME (repeatable), --sensor S or --days FROM..TO"),
        (["--sensor", "second", "--days", "2015-01-03"], "--sensor S or --days"),
    ]:
        result = cli("store", "remove", "--store", store, *args, "--yes", ok=False)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    asked = cli("store", "remove", "--store", store, "--sensor", "second", ok=False)
    assert asked.exit_code == 2 and "pass --yes" in asked.output
    dry = cli("store", "remove", "--store", store, "--sensor", "second", "--dry-run", "--json")
    assert json.loads(dry.output)["packets"] == 3984 + 4699 and json.loads(dry.output)["dry_run"]
    assert listing(store) == before


def test_inputs_sharing_a_batch_go_together(tmp_path, make_rows):
    """A collector group stores several uploads in one batch: all must be named."""
    store = Store(tmp_path / "s")
    writer = store.writer("tokyo-1", "g", "e")
    row = {"ts": "2019-04-01T10:00:00", "src": "192.0.2.1", "dst": "198.51.100.1", "dport": 23}
    writer.write(make_rows([{**row, "sensor": "tokyo-1"}]))
    uploads = [InputRecord(f"batch:{x}", f"upload-{x}", 10, 1, 0) for x in "ab"]
    writer.commit(uploads)
    store.close()
    result = cli("store", "remove", "--store", store.root, "--input", "upload-a", "--yes", ok=False)
    assert result.exit_code == 2 and "(upload-b) were stored in the same batch" in result.output
    removed = _remove(store.root, "--input", "upload-a", "--input", "upload-b")
    assert removed["packets"] == 1 and removed["batches"] == 1
    assert not list(store.root.glob("packets/*/*.parquet"))
    _clean(store.root)


def test_a_damaged_file_goes_with_its_input(store):
    ingest(store, "ppa1e_dosattack.pcap")
    (victim,) = store.glob("packets/day=2005-12-20/*.parquet")
    victim.write_bytes(b"PAR1 not much of a file")
    removed = _remove(store, "--input", "ppa1e_dosattack.pcap")
    assert removed["packets"] == 100 and "unreadable" in removed["warnings"][0]
    _clean(store)


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5])
def test_a_removal_killed_at_any_step_is_all_or_nothing(twice, tmp_path, steps):
    """kill -9 after each step (two days prepared, recorded, two days swapped): the
    next opening shows the store wholly before or wholly after, and it checks clean."""
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(twice, before)
    shutil.copytree(twice, after)
    args = ["store", "remove", "--input", TWO_DAYS, "--sensor", "second", "--yes"]
    cli(*args[:2], "--store", after, *args[2:])
    root = tmp_path / "store"
    shutil.copytree(twice, root)
    kill_at_step([*args, "--store", str(root)], steps, 0.5, "removal")
    expected = _snapshot(before) if steps <= 2 else _snapshot(after)
    assert _snapshot(root) == expected  # opening it finished what was recorded
    _clean(root)
    Store(root).lock().close()  # the next writer clears staging debris
    assert not any((root / "staging").iterdir())


def test_an_input_without_packets_leaves_the_manifest(store):
    assert ingest(store, "edge_tcpdump_empty.pcapng")["files"] == 1
    removed = _remove(store, "--input", "edge_tcpdump_empty.pcapng")
    assert removed["packets"] == 0 and len(removed["inputs"]) == 1 and removed["days"] == []
    assert "edge_tcpdump_empty.pcapng" not in {n for n, _ in _snapshot(store)[1]}
    _clean(store)


def test_rows_an_older_compaction_merged_are_removed_by_sensor_not_by_input(store):
    """Before rows carried their batch, compaction merged files into ones that do not
    say which input a row came from: removing one input there is refused, not guessed."""
    day = store / "packets" / "day=2021-06-14"
    (merged,) = day.glob("compact-*.parquet")
    table = pq.read_table(merged)
    pq.write_table(table.drop_columns(["batch"]), merged)
    db = sqlite3.connect(store / "manifest.sqlite")
    db.execute("DELETE FROM files WHERE path LIKE ?", (f"%{merged.name}",))
    db.commit()
    db.close()
    args = ["store", "remove", "--store", store, "--input", ISAKMP, "--sensor", "second"]
    refused = cli(*args, "--yes", ok=False)
    assert refused.exit_code == 1 and "remove them with --days or --sensor" in refused.output
    removed = _remove(store, "--sensor", "second")
    assert removed["packets"] == 3984 + 4699
    _clean(store)
