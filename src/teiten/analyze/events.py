"""What scan events and DoS attacks share: sessions in SQL, edges, storage, the report.

Both are *sessions*: packets of one key (a scanner's source, protocol and port;
a victim's address and protocol) ordered by time, where a silence longer than
a timeout ends one session and the next packet opens another. In SQL
(:func:`teiten.store.queries.events.sessions`)::

    opens   = ts unless ts − lag(ts) ≤ timeout          (one window pass)
    started = max(opens) over the key's packets so far   (a second one)

``started`` is then the session's id (its first packet's time), so grouping by
(key, started) gives one row per session — no Python runs per packet.

Sessions are computed from the packets *inside* the period (so the day
partitions outside it are never read). One that began before the period or
goes on after it is cut at the edge; the edge days (one timeout wide) are then
read for its key only, and the event says so (``continues_before``,
``continues_after``).

Sources that also appear as destinations in the period are sensor addresses
(a capture that recorded the sensor's own replies, or a source spoofed as one
of ours); their events are withheld, and only their number is reported.

Results are stored by :class:`teiten.store.events.EventStore`, keyed by period
and parameters, and recomputed when the store's batches for those days change.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from teiten.analyze.darknet import Darknet, darknet_size, estimate_supported
from teiten.analyze.event_digest import EventDigest, digest_of
from teiten.analyze.periods import Period
from teiten.store import queries
from teiten.store.queries.events import IPV4_SPACE, Bounds
from teiten.store.timestamps import iso_timestamps

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
    "EVENTS_VERSION",
    "IPV4_SPACE",
    "NS",
    "EventReport",
    "Window",
    "collect",
    "declarations",
    "finish",
    "in_networks",
    "ns_to_timestamps",
    "protocol_names",
    "require_raw",
    "sort_rows",
    "stored",
    "tag_lists",
    "to_rows",
]

# Bump when stored event files would differ for the same inputs (they are then recomputed).
EVENTS_VERSION = 2  # 2: start and end keep nanoseconds (were cut to µs)
NS = 1_000_000_000


@dataclass(frozen=True)
class Window:
    """The days read: the period (``first`` … ``end``) and its edge days (``lo`` … ``hi``)."""

    first: date
    end: date
    timeout_s: float
    what: str = "these events"  # for an error naming what needed dropped raw packets

    @property
    def margin(self) -> timedelta:
        return timedelta(days=math.ceil(self.timeout_s / 86_400))

    @property
    def lo(self) -> date:
        return self.first - self.margin

    @property
    def hi(self) -> date:
        return self.end + self.margin

    def bounds(self) -> Bounds:
        """The bounds as an event statement takes them (days, and ns since the epoch)."""
        return Bounds(
            first=self.first,
            end=self.end,
            lo=self.lo,
            hi=self.hi,
            first_ns=_ns(self.first),
            end_ns=_ns(self.end),
            timeout_ns=int(self.timeout_s * NS),
        )


def require_raw(engine: Engine, window: Window) -> None:
    """Fail with one line when the period's raw packets (which events computed from the
    packets read) were dropped by raw retention; its edge days only mark
    ``continues_before`` / ``continues_after``, so they may be gone."""
    engine.require_raw(window.first, window.end - timedelta(days=1), window.what)


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS


@dataclass
class EventReport:
    """Events of one family in a period, with what they were computed from."""

    family: str  # "scans" | "dos"
    period: Period
    parameters: dict[str, Any]
    darknet: Darknet
    rows: list[dict[str, Any]]
    total: int  # events in the period (rows may be fewer: --limit)
    withheld: int  # events of sources that are sensor addresses, never shown
    stored: str | None = None  # the Parquet file holding them
    reused: bool = False  # read back from the store rather than computed now
    seconds: float = 0.0  # time to compute (0 when reused)
    table: pa.Table | None = field(default=None, repr=False)  # every event (rows: ≤ limit)
    digest: EventDigest | None = field(default=None, repr=False)  # their sums (a report's)
    filters: dict[str, Any] = field(default_factory=dict)  # in_networks's, when it selected

    def summed(self) -> EventDigest:
        """The events' digest: stored with them, else summed from the table."""
        if self.digest is None:
            if self.table is None:
                raise ValueError("events without their table or digest cannot be summed")
            self.digest = digest_of(self.table, self.family)
        return self.digest

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "parameters": self.parameters,
            "darknet": self.darknet.as_json(),
            "estimate_supported": estimate_supported(self.darknet),
            **({"filters": self.filters} if self.filters else {}),
            "total": {"events": self.total, "withheld_sensor_sources": self.withheld},
            "rows": self.rows,
        }


