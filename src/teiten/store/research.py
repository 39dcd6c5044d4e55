"""The store's list of research scanner networks, and which version of it tagged what.

Layout::

    <root>/research-networks.txt    the imported list, normalised (one entry a line)
    <root>/research-networks.json   its digest and import date, earlier versions,
                                    and one record per ingest it tagged

``teiten scanners import FILE`` validates a list (see
:mod:`teiten.fingerprint.research` for the format) and replaces the stored one;
``teiten ingest`` tags with whatever list the store holds at that moment. Tags are
written once: packets ingested before an import keep the tags of the list that
was current then, which the ``tagged`` records of the sidecar let a report state.
Both files are replaced atomically (written aside, then renamed).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teiten.errors import ReferenceDataError
from teiten.fingerprint import ResearchNetworks, TagContext

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = [
    "LIST_FILE",
    "SIDECAR_FILE",
    "import_research_networks",
    "load_research_networks",
    "record_tagging",
    "research_status",
    "tag_context",
]

LIST_FILE = "research-networks.txt"
SIDECAR_FILE = "research-networks.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_atomically(path: Path, text: str) -> None:
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path)


def _sidecar(store: Store) -> dict[str, Any]:
    path = store.root / SIDECAR_FILE
    if not path.exists():
        return {"current": None, "previous": [], "tagged": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(
            path, f"cannot read the research list record ({exc}); import the list again"
        ) from exc
    data.setdefault("previous", [])
    data.setdefault("tagged", [])
    return data


def _save_sidecar(store: Store, data: dict[str, Any]) -> None:
    _write_atomically(store.root / SIDECAR_FILE, json.dumps(data, indent=2) + "\n")


@contextlib.contextmanager
def _locked(store: Store) -> Iterator[None]:
    """One read-modify-write of the list and its record at a time (concurrent ingests)."""
    with open(store.root / ".research-networks.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def import_research_networks(store: Store, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Validate the list at ``path`` and make it the store's; returns its record.

    Raises :class:`ReferenceDataError` (file, line) and leaves the stored list
    unchanged when the file cannot be read or has a bad line.
    """
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ReferenceDataError(source, f"cannot read the list: {reason}") from exc
    networks = ResearchNetworks.parse(text, source)
    record = {
        "digest": networks.digest,
        "imported_at": _now(),
        "source": os.path.abspath(source),
        "entries": len(networks),
        **networks.counts(),
    }
    header = (
        f"# teiten research scanner networks, imported {record['imported_at']} from {source}\n"
        f"# {record['digest']}; edit the original and run `teiten scanners import` again\n"
    )
    with _locked(store):
        data = _sidecar(store)
        if data["current"] and data["current"]["digest"] != record["digest"]:
            data["previous"].append(data["current"])
        data["current"] = record
        _write_atomically(store.root / LIST_FILE, header + networks.normalised())
        _save_sidecar(store, data)
    return record


def load_research_networks(store: Store) -> ResearchNetworks | None:
    """The store's list, or None when none was imported."""
    path = store.root / LIST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(path, f"cannot read the stored list: {exc}") from exc
    return ResearchNetworks.parse(text, str(path))


def tag_context(store: Store) -> TagContext:
    """The fingerprints' context for an ingest into ``store`` (its research list, if any)."""
    return TagContext(research=load_research_networks(store))


def record_tagging(
    store: Store, networks: ResearchNetworks, files: list[str], packets: int
) -> None:
    """Note that ``files`` (``packets`` rows) were tagged with this version of the list."""
    with _locked(store):
        data = _sidecar(store)
        data["tagged"].append(
            {"digest": networks.digest, "at": _now(), "files": files, "packets": packets}
        )
        _save_sidecar(store, data)


def research_status(store: Store) -> dict[str, Any]:
    """The stored list, its entries and history, for ``teiten scanners list``."""
    networks = load_research_networks(store)
    data = _sidecar(store)
    return {
        "list": None if networks is None else str(store.root / LIST_FILE),
        "current": data["current"],
        "digest": None if networks is None else networks.digest,
        "entries": [] if networks is None else [e.as_json() for e in networks.entries],
        "previous": data["previous"],
        "tagged": data["tagged"],
    }
