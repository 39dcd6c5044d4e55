"""Replacing a day's folder of Parquet files in one step.

Linux ``renameat2(RENAME_EXCHANGE)`` swaps the live folder and its replacement
atomically: a reader globbing ``packets/*/*.parquet`` sees the old files or the
new ones, never both and never neither. Where the file system cannot exchange,
two renames are used with a mark in the staging folder, and
:func:`finish_swap` (run by store recovery) completes a swap a crash interrupted.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

__all__ = ["SWAP_MARK", "exchange", "finish_swap", "fsync_path", "swap_in"]

SWAP_MARK = "swap-into"  # in a staging folder: the name of the day folder being replaced
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False when this system or file system cannot."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"cannot exchange {a} and {b}: {os.strerror(code)}")


def swap_in(root: Path, staging: Path, day: str) -> None:
    """Make ``staging/day`` the live ``packets/day``; the old folder ends in ``staging``."""
    new, live = staging / day, root / "packets" / day
    if exchange(new, live):
        return
    mark = staging / SWAP_MARK
    mark.write_text(day)
    fsync_path(staging)
    os.replace(live, staging / f"replaced-{day}")  # one per day: a rewrite swaps several
    os.replace(new, live)
    mark.unlink()


def finish_swap(root: Path, staging: Path) -> None:
    """Complete a two-rename swap a crash interrupted (no-op for other folders)."""
    mark = staging / SWAP_MARK
    if not mark.is_file():
        return
    day = mark.read_text().strip()
    live, new = root / "packets" / day, staging / day
    if not live.exists() and new.exists():
        os.replace(new, live)
    mark.unlink()


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
