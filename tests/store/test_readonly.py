"""Reads never write: a non-store is left alone, a read-only store still answers."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from _stores import Q2, cli, ingest, listing, rankings, read_only_view, run

from teiten.store import Store
from teiten.store.manifest import Manifest

QUERIES = [
    ["top", "ports", "--period", "2021Q2"],
    ["top", "countries", "--period", "2021Q2"],
    ["sources", "--period", "2021Q2"],
    ["source", "192.0.2.1"],
    ["events", "scans", "--period", "2021Q2"],
    ["phenomena", "--period", "2021Q2"],
    ["report", "--period", "2021Q2", "--out", "{tmp}/report.html"],
    ["store", "info"],
    ["store", "check"],
]


@pytest.fixture(scope="module")
def q2_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("readonly") / "store"
    ingest(root, *Q2)
    return root


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: " ".join(q[:2]))
def test_a_query_on_an_empty_directory_leaves_it_untouched(tmp_path, query):
    empty = tmp_path / "empty"
    empty.mkdir()
    before = listing(empty)
    args = [a.format(tmp=tmp_path) for a in query]
    result = cli(*args, "--store", empty, ok=False)
    assert result.exit_code == 1, result.output
    assert f"not a teiten store (no manifest): {empty}" in result.output
    assert listing(empty) == before
    missing = tmp_path / "missing"
    result = cli(*args, "--store", missing, ok=False)
    assert result.exit_code == 1 and "not a teiten store (no manifest)" in result.output
    assert not missing.exists()


def test_opening_a_store_to_read_writes_nothing(q2_store):
    before = listing(q2_store)
    manifest = (q2_store / "manifest.sqlite").read_bytes()
    store = Store(q2_store, create=False)
    assert store.manifest.read_only and store.manifest.inputs()
    store.close()
    cli("top", "ports", "--store", q2_store, "--period", "2021Q2", "--json")
    cli("store", "info", "--store", q2_store, "--json")
    assert listing(q2_store) == before
    assert (q2_store / "manifest.sqlite").read_bytes() == manifest


def test_a_read_only_mount_answers_top_report_and_events(q2_store, tmp_path, monkeypatch):
    expected = rankings(q2_store, "2021Q2")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with read_only_view(q2_store, tmp_path / "ro") as ro:
        before = listing(ro)
        assert rankings(ro, "2021Q2") == expected
        out = tmp_path / "report.md"
        cli("report", "--store", ro, "--period", "2021Q2", "--out", out)
        assert out.stat().st_size > 0
        dos = ["events", "dos", "--store", ro, "--period", "2021Q2", "--json"]
        events, again = (json.loads(cli(*dos).output) for _ in range(2))
        assert events["rows"] == again["rows"]
        assert list((tmp_path / "cache" / "teiten").rglob("events/*/*/*.parquet"))  # aside
        assert list((tmp_path / "cache" / "teiten").rglob("sessions/dos/*.parquet"))
        assert json.loads(cli("store", "info", "--store", ro, "--json").output)["packets"] > 0
        assert cli("store", "check", "--store", ro).exit_code == 0
        for write in (
            ["store", "compact", "--store", ro],
            ["store", "remove", "--store", ro, "--sensor", "default", "--yes"],
            ["sensors", "declare", "x", "--addresses", "256", "--store", ro],
        ):
            result = cli(*write, ok=False)
            assert result.exit_code == 1, result.output
            assert "read-only file system" in result.output
            assert "backup" not in result.output and "Traceback" not in result.output
        assert listing(ro) == before


def _as_nobody(numba: Path) -> list[str] | None:
    """A command prefix that runs as user nobody, or None when this host cannot.

    Where the interpreter itself is not readable by nobody (installed under /root),
    nobody keeps only CAP_DAC_READ_SEARCH: it may read everything but write nothing
    it does not own, which is what a store of another user is to it.
    """
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    plain = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    reading = [*plain, "--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search"]
    for prefix in (plain, reading):
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", "import teiten.cli"],
            capture_output=True,
            cwd="/",
            env={**os.environ, "NUMBA_CACHE_DIR": str(numba)},
        )
        if probe.returncode == 0:
            return prefix
    return None


def test_a_store_of_another_user_answers_that_user(q2_store):
    shared = Path(tempfile.mkdtemp(prefix="teiten-ro-", dir="/tmp"))  # nobody may enter
    try:
        shared.chmod(0o755)
        for folder in (shared / "out", shared / "numba"):
            folder.mkdir()
            folder.chmod(0o777)
        prefix = _as_nobody(shared / "numba")
        if prefix is None:
            pytest.skip("cannot run a command as user nobody here (needs root and setpriv)")
        root = shared / "store"
        shutil.copytree(q2_store, root)
        out = shared / "out"
        before = listing(root)
        # No home, so no cache folder for the events: they are kept in memory. (numba
        # needs a folder of its own for its compiled code when the source tree is not
        # the user's to write.)
        env = {**os.environ, "HOME": "/nonexistent", "PYTHONDONTWRITEBYTECODE": "1"}
        env["NUMBA_CACHE_DIR"] = str(shared / "numba")
        env.pop("XDG_CACHE_HOME", None)

        def as_nobody(*args):
            return subprocess.run(
                [*prefix, sys.executable, "-m", "teiten.cli", *map(str, args)],
                capture_output=True, text=True, env=env, cwd="/", timeout=300,
            )  # fmt: skip

        top = as_nobody("top", "ports", "--store", root, "--period", "2021Q2", "--json")
        assert top.returncode == 0, top.stderr
        mine = run("top", "ports", "--store", root, "--period", "2021Q2", "--json")
        assert json.loads(top.stdout) == json.loads(mine.stdout)
        report = as_nobody("report", "--store", root, "--period", "2021Q2", "--out", out / "r.md")
        assert report.returncode == 0, report.stderr
        events = as_nobody("events", "dos", "--store", root, "--period", "2021Q2", "--json")
        assert events.returncode == 0, events.stderr  # no cache folder: kept in memory
        compact = as_nobody("store", "compact", "--store", root)
        assert compact.returncode == 1
        assert compact.stderr.startswith("Error: permission denied: ")
        assert "store's owner (root)" in compact.stderr and "Traceback" not in compact.stderr
        assert listing(root) == before
        if "--ambient-caps=+dac_read_search" not in prefix:  # nobody reads only what it may
            (root / "manifest.sqlite").chmod(0o600)
            info = as_nobody("store", "info", "--store", root)
            assert info.returncode == 1 and "permission denied" in info.stderr
            assert "backup" not in info.stderr
    finally:
        shutil.rmtree(shared)


def _make_it_old(root: Path) -> None:
    """Turn the manifest into one an earlier teiten wrote: WAL journal, the first
    inputs table (keyed by digest alone), no batch spans, no file records."""
    db = sqlite3.connect(root / "manifest.sqlite", isolation_level=None)
    db.executescript(
        """
        CREATE TABLE old_inputs (digest TEXT PRIMARY KEY, name TEXT NOT NULL,
            size INTEGER NOT NULL, batch_id TEXT NOT NULL, packets INTEGER NOT NULL,
            skipped INTEGER NOT NULL, skip_reasons TEXT NOT NULL, error TEXT);
        INSERT INTO old_inputs SELECT digest, name, size, batch_id, packets, skipped,
            skip_reasons, error FROM inputs;
        DROP TABLE inputs;
        ALTER TABLE old_inputs RENAME TO inputs;
        CREATE TABLE old_batches (batch_id TEXT PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
            created_at REAL NOT NULL, sensor TEXT NOT NULL, geo_database TEXT NOT NULL,
            geo_edition TEXT NOT NULL, packets INTEGER NOT NULL, parts TEXT NOT NULL);
        INSERT INTO old_batches SELECT batch_id, state, created_at, sensor, geo_database,
            geo_edition, packets, parts FROM batches;
        DROP TABLE batches;
        ALTER TABLE old_batches RENAME TO batches;
        DROP TABLE files;
        DROP TABLE rewrites;
        """
    )
    assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    db.close()
    for leftover in ("manifest.sqlite-wal", "manifest.sqlite-shm"):
        assert not (root / leftover).exists()


def test_a_store_of_an_earlier_teiten_is_read_as_it_is(q2_store, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(q2_store, old)
    _make_it_old(old)
    expected = rankings(q2_store, "2021Q2")
    with read_only_view(old, tmp_path / "ro") as ro:
        before = listing(ro)
        assert rankings(ro, "2021Q2") == expected
        info = json.loads(cli("store", "info", "--store", ro, "--json").output)
        assert info["inputs"] == len(Q2)
        check = json.loads(cli("store", "check", "--store", ro, "--json").output)
        assert check["ok"] and check["unrecorded_files"] == check["files"] > 0
        assert listing(ro) == before
    manifest = (old / "manifest.sqlite").read_bytes()
    cli("store", "info", "--store", old)  # writable, but a read: still not upgraded
    assert (old / "manifest.sqlite").read_bytes() == manifest
    Manifest(old / "manifest.sqlite").close()  # opened for writing: upgraded in place
    assert Manifest(old / "manifest.sqlite", read_only=True).files() == {}
    assert rankings(old, "2021Q2") == expected
