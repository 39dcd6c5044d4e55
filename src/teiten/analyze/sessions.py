"""Sessions kept per day: scan events and DoS attacks extracted incrementally.

A period's events are sessions of its packets (:mod:`teiten.analyze.events`). Rather
than sessionizing the period's packets at every query, each UTC day's packets are
sessionized once, alone: the day's *fragments*, stored per day
(:class:`teiten.store.sessions.SessionStore`) and recomputed only when that day's
batches change. A period's sessions are the merge of its days' fragments:

* a session of the period that stays farther than the timeout from every midnight
  lies within one day: it is one fragment, complete;
* one that crosses midnight is cut there into fragments that each come within the
  timeout of that midnight — *edge* fragments (``first − day start ≤ timeout`` or
  ``day end − last ≤ timeout``). A key's fragments are joined, in time order, when the
  silence from one's last packet to the next one's first is at most the timeout
  (:func:`chain`: chains over many days included). Only edge fragments can join, and
  every one is stored.

Times, packets and tags merge by min, max, sum and OR; what does not add up (distinct
destinations; an attack's ports and busiest window) is kept whole for edge fragments,
which are few. A fragment that is not edge and fails the family's *floor* (thresholds
below any the query may ask for) can never be an event and is not stored. Sessions in
a period are computed from its packets either way, so the merge gives the raw answer
exactly; queries the fragments do not cover (another timeout, a threshold below the
floor, one source, the Spark engine) compute from the packets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from teiten.analyze.events import NS, Window
from teiten.errors import RawPacketsDroppedError
from teiten.store import queries
from teiten.store.events import digest
from teiten.store.period_rollups import periods_of

if TYPE_CHECKING:
    from teiten.store import Engine
    from teiten.store.queries import Statement

__all__ = [
    "CHUNK_PACKETS",
    "DAY_NS",
    "FRAGMENT_FIELDS",
    "SLICE_ROWS",
    "UNITED_BATCH",
    "Fragments",
    "Pieces",
    "chain",
    "fragments",
    "ipv4",
    "merge",
    "pieces",
    "prepare",
    "prepare_all",
    "prepare_events",
    "prepare_periods",
    "sessionize",
    "usable",
]

DAY_NS = 86_400 * NS

# What every family's fragment has (its key, times, counts, what the session carries,
# whether it may join a neighbour's); each family's schema adds its own after these.
FRAGMENT_FIELDS: list[tuple[str, pa.DataType]] = [
    ("k", pa.uint64()),
    ("first_ns", pa.int64()),
    ("last_ns", pa.int64()),
    ("packets", pa.int64()),
    ("destinations", pa.int64()),
    ("tag_bits", pa.uint32()),
    ("country", pa.string()),
    ("asn", pa.uint32()),
    ("edge", pa.bool_()),
]


@dataclass(frozen=True)
class Fragments:
    """How one family's day fragments are made: ``read(first, end)`` is the statement
    selecting the packets of days ``first`` … ``end`` of ``kind`` (``src``, ``dst``, a
    time ``t`` and what the sessions need); ``key_of`` gives each its session key, the
    exact integer the family's SQL uses; :func:`sessionize` adds their ``started``;
    ``aggregate`` (given ``timeout_ns``, ``day_len``, ``floor`` and ``params`` by name)
    is the statement turning those rows (``sessions``, with ``k`` and the IPv4
    destination ``d``) into the fragments, rows of ``schema``. Both are in
    :mod:`teiten.store.queries` (``scans``, ``dos``)."""

    family: str
    kind: str  # the packets' kind (probe, backscatter)
    version: int  # bump when stored fragments would differ for the same packets
    timeout_s: float
    floor: dict[str, Any]  # what a fragment that is not edge must reach to be stored
    params: dict[str, Any]  # the aggregate's other parameters
    schema: pa.Schema
    read: Callable[[date, date], Statement]
    key_of: Callable[[pa.Table], np.ndarray]
    aggregate: Callable[..., Statement]

    def key(self) -> dict[str, Any]:
        """What stored fragments depend on besides the packets."""
        return {
            "version": self.version,
            "timeout_s": self.timeout_s,
            "floor": self.floor,
            "params": self.params,
        }


def ipv4(column: pa.ChunkedArray) -> np.ndarray:
    """The IPv4 addresses (uint32) of a column of 16-byte IPv4-mapped addresses (what
    :func:`teiten.store.dialect.ipv4_int` computes in SQL, without text)."""
    parts = [np.zeros(0, dtype=np.uint32)]
    for chunk in column.chunks:
        fixed = chunk if pa.types.is_fixed_size_binary(chunk.type) else chunk.cast(pa.binary(16))
        words = np.frombuffer(fixed.buffers()[1], dtype=">u4")
        words = words[4 * fixed.offset : 4 * (fixed.offset + len(fixed))]
        parts.append(words[3::4].astype(np.uint32))
    return np.concatenate(parts)


def sessionize(rows: pa.Table, k: np.ndarray, timeout_ns: int) -> pa.Table:
    """``rows`` with their key ``k``, their IPv4 destination ``d`` (for ``dst``, dropped
    with ``src``) and ``started``: the time of the first row of the session, as
    :func:`teiten.store.queries.events.sessions` computes it (a silence longer than
    ``timeout_ns`` opens a session) but cut at midnight (a day's own sessions) — one sort
    of two integer columns, several times faster than SQL's two window passes."""
    d = ipv4(rows.column("dst"))
    rows = rows.drop_columns(["src", "dst"])
    rows = rows.append_column("k", pa.array(k, pa.uint64()))
    rows = rows.append_column("d", pa.array(d, pa.uint32()))
    t = rows.column("t").to_numpy()
    started, _ = _sessions(k, t, t, timeout_ns, midnight=True)
    return rows.append_column("started", pa.array(started, pa.int64()))


def _sessions(
    k: np.ndarray, start: np.ndarray, end: np.ndarray, timeout_ns: int, *, midnight: bool
) -> tuple[np.ndarray, np.ndarray]:
    """For rows of key ``k`` spanning ``start`` … ``end`` (packets: one instant; fragments:
    a span), the ``start`` of their session's first row and their session's number:
    ordered by key and start, a row opens a session unless it starts within
    ``timeout_ns`` of the previous row's end (and, with ``midnight``, on its day)."""
    order = np.lexsort((start, k))
    k, start, end = k[order], start[order], end[order]
    opens = np.ones(len(k), dtype=bool)
    opens[1:] = (k[1:] != k[:-1]) | (start[1:] - end[:-1] > timeout_ns)
    if midnight:
        opens[1:] |= start[1:] // DAY_NS != end[:-1] // DAY_NS
    session = np.cumsum(opens) - 1
    started, number = np.empty_like(start), np.empty(len(k), dtype=np.int64)
    started[order] = start[np.flatnonzero(opens)][session]
    number[order] = session
    return started, number


def chain(frags: pa.Table, first: date, end: date, timeout_s: float) -> pa.Table:
    """The sessions that join fragments of days ``first`` … ``end`` (exclusive): for
    each such fragment (only edge ones can join), its ``k``, ``first_ns``, its session's
    ``started`` (the first fragment's ``first_ns``) and ``united``, the distinct
    destinations of the session's fragments together."""
    day = frags.column("day")
    inside = pc.and_(pc.greater_equal(day, pa.scalar(first)), pc.less(day, pa.scalar(end)))
    rows = np.flatnonzero(pc.and_(inside, frags.column("edge")).to_numpy(zero_copy_only=False))
    k = frags.column("k").to_numpy()[rows]
    start = frags.column("first_ns").to_numpy()[rows]
    end_ns = frags.column("last_ns").to_numpy()[rows]
    started, session = _sessions(k, start, end_ns, int(timeout_s * NS), midnight=False)
    joined = np.bincount(session)[session] > 1 if len(session) else session > 0
    dsts = frags.column("dsts").take(pa.array(rows[joined]))
    return pa.table(
        {
            "k": pa.array(k[joined], pa.uint64()),
            "first_ns": pa.array(start[joined], pa.int64()),
            "started": pa.array(started[joined], pa.int64()),
            "united": pa.array(_united(session[joined], dsts), pa.int64()),
        }
    )


UNITED_BATCH = 2_000_000  # destinations united at once (memory: ~50 MB)


def _united(session: np.ndarray, dsts: pa.ChunkedArray) -> np.ndarray:
    """For fragments of sessions numbered ``session`` with destination lists ``dsts``,
    the number of distinct destinations of each one's session: the (session,
    destination) pairs sorted and counted, a batch of sessions at a time."""
    if not len(session):
        return np.zeros(0, dtype=np.int64)
    lengths = pc.list_value_length(dsts).fill_null(0).to_numpy(zero_copy_only=False)
    per_session = np.bincount(session, weights=lengths).astype(np.int64)
    cuts = np.searchsorted(
        np.cumsum(per_session), np.arange(UNITED_BATCH, lengths.sum(), UNITED_BATCH)
    )
    counts = np.zeros(len(per_session), dtype=np.int64)
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(per_session)], strict=True):
        rows = np.flatnonzero((session >= lo) & (session < hi))
        if not lengths[rows].sum():
            continue
        part = dsts.take(pa.array(rows))
        values = pc.list_flatten(part).to_numpy(zero_copy_only=False).astype(np.uint64)
        owner = np.repeat((session[rows] - lo).astype(np.uint64), lengths[rows])
        pairs = np.sort((owner << np.uint64(32)) | values)
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # distinct (np.unique hashes: slow)
        counts[lo:hi] += np.bincount((pairs >> np.uint64(32)).astype(np.int64), minlength=hi - lo)
    return counts[session]


