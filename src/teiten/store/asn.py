"""The store's AS tables: each imported edition, converted once, and which one is in use.

Layout::

    <root>/asn/editions.json            every edition imported (its record), and
                                        ``current``: the one ingest and lookups use
    <root>/asn/<edition>/table.npz      its AS table (:mod:`teiten.enrich.asn.table`)

``teiten asn import FILE`` reads an iptoasn, prefix2as or ASN ``.mmdb`` file
(:mod:`teiten.enrich.asn.formats`), converts it and makes it current; the same file
(same sha256 of its bytes) imported again adds nothing. An edition is named
``<format>-<date>-<first 12 hex digits of the sha256>``; its date is the data's
own where the format has one (an mmdb's build time, a prefix2as file's standard
name), else the file's modification time, unless ``--date`` gives it. Tags are
written once: rows ingested before an import keep the AS numbers (or none) of
their time, and each batch's ``geo_edition`` names the AS edition that tagged it.
Files are written aside and renamed into place, the record under a lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from teiten.enrich.asn import AsnTable, build_table, read_asn_file
from teiten.errors import OptionError, ReferenceDataError, StoreDamageError

if TYPE_CHECKING:
    from teiten.enrich.geo import GeoTagger
    from teiten.store.dataset import Store

__all__ = [
    "ASN_DIR",
    "as_names",
    "asn_editions",
    "import_asn_file",
    "load_asn_table",
    "open_store_geo",
    "use_asn_edition",
]

ASN_DIR = "asn"
EDITIONS_FILE = "editions.json"
TABLE_FILE = "table.npz"
_COUNTS = ("rows", "not_routed", "multi_origin", "as_set", "no_asn", "ipv4_aliases")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _folder(root: str | os.PathLike[str]) -> Path:
    return Path(root) / ASN_DIR


@contextlib.contextmanager
def _locked(root: str | os.PathLike[str]) -> Iterator[None]:
    """One import (or change of the current edition) at a time."""
    folder = _folder(root)
    folder.mkdir(exist_ok=True)
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def asn_editions(root: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"current": edition or None, "editions": [record, …]}`` (oldest import first)."""
    path = _folder(root) / EDITIONS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"current": None, "editions": []}
    except (OSError, ValueError) as exc:
        raise StoreDamageError(
            path, f"{path}: cannot read the AS editions record ({exc}); import the AS file again"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("editions"), list):
        raise StoreDamageError(path, f"{path}: not an AS editions record; import the file again")
    return data


def _save(root: str | os.PathLike[str], data: dict[str, Any]) -> None:
    path = _folder(root) / EDITIONS_FILE
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    aside.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(aside, path)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _file_date(path: str) -> date:
    return datetime.fromtimestamp(os.stat(path).st_mtime, UTC).date()


def import_asn_file(
    store: Store,
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    on: date | None = None,
) -> tuple[dict[str, Any], bool]:
    """Convert the AS data at ``path`` into an edition of the store and make it current.

    ``fmt`` forces the format (else detected), ``on`` the edition's date. Returns the
    edition's record and whether it was added (False: this file was imported before,
    nothing changed). Raises :class:`~teiten.errors.ReferenceDataError` naming the
    file and line for input it cannot read; the store is then unchanged.
    """
    source = os.fspath(path)
    try:
        digest = "sha256:" + _sha256(source)
    except OSError as exc:
        raise ReferenceDataError(source, f"cannot read the file: {exc.strerror or exc}") from exc
    root = store.root
    with _locked(root):
        data = asn_editions(root)
        for record in data["editions"]:
            if record["digest"] == digest:
                return record, False
        found = read_asn_file(source, fmt)
        day, day_from = (
            (on, "--date")
            if on
            else (found.date, found.date_from)
            if found.date
            else (_file_date(source), "file time")
        )
        edition = f"{found.format}-{day.isoformat()}-{digest.split(':')[1][:12]}"
        table, overlapping = build_table(
            found.ipv4, found.ipv6, found.names, {"edition": edition, "format": found.format}
        )
        record = {
            "edition": edition,
            "format": found.format,
            "file": os.path.basename(source),
            "source": os.path.abspath(source),
            "date": day.isoformat(),
            "date_from": day_from,
            "digest": digest,
            "imported_at": _now(),
            "ranges": {"ipv4": len(table.v4), "ipv6": len(table.v6)},
            "ases": table.ases(),
            "names": len(table.name_asn),
            "input": {k: found.counts[k] for k in _COUNTS} | {"overlapping": overlapping},
        }
        _write_table(root, edition, table)
        data["editions"].append(record)
        data["current"] = edition
        _save(root, data)
    return record, True


def _write_table(root: str | os.PathLike[str], edition: str, table: AsnTable) -> None:
    """Write the table aside, then rename its folder into place."""
    folder = _folder(root)
    aside = folder / f".{edition}.{os.getpid()}.tmp"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    arrays: dict[str, Any] = table.arrays()  # plain numeric arrays: nothing to pickle
    np.savez_compressed(aside / TABLE_FILE, **arrays)
    final = folder / edition
    shutil.rmtree(final, ignore_errors=True)  # debris of an import that never got recorded
    os.replace(aside, final)


def _record(root: str | os.PathLike[str], edition: str | None) -> dict[str, Any] | None:
    """The record of ``edition`` (None: the current one), or None when there is none."""
    data = asn_editions(root)
    wanted = edition or data["current"]
    if wanted is None:
        return None
    for record in data["editions"]:
        if record["edition"] == wanted:
            return dict(record)
    known = ", ".join(r["edition"] for r in data["editions"]) or "none"
    raise OptionError(f"no AS edition {wanted!r} in this store (imported: {known})")


def use_asn_edition(store: Store, edition: str) -> dict[str, Any]:
    """Make an imported edition the current one; returns its record."""
    with _locked(store.root):
        record = _record(store.root, edition)
        data = asn_editions(store.root)
        data["current"] = edition
        _save(store.root, data)
    assert record is not None
    return record


def load_asn_table(root: str | os.PathLike[str], edition: str | None = None) -> AsnTable | None:
    """The table of ``edition`` (None: the current one), or None when none was imported."""
    record = _record(root, edition)
    if record is None:
        return None
    path = _folder(root) / record["edition"] / TABLE_FILE
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        return AsnTable.from_arrays(arrays)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise StoreDamageError(
            path,
            f"{path}: the AS table of edition {record['edition']} is unreadable ({reason}); "
            f"import {record['file']} again",
        ) from exc


def as_names(root: str | os.PathLike[str]) -> Mapping[int, str]:
    """AS number → holder, as the store's current AS edition names them (empty when none
    was imported). Rows tagged by an older edition are named by the current one."""
    table = load_asn_table(root)
    return {} if table is None else table.names


def open_store_geo(
    root: str | os.PathLike[str],
    mmdb_path: str | os.PathLike[str] | None = None,
    asn_path: str | os.PathLike[str] | None = None,
) -> GeoTagger:
    """:func:`~teiten.enrich.geo.open_geo` for writing into the store at ``root``: AS
    numbers from ``asn_path`` when one is given, else from the store's current AS
    edition (if any). Countries, and AS numbers a ``mmdb_path`` database carries
    itself, come from that database (or the built-in RIR data)."""
    from teiten.enrich.geo import open_geo

    table = load_asn_table(root) if asn_path is None else None
    return open_geo(mmdb_path, asn_path=asn_path, asn_table=table)
