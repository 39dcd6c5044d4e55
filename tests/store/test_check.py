"""`teiten store check`: every kind of damage found, named, and a clean store passes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _stores import Q2, TWO_DAYS, cli, ingest, read_only_view

from teiten.store import Store, rollup
from teiten.store import rewrite as rewrite_module
from teiten.store.parts import batch_of_name
from teiten.store.rewrite import Rewrite

ISAKMP_DAY = "day=2021-06-14"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("check") / "store"
    ingest(root, *Q2, TWO_DAYS)
    return root


@pytest.fixture
def store(built, tmp_path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(built, root)
    return root


def _check(root: Path) -> tuple[int, dict]:
    result = cli("store", "check", "--store", root, "--json", ok=False)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def _victim(root: Path) -> Path:
    (path,) = root.glob(f"packets/{ISAKMP_DAY}/*.parquet")
    return path


def test_a_clean_store_passes(store):
    code, report = _check(store)
    assert code == 0 and report["ok"] and report["problems"] == []
    assert report["files"] == report["verified_digests"] == 6
    assert report["unrecorded_files"] == 0 and report["inputs"] == report["batches"] == 5
    human = cli("store", "check", "--store", store)
    assert "consistent: every file matches the manifest" in human.output


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _recompress(path: Path) -> None:  # same rows, other bytes
    pq.write_table(pq.read_table(path), path, compression="snappy")


def _retype(path: Path) -> None:
    table = pq.read_table(path)
    i = table.schema.get_field_index("dport")
    pq.write_table(table.set_column(i, "dport", table.column(i).cast("int32")), path)


def _drop_a_row(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)


def _delete(path: Path) -> None:
    path.unlink()


def _copy_in(path: Path) -> None:
    shutil.copy(path, path.with_name("20990101T000000-0123456789ab-0.parquet"))


DAMAGE = {
    "unreadable": (_truncate, {"unreadable"}),
    "digest": (_recompress, {"digest"}),
    "schema": (_retype, {"digest", "schema"}),
    "rows": (_drop_a_row, {"digest", "rows"}),
    "missing": (_delete, {"missing"}),
    "unexpected": (_copy_in, {"unexpected"}),
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_each_kind_of_damage_is_found(store, kind):
    damage, kinds = DAMAGE[kind]
    victim = _victim(store)
    damage(victim)
    code, report = _check(store)
    assert code == 1 and not report["ok"]
    assert {p["kind"] for p in report["problems"]} == kinds
    problem = next(p for p in report["problems"] if p["kind"] == kind)
    if kind == "unexpected":
        assert problem["file"].endswith("20990101T000000-0123456789ab-0.parquet")
        return
    assert problem["file"] == victim.relative_to(store).as_posix()
    assert [Path(n).name for n in problem["inputs"]] == ["stopddos_amp.UDP.isakmp.pcap"]
    assert "teiten store remove --input" in problem["fix"]
    human = cli("store", "check", "--store", store, ok=False)
    assert human.exit_code == 1 and f"{kind}: {problem['file']}" in human.output


def test_files_of_an_earlier_teiten_are_decoded_and_counted(store):
    """Without digests on record, a lost file still shows as a batch short of rows."""
    db = sqlite3.connect(store / "manifest.sqlite")
    db.execute("DELETE FROM files")
    db.commit()
    db.close()
    code, report = _check(store)
    assert code == 0 and report["unrecorded_files"] == report["files"] == 6
    _delete(_victim(store))
    code, report = _check(store)
    (problem,) = report["problems"]
    assert code == 1 and problem["kind"] == "rows" and "not on disk" in problem["detail"]
    _truncate(sorted(store.glob("packets/day=2015-01-03/*.parquet"))[0])
    assert {p["kind"] for p in _check(store)[1]["problems"]} == {"rows", "unreadable"}


def test_check_stays_exact_after_compaction_and_removal(store):
    ingest(store, Q2[0], sensor="second", force=True)  # a second file on its day
    cli("store", "compact", "--store", store, "--min-files", "2")
    code, report = _check(store)
    assert code == 0 and report["files"] == report["verified_digests"] == 6
    compacted = _victim(store)
    assert compacted.name.startswith("compact-")
    cli("store", "remove", "--store", store, "--input", Q2[0], "--sensor", "second", "--yes")
    code, report = _check(store)
    assert code == 0 and report["files"] == report["verified_digests"] == 6
    _recompress(_victim(store))
    (problem,) = _check(store)[1]["problems"]
    assert problem["kind"] == "digest"


def test_an_interrupted_rewrite_is_pending_until_a_writer_finishes_it(store, tmp_path, monkeypatch):
    opened = Store(store)
    opened.manifest.set(rollup.META_KEY, None)  # as a removal does before it rewrites
    rewrite = Rewrite(opened, "remove")  # the isakmp input, by hand
    victim = _victim(store)
    rewrite.folder(victim.parent.name)
    rewrite.add_day(victim.parent.name, [victim.name], [])
    monkeypatch.setattr(rewrite_module, "finish", lambda store, record: None)  # the crash
    rewrite.apply({"delete_batches": [batch_of_name(victim.name)]})
    opened.close()
    monkeypatch.undo()
    with read_only_view(store, tmp_path / "ro") as ro:
        code, report = _check(ro)  # nobody may finish it here
        assert code == 1 and [p["kind"] for p in report["problems"]] == ["pending"]
    code, report = _check(store)  # opening a writable store finishes it
    assert code == 0 and not victim.parent.exists() and report["inputs"] == 4
    assert not any((store / "staging").iterdir())


def test_a_batch_short_of_rows_is_found(store):
    victim = _victim(store)
    pq.write_table(pq.read_table(victim).slice(10), victim)
    db = sqlite3.connect(store / "manifest.sqlite")
    db.execute("DELETE FROM files WHERE path LIKE ?", (f"%{victim.name}",))
    db.commit()
    db.close()
    (problem,) = _check(store)[1]["problems"]
    assert problem["kind"] == "rows"
    assert "the manifest records 3,984 packets, the files hold 3,974" in problem["detail"]