SLICE_ROWS = 400_000  # fragments merged by one query: DuckDB's memory stays bounded


KEPT_LAYOUT = 2  # of a calendar period's kept pieces (2: fragments without ``dsts``)


@dataclass(frozen=True)
class Pieces:
    """What a period's events are merged from: the fragments of its days and its margin
    days (``frags``, with their ``day``; without their destination lists, which
    ``chained`` has united) and the period's sessions of several fragments (``chained``,
    :func:`chain`)."""

    frags: pa.Table
    chained: pa.Table


def pieces(engine: Engine, spec: Fragments, window: Window) -> Pieces:
    """The :class:`Pieces` of ``window``'s period.

    A whole calendar month or quarter that has ended keeps its pieces once merged
    (``sessions/<family>/periods/<label>.{fragments,chained}.parquet``), valid while its
    days' states are unchanged: its events then read two files and the margin days'
    fragments instead of every day's and joining them again. Other periods (weeks,
    ranges, the current month) are joined from the day fragments at each query."""
    kept = _kept(engine, spec, window)
    if kept is None:
        frags = _window_fragments(engine, spec, window)
        chained = chain(frags, window.first, window.end, window.timeout_s)
        return Pieces(frags.drop_columns(["dsts"]), chained)
    names, expected = kept
    store = engine.sessions
    stored = {part: store.load(spec.family, name, expected) for part, name in names.items()}
    if stored["fragments"] is not None and stored["chained"] is not None:
        margins = [
            fragments(engine, spec, lo, hi, inner=(lo, lo), what=window.what)[0]
            for lo, hi in ((window.lo, window.first), (window.end, window.hi))
        ]
        parts = [margins[0].drop_columns(["dsts"]), stored["fragments"]]
        frags = pa.concat_tables([*parts, margins[1].drop_columns(["dsts"])])
        return Pieces(frags, stored["chained"])
    frags = _window_fragments(engine, spec, window)
    chained = chain(frags, window.first, window.end, window.timeout_s)
    frags = frags.drop_columns(["dsts"])
    day = frags.column("day")
    inside = pc.and_(
        pc.greater_equal(day, pa.scalar(window.first)), pc.less(day, pa.scalar(window.end))
    )
    for part, table in (("fragments", frags.filter(inside)), ("chained", chained)):
        store.save(spec.family, names[part], table, {**expected, "computed_at": _now()})
    return Pieces(frags, chained)


