"""Damage is explained: one line naming the file and what to do, exit 1, never a traceback."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

import pytest
from _stores import Q2, cli, ingest, run

from teiten.errors import StoreDamageError, StorePermissionError
from teiten.store.damage import explain

COMMANDS = {
    "top": ["top", "ports", "--period", "2021Q2"],
    "report": ["report", "--period", "2021Q2", "--out", "{tmp}/report.html"],
    "info": ["store", "info"],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("damage") / "store"
    ingest(root, *Q2)
    return root


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zero-length":
        path.write_bytes(b"")
    else:  # garbage of the same size
        path.write_bytes(bytes((i * 7919) % 251 for i in range(len(data))))


def _one_line_error(done, tmp_path) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert not (tmp_path / "report.html").exists()
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("how", ["truncated", "zero-length", "garbage"])
def test_a_damaged_parquet_file_is_named(built, tmp_path, how, command):
    root = tmp_path / "store"
    shutil.copytree(built, root)
    victim = sorted(root.glob("packets/day=2021-06-14/*.parquet"))[0]
    _damage(victim, how)
    args = [a.format(tmp=tmp_path) for a in COMMANDS[command]]
    line = _one_line_error(run(*args, "--store", root), tmp_path)
    assert f"{victim}: damaged Parquet file" in line
    assert "stopddos_amp.UDP.isakmp.pcap" in line  # the input whose rows it held
    assert "teiten store check" in line and "teiten store remove --input" in line


@pytest.mark.parametrize("command", COMMANDS)
def test_a_corrupt_manifest_is_named(built, tmp_path, command):
    root = tmp_path / "store"
    shutil.copytree(built, root)
    manifest = root / "manifest.sqlite"
    manifest.write_bytes(bytes(range(256)) * 64)
    args = [a.format(tmp=tmp_path) for a in COMMANDS[command]]
    line = _one_line_error(run(*args, "--store", root), tmp_path)
    assert f"{manifest}: the store manifest cannot be read" in line
    assert "restore it from a backup" in line


def test_a_manifest_cut_short_is_named(built, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(built, root)
    manifest = root / "manifest.sqlite"
    manifest.write_bytes(manifest.read_bytes()[:1000])
    line = _one_line_error(run("store", "info", "--store", root), tmp_path)
    assert "manifest.sqlite: the store manifest cannot be read" in line


def test_permission_problems_are_named_as_such(tmp_path):
    denied = explain(PermissionError(errno.EACCES, "Permission denied", str(tmp_path)), tmp_path)
    assert isinstance(denied, StorePermissionError)
    assert str(denied).startswith(f"permission denied: {tmp_path}; run as the store's owner")
    assert "backup" not in str(denied)
    lock = tmp_path / "writer.lock"
    read_only = explain(OSError(errno.EROFS, "Read-only file system", str(lock)), tmp_path)
    assert isinstance(read_only, StorePermissionError)
    assert str(read_only).startswith(f"read-only file system: {lock}; queries work")
    elsewhere = explain(PermissionError(errno.EACCES, "Permission denied", "/x.md"), tmp_path)
    assert str(elsewhere) == "permission denied: /x.md"  # not the store's: no owner advice
    locked = explain(sqlite3.OperationalError("attempt to write a readonly database"), tmp_path)
    assert isinstance(locked, StorePermissionError) and "backup" not in str(locked)
    damaged = explain(sqlite3.DatabaseError("file is not a database"), tmp_path)
    assert isinstance(damaged, StoreDamageError) and "backup" in str(damaged)
    assert explain(ValueError("a bug"), tmp_path) is None


def test_a_bug_is_one_line_too(built, monkeypatch):
    import teiten.store.summary

    def broken(store):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(teiten.store.summary, "summarize", broken)
    result = cli("store", "info", "--store", built, ok=False)
    assert result.exit_code == 1
    assert result.output.startswith("Error: internal error (ZeroDivisionError: division by zero)")
    monkeypatch.setenv("TEITEN_DEBUG", "1")
    result = cli("store", "info", "--store", built, ok=False)
    assert isinstance(result.exception, ZeroDivisionError)
