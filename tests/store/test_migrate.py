"""`teiten store migrate`: a store of store schema 2 is refused by every other command,
and migrating it keeps every packet to the nanosecond and every answer byte for byte.

tests/data/stores/schema2 was written by the release before schema 3
(tests/data/stores/make_schema2.py): a store of real and generated nanosecond captures
and two simulated days, and what the queries answered on it then (``expected/``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import teiten.store.rewrite as rewrite_module
from conftest import DATA, capture_path
from store._stores import cli, kill_at_step, listing, run
from teiten.store import Store
from teiten.store.migrate import migrate

FIXTURE = DATA / "stores" / "schema2"
EXPECTED = FIXTURE / "expected"
QUERIES = json.loads((EXPECTED / "queries.json").read_text())
REFUSAL = "written by an older teiten (store schema 2); run `teiten store migrate --store"
MIGRATED = {"migrated_files": 6, "packets": 20323, "from_version": 2, "to_version": 3}
DAYS = 6  # one file each


@pytest.fixture
def old(tmp_path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(FIXTURE / "store", root)
    return root


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("migrated") / "store"
    shutil.copytree(FIXTURE / "store", root)
    assert json.loads(cli("store", "migrate", "--store", root, "--json").output) == MIGRATED
    return root


def rows(root: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every packet file's columns and rows in order, by day and name (without ``-v3``),
    read with pyarrow alone; the instant as int ns whichever schema holds it."""
    found = {}
    for path in sorted(root.glob("packets/*/*.parquet")):
        table = pq.ParquetFile(path).read()
        ns = table.column("ts").cast(pa.int64()).to_numpy()
        if "ts_ns" in table.column_names:
            assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
            ns = ns * 1000 + table.column("ts_ns").to_numpy().astype(np.int64)
            table = table.drop_columns(["ts_ns"])
        else:
            assert table.schema.field("ts").type == pa.timestamp("ns", tz="UTC")
        rest = table.drop_columns(["ts"])
        values = [rest.column(n).to_pylist() for n in rest.column_names]  # dictionaries as text
        key = f"{path.parent.name}/{path.name.replace('-v3.parquet', '.parquet')}"
        found[key] = (rest.column_names, list(zip(ns.tolist(), *values, strict=True)))
    return found


def assert_answers_as_the_release_did(root: Path) -> None:
    for name, args in QUERIES:
        answer = cli(*args, "--store", root).output.replace(str(root), "STORE")
        assert answer == (EXPECTED / name).read_text(), name


def assert_never_both(root: Path) -> None:
    """Each day's folder holds its old files or its new ones, never both (nor neither)."""
    for day in (root / "packets").iterdir():
        new = [p.name.endswith("-v3.parquet") for p in day.glob("*.parquet")]
        assert len(new) == 1, (day.name, new)


@pytest.mark.parametrize(
    "args",
    [
        ["store", "info"],
        ["store", "check"],
        ["top", "ports", "--period", "2019-04-01"],
        ["top", "countries", "--period", "2019-04-01"],
        ["sources", "--period", "2024-05-01"],
        ["source", "145.119.188.60"],
        ["events", "scans", "--period", "2024-05-01"],
        ["events", "dos", "--period", "2024-05-01"],
        ["phenomena", "--period", "2019-04-01"],
        ["report", "--period", "2019-04-01", "--out", "r.md"],
        ["sensors", "list"],
        ["scanners", "list"],
        # and the commands that write: nothing of the new schema goes into an old store
        ["ingest", str(capture_path("ppa1e_dosattack.pcap"))],
        ["store", "compact", "--min-files", "2"],
        ["store", "remove", "--days", "2019-04-01", "--yes"],
        ["sensors", "declare", "alpha", "--addresses", "256"],
    ],
)
def test_every_command_refuses_an_old_store_and_changes_nothing(old, args, monkeypatch):
    monkeypatch.chdir(old.parent)
    before = listing(old)
    result = cli(*args, "--store", old, ok=False)
    assert result.exit_code == 1, result.output
    tail = "` to upgrade it (rewrites its packet files, keeps every packet)\n"
    assert result.output == f"Error: {old}: {REFUSAL} {old}{tail}"
    assert listing(old) == before
    assert not (old.parent / "r.md").exists()