def _kept(
    engine: Engine, spec: Fragments, window: Window
) -> tuple[dict[str, str], dict[str, Any]] | None:
    """Where ``window``'s pieces are kept (a name per part) and the metadata they must
    have; None unless its period is a whole calendar month or quarter that has ended."""
    calendar = next(
        (p for p in periods_of([window.first]) if (p.start, p.end) == (window.first, window.end)),
        None,
    )
    if calendar is None:
        return None
    states = engine.sessions.states(window.first, window.end - timedelta(days=1))
    expected = {
        "state": digest(f"{d}:{s}" for d, s in sorted(states.items())),
        "period": calendar.label,
        "layout": KEPT_LAYOUT,
        **spec.key(),
    }
    parts = ("fragments", "chained")
    return {p: engine.sessions.period_part(calendar.label, p) for p in parts}, expected


def _window_fragments(engine: Engine, spec: Fragments, window: Window) -> pa.Table:
    """The fragments of ``window``'s days and margin days (see :func:`fragments`)."""
    frags, _ = fragments(
        engine, spec, window.lo, window.hi, inner=(window.first, window.end), what=window.what
    )
    return frags


def merge(engine: Engine, statement: Statement, found: Pieces) -> pa.Table:
    """``statement`` (over :func:`teiten.store.queries.events.pieces`) run on the
    fragments joined across midnights (``found``), a slice of the keys at a time (by a
    hash of ``k``) so that no query holds more than :data:`SLICE_ROWS` fragments; the
    slices' rows together."""
    frags, chained = found.frags, found.chained
    slices = max(1, -(-frags.num_rows // SLICE_ROWS))
    mixed = frags.column("k").to_numpy() * np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
    which = (mixed >> np.uint64(40)) % np.uint64(slices)
    parts = [
        engine.table(*statement, tables={"frags": frags.filter(which == i), "chained": chained})
        for i in range(slices)
    ]
    return pa.concat_tables(parts)


def fragments(
    engine: Engine,
    spec: Fragments,
    first: date,
    end: date,
    *,
    inner: tuple[date, date] | None = None,
    what: str = "these events",
) -> tuple[pa.Table, list[date]]:
    """The stored fragments of days ``first`` … ``end`` (exclusive) with their ``day``,
    after computing and storing those missing, stale or damaged; and the days computed.

    A day whose fragments must be computed and whose raw packets retention dropped fails
    the query (:class:`~teiten.errors.RawPacketsDroppedError`, naming ``what``) when it
    lies in ``inner`` (the period, ``first`` … ``end`` by default); outside it (an edge
    day, read only to tell whether a session goes on) it counts as holding none."""
    store = engine.sessions
    states = store.states(first, end - timedelta(days=1))
    found: dict[date, pa.Table] = {}
    for day, state in states.items():
        table = store.load(spec.family, day, {"state": state, **spec.key()})
        if table is not None and table.schema == spec.schema:
            found[day] = table
    computed = [day for day in states if day not in found]
    if computed:
        gone = set(engine.dropped_days(computed[0], computed[-1])) & set(computed)
        lo, hi = inner or (first, end)
        inside = sorted(d for d in gone if lo <= d < hi)
        if inside:
            engine.require_raw(inside[0], inside[-1], what)
        computed = [day for day in computed if day not in gone]
    for days in _chunks(engine, spec, computed):
        found |= _refresh(engine, spec, days, states)
    parts = [
        t.append_column("day", pa.array([day] * t.num_rows, pa.date32()))
        for day, t in sorted(found.items())
    ]
    if not parts:
        return spec.schema.append(pa.field("day", pa.date32())).empty_table(), computed
    return pa.concat_tables(parts), computed


def _refresh(
    engine: Engine, spec: Fragments, days: list[date], states: dict[date, str]
) -> dict[date, pa.Table]:
    """Compute the fragments of ``days`` (consecutive) and store them with their
    ``states``."""
    tables = _compute(engine, spec, days)
    for day, table in tables.items():
        meta = {"state": states[day], **spec.key(), "computed_at": _now()}
        engine.sessions.save(spec.family, day, table, meta)
    return tables


CHUNK_PACKETS = 1_000_000  # packets of one kind read at once (days are not split)


def _chunks(engine: Engine, spec: Fragments, days: list[date]) -> list[list[date]]:
    """``days`` in runs of consecutive days of at most :data:`CHUNK_PACKETS` packets
    of the family's kind (by the rollup's counts; a day alone when there is none), so
    a store of small days is read in a few queries and memory stays bounded."""
    if not days:
        return []
    counts: dict[date, int] = {}
    if engine.rolled_up:
        rows = engine.rows(*queries.holdings.kind_per_day(spec.kind, days[0], days[-1]))
        counts = {r["day"]: int(r["n"]) for r in rows}
    runs: list[list[date]] = []
    total = 0
    for day in days:
        n = counts.get(day, CHUNK_PACKETS)
        if not runs or runs[-1][-1] != day - timedelta(days=1) or total + n > CHUNK_PACKETS:
            runs.append([])
            total = 0
        runs[-1].append(day)
        total += n
    return runs


def _compute(engine: Engine, spec: Fragments, days: list[date]) -> dict[date, pa.Table]:
    """The fragments of ``days`` (consecutive), from their packets: one table per day."""
    timeout_ns = int(spec.timeout_s * NS)
    rows = engine.table(*spec.read(days[0], days[-1] + timedelta(days=1)))
    sessions = sessionize(rows, spec.key_of(rows), timeout_ns)
    del rows
    aggregate = spec.aggregate(timeout_ns=timeout_ns, day_len=DAY_NS, **spec.floor, **spec.params)
    out = engine.table(*aggregate, tables={"sessions": sessions})
    out = out.cast(spec.schema)
    ordinal = pc.divide(out.column("first_ns"), DAY_NS).to_numpy()  # days since the epoch
    epoch = date(1970, 1, 1)
    found = {d: spec.schema.empty_table() for d in days}
    bounds = np.flatnonzero(np.diff(ordinal)) + 1 if len(ordinal) else np.zeros(0, np.int64)
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(ordinal)], strict=True):
        if hi > lo:
            found[epoch + timedelta(days=int(ordinal[lo]))] = out.slice(lo, hi - lo)
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def usable(engine: Engine, spec: Fragments, timeout_s: float) -> bool:
    """Whether ``spec``'s fragments can answer a query with ``timeout_s`` on ``engine``
    (its thresholds are the caller's to compare with ``spec.floor``): DuckDB merges them."""
    return engine.dialect == "duckdb" and timeout_s == spec.timeout_s


