"""An AS table: sorted, disjoint address ranges with their origin AS, and AS names.

pyasn's idea: convert public routing data once into a compact, dated form, then
look addresses up offline. Per address family the table holds the first and last
address of each range (sorted, non-overlapping) and its AS number. A lookup is two
``searchsorted`` over a whole array of addresses, never a Python loop per address:
the last range starting at or before an address holds it exactly when it is also
the first range ending at or after it.

Ranges given to :func:`build_table` may overlap (prefix2as lists a /16 and, with
other origins, /24s inside it): the most specific range wins, that is the smallest
range holding an address; of two the same size, the one given first. The pieces of
a range that more specific ones cut out stay separate ranges of the table (a lookup
names the piece an address fell in). An address in no range has no AS.

:meth:`AsnTable.arrays` and :meth:`AsnTable.from_arrays` are the stored form (the
store writes them as one ``.npz``, numpy arrays in a zip, read without pickle)::

    v4_start, v4_end  uint32[n]      first and last address, sorted, disjoint
    v4_asn            uint32[n]
    v6_start, v6_end  uint8[m, 16]   big-endian addresses (searched as 16-byte keys)
    v6_asn            uint32[m]
    name_asn          uint32[k]      sorted AS numbers that have a name
    name_offsets      int64[k + 1]   name i is name_bytes[offsets[i]:offsets[i + 1]]
    name_bytes        uint8[…]       the names, UTF-8, one after another
    meta              uint8[…]       JSON object: table ``version``, and what the
                                     importer adds (``edition``, ``format``)
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from teiten.enrich.addresses import IPV4, IPV6, Family, address_rows, ipv4_mapped
from teiten.errors import OptionError

__all__ = ["AsnTable", "Ranges", "Span", "build_table", "resolve"]

TABLE_VERSION = 1

#: One input range: first address, last address (inclusive), AS number, as integers.
Span = tuple[int, int, int]


@dataclass(frozen=True)
class Ranges:
    """One family's sorted, disjoint ranges (``uint32`` keys for IPv4, ``V16`` for IPv6)."""

    start: np.ndarray
    end: np.ndarray
    asn: np.ndarray  # uint32

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Index of the range holding each key (any order), -1 where none does.

        Integer keys are searched in sorted order (then put back): a binary search for
        increasing keys stays in cache, which is 3 to 5 times faster than for random ones.
        """
        if len(self) == 0:
            return np.full(len(keys), -1, np.int64)
        if keys.dtype.kind == "V":  # IPv6: 16-byte keys compare only inside searchsorted
            index = np.searchsorted(self.start, keys, side="right") - 1
            held = np.searchsorted(self.end, keys, side="left") == index
            return np.where(held, index, -1)
        if len(keys) > 1 and np.any(keys[1:] < keys[:-1]):
            order = np.argsort(keys, kind="stable")
            found = np.empty(len(keys), np.int64)
            found[order] = self.find(keys[order])
            return found
        index = np.searchsorted(self.start, keys, side="right") - 1
        held = (index >= 0) & (keys <= self.end[np.maximum(index, 0)])
        return np.where(held, index, -1)


@dataclass(frozen=True)
class AsnTable:
    """Ranges of both families, and the names of the ASes (where the data has them)."""

    v4: Ranges
    v6: Ranges
    name_asn: np.ndarray  # uint32, sorted
    name_offsets: np.ndarray  # int64
    name_bytes: np.ndarray  # uint8
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def edition(self) -> str:
        """The edition this table was imported as ('' for a table built in memory)."""
        return str(self.meta.get("edition", ""))

    @property
    def source_format(self) -> str:
        """What it was converted from: iptoasn, prefix2as or mmdb ('' if not said)."""
        return str(self.meta.get("format", ""))

    def ranges(self, family: Family) -> Ranges:
        return self.v4 if family is IPV4 else self.v6

    def lookup(self, family: Family, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """AS number of each key of ``family`` (``uint32`` or ``V16``), and where one was found."""
        ranges = self.ranges(family)
        index = ranges.find(keys)
        found = index >= 0
        return np.where(found, ranges.asn[np.maximum(index, 0)], 0).astype(np.uint32), found

    def ases(self) -> int:
        """Distinct AS numbers of the ranges."""
        return len(np.union1d(self.v4.asn, self.v6.asn))

    def name(self, asn: int) -> str | None:
        """The AS's name (its holder), or None when the data names none."""
        i = int(np.searchsorted(self.name_asn, asn))
        if i == len(self.name_asn) or int(self.name_asn[i]) != asn:
            return None
        first, last = int(self.name_offsets[i]), int(self.name_offsets[i + 1])
        return self.name_bytes[first:last].tobytes().decode("utf-8", "replace")

    @property
    def names(self) -> Mapping[int, str]:
        """AS number → name, for the ASes the data names."""
        return _Names(self)

    def answers(self, addresses: Sequence[str]) -> list[dict[str, Any]]:
        """For each address text: its AS number and name and the range it fell in (the
        first and last address), all None where no range holds it; for people and tools.

        An IPv4-mapped IPv6 address is looked up as the IPv4 address it maps.
        """
        try:
            rows = address_rows(addresses)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
        mapped, v4_keys = ipv4_mapped(rows)
        v6_keys = np.ascontiguousarray(rows[~mapped]).view("V16").ravel()
        found = np.empty(len(rows), np.int64)
        found[mapped], found[~mapped] = self.v4.find(v4_keys), self.v6.find(v6_keys)
        return [
            self._answer(text, IPV4 if is_v4 else IPV6, int(index))
            for text, is_v4, index in zip(addresses, mapped.tolist(), found, strict=True)
        ]

    def _answer(self, address: str, family: Family, index: int) -> dict[str, Any]:
        if index < 0:
            return {"address": address, "asn": None, "name": None, "range": None}
        ranges = self.ranges(family)
        asn = int(ranges.asn[index])
        bounds = (ranges.start[index], ranges.end[index])
        first, last = (
            family.address(int(b) if family is IPV4 else int.from_bytes(b.tobytes(), "big"))
            for b in bounds
        )
        return {
            "address": address,
            "asn": asn,
            "name": self.name(asn),
            "range": [str(first), str(last)],
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """The stored form (see the module docstring)."""
        meta = json.dumps({**self.meta, "version": TABLE_VERSION}, sort_keys=True)
        return {
            "v4_start": self.v4.start,
            "v4_end": self.v4.end,
            "v4_asn": self.v4.asn,
            "v6_start": self.v6.start.view(np.uint8).reshape(-1, 16),
            "v6_end": self.v6.end.view(np.uint8).reshape(-1, 16),
            "v6_asn": self.v6.asn,
            "name_asn": self.name_asn,
            "name_offsets": self.name_offsets,
            "name_bytes": self.name_bytes,
            "meta": np.frombuffer(meta.encode(), np.uint8),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> AsnTable:
        """A table from its stored form; ValueError saying what is wrong with it."""
        try:
            meta = json.loads(bytes(_array(arrays, "meta", np.uint8)))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"its description is not JSON ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("version") != TABLE_VERSION:
            raise ValueError(f"table version {meta.get('version')!r}, not {TABLE_VERSION}")
        v4 = Ranges(*(_array(arrays, f"v4_{k}", np.uint32) for k in ("start", "end", "asn")))
        v6 = Ranges(_keys(arrays, "v6_start"), _keys(arrays, "v6_end"), _array(arrays, "v6_asn"))
        table = cls(
            v4,
            v6,
            _array(arrays, "name_asn", np.uint32),
            _array(arrays, "name_offsets", np.int64),
            _array(arrays, "name_bytes", np.uint8),
            {k: v for k, v in meta.items() if k != "version"},
        )
        _check(table)
        return table


class _Names(Mapping[int, str]):
    """:attr:`AsnTable.names`: read from the table's arrays as asked, never copied."""

    def __init__(self, table: AsnTable) -> None:
        self._table = table

    def __getitem__(self, asn: int) -> str:
        name = self._table.name(asn)
        if name is None:
            raise KeyError(asn)
        return name

    def __iter__(self) -> Iterator[int]:
        return (int(asn) for asn in self._table.name_asn)

    def __len__(self) -> int:
        return len(self._table.name_asn)


def _array(arrays: Mapping[str, np.ndarray], key: str, dtype: Any = np.uint32) -> np.ndarray:
    if key not in arrays:
        raise ValueError(f"it has no {key} array")
    value = np.asarray(arrays[key])
    if value.dtype != dtype or value.ndim != 1:
        raise ValueError(f"{key} is {value.dtype}{list(value.shape)}, not a {np.dtype(dtype)} list")
    return value


def _keys(arrays: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    value = np.asarray(arrays.get(key))
    if value.dtype != np.uint8 or value.ndim != 2 or value.shape[1] != 16:
        raise ValueError(f"{key} is not a list of 16-byte addresses")
    return np.ascontiguousarray(value).view("V16").ravel()


def _less(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a < b`` elementwise, for ``uint32`` keys or 16-byte ``V16`` keys (as two words)."""
    if a.dtype != np.dtype("V16"):
        return np.asarray(a < b)
    wa, wb = (k.view(">u8").reshape(-1, 2) for k in (a, b))
    return (wa[:, 0] < wb[:, 0]) | ((wa[:, 0] == wb[:, 0]) & (wa[:, 1] < wb[:, 1]))


def _check(table: AsnTable) -> None:
    """Bounds of equal length, no range ending before it starts, sorted and disjoint."""
    for name, ranges in (("IPv4", table.v4), ("IPv6", table.v6)):
        if not len(ranges.start) == len(ranges.end) == len(ranges.asn):
            raise ValueError(f"its {name} columns differ in length")
        if np.any(_less(ranges.end, ranges.start)) or np.any(
            ~_less(ranges.end[:-1], ranges.start[1:])
        ):
            raise ValueError(f"its {name} ranges are not sorted and disjoint")
    offsets = table.name_offsets
    if (
        len(offsets) != len(table.name_asn) + 1
        or offsets[0] != 0
        or offsets[-1] != len(table.name_bytes)
        or np.any(np.diff(offsets) < 0)
        or np.any(np.diff(table.name_asn.astype(np.int64)) <= 0)
    ):
        raise ValueError("its AS name index is damaged")


def resolve(spans: list[Span]) -> tuple[list[Span], int]:
    """Disjoint, sorted pieces of possibly overlapping ``spans`` (the most specific wins),
    and how many spans overlapped another.

    Spans are sorted by start and taken in runs that overlap each other; a run of one
    span is kept as it is. In a longer run where every span lies inside or apart from
    every other (as CIDR prefixes do) the innermost open span wins (:func:`_nested`);
    otherwise the run is swept boundary by boundary with a heap of the spans that hold
    the current address, smallest (then first given) on top (:func:`_swept`).
    """
    # By start, holders before what they hold, then as given (the sort is stable): one
    # integer key each, which sorts much faster than a tuple.
    keys = [(start << 130) - end for start, end, _ in spans]
    order = sorted(range(len(spans)), key=keys.__getitem__)
    pieces: list[Span] = []
    overlapping = 0
    run: list[int] = []
    run_end = -1
    for k in order:
        start, end, _ = spans[k]
        if run and start > run_end:
            overlapping += _emit(spans, run, pieces)
            run, run_end = [], -1
        run.append(k)
        if end > run_end:
            run_end = end
    if run:
        overlapping += _emit(spans, run, pieces)
    return pieces, overlapping


def _emit(spans: list[Span], run: list[int], pieces: list[Span]) -> int:
    """Add the pieces of one run of overlapping spans; returns its spans if it overlapped."""
    if len(run) == 1:
        pieces.append(spans[run[0]])
        return 0
    nested = _nested(spans, run)
    pieces.extend(_swept(spans, run) if nested is None else nested)
    return len(run)


def _nested(spans: list[Span], run: list[int]) -> list[Span] | None:
    """Pieces of a run of nested spans (in :func:`resolve`'s order) with a stack of the
    open ones, innermost on top; None when two overlap without one holding the other."""
    pieces: list[Span] = []
    stack: list[Span] = []
    cursor = spans[run[0]][0]  # the first address no piece holds yet
    for k in run:
        start, end, asn = spans[k]
        while stack and stack[-1][1] < start:
            _, last, held_by = stack.pop()
            if cursor <= last:
                pieces.append((cursor, last, held_by))
                cursor = last + 1
        if stack:
            if end > stack[-1][1]:
                return None
            if (start, end) == stack[-1][:2]:
                continue  # the same range again: the first given wins
            if cursor < start:
                pieces.append((cursor, start - 1, stack[-1][2]))
        cursor = start
        stack.append((start, end, asn))
    while stack:
        _, last, held_by = stack.pop()
        if cursor <= last:
            pieces.append((cursor, last, held_by))
            cursor = last + 1
    return pieces


def _swept(spans: list[Span], run: list[int]) -> list[Span]:
    """Pieces of any run of overlapping spans, swept from boundary to boundary."""
    pieces: list[Span] = []
    points = sorted({spans[k][0] for k in run} | {spans[k][1] + 1 for k in run})
    active: list[tuple[int, int, int, int]] = []  # (size, input order, last address, asn)
    last_winner = -1
    j = 0
    for point, following in itertools.pairwise(points):
        while j < len(run) and spans[run[j]][0] == point:
            start, end, asn = spans[run[j]]
            heapq.heappush(active, (end - start, run[j], end, asn))
            j += 1
        while active and active[0][2] < point:
            heapq.heappop(active)
        if not active:
            continue
        _, winner, _, asn = active[0]
        if winner == last_winner and pieces[-1][1] == point - 1:
            pieces[-1] = (pieces[-1][0], following - 1, asn)
        else:
            pieces.append((point, following - 1, asn))
        last_winner = winner
    return pieces


def _ipv4_ranges(pieces: list[Span]) -> Ranges:
    columns = np.array(pieces, np.uint32).reshape(-1, 3) if pieces else np.empty((0, 3), np.uint32)
    return Ranges(*(np.ascontiguousarray(columns[:, i]) for i in range(3)))


def _ipv6_ranges(pieces: list[Span]) -> Ranges:
    def keys(values: Iterable[int]) -> np.ndarray:
        packed = b"".join(v.to_bytes(16, "big") for v in values)
        return np.frombuffer(packed, np.uint8).reshape(-1, 16).copy().view("V16").ravel()

    return Ranges(
        keys(p[0] for p in pieces),
        keys(p[1] for p in pieces),
        np.array([p[2] for p in pieces], np.uint32),
    )


def _name_index(names: Mapping[int, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    numbers = sorted(names)
    encoded = [names[n].encode("utf-8") for n in numbers]
    offsets = np.zeros(len(numbers) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return (
        np.array(numbers, np.uint32),
        offsets,
        np.frombuffer(b"".join(encoded), np.uint8).copy(),
    )


def build_table(
    ipv4: list[Span],
    ipv6: list[Span],
    names: Mapping[int, str],
    meta: Mapping[str, Any] | None = None,
) -> tuple[AsnTable, int]:
    """The table of these ranges (IPv4 and IPv6 as integers) and AS names, and how many
    ranges overlapped another (resolved most-specific-wins, see :func:`resolve`)."""
    v4, v4_overlapping = resolve(ipv4)
    v6, v6_overlapping = resolve(ipv6)
    table = AsnTable(_ipv4_ranges(v4), _ipv6_ranges(v6), *_name_index(names), meta=dict(meta or {}))
    return table, v4_overlapping + v6_overlapping
