"""Helpers: hand-built stores with known events, and plain-Python reference implementations."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from conftest import rows_table
from teiten.store import InputRecord, Store

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: float, base: datetime = T0) -> str:
    """ISO timestamp ``seconds`` after ``base`` (µs precision), as rows_table reads it."""
    return (base + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")


def darknet(prefix: str = "198.51.100.0/24") -> list[str]:
    return [str(a) for a in ipaddress.ip_network(prefix)]


def probes(src: str, times: list[float], dsts: list[str], **kw) -> list[dict]:
    """One probe per time, cycling through ``dsts``."""
    return [
        {"ts": at(t), "src": src, "dst": dsts[i % len(dsts)], **kw} for i, t in enumerate(times)
    ]


def backscatter(src: str, times: list[float], dsts: list[str], **kw) -> list[dict]:
    kw.setdefault("kind", "backscatter")
    kw.setdefault("tcp_flags", 0x12)
    kw.setdefault("sport", 80)
    kw.setdefault("dport", 40000)
    return probes(src, times, dsts, **kw)


_batch = 0


def add(store: Store, rows: list[dict], sensor: str = "s1") -> None:
    """Commit ``rows`` as one batch (one 'input')."""
    global _batch
    _batch += 1
    for r in rows:
        r.setdefault("sensor", sensor)
    writer = store.writer(sensor, "test", "test")
    writer.write(rows_table(rows))
    writer.commit([InputRecord(f"test:{_batch:08d}", f"rows-{_batch}", 1, len(rows), 0)])


def store_with(root: Path, rows: list[dict], sensor: str = "s1") -> Store:
    store = Store(root)
    if rows:
        add(store, rows, sensor)
    return store


def sessions(packets: list[tuple], timeout_ns: int) -> dict[tuple, list[list[tuple]]]:
    """Reference sessionizer: ``(key, t_ns, ...)`` tuples → per key, lists of sessions."""
    by_key: dict[tuple, list[tuple]] = defaultdict(list)
    for p in packets:
        by_key[p[0]].append(p)
    out: dict[tuple, list[list[tuple]]] = {}
    for key, rows in by_key.items():
        rows.sort(key=lambda r: r[1])
        groups: list[list[tuple]] = [[rows[0]]]
        for prev, cur in pairwise(rows):
            if cur[1] - prev[1] > timeout_ns:
                groups.append([])
            groups[-1].append(cur)
        out[key] = groups
    return out


def max_ppm(times_ns: list[int], window_s: int = 60, step_s: int = 10) -> int:
    """corsaro's busiest window: whole-second buckets of ``step_s`` from the first second."""
    first = times_ns[0] // 1_000_000_000
    counts: dict[int, int] = defaultdict(int)
    for t in times_ns:
        counts[(t // 1_000_000_000 - first) // step_s] += 1
    span = window_s // step_s
    return max(sum(counts.get(b - i, 0) for i in range(span)) for b in counts)