def test_the_real_command_refuses_it_in_one_line(old):
    done = run("top", "ports", "--store", old, "--period", "2019-04-01")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and REFUSAL in done.stderr
    assert "Traceback" not in done.stderr


def test_migrate_answers_as_the_release_that_wrote_the_store(migrated):
    assert_answers_as_the_release_did(migrated)
    check = json.loads(cli("store", "check", "--store", migrated, "--json").output)
    assert check["ok"] and check["verified_digests"] == DAYS and check["rows"] == 20323


def test_migrate_keeps_every_row_and_column_to_the_nanosecond(migrated):
    before, after = rows(FIXTURE / "store"), rows(migrated)
    assert after == before
    assert sum(len(r) for _, r in after.values()) == MIGRATED["packets"]
    instants = [r[0] for _, found in after.values() for r in found]
    assert 1_766_361_926_168_451_894 in instants  # pcpp_nanosecs_big_endian's last packet
    assert sum(1 for t in instants if t % 1000) == 10 + 3 + 210  # the ns captures' sub-µs


def test_migrated_files_are_what_spark_reads(migrated):
    for path in migrated.glob("packets/*/*.parquet"):
        assert path.name.endswith("-v3.parquet")
        parquet = pq.ParquetFile(path)
        ts = parquet.schema.column(parquet.schema_arrow.get_field_index("ts"))
        assert ts.physical_type == "INT64"
        assert "isAdjustedToUTC=true, timeUnit=microseconds" in str(ts.logical_type)
        assert parquet.schema_arrow.names[:2] == ["ts", "ts_ns"]
        assert parquet.schema_arrow.metadata[b"teiten.schema_version"] == b"3"


def test_a_second_migration_does_nothing(migrated):
    before = listing(migrated)
    again = json.loads(cli("store", "migrate", "--store", migrated, "--json").output)
    assert again == {"migrated_files": 0, "packets": 0, "from_version": 3, "to_version": 3}
    text = cli("store", "migrate", "--store", migrated).output
    assert text == f"store {migrated} is at store schema 3: nothing to migrate\n"
    assert listing(migrated) == before


def test_the_human_line(old):
    text = cli("store", "migrate", "--store", old).output
    assert text == f"store {old}: 6 files (20,323 packets) migrated from store schema 2 to 3\n"


def test_a_migration_that_failed_mid_way_is_finished_by_the_next(old, monkeypatch):
    """The third day's swap fails after its rewrite was recorded: two days are new, the
    third is finished by whoever opens the store next, and a second run does the rest."""
    swaps = []
    real = rewrite_module.swap_in

    def failing(*args):
        swaps.append(args)
        if len(swaps) == 3:
            raise OSError("the disk went away")
        real(*args)

    monkeypatch.setattr(rewrite_module, "swap_in", failing)
    with pytest.raises(OSError, match="the disk went away"):
        migrate(old)
    monkeypatch.setattr(rewrite_module, "swap_in", real)
    assert_never_both(old)
    assert sum(1 for p in old.glob("packets/*/*-v3.parquet")) == 2
    assert REFUSAL in cli("store", "info", "--store", old, ok=False).output  # not done yet
    assert sum(1 for p in old.glob("packets/*/*-v3.parquet")) == 3  # that opening finished it
    done = migrate(old)
    assert (done.migrated_files, done.from_version, done.to_version) == (3, 2, 3)
    assert rows(old) == rows(FIXTURE / "store")
    assert_answers_as_the_release_did(old)
    assert json.loads(cli("store", "check", "--store", old, "--json").output)["ok"]


