"""The store's instants as text: ISO 8601 UTC, to the nanosecond when the capture had it.

The store keeps nanoseconds since the epoch (``ts`` in µs and ``ts_ns``, read
together as the ``packets`` view's ``t_ns``); a capture written with µs timestamps
has whole microseconds, a nanosecond one may not. Python's ``datetime`` stops at
microseconds, so turning such a value into one either fails (pyarrow: "not safely
convertible") or silently drops digits (DuckDB). Output goes through here instead:
an instant on a whole microsecond reads as ``datetime.isoformat`` writes it
(``2019-04-01T00:00:01.000721+00:00``, no fraction on a whole second); any other gets
nine fractional digits (``2014-12-09T16:36:09.924505488+00:00``), which
``datetime.fromisoformat`` still reads (to the microsecond).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["iso_ns", "iso_timestamps"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def iso_ns(ns: int) -> str:
    """ISO 8601 UTC text of ``ns`` nanoseconds since the epoch (no digit lost)."""
    micros, rest = divmod(int(ns), 1000)
    moment = _EPOCH + timedelta(microseconds=micros)
    if not rest:
        return moment.isoformat()
    return f"{moment.replace(tzinfo=None).isoformat(timespec='microseconds')}{rest:03d}+00:00"


def iso_timestamps(column: pa.Array | pa.ChunkedArray) -> list[str | None]:
    """ISO 8601 UTC texts (``None`` for nulls) of a timestamp column of any unit."""
    unit = column.type.unit
    values = pc.cast(column, pa.int64()).to_pylist()
    scale = _UNIT_NS[unit]
    return [None if v is None else iso_ns(v * scale) for v in values]
