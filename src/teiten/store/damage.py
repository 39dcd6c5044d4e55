"""Engine and file-system errors explained: which file of the store, and what to do.

DuckDB, Arrow, SQLite and the operating system each report trouble in their own
words, often as a multi-line message or a traceback. :func:`explain` turns any of
them into a :class:`~teiten.errors.StoreError` that names the file and the next
step; the CLI calls it at its one edge (:func:`teiten.cli.common.fail_cleanly`),
so no traceback reaches a user. Permission problems are named as such: a store
that belongs to someone else or sits on a read-only mount is not damaged.
"""

from __future__ import annotations

import errno
import os
import pwd
import re
import sqlite3
import sys
from pathlib import Path

from teiten.errors import StoreDamageError, StoreError, StorePermissionError

__all__ = ["explain", "manifest_error", "os_error", "permission_error"]

_PARQUET = re.compile(r"""['"]([^'"]+\.parquet)['"]""")
_SQLITE_READONLY = 8
_SQLITE_BUSY = 5


def _engine_errors() -> tuple[type[BaseException], ...]:
    """The exception bases of the engines that are loaded (never imports one)."""
    found: list[type[BaseException]] = [sqlite3.Error, OSError]
    if (duckdb := sys.modules.get("duckdb")) is not None:
        found.append(duckdb.Error)
    if (arrow := sys.modules.get("pyarrow")) is not None:
        found.append(arrow.ArrowException)
    return tuple(found)


def explain(exc: BaseException, root: Path | None) -> StoreError | None:
    """The StoreError for an engine or OS error met while using the store at ``root``,
    or None when ``exc`` is none of those."""
    if isinstance(exc, StoreError):
        return exc
    if not isinstance(exc, _engine_errors()):
        return None
    manifest = (root or Path(".")) / "manifest.sqlite"
    if isinstance(exc, sqlite3.Error):
        return manifest_error(manifest, exc)
    if isinstance(exc, OSError) and not isinstance(exc, _arrow_errors()):
        return os_error(exc, root)
    return _query_error(exc, root)


def manifest_error(path: Path, exc: BaseException) -> StoreError:
    """The manifest could not be opened, read or changed."""
    if isinstance(exc, OSError):
        return os_error(exc, path.parent, path)
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    if (code is not None and code & 0xFF == _SQLITE_READONLY) or "readonly" in text:
        return permission_error(path, errno.EROFS if _read_only_fs(path) else errno.EACCES)
    if "unable to open" in text and not os.access(path, os.R_OK):
        return permission_error(path, errno.EACCES)
    if (code is not None and code & 0xFF == _SQLITE_BUSY) or "locked" in text:
        return StoreError(
            f"{path}: the manifest stayed locked by another teiten process for 30 s; "
            "run the command again when it is done"
        )
    return StoreDamageError(
        path,
        f"{path}: the store manifest cannot be read ({text}); restore it from a backup "
        "or point --store at another directory",
    )


def permission_error(path: str | Path, code: int, *, writing: bool = False) -> StoreError:
    """Refused by the system: another user's store, or a read-only file system."""
    if code == errno.EROFS:
        return StorePermissionError(
            path,
            f"read-only file system: {path}; queries work on a read-only store, but "
            "ingest, compact and remove need it mounted writable",
        )
    owner = _owner(Path(path))
    need = "write access to the store" if writing else "read access"
    return StorePermissionError(
        path,
        f"permission denied: {path}; run as the store's owner{owner} or ask for {need}",
    )


def os_error(exc: OSError, root: Path | None, path: str | Path | None = None) -> StoreError:
    """A refused, failed or vanished file (of the store at ``root``, or another one)."""
    where = exc.filename or path or root or "?"
    inside = root is not None and _inside(where, root)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and inside:
        return permission_error(where, exc.errno, writing=_writing(exc))
    if exc.errno == errno.ENOSPC:
        return StoreError(f"no space left on the device of {where}; free space and run again")
    if exc.errno == errno.ENOENT and inside:
        return StoreError(
            f"{where} vanished while the command ran (a compaction or removal replaced its "
            "day); run the command again"
        )
    reason = (exc.strerror or str(exc)).lower()
    return StoreError(f"{reason}: {where}")


def _inside(path: str | Path, root: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root))


def _query_error(exc: BaseException, root: Path | None) -> StoreError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    store = root if root is not None else "the store"
    match = _PARQUET.search(text)
    if match is None:
        return StoreError(
            f"the query engine failed on {store}: {first}; "
            f"`teiten store check --store {store}` verifies every file"
        )
    path = match.group(1)
    if "Permission denied" in text:
        return permission_error(path, errno.EACCES)
    if "No such file" in text or "No files found" in text:
        return StoreError(
            f"{path} vanished while the query ran (a compaction or removal replaced its "
            "day); run the command again"
        )
    reason = re.sub(r"^[A-Za-z ]*Error: ", "", first).replace(f"'{path}'", "")
    reason = " ".join(reason.split())
    names = _inputs_of(Path(path), root)
    if len(names) == 1:
        fix = (
            f"it holds the rows of {names[0]}: restore it from a backup, or remove that input "
            f"(`teiten store remove --input {names[0]}`) and ingest it again; "
            f"`teiten store check --store {store}` lists every damaged file"
        )
    else:
        fix = (
            f"`teiten store check --store {store}` lists every damaged file and what to do "
            "(restore it from a backup, or remove its rows with `teiten store remove` and "
            "ingest them again)"
        )
    return StoreDamageError(path, f"{path}: damaged Parquet file ({reason}); {fix}")


def _inputs_of(path: Path, root: Path | None) -> list[str]:
    """Names of the inputs whose rows a file of a batch holds (best effort: [] if unknown)."""
    from teiten.store.manifest import Manifest  # the manifest reports through this module
    from teiten.store.parts import batch_of_name

    batch = batch_of_name(path.name)
    if batch is None or root is None:
        return []
    try:
        manifest = Manifest(root / "manifest.sqlite", read_only=True)
    except StoreError:
        return []
    try:
        return [i.name for i in manifest.inputs_by_batch().get(batch, [])]
    except sqlite3.Error:
        return []
    finally:
        manifest.close()


def _arrow_errors() -> tuple[type[BaseException], ...]:
    arrow = sys.modules.get("pyarrow")
    return (arrow.ArrowException,) if arrow is not None else ()


def _writing(exc: OSError) -> bool:
    """Whether a refusal was of a write: the file is readable, or did not exist yet."""
    name = exc.filename
    if exc.errno == errno.EROFS:
        return True
    return name is not None and (not os.path.exists(name) or os.access(name, os.R_OK))


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _owner(path: Path) -> str:
    for candidate in (path, *path.parents):
        try:
            uid = candidate.stat().st_uid
        except OSError:
            continue
        try:
            return f" ({pwd.getpwuid(uid).pw_name})"
        except KeyError:
            return f" (uid {uid})"
    return ""