def prepare_all(engine: Engine, days: Iterable[date]) -> dict[str, list[date]]:
    """:func:`prepare` for every family (scans, DoS)."""
    from teiten.analyze.dos import FRAGMENTS as DOS
    from teiten.analyze.scans import FRAGMENTS as SCANS

    days = list(days)
    done = prepare(engine, [SCANS, DOS], days)
    prepare_periods(engine, [SCANS, DOS], days)
    return done


def prepare_periods(engine: Engine, specs: Iterable[Fragments], days: Iterable[date]) -> list[str]:
    """Join and keep the :class:`Pieces` of the ended months and quarters holding any of
    ``days`` whose kept ones are missing or stale (:func:`pieces`); which ones. A period
    with a day whose fragments are missing and whose raw packets retention dropped is
    left as it is (its events would fail the same way)."""
    done = []
    for calendar in periods_of(days):
        for spec in specs:
            window = Window(calendar.start, calendar.end, spec.timeout_s)
            kept = _kept(engine, spec, window)
            assert kept is not None  # an ended calendar period
            names, expected = kept
            if all(engine.sessions.current(spec.family, n, expected) for n in names.values()):
                continue
            with contextlib.suppress(RawPacketsDroppedError):
                pieces(engine, spec, window)
                done.append(f"{spec.family} {calendar.label}")
    return done