@pytest.mark.parametrize("steps", [1, 2, 7])
def test_a_migration_killed_at_any_step_loses_and_doubles_nothing(old, steps):
    """kill -9 after a day's rewrite is recorded (odd steps) or swapped (even ones)."""
    kill_at_step(["store", "migrate", "--store", str(old)], steps, 0.3, "migration")
    assert_never_both(old)
    assert REFUSAL in cli("top", "ports", "--store", old, "--period", "2019-04", ok=False).output
    again = json.loads(cli("store", "migrate", "--store", old, "--json").output)
    assert again["migrated_files"] == DAYS - (steps + 1) // 2
    assert rows(old) == rows(FIXTURE / "store")
    assert_answers_as_the_release_did(old)
    check = json.loads(cli("store", "check", "--store", old, "--json").output)
    assert check["ok"] and check["files"] == DAYS
    assert not any((old / "staging").iterdir())


def test_a_store_made_now_records_the_current_version(tmp_path):
    store = Store(tmp_path / "new")
    assert store.manifest.store_version() == 3
    store.close()
    cli("ingest", "--store", tmp_path / "new", capture_path("ppa1e_dosattack.pcap"))
    done = json.loads(cli("store", "migrate", "--store", tmp_path / "new", "--json").output)
    assert done["migrated_files"] == 0 and done["from_version"] == 3


def test_an_old_store_without_packets_is_current(tmp_path):
    """A store an older teiten made without storing packets (`sensors declare`) has
    nothing to migrate: it is read as it is, and the first writer records the version."""
    Store(tmp_path / "s").close()
    db = sqlite3.connect(tmp_path / "s" / "manifest.sqlite")
    db.execute("PRAGMA user_version = 0")
    db.close()
    assert json.loads(cli("store", "info", "--store", tmp_path / "s", "--json").output)["days"] == 0
    reader = Store(tmp_path / "s", create=False)
    assert reader.manifest.store_version() == 0  # a reader writes nothing
    reader.close()
    cli("ingest", "--store", tmp_path / "s", capture_path("ppa1e_dosattack.pcap"))
    assert Store(tmp_path / "s", create=False).manifest.store_version() == 3


def test_a_file_from_before_the_batch_column_gets_its_batch_from_its_name(old):
    (path,) = old.glob("packets/day=2025-12-22/*.parquet")
    table = pq.ParquetFile(path).read().drop_columns(["batch"])
    pq.write_table(table.replace_schema_metadata({"teiten.schema_version": "1"}), path)
    done = json.loads(cli("store", "migrate", "--store", old, "--json").output)
    assert done == {**MIGRATED, "from_version": 1}
    (new,) = old.glob("packets/day=2025-12-22/*.parquet")
    assert new.name == path.name.replace(".parquet", "-v3.parquet")
    batch = path.name.rsplit("-", 1)[0]
    assert pq.ParquetFile(new).read().column("batch").to_pylist() == [batch] * 10
    assert rows(old) == rows(FIXTURE / "store")


def test_a_damaged_file_stops_the_migration_and_says_what_to_do(old):
    (path,) = old.glob("packets/day=2019-04-02/*.parquet")
    path.write_bytes(b"PAR1 not much of a file")
    done = run("store", "migrate", "--store", old)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{path}: cannot migrate this Parquet file" in done.stderr
    assert "then run `teiten store migrate` again" in done.stderr
    migrated = sorted(p.parent.name for p in old.glob("packets/*/*-v3.parquet"))
    assert migrated == ["day=2005-12-20", "day=2014-12-09", "day=2019-04-01"]
    assert REFUSAL in cli("store", "info", "--store", old, ok=False).output


def test_a_migrated_store_is_written_as_any_other(old):
    cli("store", "migrate", "--store", old)
    ingest = ["ingest", "--store", old, "--sensor", "lab", "--json"]
    again = json.loads(cli(*ingest, capture_path("ppa1e_dosattack.pcap")).output)
    assert again["inputs"][0]["status"] == "duplicate"  # its key survived the migration
    args = ["store", "remove", "--store", old, "--yes", "--json", "--input"]
    removed = json.loads(cli(*args, "ppa1e_dosattack.pcap").output)
    assert (removed["packets"], removed["files_removed"]) == (100, 1)  # by its -v3 name
    cli(*ingest, capture_path("ppa1e_dosattack.pcap"))
    cli(*ingest, capture_path("libtrace_100_packets.pcap"))
    check = json.loads(cli("store", "check", "--store", old, "--json").output)
    assert check["ok"] and check["rows"] == 20323 + 100
