"""What a publication reads of every event of a period, in a few hundred numbers.

A report sums a period's scan events or DoS attacks — per port or protocol, per country,
per starting day, per tool — and shows its largest and its fastest few. At a large
darknet a quarter holds about a million scan events; reading them all for those sums
costs more than the rest of the report. The :class:`EventDigest` holds those sums and
rows: computed with the events (:func:`teiten.analyze.events.collect`) and stored in
their file's metadata, so a report reads the file's footer, not its rows. It keeps
addresses only inside the largest and fastest rows, which a report makes anonymous
(:mod:`teiten.report.events`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["LARGEST", "EventDigest", "digest_of"]

LARGEST = 5  # the largest events a digest keeps whole


@dataclass(frozen=True)
class EventDigest:
    """A period's events summed: ``by_key`` (per port, or protocol for DoS) and
    ``by_country`` (``{name, "events", "actors", "packets"}``, most events, then actors,
    then packets first), events starting per day (ISO date → count), events carrying
    each tag, distinct actors (scanning sources, victims), and the :data:`LARGEST`
    largest and the fastest events as rows (:func:`teiten.analyze.events.to_rows`)."""

    events: int
    actors: int
    by_key: list[dict[str, Any]]
    by_country: list[dict[str, Any]]
    starts: dict[str, int]
    tags: dict[str, int]
    largest: list[dict[str, Any]]
    fastest: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventDigest:
        return cls(**data)

    def started_on(self, day: date) -> int:
        """Events starting on ``day``."""
        return self.starts.get(day.isoformat(), 0)


def actor_of(family: str) -> str:
    """The column naming an event's actor: a scan's source, an attack's victim."""
    return "source" if family == "scans" else "victim"


def digest_of(table: pa.Table, family: str) -> EventDigest:
    """The digest of ``table``: every event of ``family`` (``scans``, ``dos``) of a
    period, largest first (as :func:`teiten.analyze.events.finish` orders them)."""
    from teiten.analyze.events import to_rows

    actor = actor_of(family)
    starts = pc.value_counts(pc.cast(table.column("start"), pa.date32())).to_pylist()
    tags = pc.value_counts(pc.list_flatten(table.column("tags"))).to_pylist()
    fastest = None
    if table.num_rows:
        (fastest,) = to_rows(table.slice(_fastest(table.column("rate_pps_internet_wide")), 1))
    return EventDigest(
        events=table.num_rows,
        actors=pc.count_distinct(table.column(actor)).as_py(),
        by_key=_groups(table, _keys(table, family), actor, "key"),
        by_country=_groups(table, table.column("country"), actor, "country"),
        starts={r["values"].isoformat(): r["counts"] for r in starts},
        tags={r["values"]: r["counts"] for r in tags},
        largest=to_rows(table, LARGEST),
        fastest=fastest,
    )


def event_key(row: dict[str, Any], family: str) -> str:
    """What an event is counted under: ``port/proto`` for a scan (its protocol when it
    has no port), the protocol for a DoS attack."""
    if family == "dos":
        return str(row["proto"])
    return str(row["proto"]) if row["port"] is None else f"{row['port']}/{row['proto']}"


def _keys(table: pa.Table, family: str) -> pa.ChunkedArray:
    """:func:`event_key` of every row."""
    proto = table.column("proto")
    if family == "dos":
        return proto
    port = pc.cast(table.column("port"), pa.string())
    return pc.if_else(pc.is_null(port), proto, pc.binary_join_element_wise(port, proto, "/"))


def _groups(table: pa.Table, by: pa.ChunkedArray, actor: str, name: str) -> list[dict[str, Any]]:
    """Events, distinct actors and packets per value of ``by`` (``name``), most events
    first (then actors, packets, name)."""
    grouped = (
        pa.table({"g": by, "a": table.column(actor), "p": table.column("packets")})
        .group_by("g")
        .aggregate([("p", "count"), ("a", "count_distinct"), ("p", "sum")])
    )
    items = [
        {name: r["g"], "events": r["p_count"], "actors": r["a_count_distinct"],
         "packets": int(r["p_sum"])}
        for r in grouped.to_pylist()
    ]  # fmt: skip
    items.sort(key=lambda x: (-x["events"], -x["actors"], -x["packets"], str(x[name])))
    return items


def _fastest(rates: pa.ChunkedArray) -> int:
    """The index of the first of the fastest events, their rates rounded as rows give
    them (rounding keeps the order, so only rates near the largest can tie with it)."""
    values = rates.to_numpy()
    top = round(float(values.max()), 6)
    near = np.flatnonzero(values >= top - 1e-6)
    return int(next(i for i in near if round(float(values[i]), 6) == top))