def prepare_events(engine: Engine, days: Iterable[date]) -> list[str]:
    """Compute and store the scan events and DoS attacks, at the default parameters, of
    the ended months and quarters holding any of ``days`` whose stored ones are missing
    or stale (what ``teiten store rollup`` does after the fragments, so the first report
    of an ended period reads them); which ones. A period with a day whose fragments are
    missing and whose raw packets retention dropped is left as it is."""
    from teiten.analyze.dos import DosParams, dos_attacks
    from teiten.analyze.events import stored
    from teiten.analyze.periods import parse_period
    from teiten.analyze.scans import ScanParams, scan_events

    families = (
        ("scans", scan_events, ScanParams().as_json()),
        ("dos", dos_attacks, DosParams().as_json()),
    )
    done = []
    for calendar in periods_of(days):
        period = parse_period(calendar.label)
        for family, extract, parameters in families:
            if stored(engine, family, period, parameters):
                continue
            with contextlib.suppress(RawPacketsDroppedError):
                extract(engine, period, limit=0)
                done.append(f"{family} {calendar.label}")
    return done


def prepare(
    engine: Engine, specs: Iterable[Fragments], days: Iterable[date]
) -> dict[str, list[date]]:
    """Compute and store the fragments of ``days`` that are missing or stale (what
    ``teiten store rollup`` does so a built store is ready); the days computed per family.
    Stored ones are checked by their metadata alone; memory stays that of a few days."""
    wanted = sorted(set(days))
    if wanted:  # days whose raw packets are gone keep what they have
        gone = set(engine.dropped_days(wanted[0], wanted[-1]))
        wanted = [d for d in wanted if d not in gone]
    done: dict[str, list[date]] = {}
    if not wanted:
        return {spec.family: [] for spec in specs}
    store = engine.sessions
    states = {d: s for d, s in store.states(wanted[0], wanted[-1]).items() if d in wanted}
    for spec in specs:
        done[spec.family] = [
            day
            for day, state in states.items()
            if not store.current(spec.family, day, {"state": state, **spec.key()})
        ]
        for run in _chunks(engine, spec, done[spec.family]):
            _refresh(engine, spec, run, states)
    return done