Extract = Callable[[Darknet, Window], tuple[pa.Table, int]]

_ADDRESS = {"scans": "source", "dos": "victim"}  # whose network an event is selected by


def in_networks(
    engine: Engine,
    report: EventReport,
    asns: Sequence[int] = (),
    prefixes: Sequence[str] = (),
    *,
    limit: int | None = None,
) -> EventReport:
    """``report`` with only the events whose scanning source (a DoS attack: its victim)
    is in any of ``asns`` (by the AS number stored with the event) and in any of the
    networks ``prefixes`` (CIDR), its first ``limit`` as rows; itself when neither is
    given. ``total`` counts the events selected; ``withheld`` stays the period's."""
    from teiten.analyze.rankings import Filters

    filters = Filters(asns=tuple(asns), prefixes=tuple(prefixes))
    if not filters.asns and not filters.prefixes:
        return report
    if report.table is None:
        raise ValueError("events without their table cannot be selected by network")
    table = report.table
    events = pa.table(
        {
            "i": pa.array(np.arange(table.num_rows, dtype=np.int64)),
            "address": table.column(_ADDRESS[report.family]),
            "asn": table.column("asn").cast(pa.int64()),
        }
    )
    statement = queries.events.selected(engine.dialect, filters.condition())
    found = engine.table(*statement, tables={"events": events}).column("i")
    table = table.take(found.cast(pa.int64()))
    return replace(
        report,
        rows=to_rows(table, limit),
        total=table.num_rows,
        table=table,
        digest=None,
        filters=filters.as_json(),
    )


def collect(
    engine: Engine,
    family: str,
    period: Period,
    parameters: dict[str, Any],
    extract: Extract,
    *,
    limit: int | None = None,
    refresh: bool = False,
    columns: list[str] | None = None,
    digest_only: bool = False,
) -> EventReport:
    """The stored events of ``period`` if still current, else ``extract``-ed and stored.

    ``extract(darknet, window)`` returns the events (sorted) and how many were withheld.
    ``columns``: only these in the report's table and rows (a caller that reads a few
    columns of every event does not hold the others). ``digest_only``: a caller that
    reads only their :class:`~teiten.analyze.event_digest.EventDigest` gets it from
    the stored file's footer, without the table and rows, when the file has one.
    """
    window, key, state = _stored_as(engine, family, period, parameters)
    events = engine.events
    digest: EventDigest | None
    if digest_only and not refresh:
        kept = events.load_meta(family, period.label, key, state)
        if kept is not None and "digest" in kept[0]:
            meta, where = kept
            digest = EventDigest.from_json(meta["digest"])
            return EventReport(
                family=family,
                period=period,
                parameters=parameters,
                darknet=Darknet.from_json(meta["darknet"]),
                rows=[],
                total=digest.events,
                withheld=int(meta["withheld"]),
                stored=str(where),
                reused=True,
                digest=digest,
            )
    found = None if refresh else events.load(family, period.label, key, state, columns)
    if found is not None:
        table, meta, seconds, path = found.table, found.meta, 0.0, found.path
        darknet = Darknet.from_json(meta["darknet"])
        # a file written before digests were kept lacks it: summed from the table if asked
        digest = EventDigest.from_json(meta["digest"]) if "digest" in meta else None
    else:
        started = time.perf_counter()
        darknet = darknet_size(engine, period.start, period.end)
        table, withheld = extract(darknet, window)
        digest = digest_of(table, family)
        seconds = time.perf_counter() - started
        meta = {
            "version": EVENTS_VERSION,
            "family": family,
            "period": period.as_json(),
            "parameters": parameters,
            "darknet": darknet.as_json(),
            "withheld": withheld,
            "digest": digest.as_json(),
            "state": state,
            "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        path = events.save(family, period.label, key, table, meta)  # None: kept in memory
        if columns is not None:
            table = table.select(columns)
    return EventReport(
        family=family,
        period=period,
        parameters=parameters,
        darknet=darknet,
        rows=to_rows(table, limit),
        total=table.num_rows,
        withheld=int(meta["withheld"]),
        stored=None if path is None else str(path),
        reused=found is not None,
        seconds=seconds,
        table=table,
        digest=digest,
    )


def _stored_as(
    engine: Engine, family: str, period: Period, parameters: dict[str, Any]
) -> tuple[Window, str, str]:
    """The window ``family``'s events of ``period`` read, and the key and the state they
    are stored under (:class:`teiten.store.events.EventStore`)."""
    noun = {"scans": "scan events", "dos": "DoS attacks"}.get(family, family)
    window = Window(
        period.start, period.end, float(parameters["timeout_s"]), f"{noun} of {period.label}"
    )
    key = engine.events.key(
        {
            "version": EVENTS_VERSION,
            "family": family,
            "period": [period.start, period.end],
            "parameters": parameters,
            "declared": declarations(engine),
        }
    )
    return window, key, engine.events.state(window.lo, window.hi - timedelta(days=1))


def declarations(engine: Engine) -> dict[str, list[Any]]:
    """The store's sensor declarations (addresses, prefixes) as a stored result's key
    holds them: a new declaration changes which sources are sensors'."""
    return {n: [s.ipv4_addresses, s.ipv6_prefixes] for n, s in engine.declared_sensors().items()}


def stored(engine: Engine, family: str, period: Period, parameters: dict[str, Any]) -> bool:
    """Whether :func:`collect` would read ``family``'s events of ``period`` back (they
    are stored and current), from the stored file's metadata alone."""
    _, key, state = _stored_as(engine, family, period, parameters)
    return engine.events.current(family, period.label, key, state)


def finish(table: pa.Table, schema: pa.Schema) -> tuple[pa.Table, int]:
    """Events as the SQL gives them (``proto`` numbers, ns ``start`` / ``end_ns``,
    ``tag_bits``, ``is_sensor``, the key ``k``) as rows of ``schema``, largest first
    (ties: earliest first, then by key: one order, however the rows came); and how many
    were withheld as sensor sources."""
    sensor = table.column("is_sensor").to_numpy(zero_copy_only=False).astype(bool)
    withheld = int(sensor.sum())
    order = np.lexsort(
        (
            table.column("k").to_numpy(zero_copy_only=False),
            table.column("start").to_numpy(zero_copy_only=False),
            -table.column("packets").to_numpy(zero_copy_only=False).astype(np.int64),
        )
    )
    order = order[~sensor[order]]
    table = table.drop_columns(["is_sensor", "k"]).take(pa.array(order, pa.int64()))
    table = table.rename_columns(["end" if n == "end_ns" else n for n in table.column_names])
    protos = protocol_names(table.column("proto"))
    table = table.set_column(table.schema.get_field_index("proto"), "proto", protos)
    table = ns_to_timestamps(table, ["start", "end"])
    tags = tag_lists(table.column("tag_bits"))
    table = table.drop_columns(["tag_bits"])
    table = table.add_column(table.schema.get_field_index("continues_before"), "tags", tags)
    return table.cast(schema), withheld


def tag_lists(bits: pa.Array) -> pa.Array:
    """``list<string>`` tag labels for a column of tag bit masks (once per distinct mask)."""
    from teiten.fingerprint import tag_labels

    values = np.asarray(bits.to_numpy(zero_copy_only=False), dtype=np.uint64)
    masks, inverse = np.unique(values, return_inverse=True)
    labels = pa.array([tag_labels(int(m)) for m in masks], type=pa.list_(pa.string()))
    return labels.take(pa.array(inverse.reshape(-1), pa.int64()))


def protocol_names(protos: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Protocol names (``tcp``, ``udp``, …) for a column of protocol numbers (once per
    distinct number)."""
    from teiten.enrich import protocol_name

    values = np.asarray(protos.to_numpy(zero_copy_only=False), dtype=np.int64)
    numbers, inverse = np.unique(values, return_inverse=True)
    names = pa.array([protocol_name(int(p)) for p in numbers], pa.string())
    return names.take(pa.array(inverse.reshape(-1), pa.int64()))


def to_rows(table: pa.Table, limit: int | None = None) -> list[dict[str, Any]]:
    """JSON-ready rows of the first ``limit`` rows.

    Timestamps (of any unit: stored events from before they kept ns are µs) become
    ISO 8601 UTC text to the nanosecond, see :mod:`teiten.store.timestamps`.
    """
    if limit is not None:
        table = table.slice(0, limit)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            texts = pa.array(iso_timestamps(table.column(i)), pa.string())
            table = table.set_column(i, f.name, texts)
    rows = table.to_pylist()
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float):
                row[k] = round(v, 6)
    return rows


def ns_to_timestamps(table: pa.Table, names: list[str]) -> pa.Table:
    """Columns of ns since the epoch as UTC timestamps (ns: no capture's digit is lost)."""
    for name in names:
        i = table.schema.get_field_index(name)
        ns = table.column(i).cast(pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
        table = table.set_column(i, name, ns)
    return table


def sort_rows(table: pa.Table, keys: list[tuple[str, str]]) -> pa.Table:
    """``table`` sorted by ``keys`` (as ``pyarrow.compute.sort_indices`` takes them)."""
    if table.num_rows == 0:
        return table
    return table.take(pc.sort_indices(table, sort_keys=keys))
